// SPDX-License-Identifier: Apache-2.0
// Fuzzes the `sluice serve` configuration loader (TOML text) and the size and duration
// parsers it shares with the flags.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cli/args.h"
#include "cli/serve_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto config = sluice::cli::ParseServeConfig(text, "fuzz.toml");
  if (!config && config.error().Message().empty()) {
    __builtin_trap();  // every error explains itself
  }
  (void)sluice::cli::ParseSize(text.substr(0, 32));
  (void)sluice::cli::ParseDuration(text.substr(0, 32));
  return 0;
}
