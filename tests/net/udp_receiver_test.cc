// SPDX-License-Identifier: Apache-2.0

#include "net/udp_receiver.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "net/socket_address.h"
#include "net/udp_sender.h"

namespace sluice::net {
namespace {

using Bytes = std::vector<std::uint8_t>;

Endpoint Local(const char* address) {
  return Endpoint{*flow::IpAddress::Parse(address), 0};
}

UdpSocket BindOrDie(const Endpoint& local, std::size_t rcvbuf = 1 << 20) {
  UdpSocketOptions options;
  options.local = local;
  options.rcvbuf_bytes = rcvbuf;
  auto socket = UdpSocket::Bind(options);
  EXPECT_TRUE(socket.has_value()) << (socket ? "" : std::string(socket.error().Message()));
  return std::move(*socket);
}

// Datagram `idx`: 4 bytes of its index, then `size - 4` bytes of filler.
Bytes Payload(std::uint32_t idx, std::size_t size = 100) {
  Bytes bytes(size, static_cast<std::uint8_t>(idx));
  for (int byte_idx = 0; byte_idx < 4; ++byte_idx) {
    bytes[static_cast<std::size_t>(byte_idx)] =
        static_cast<std::uint8_t>(idx >> (24 - 8 * byte_idx));
  }
  return bytes;
}

std::uint32_t IndexOf(std::span<const std::uint8_t> payload) {
  return (std::uint32_t{payload[0]} << 24) | (std::uint32_t{payload[1]} << 16) |
         (std::uint32_t{payload[2]} << 8) | payload[3];
}

void SendAll(UdpSender& sender, const std::vector<Bytes>& datagrams) {
  std::vector<std::span<const std::uint8_t>> spans(datagrams.begin(), datagrams.end());
  const auto sent = sender.Send(spans);
  ASSERT_TRUE(sent.has_value());
  ASSERT_EQ(*sent, datagrams.size());
}

// Receives until `want` datagrams were kept or counted as dropped, or 5 s pass.
struct Received {
  std::vector<std::uint32_t> indexes;
  std::vector<Endpoint> sources;
  std::vector<UnixMillis> times;
};

Received ReceiveUntil(UdpReceiver& receiver, std::size_t want) {
  Received received;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    const ReceiveCounters& counters = receiver.counters();
    if (received.indexes.size() + counters.truncated.Get() + counters.not_allowed.Get() >= want) {
      break;
    }
    for (const flow::Datagram& datagram : receiver.ReceiveBatch(100)) {
      received.indexes.push_back(IndexOf(datagram.payload));
      received.sources.push_back(Endpoint{datagram.exporter, datagram.exporter_port});
      received.times.push_back(datagram.time_received);
    }
  }
  return received;
}

void ExpectReceivesAllFrom(const char* address) {
  std::vector<UdpSocket> sockets;
  sockets.push_back(BindOrDie(Local(address)));
  const Endpoint bound = sockets.front().local();
  ASSERT_NE(bound.port, 0);
  ManualClock clock(1'700'000'000'123);
  UdpReceiver receiver(std::move(sockets), UdpReceiverOptions{}, clock);

  auto sender = UdpSender::Connect(bound);
  ASSERT_TRUE(sender.has_value());
  std::vector<Bytes> datagrams;
  constexpr std::uint32_t kCount = 200;  // several recvmmsg batches of 64
  for (std::uint32_t idx = 0; idx < kCount; ++idx) {
    datagrams.push_back(Payload(idx, 50 + idx));
  }
  SendAll(*sender, datagrams);

  const Received received = ReceiveUntil(receiver, kCount);
  ASSERT_EQ(received.indexes.size(), kCount);
  for (std::uint32_t idx = 0; idx < kCount; ++idx) {
    EXPECT_EQ(received.indexes[idx], idx) << "one sender, one socket: order is kept";
    EXPECT_EQ(received.sources[idx].address, bound.address);
    EXPECT_NE(received.sources[idx].port, 0);
    EXPECT_EQ(received.times[idx], 1'700'000'000'123);
  }
  EXPECT_EQ(receiver.counters().datagrams.Get(), kCount);
  std::uint64_t bytes = 0;
  for (const Bytes& datagram : datagrams) {
    bytes += datagram.size();
  }
  EXPECT_EQ(receiver.counters().bytes.Get(), bytes);
  EXPECT_EQ(receiver.counters().truncated.Get(), 0u);
  EXPECT_EQ(receiver.counters().kernel_drops.Get(), 0u);
}

TEST(UdpReceiverTest, ReceivesEveryDatagramOverIpv4WithTheExporterAddress) {
  ExpectReceivesAllFrom("127.0.0.1");
}

TEST(UdpReceiverTest, ReceivesEveryDatagramOverIpv6WithTheExporterAddress) {
  ExpectReceivesAllFrom("::1");
}

// Segmented sends (UDP_SEGMENT) of 40 datagrams of 1000 bytes and one of 37 bytes
// reach the receiver as coalesced buffers when it asks for UDP_GRO, and as 41 messages
// when it does not; either way it hands out the 41 datagrams, in order, each whole.
void ExpectSplitsCoalescedDatagrams(bool coalesce) {
  std::vector<UdpSocket> sockets;
  sockets.push_back(BindOrDie(Local("127.0.0.1"), 8 << 20));
  const Endpoint bound = sockets.front().local();
  UdpReceiverOptions options;
  options.coalesce = coalesce;
  options.batch_size = 4;  // fewer messages than datagrams: batches of several buffers
  SystemClock clock;
  UdpReceiver receiver(std::move(sockets), options, clock);
  auto sender = UdpSender::Connect(bound);
  ASSERT_TRUE(sender.has_value());

  constexpr std::uint32_t kSends = 6;
  constexpr std::uint32_t kPerSend = 41;
  std::vector<Bytes> expected;
  std::uint32_t next = 0;
  for (std::uint32_t send_idx = 0; send_idx < kSends; ++send_idx) {
    Bytes contiguous;
    for (std::uint32_t idx = 0; idx < kPerSend; ++idx) {
      const Bytes datagram = Payload(next++, idx + 1 == kPerSend ? 37 : 1000);
      contiguous.insert(contiguous.end(), datagram.begin(), datagram.end());
      expected.push_back(datagram);
    }
    ASSERT_TRUE(sender->SendSegmented(contiguous, 1000).has_value());
    SendAll(*sender, {Payload(next)});  // a lone datagram between the bursts
    expected.push_back(Payload(next++));
  }

  std::vector<Bytes> received;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (received.size() < expected.size() && std::chrono::steady_clock::now() < deadline) {
    for (const flow::Datagram& datagram : receiver.ReceiveBatch(100)) {
      received.emplace_back(datagram.payload.begin(), datagram.payload.end());
      EXPECT_EQ(datagram.exporter, bound.address);
    }
  }
  ASSERT_EQ(received.size(), expected.size());
  for (std::size_t idx = 0; idx < expected.size(); ++idx) {
    ASSERT_EQ(received[idx], expected[idx]) << "datagram " << idx;
  }
  EXPECT_EQ(receiver.counters().datagrams.Get(), expected.size());
  EXPECT_EQ(receiver.counters().truncated.Get(), 0u);
  if (coalesce) {
    EXPECT_TRUE(receiver.coalescing()) << "UDP_GRO needs Linux 5.0";
    EXPECT_GT(receiver.counters().coalesced.Get(), 0u);
  } else {
    EXPECT_FALSE(receiver.coalescing());
    EXPECT_EQ(receiver.counters().coalesced.Get(), 0u);
  }
}

TEST(UdpReceiverTest, SplitsDatagramsTheKernelCoalesced) {
  ExpectSplitsCoalescedDatagrams(true);
}

TEST(UdpReceiverTest, ReceivesSegmentedSendsOneByOneWithoutCoalescing) {
  ExpectSplitsCoalescedDatagrams(false);
}

TEST(UdpReceiverTest, DoesNotCoalesceIntoSlotsTooSmallForA64KiBBuffer) {
  std::vector<UdpSocket> sockets;
  sockets.push_back(BindOrDie(Local("127.0.0.1")));
  UdpReceiverOptions options;
  options.slot_bytes = 2048;
  SystemClock clock;
  const UdpReceiver receiver(std::move(sockets), options, clock);
  EXPECT_FALSE(receiver.coalescing());
}

TEST(UdpReceiverTest, ReceivesFromSeveralSocketsOfOneThread) {
  std::vector<UdpSocket> sockets;
  sockets.push_back(BindOrDie(Local("127.0.0.1")));
  sockets.push_back(BindOrDie(Local("::1")));
  const Endpoint v4 = sockets[0].local();
  const Endpoint v6 = sockets[1].local();
  SystemClock clock;
  UdpReceiver receiver(std::move(sockets), UdpReceiverOptions{}, clock);
  auto to_v4 = UdpSender::Connect(v4);
  auto to_v6 = UdpSender::Connect(v6);
  ASSERT_TRUE(to_v4 && to_v6);
  SendAll(*to_v4, {Payload(1), Payload(2)});
  SendAll(*to_v6, {Payload(3)});
  Received received = ReceiveUntil(receiver, 3);
  ASSERT_EQ(received.indexes.size(), 3u);
  std::sort(received.indexes.begin(), received.indexes.end());
  EXPECT_EQ(received.indexes, (std::vector<std::uint32_t>{1, 2, 3}));
}

TEST(UdpReceiverTest, DropsAndCountsExportersOutsideTheAllowList) {
  std::vector<UdpSocket> sockets;
  sockets.push_back(BindOrDie(Local("127.0.0.1")));
  const Endpoint bound = sockets.front().local();
  UdpReceiverOptions options;
  options.allow.push_back(*flow::IpPrefix::Parse("127.0.2.0/24"));
  SystemClock clock;
  UdpReceiver receiver(std::move(sockets), options, clock);

  auto allowed = UdpSender::Connect(bound, flow::IpAddress::Parse("127.0.2.7"));
  auto refused = UdpSender::Connect(bound, flow::IpAddress::Parse("127.0.3.7"));
  ASSERT_TRUE(allowed && refused);
  SendAll(*refused, {Payload(1), Payload(2)});
  SendAll(*allowed, {Payload(3)});
  const Received received = ReceiveUntil(receiver, 3);
  ASSERT_EQ(received.indexes, std::vector<std::uint32_t>{3});
  EXPECT_EQ(received.sources[0].address, *flow::IpAddress::Parse("127.0.2.7"));
  EXPECT_EQ(receiver.counters().not_allowed.Get(), 2u);
  EXPECT_EQ(receiver.counters().datagrams.Get(), 1u);
}

TEST(UdpReceiverTest, CountsAndDropsDatagramsLongerThanASlot) {
  std::vector<UdpSocket> sockets;
  sockets.push_back(BindOrDie(Local("127.0.0.1")));
  const Endpoint bound = sockets.front().local();
  UdpReceiverOptions options;
  options.slot_bytes = 512;
  SystemClock clock;
  UdpReceiver receiver(std::move(sockets), options, clock);
  auto sender = UdpSender::Connect(bound);
  ASSERT_TRUE(sender.has_value());
  SendAll(*sender, {Payload(1, 512), Payload(2, 513), Payload(3, 100)});
  const Received received = ReceiveUntil(receiver, 3);
  EXPECT_EQ(received.indexes, (std::vector<std::uint32_t>{1, 3}));
  EXPECT_EQ(receiver.counters().truncated.Get(), 1u);
}

TEST(UdpReceiverTest, CountsWhatTheKernelDroppedWhenTheSocketBufferWasFull) {
  std::vector<UdpSocket> sockets;
  sockets.push_back(BindOrDie(Local("127.0.0.1"), 4096));  // room for a few datagrams only
  const Endpoint bound = sockets.front().local();
  SystemClock clock;
  UdpReceiver receiver(std::move(sockets), UdpReceiverOptions{}, clock);
  auto sender = UdpSender::Connect(bound);
  ASSERT_TRUE(sender.has_value());
  std::vector<Bytes> burst;
  for (std::uint32_t idx = 0; idx < 100; ++idx) {
    burst.push_back(Payload(idx, 1000));
  }
  SendAll(*sender, burst);  // loopback: the kernel drops what does not fit, at once
  std::size_t received = 0;
  while (!receiver.ReceiveBatch(0).empty()) {
    received = receiver.counters().datagrams.Get();
  }
  ASSERT_GT(received, 0u);
  ASSERT_LT(received, 100u);
  // SO_RXQ_OVFL stamps the drop count on datagrams queued after the drops: the next one.
  SendAll(*sender, {Payload(1000, 1000)});
  const Received last = ReceiveUntil(receiver, 1);
  ASSERT_EQ(last.indexes, std::vector<std::uint32_t>{1000});
  EXPECT_EQ(receiver.counters().kernel_drops.Get(), 100 - received);
}

TEST(UdpReceiverTest, ReturnsNothingWhenNoDatagramArrivesInTime) {
  std::vector<UdpSocket> sockets;
  sockets.push_back(BindOrDie(Local("127.0.0.1")));
  SystemClock clock;
  UdpReceiver receiver(std::move(sockets), UdpReceiverOptions{}, clock);
  EXPECT_TRUE(receiver.ReceiveBatch(0).empty());
  EXPECT_TRUE(receiver.ReceiveBatch(10).empty());
}

TEST(UdpSocketTest, ReportsAClearErrorWhenThePortIsTaken) {
  UdpSocket first = BindOrDie(Local("127.0.0.1"));
  UdpSocketOptions options;
  options.local = first.local();
  const auto second = UdpSocket::Bind(options);
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().Message().find("cannot bind udp 127.0.0.1:"), std::string_view::npos);
  EXPECT_NE(second.error().Message().find("in use"), std::string_view::npos);
}

TEST(UdpSocketTest, SharesAPortBetweenSocketsWithReusePort) {
  UdpSocketOptions options;
  options.local = Local("127.0.0.1");
  options.reuse_port = true;
  auto first = UdpSocket::Bind(options);
  ASSERT_TRUE(first.has_value());
  options.local.port = first->local().port;
  auto second = UdpSocket::Bind(options);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->local().port, first->local().port);
}

TEST(UdpSocketTest, ReportsTheReceiveBufferTheKernelGranted) {
  UdpSocket socket = BindOrDie(Local("127.0.0.1"), 1 << 20);
  EXPECT_EQ(socket.rcvbuf_requested(), std::size_t{1} << 20);
  EXPECT_GT(socket.rcvbuf_effective(), 0u);
  EXPECT_EQ(socket.rcvbuf_capped(),
            socket.rcvbuf_effective() < socket.rcvbuf_requested() * 63 / 64);
}

TEST(IpPrefixTest, MatchesIpv4AndIpv6Prefixes) {
  const auto v4 = flow::IpPrefix::Parse("192.0.2.0/24");
  ASSERT_TRUE(v4.has_value());
  EXPECT_TRUE(v4->Contains(*flow::IpAddress::Parse("192.0.2.200")));
  EXPECT_FALSE(v4->Contains(*flow::IpAddress::Parse("192.0.3.1")));
  EXPECT_FALSE(v4->Contains(*flow::IpAddress::Parse("2001:db8::1")));
  EXPECT_EQ(v4->ToString(), "192.0.2.0/24");

  const auto v6 = flow::IpPrefix::Parse("2001:db8::/33");
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->Contains(*flow::IpAddress::Parse("2001:db8:7fff::1")));
  EXPECT_FALSE(v6->Contains(*flow::IpAddress::Parse("2001:db8:8000::1")));

  const auto host = flow::IpPrefix::Parse("10.1.2.3");
  ASSERT_TRUE(host.has_value());
  EXPECT_TRUE(host->Contains(*flow::IpAddress::Parse("10.1.2.3")));
  EXPECT_FALSE(host->Contains(*flow::IpAddress::Parse("10.1.2.4")));

  EXPECT_TRUE(flow::IpPrefix::Parse("0.0.0.0/0")->Contains(*flow::IpAddress::Parse("8.8.8.8")));
  EXPECT_FALSE(flow::IpPrefix::Parse("10.0.0.0/33").has_value());
  EXPECT_FALSE(flow::IpPrefix::Parse("10.0.0.0/").has_value());
  EXPECT_FALSE(flow::IpPrefix::Parse("nonsense/8").has_value());
}

TEST(EndpointTest, PrintsIpv6InBrackets) {
  EXPECT_EQ((Endpoint{*flow::IpAddress::Parse("::1"), 2055}).ToString(), "[::1]:2055");
  EXPECT_EQ((Endpoint{*flow::IpAddress::Parse("127.0.0.1"), 2055}).ToString(), "127.0.0.1:2055");
}

}  // namespace
}  // namespace sluice::net
