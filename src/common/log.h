// SPDX-License-Identifier: Apache-2.0
// Minimal logging for the control plane: one line per event on stderr. The data plane
// does not log per record; it counts, and a rate-limited caller reports the counts.

#pragma once

#include <string_view>

namespace sluice {

enum class LogLevel { kInfo, kWarning, kError };

// Thread-safety: safe from any thread (one write per line).
void Log(LogLevel level, std::string_view message);

}  // namespace sluice
