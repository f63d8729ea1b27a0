// SPDX-License-Identifier: Apache-2.0

#include "decode/sequence_tracker.h"

#include <gtest/gtest.h>

namespace sluice::decode {
namespace {

TEST(SequenceTrackerTest, CountsRecordsMissingBeforeADatagram) {
  SequenceTracker tracker;
  EXPECT_EQ(tracker.Observe(100, 30).lost, 0u);
  EXPECT_EQ(tracker.Observe(130, 30).lost, 0u);
  EXPECT_EQ(tracker.Observe(190, 30).lost, 30u);  // 160..189 never arrived
  EXPECT_EQ(tracker.Observe(220, 5).lost, 0u);
}

TEST(SequenceTrackerTest, AcceptsExportersThatCountTheirOwnRecords) {
  // softflowd's IPFIX: each message carries the count including its own records.
  SequenceTracker tracker;
  EXPECT_EQ(tracker.Observe(15, 15).lost, 0u);
  EXPECT_EQ(tracker.Observe(35, 20).lost, 0u);
  EXPECT_EQ(tracker.Observe(64, 29).lost, 0u);
  EXPECT_EQ(tracker.Observe(96, 32).lost, 0u);
  EXPECT_EQ(tracker.Observe(150, 4).lost, 50u);  // a real gap is still counted
  EXPECT_EQ(tracker.Observe(154, 4).lost, 0u);
}

TEST(SequenceTrackerTest, WrapsAroundAndSpotsRestarts) {
  SequenceTracker tracker;
  EXPECT_EQ(tracker.Observe(0xFFFFFFF0U, 0x20).lost, 0u);
  EXPECT_EQ(tracker.Observe(0x10, 1).lost, 0u);
  const SequenceTracker::Gap restart = tracker.Observe(3, 1);
  EXPECT_TRUE(restart.reset);
  EXPECT_EQ(restart.lost, 0u);
  EXPECT_EQ(tracker.Observe(4, 1).lost, 0u);
}

TEST(SequenceTrackerTest, DatagramCountersNeedNoConvention) {
  SequenceTracker tracker;  // v9 and sFlow advance by one per datagram
  EXPECT_EQ(tracker.Observe(7, 1).lost, 0u);
  EXPECT_EQ(tracker.Observe(8, 1).lost, 0u);
  EXPECT_EQ(tracker.Observe(11, 1).lost, 2u);
}

}  // namespace
}  // namespace sluice::decode
