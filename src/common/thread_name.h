// SPDX-License-Identifier: Apache-2.0
// Names the calling thread (top -H, perf, /proc/PID/task/*/comm show it).

#pragma once

#include <string_view>

namespace sluice {

// Linux keeps at most 15 characters; longer names are cut.
void SetCurrentThreadName(std::string_view name);

}  // namespace sluice
