// SPDX-License-Identifier: Apache-2.0

#include "ingest/datagram_ring.h"

#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::ingest {
namespace {

flow::Datagram MakeDatagram(const std::vector<std::uint8_t>& bytes, std::uint32_t exporter) {
  flow::Datagram datagram;
  datagram.exporter = flow::IpAddress::FromV4(exporter);
  datagram.exporter_port = static_cast<std::uint16_t>(exporter);
  datagram.time_received = 1000 + exporter;
  datagram.payload = bytes;
  return datagram;
}

TEST(DatagramRingTest, HandsDatagramsOverInOrderWithTheirMetadata) {
  DatagramRing ring(0);
  std::vector<std::vector<std::uint8_t>> payloads;
  for (std::uint32_t idx = 0; idx < 10; ++idx) {
    payloads.emplace_back(idx * 7 + 1, static_cast<std::uint8_t>(idx));
  }
  for (std::uint32_t idx = 0; idx < 10; ++idx) {
    ASSERT_TRUE(ring.TryPush(MakeDatagram(payloads[idx], idx)));
  }
  EXPECT_TRUE(ring.Empty()) << "nothing is visible before Publish()";
  ring.Publish();
  EXPECT_FALSE(ring.Empty());
  std::uint32_t next = 0;
  const std::size_t drained = ring.Drain(
      [&](const flow::Datagram& datagram) {
        EXPECT_EQ(datagram.exporter, flow::IpAddress::FromV4(next));
        EXPECT_EQ(datagram.exporter_port, next);
        EXPECT_EQ(datagram.time_received, 1000 + next);
        EXPECT_TRUE(std::equal(datagram.payload.begin(), datagram.payload.end(),
                               payloads[next].begin(), payloads[next].end()));
        ++next;
      },
      100);
  EXPECT_EQ(drained, 10u);
  EXPECT_TRUE(ring.Empty());
}

TEST(DatagramRingTest, RefusesWhenFullInsteadOfWaiting) {
  DatagramRing ring(DatagramRing::kMinCapacityBytes);
  const std::vector<std::uint8_t> payload(1400, 0xab);
  std::size_t accepted = 0;
  while (ring.TryPush(MakeDatagram(payload, 1))) {
    ++accepted;
    ASSERT_LT(accepted, 10'000u);
  }
  EXPECT_EQ(accepted, DatagramRing::kMinCapacityBytes / (40 + 1400));
  ring.Publish();
  // Draining one makes room for one again.
  EXPECT_EQ(ring.Drain([](const flow::Datagram&) {}, 1), 1u);
  EXPECT_TRUE(ring.TryPush(MakeDatagram(payload, 2)));
}

TEST(DatagramRingTest, WrapsAroundTheBufferWithMixedSizes) {
  DatagramRing ring(DatagramRing::kMinCapacityBytes);
  std::uint32_t pushed = 0;
  std::uint32_t drained = 0;
  for (int round = 0; round < 2000; ++round) {
    for (int push = 0; push < 7; ++push) {
      std::vector<std::uint8_t> payload((pushed * 977) % 9000 + 1,
                                        static_cast<std::uint8_t>(pushed));
      if (!ring.TryPush(MakeDatagram(payload, pushed))) {
        break;
      }
      ++pushed;
    }
    ring.Publish();
    ring.Drain(
        [&](const flow::Datagram& datagram) {
          ASSERT_EQ(datagram.exporter_port, static_cast<std::uint16_t>(drained));
          ASSERT_EQ(datagram.payload.size(), (drained * 977) % 9000 + 1);
          ASSERT_EQ(datagram.payload.back(), static_cast<std::uint8_t>(drained));
          ++drained;
        },
        5);
  }
  ring.Drain([&](const flow::Datagram&) { ++drained; }, 1'000'000);
  EXPECT_EQ(drained, pushed);
  EXPECT_GT(pushed, 1000u);
}

TEST(DatagramRingTest, CarriesDatagramsBetweenTwoThreads) {
  DatagramRing ring(DatagramRing::kMinCapacityBytes);
  constexpr std::uint32_t kCount = 200'000;
  std::thread producer([&ring] {
    std::vector<std::uint8_t> payload(64);
    for (std::uint32_t idx = 0; idx < kCount;) {
      payload[0] = static_cast<std::uint8_t>(idx);
      if (ring.TryPush(MakeDatagram(payload, idx))) {
        ++idx;
        ring.Publish();
      } else {
        std::this_thread::yield();
      }
    }
  });
  std::uint32_t next = 0;
  bool in_order = true;
  while (next < kCount) {
    const std::size_t drained = ring.Drain(
        [&](const flow::Datagram& datagram) {
          in_order = in_order && datagram.time_received == 1000 + next &&
                     datagram.payload[0] == static_cast<std::uint8_t>(next);
          ++next;
        },
        1000);
    if (drained == 0) {
      std::this_thread::yield();
    }
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_TRUE(ring.Empty());
}

}  // namespace
}  // namespace sluice::ingest
