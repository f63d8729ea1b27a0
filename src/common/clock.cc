// SPDX-License-Identifier: Apache-2.0

#include "common/clock.h"

#include <chrono>

namespace sluice {

UnixMillis SystemClock::NowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sluice
