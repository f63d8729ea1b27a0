// SPDX-License-Identifier: Apache-2.0
// LatencyHistogram: durations counted in fixed buckets, lock-free, for Prometheus
// histograms (query latency in the API, write latency in the store).

#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice {

// A copy of a LatencyHistogram, per bucket (not cumulative): counts[i] observations fell in
// (upper_bounds[i-1], upper_bounds[i]]; counts.back() (one more than upper_bounds) is the
// overflow bucket above the last bound.
struct HistogramSnapshot {
  std::vector<double> upper_bounds_s;  // ascending, seconds
  std::vector<std::uint64_t> counts;   // upper_bounds_s.size() + 1 entries
  double sum_s = 0;                    // sum of all observations, seconds
  std::uint64_t count = 0;             // number of observations
};

// Thread-safety: Observe() and Snapshot() from any thread.
class LatencyHistogram {
 public:
  // Upper bounds in seconds (the last bucket, +Inf, is implicit).
  static constexpr std::array<double, 14> kUpperBoundsS = {
      0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0};

  // Negative durations count as 0.
  void Observe(double seconds);

  // The counts so far. Concurrent Observe() calls may or may not be included; sum and
  // count may be one observation apart from the buckets.
  HistogramSnapshot Snapshot() const;

 private:
  std::array<std::atomic<std::uint64_t>, kUpperBoundsS.size() + 1> counts_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace sluice
