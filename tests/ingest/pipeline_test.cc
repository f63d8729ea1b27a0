// SPDX-License-Identifier: Apache-2.0

#include "ingest/pipeline.h"

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "net/capture_reader.h"
#include "net/udp_sender.h"
#include "testing/hex.h"

namespace sluice::ingest {
namespace {

std::vector<std::vector<std::uint8_t>> ReadDatagrams(const std::string& relative) {
  std::vector<std::vector<std::uint8_t>> datagrams;
  const auto stats = net::ReadCapture(
      test::SharedTestData(relative), {}, [&](const flow::Datagram& datagram, std::uint16_t) {
        datagrams.emplace_back(datagram.payload.begin(), datagram.payload.end());
      });
  EXPECT_TRUE(stats.has_value());
  return datagrams;
}

// Polls `done` every few milliseconds for up to 10 s.
template <typename Fn>
bool WaitFor(Fn&& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

TEST(PipelineTest, ReceivesDecodesAndCountsFromSeveralExportersOverIpv4AndIpv6) {
  const auto v5 = ReadDatagrams("flows/akvorado/netflow/nfv5.pcap");
  ASSERT_FALSE(v5.empty());
  PipelineOptions options;
  options.listen = {net::Endpoint{*flow::IpAddress::Parse("127.0.0.1"), 0},
                    net::Endpoint{*flow::IpAddress::Parse("::1"), 0}};
  options.receive_threads = 2;
  options.decode_threads = 2;
  options.rcvbuf_bytes = 4 << 20;
  SystemClock clock;
  std::vector<CountingSink*> sinks;
  auto created = Pipeline::Create(
      options,
      [&sinks](std::size_t) {
        auto sink = std::make_unique<CountingSink>();
        sinks.push_back(sink.get());
        return sink;
      },
      clock);
  ASSERT_TRUE(created.has_value()) << created.error().Message();
  Pipeline& pipeline = **created;
  ASSERT_EQ(pipeline.sockets().size(), 2u);
  const net::Endpoint v4 = pipeline.sockets()[0].local();
  const net::Endpoint v6 = pipeline.sockets()[1].local();
  ASSERT_NE(v4.port, 0);
  ASSERT_NE(v6.port, 0);
  pipeline.Start();

  std::vector<std::span<const std::uint8_t>> spans(v5.begin(), v5.end());
  std::uint64_t sent = 0;
  for (std::uint32_t exporter = 1; exporter <= 8; ++exporter) {
    auto sender = net::UdpSender::Connect(v4, flow::IpAddress::FromV4(0x7F000200 + exporter));
    ASSERT_TRUE(sender.has_value());
    ASSERT_TRUE(sender->Send(spans).has_value());
    sent += spans.size();
  }
  auto sender6 = net::UdpSender::Connect(v6);
  ASSERT_TRUE(sender6.has_value());
  ASSERT_TRUE(sender6->Send(spans).has_value());
  sent += spans.size();

  const std::uint64_t records_per_copy = 29 * v5.size();
  ASSERT_TRUE(WaitFor([&] { return pipeline.Stats().records == records_per_copy * 9; }))
      << pipeline.Stats().ToLogLine();
  pipeline.Stop();
  const PipelineStats stats = pipeline.Stats();
  EXPECT_EQ(stats.datagrams, sent);
  EXPECT_EQ(stats.datagrams_decoded, sent);
  EXPECT_EQ(stats.kernel_drops, 0u);
  EXPECT_EQ(stats.dropped_queue_full, 0u);
  EXPECT_EQ(stats.decode_errors, 0u);
  std::uint64_t counted = 0;
  for (const CountingSink* sink : sinks) {
    counted += sink->records();
  }
  EXPECT_EQ(counted, records_per_copy * 9) << "every record reached a sink";
  EXPECT_NE(stats.ToJson().find("\"records\":" + std::to_string(records_per_copy * 9)),
            std::string::npos);
}

// A sink whose first batch takes `stall` (a store writer held up for a moment).
class StallingSink final : public flow::FlowSink {
 public:
  explicit StallingSink(std::chrono::milliseconds stall) : stall_(stall) {}

  void Consume(flow::FlowBatch& batch) override {
    if (!stalled_) {
      stalled_ = true;
      std::this_thread::sleep_for(stall_);
    }
    records_.Add(batch.size());
  }

  std::uint64_t records() const { return records_.Get(); }

 private:
  std::chrono::milliseconds stall_;
  bool stalled_ = false;
  net::RelaxedCounter records_;
};

// 400 datagrams sent while decoding stalls for 300 ms behind a ring that holds a few
// dozen: with the ring wait, the socket buffer keeps them and none is lost; without it,
// the ring refuses most of them (counted).
PipelineStats RunThroughAStall(std::uint32_t ring_wait_us, std::uint64_t& sent,
                               std::uint64_t& sunk) {
  const auto v5 = ReadDatagrams("flows/akvorado/netflow/nfv5.pcap");
  EXPECT_FALSE(v5.empty());
  PipelineOptions options;
  options.listen = {net::Endpoint{*flow::IpAddress::Parse("127.0.0.1"), 0}};
  options.decode_threads = 1;
  options.rcvbuf_bytes = 8 << 20;
  options.queue_bytes = 64 << 10;
  options.ring_wait_us = ring_wait_us;
  SystemClock clock;
  StallingSink* sink = nullptr;
  auto created = Pipeline::Create(
      options,
      [&sink](std::size_t) {
        auto made = std::make_unique<StallingSink>(std::chrono::milliseconds(300));
        sink = made.get();
        return made;
      },
      clock);
  EXPECT_TRUE(created.has_value());
  Pipeline& pipeline = **created;
  pipeline.Start();
  auto sender = net::UdpSender::Connect(pipeline.sockets()[0].local());
  EXPECT_TRUE(sender.has_value());
  std::vector<std::span<const std::uint8_t>> spans;
  while (spans.size() < 400) {
    spans.insert(spans.end(), v5.begin(), v5.end());
  }
  EXPECT_TRUE(sender->Send(spans).has_value());
  sent = spans.size();
  WaitFor([&] {
    const PipelineStats stats = pipeline.Stats();
    return stats.datagrams_decoded + stats.dropped_queue_full + stats.kernel_drops >= sent;
  });
  pipeline.Stop();
  sunk = sink->records();
  return pipeline.Stats();
}

TEST(PipelineTest, AFullRingWaitsWhileTheSocketBufferHoldsWhatArrives) {
  std::uint64_t sent = 0;
  std::uint64_t sunk = 0;
  const PipelineStats stats = RunThroughAStall(2'000'000, sent, sunk);
  EXPECT_EQ(stats.dropped_queue_full, 0u) << stats.ToLogLine();
  EXPECT_EQ(stats.kernel_drops, 0u);
  EXPECT_EQ(stats.datagrams_decoded, sent);
  EXPECT_EQ(sunk, stats.records);
  EXPECT_EQ(stats.records, 29 * sent);
}

TEST(PipelineTest, WithoutTheRingWaitAFullRingDropsAndCounts) {
  std::uint64_t sent = 0;
  std::uint64_t sunk = 0;
  const PipelineStats stats = RunThroughAStall(0, sent, sunk);
  EXPECT_GT(stats.dropped_queue_full, 0u);
  EXPECT_EQ(stats.datagrams_decoded + stats.dropped_queue_full, sent) << stats.ToLogLine();
  EXPECT_EQ(sunk, stats.records);
}

TEST(PipelineTest, FailsClearlyWhenAPortIsTaken) {
  PipelineOptions options;
  options.listen = {net::Endpoint{*flow::IpAddress::Parse("127.0.0.1"), 0}};
  SystemClock clock;
  auto first = Pipeline::Create(options, nullptr, clock);
  ASSERT_TRUE(first.has_value());
  options.listen[0].port = (*first)->sockets()[0].local().port;
  auto second = Pipeline::Create(options, nullptr, clock);
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().Message().find("cannot bind udp 127.0.0.1:"), std::string_view::npos);
}

}  // namespace
}  // namespace sluice::ingest
