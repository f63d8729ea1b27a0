// SPDX-License-Identifier: Apache-2.0
// Housekeeper: runs the store's Maintainer (roll-ups, retention) on a thread of its own,
// shortly after start and then every interval, and logs what each run did. Long runs
// (a roll-up of a busy hour) never hold up receiving, writing or signal handling: the
// thread runs under SCHED_IDLE, on CPU time nothing else wants.

#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "store/file_system.h"
#include "store/maintenance.h"

namespace sluice::store {

// Totals over all runs since Start().
struct HousekeeperStats {
  std::uint64_t runs = 0;
  std::uint64_t rollups_written = 0;
  std::uint64_t summaries_written = 0;
  std::uint64_t hour_summaries_written = 0;
  std::uint64_t address_filters_written = 0;
  std::uint64_t segments_deleted = 0;
  std::uint64_t bytes_deleted = 0;
  std::uint64_t errors = 0;

  std::string ToJson() const;
};

// Ownership: owns its thread; `file_system` and `clock` must outlive it.
// Thread-safety: all methods from one control thread, except Stats() (any thread).
class Housekeeper {
 public:
  Housekeeper(MaintenanceOptions options, FileSystem& file_system, const Clock& clock,
              std::chrono::milliseconds interval = std::chrono::minutes(1));
  ~Housekeeper();

  Housekeeper(const Housekeeper&) = delete;
  Housekeeper& operator=(const Housekeeper&) = delete;

  void Start();

  // Interrupts a run in progress (a partial roll-up is discarded and redone at the next
  // start), then joins the thread. Idempotent.
  void Stop();

  // Used from the next run on (a reload of the retention settings).
  void SetOptions(MaintenanceOptions options);

  HousekeeperStats Stats() const;

 private:
  void Loop();

  FileSystem* file_system_;
  const Clock* clock_;
  std::chrono::milliseconds interval_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  MaintenanceOptions options_;  // guarded by mu_
  HousekeeperStats stats_;      // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  std::atomic<bool> interrupt_{false};  // makes a run in progress stop early
  std::thread thread_;
};

}  // namespace sluice::store
