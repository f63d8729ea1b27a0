// SPDX-License-Identifier: Apache-2.0

#include <cstdio>

#include "cli/commands.h"

namespace sluice::cli {

int RunServe(std::span<const std::string_view> /*args*/) {
  std::fprintf(stderr, "sluice serve: not built yet\n");
  return 1;
}

}  // namespace sluice::cli
