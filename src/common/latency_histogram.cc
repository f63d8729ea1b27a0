// SPDX-License-Identifier: Apache-2.0

#include "common/latency_histogram.h"

#include <algorithm>

namespace sluice {

void LatencyHistogram::Observe(double seconds) {
  if (!(seconds > 0)) {
    seconds = 0;
  }
  std::size_t bucket_idx = 0;
  while (bucket_idx < kUpperBoundsS.size() && seconds > kUpperBoundsS[bucket_idx]) {
    ++bucket_idx;
  }
  counts_[bucket_idx].fetch_add(1, std::memory_order_relaxed);
  // Saturates at ~584 years of total latency, far beyond a process lifetime.
  const double ns = std::min(seconds * 1e9, 1e18);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
}

HistogramSnapshot LatencyHistogram::Snapshot() const {
  HistogramSnapshot snapshot;
  snapshot.upper_bounds_s.assign(kUpperBoundsS.begin(), kUpperBoundsS.end());
  snapshot.counts.reserve(counts_.size());
  std::uint64_t total = 0;
  for (const auto& count : counts_) {
    snapshot.counts.push_back(count.load(std::memory_order_relaxed));
    total += snapshot.counts.back();
  }
  // The buckets are the truth: count is their sum, so +Inf == _count always.
  snapshot.count = total;
  snapshot.sum_s = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return snapshot;
}

}  // namespace sluice
