// SPDX-License-Identifier: Apache-2.0
// Clock: the one way code reads the time, so that tests can set it.

#pragma once

#include <atomic>
#include <cstdint>

namespace sluice {

// Milliseconds since the Unix epoch, UTC.
using UnixMillis = std::int64_t;

// Thread-safety: implementations are safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixMillis NowMillis() const = 0;
};

// Reads the system's real-time clock.
class SystemClock final : public Clock {
 public:
  UnixMillis NowMillis() const override;
};

// A clock that stays where a test puts it (Set() may race with readers on other threads).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixMillis now) : now_(now) {}

  UnixMillis NowMillis() const override { return now_.load(std::memory_order_relaxed); }

  void Set(UnixMillis now) { now_.store(now, std::memory_order_relaxed); }

 private:
  std::atomic<UnixMillis> now_;
};

}  // namespace sluice
