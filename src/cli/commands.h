// SPDX-License-Identifier: Apache-2.0
// The subcommands of the `sluice` binary. Each takes the arguments after its name and
// returns the process exit status.

#pragma once

#include <span>
#include <string_view>

namespace sluice::cli {

int RunDecode(std::span<const std::string_view> args);
int RunReplay(std::span<const std::string_view> args);
int RunServe(std::span<const std::string_view> args);
int RunFields(std::span<const std::string_view> args);
int RunStore(std::span<const std::string_view> args);
int RunQuery(std::span<const std::string_view> args);
int RunToken(std::span<const std::string_view> args);

// Dispatches `sluice SUBCOMMAND ARGS...`; prints usage for unknown subcommands.
int RunMain(std::span<const std::string_view> argv);

}  // namespace sluice::cli
