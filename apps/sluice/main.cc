// SPDX-License-Identifier: Apache-2.0
// The one binary: `sluice COMMAND ...` (serve, decode, replay, fields, store).

#include <string_view>
#include <vector>

#include "cli/commands.h"

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv, argv + argc);
  return sluice::cli::RunMain(args);
}
