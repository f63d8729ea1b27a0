// SPDX-License-Identifier: Apache-2.0
// SLUICE_CHECK / SLUICE_DCHECK: invariants whose violation would corrupt data.
// Never use them on input from the network, files or users: count and return errors.

#pragma once

namespace sluice::internal {

[[noreturn]] void CheckFailed(const char* file, int line, const char* condition, const char* why);

}  // namespace sluice::internal

#define SLUICE_CHECK(cond, why)                                        \
  do {                                                                 \
    if (!(cond)) {                                                     \
      ::sluice::internal::CheckFailed(__FILE__, __LINE__, #cond, why); \
    }                                                                  \
  } while (false)

#ifdef NDEBUG
#define SLUICE_DCHECK(cond, why) \
  do {                           \
  } while (false)
#else
#define SLUICE_DCHECK(cond, why) SLUICE_CHECK(cond, why)
#endif
