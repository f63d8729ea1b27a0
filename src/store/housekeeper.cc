// SPDX-License-Identifier: Apache-2.0

#include "store/housekeeper.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "common/log.h"
#include "common/thread_name.h"

namespace sluice::store {
namespace {

// The first run waits this long, so that start-up (recovery, the first datagrams) is not
// slowed by a roll-up of the hours missed while the collector was down.
constexpr auto kFirstRunDelay = std::chrono::seconds(5);

}  // namespace

std::string HousekeeperStats::ToJson() const {
  char text[320];
  std::snprintf(text, sizeof text,
                "{\"runs\":%llu,\"rollups_written\":%llu,\"summaries_written\":%llu,"
                "\"hour_summaries_written\":%llu,\"address_filters_written\":%llu,"
                "\"segments_deleted\":%llu,"
                "\"bytes_deleted\":%llu,\"errors\":%llu}",
                static_cast<unsigned long long>(runs),
                static_cast<unsigned long long>(rollups_written),
                static_cast<unsigned long long>(summaries_written),
                static_cast<unsigned long long>(hour_summaries_written),
                static_cast<unsigned long long>(address_filters_written),
                static_cast<unsigned long long>(segments_deleted),
                static_cast<unsigned long long>(bytes_deleted),
                static_cast<unsigned long long>(errors));
  return text;
}

Housekeeper::Housekeeper(MaintenanceOptions options, FileSystem& file_system, const Clock& clock,
                         std::chrono::milliseconds interval)
    : file_system_(&file_system), clock_(&clock), interval_(interval), options_(std::move(options)) {}

Housekeeper::~Housekeeper() { Stop(); }

void Housekeeper::Start() {
  if (!thread_.joinable()) {
    thread_ = std::thread([this] {
      SetCurrentThreadName("housekeeper");
      // Roll-ups and retention only use CPU that receiving, decoding and writing leave
      // idle (best effort: SCHED_IDLE needs no privilege on Linux).
      sched_param param{};
      (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
      Loop();
    });
  }
}

void Housekeeper::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  interrupt_ = true;
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Housekeeper::SetOptions(MaintenanceOptions options) {
  std::lock_guard lock(mu_);
  options_ = std::move(options);
}

HousekeeperStats Housekeeper::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Housekeeper::Loop() {
  std::chrono::milliseconds wait = std::min<std::chrono::milliseconds>(kFirstRunDelay, interval_);
  for (;;) {
    MaintenanceOptions options;
    {
      std::unique_lock lock(mu_);
      if (wake_.wait_for(lock, wait, [this] { return stopping_; })) {
        return;
      }
      options = options_;
    }
    wait = interval_;
    options.stop = &interrupt_;
    Maintainer maintainer(std::move(options), *file_system_);
    const MaintenanceReport report = maintainer.RunOnce(clock_->NowMillis());
    for (const std::string& message : report.messages) {
      Log(report.errors > 0 ? LogLevel::kWarning : LogLevel::kInfo, "store: " + message);
    }
    std::lock_guard lock(mu_);
    ++stats_.runs;
    stats_.rollups_written += report.rollups_written;
    stats_.summaries_written += report.summaries_written;
    stats_.hour_summaries_written += report.hour_summaries_written;
    stats_.address_filters_written += report.address_filters_written;
    stats_.segments_deleted += report.segments_deleted;
    stats_.bytes_deleted += report.bytes_deleted;
    stats_.errors += report.errors;
  }
}

}  // namespace sluice::store
