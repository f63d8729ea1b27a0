// SPDX-License-Identifier: Apache-2.0

#include "common/check.h"

#include <cstdio>
#include <cstdlib>

namespace sluice::internal {

void CheckFailed(const char* file, int line, const char* condition, const char* why) {
  std::fprintf(stderr, "%s:%d: check failed: %s (%s)\n", file, line, condition, why);
  std::abort();
}

}  // namespace sluice::internal
