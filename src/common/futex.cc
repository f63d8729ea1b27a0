// SPDX-License-Identifier: Apache-2.0

#include "common/futex.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <climits>

namespace sluice {
namespace {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "a futex word is a plain 32-bit integer");

// The kernel reads the word itself; the atomic's object representation is the integer.
void* Address(const std::atomic<std::uint32_t>& word) {
  return const_cast<void*>(static_cast<const volatile void*>(&word));
}

}  // namespace

void FutexWait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
               std::chrono::nanoseconds timeout) {
  timespec relative{};
  timespec* limit = nullptr;
  if (timeout.count() >= 0) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    relative.tv_sec = static_cast<time_t>(seconds.count());
    relative.tv_nsec = static_cast<long>((timeout - seconds).count());
    limit = &relative;
  }
  // EAGAIN (the word changed), EINTR and ETIMEDOUT all mean: look again.
  (void)::syscall(SYS_futex, Address(word), FUTEX_WAIT_PRIVATE, expected, limit, nullptr, 0);
}

void FutexWake(const std::atomic<std::uint32_t>& word) {
  (void)::syscall(SYS_futex, Address(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace sluice
