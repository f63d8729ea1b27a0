// SPDX-License-Identifier: Apache-2.0

#include "common/latency_histogram.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace sluice {
namespace {

TEST(LatencyHistogramTest, CountsEachObservationInItsBucket) {
  LatencyHistogram histogram;
  histogram.Observe(0.001);  // on the bound: in that bucket (le is inclusive)
  histogram.Observe(0.003);
  histogram.Observe(-1);   // counted as 0
  histogram.Observe(100);  // overflow
  const HistogramSnapshot snapshot = histogram.Snapshot();
  ASSERT_EQ(snapshot.counts.size(), LatencyHistogram::kUpperBoundsS.size() + 1);
  EXPECT_EQ(snapshot.counts[0], 1u);  // -1 -> 0 s, under the first bound (0.1 ms)
  EXPECT_EQ(snapshot.counts[2], 1u);  // 1 ms
  EXPECT_EQ(snapshot.counts[4], 1u);  // 3 ms, in (2.5 ms, 5 ms]
  EXPECT_EQ(snapshot.counts.back(), 1u);
  EXPECT_EQ(snapshot.count, 4u);
  EXPECT_NEAR(snapshot.sum_s, 100.004, 1e-6);
}

TEST(LatencyHistogramTest, ObservesFromSeveralThreads) {
  LatencyHistogram histogram;
  std::vector<std::thread> threads;
  for (int thread_idx = 0; thread_idx < 4; ++thread_idx) {
    threads.emplace_back([&histogram] {
      for (int observation = 0; observation < 1000; ++observation) {
        histogram.Observe(0.01);
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(histogram.Snapshot().count, 4000u);
}

}  // namespace
}  // namespace sluice
