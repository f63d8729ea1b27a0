// SPDX-License-Identifier: Apache-2.0
// TakeServiceSnapshot over a real pipeline on loopback, a real store writer and a
// housekeeper: a capture sent from one exporter shows up in the snapshot with its counts.

#include "cli/serve_snapshot.h"

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/exporters_json.h"
#include "api/prometheus_text.h"
#include "net/capture_reader.h"
#include "net/udp_sender.h"
#include "store/file_system.h"
#include "testing/hex.h"
#include "testing/process.h"

namespace sluice::cli {
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

TEST(ServeSnapshotTest, ShowsAnExporterOfARealCaptureWithItsCounts) {
  const auto datagrams = ReadDatagrams("flows/akvorado/netflow/nfv5.pcap");
  ASSERT_FALSE(datagrams.empty());
  std::uint64_t payload_bytes = 0;
  for (const auto& datagram : datagrams) {
    payload_bytes += datagram.size();
  }

  test::TempDir dir;
  store::PosixFileSystem file_system;
  SystemClock clock;
  store::StoreWriterOptions store_options;
  store_options.data_dir = dir.File("data");
  store_options.flush_interval_ms = 100;
  auto store = store::StoreWriter::Open(store_options, file_system, clock);
  ASSERT_TRUE(store.has_value()) << store.error().Message();
  (*store)->Start();
  store::MaintenanceOptions maintenance;
  maintenance.data_dir = store_options.data_dir;
  store::Housekeeper housekeeper(maintenance, file_system, clock);

  ingest::PipelineOptions options;
  options.listen = {net::Endpoint{*flow::IpAddress::Parse("127.0.0.1"), 0}};
  auto created = ingest::Pipeline::Create(
      options, [&store](std::size_t) { return (*store)->MakeSink(); }, clock);
  ASSERT_TRUE(created.has_value()) << created.error().Message();
  ingest::Pipeline& pipeline = **created;
  pipeline.Start();

  const flow::IpAddress exporter = *flow::IpAddress::Parse("127.0.0.5");
  std::vector<std::span<const std::uint8_t>> spans(datagrams.begin(), datagrams.end());
  auto sender = net::UdpSender::Connect(pipeline.sockets()[0].local(), exporter);
  ASSERT_TRUE(sender.has_value());
  ASSERT_TRUE(sender->Send(spans).has_value());
  ASSERT_TRUE(WaitFor([&] { return pipeline.Stats().datagrams_decoded == datagrams.size(); }));
  const std::uint64_t records = pipeline.Stats().records;
  ASSERT_GT(records, 0u);

  ServiceInfo info;
  info.started_at = clock.NowMillis() - 5000;
  info.version = "test";
  info.sources = {{exporter, "lab"}};
  LatencyHistogram latency;
  latency.Observe(0.02);
  info.query_latency = &latency;

  // While running, the snapshot reads what the workers last published.
  api::ServiceSnapshot snapshot;
  ASSERT_TRUE(WaitFor([&] {
    pipeline.workers().RequestSnapshots();
    snapshot = TakeServiceSnapshot(pipeline, **store, housekeeper, info, clock);
    return snapshot.exporters.size() == 1 &&
           snapshot.exporters[0].report.counters.datagrams == datagrams.size() &&
           snapshot.store.flows_written == records;
  }));
  const api::ExporterSnapshot& seen = snapshot.exporters[0];
  EXPECT_EQ(seen.report.address, exporter);
  EXPECT_EQ(seen.source, "lab");
  EXPECT_EQ(seen.report.protocol, decode::Protocol::kNetflowV5);
  EXPECT_EQ(seen.report.counters.records, records);
  EXPECT_EQ(seen.report.counters.datagram_bytes, payload_bytes);
  EXPECT_GT(seen.report.first_seen, 0);
  EXPECT_EQ(snapshot.pipeline.datagrams, datagrams.size());
  EXPECT_EQ(snapshot.pipeline.bytes, payload_bytes);
  EXPECT_GE(snapshot.uptime_s, 5.0);
  EXPECT_EQ(snapshot.query_duration.count, 1u);

  const std::string metrics = api::RenderMetrics(snapshot);
  EXPECT_NE(metrics.find("netflow_flows_total{exporter=\"127.0.0.5\",source=\"lab\"} " +
                         std::to_string(records) + "\n"),
            std::string::npos)
      << metrics;
  const nlohmann::json body = nlohmann::json::parse(api::RenderExportersJson(snapshot));
  EXPECT_EQ(body["total"], 1);
  EXPECT_EQ(body["items"][0]["exporter"], "127.0.0.5");
  EXPECT_EQ(body["items"][0]["flows"], records);
  EXPECT_EQ(body["items"][0]["packets"], datagrams.size());

  // After Stop() the snapshot reads the decoders themselves: same counts.
  pipeline.Stop();
  const api::ServiceSnapshot stopped =
      TakeServiceSnapshot(pipeline, **store, housekeeper, ServiceInfo{}, clock);
  ASSERT_EQ(stopped.exporters.size(), 1u);
  EXPECT_EQ(stopped.exporters[0].source, "default");
  EXPECT_EQ(stopped.exporters[0].report.counters.records, records);
  ASSERT_TRUE((*store)->Close().has_value());
}

}  // namespace
}  // namespace sluice::cli
