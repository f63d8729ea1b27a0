// SPDX-License-Identifier: Apache-2.0

#include "api/prometheus_text.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "decode/decode_error.h"
#include "testing/process.h"

namespace sluice::api {
namespace {

ServiceSnapshot FilledSnapshot() {
  ServiceSnapshot snapshot;
  snapshot.now = 1'764'756'000'000;
  snapshot.started_at = snapshot.now - 90'500;
  snapshot.uptime_s = 90.5;
  snapshot.version = "0.1.0";
  snapshot.build_type = "Release";
  snapshot.pipeline.datagrams = 120;
  snapshot.pipeline.bytes = 150'000;
  snapshot.pipeline.kernel_drops = 3;
  snapshot.pipeline.dropped_queue_full = 2;
  snapshot.pipeline.truncated = 1;
  snapshot.pipeline.datagrams_decoded = 117;
  snapshot.pipeline.decode_errors = 4;

  ExporterSnapshot first;
  first.report.address = *flow::IpAddress::Parse("192.0.2.1");
  first.report.protocol = decode::Protocol::kIpfix;
  first.report.first_seen = snapshot.now - 60'000;
  first.report.last_seen = snapshot.now - 1'000;
  first.report.counters.datagrams = 100;
  first.report.counters.datagram_bytes = 140'000;
  first.report.counters.records = 2'900;
  first.report.counters.sequence_lost = 7;
  first.report.counters.CountError(decode::DecodeErrorKind::kTruncated);
  first.report.counters.CountError(decode::DecodeErrorKind::kTruncated);
  first.report.templates = 3;
  first.report.samplers.push_back(decode::SamplerReport{0, 1, 1000});
  decode::InterfaceReport interface;
  interface.index = 12;
  interface.info.name = "xe-0/0/1";
  interface.info.has_counters = true;
  interface.info.counters.in_octets = 123'456;
  first.report.interfaces.push_back(interface);
  first.source = "core \"east\"";
  snapshot.exporters.push_back(first);

  ExporterSnapshot second;
  second.report.address = *flow::IpAddress::Parse("2001:db8::7");
  second.report.protocol = decode::Protocol::kSflowV5;
  second.report.counters.datagrams = 20;
  second.report.counters.datagram_bytes = 10'000;
  second.report.counters.records = 40;
  second.report.counters.CountError(decode::DecodeErrorKind::kBadVersion);
  second.source = "default";
  snapshot.exporters.push_back(second);

  snapshot.store.flows_written = 2'940;
  snapshot.store.segments_sealed = 4;
  snapshot.store.bytes_written = 81'920;
  snapshot.store.open_segments = 1;
  snapshot.housekeeper.runs = 2;

  LatencyHistogram histogram;
  histogram.Observe(0.0005);
  histogram.Observe(0.02);
  histogram.Observe(0.02);
  histogram.Observe(30);
  snapshot.query_duration = histogram.Snapshot();
  LatencyHistogram seal;
  seal.Observe(0.004);
  snapshot.store_latency.seal = seal.Snapshot();
  snapshot.enrich_flows = 10;
  snapshot.enrich_matched = 7;
  snapshot.prefix_map_prefixes = 2;

  for (std::uint32_t host = 1; host <= 12; ++host) {
    snapshot.top_talkers.push_back(
        TopTalker{flow::IpAddress::FromV4(0xC6336400 + host), 1'000'000 - host * 1000});
  }
  return snapshot;
}

std::size_t Count(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

TEST(PrometheusTextTest, EscapesBackslashQuoteAndNewlineInLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeLabelValue("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(EscapeLabelValue("two\nlines"), "two\\nlines");
}

TEST(PrometheusTextTest, WritesHelpAndTypeOncePerFamilyAndEscapesHelp) {
  PrometheusWriter writer;
  writer.Family("x_total", MetricType::kCounter, "Back\\slash and\nnewline.");
  writer.Sample("x_total", {{"a", "1"}}, std::uint64_t{5});
  writer.Sample("x_total", {{"a", "q\""}, {"b", "2"}}, std::uint64_t{6});
  writer.Family("y", MetricType::kGauge, "A gauge.");
  writer.Sample("y", {}, 0.25);
  EXPECT_EQ(writer.text(),
            "# HELP x_total Back\\\\slash and\\nnewline.\n"
            "# TYPE x_total counter\n"
            "x_total{a=\"1\"} 5\n"
            "x_total{a=\"q\\\"\",b=\"2\"} 6\n"
            "# HELP y A gauge.\n"
            "# TYPE y gauge\n"
            "y 0.25\n");
}

TEST(PrometheusTextTest, FormatsSpecialValues) {
  EXPECT_EQ(FormatValue(3.0), "3");
  EXPECT_EQ(FormatValue(0.001), "0.001");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatValue(0.0 / 0.0), "NaN");
}

TEST(PrometheusTextTest, HistogramBucketsAreCumulativeAndEndWithInf) {
  HistogramSnapshot histogram;
  histogram.upper_bounds_s = {0.1, 1};
  histogram.counts = {2, 3, 1};
  histogram.count = 6;
  histogram.sum_s = 4.5;
  PrometheusWriter writer;
  writer.Histogram("q_seconds", {{"route", "r"}}, histogram);
  EXPECT_EQ(writer.text(),
            "q_seconds_bucket{route=\"r\",le=\"0.1\"} 2\n"
            "q_seconds_bucket{route=\"r\",le=\"1\"} 5\n"
            "q_seconds_bucket{route=\"r\",le=\"+Inf\"} 6\n"
            "q_seconds_sum{route=\"r\"} 4.5\n"
            "q_seconds_count{route=\"r\"} 6\n");
}

TEST(RenderMetricsTest, RendersEveryFamilyOfAFilledSnapshot) {
  const std::string text = RenderMetrics(FilledSnapshot());
  EXPECT_NE(text.find("sluice_build_info{version=\"0.1.0\",build_type=\"Release\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("sluice_uptime_seconds 90.5\n"), std::string::npos);
  EXPECT_NE(text.find("netflow_flows_total{exporter=\"192.0.2.1\",source=\"core \\\"east\\\"\"} "
                      "2900\n"),
            std::string::npos);
  EXPECT_NE(text.find("netflow_flows_total{exporter=\"2001:db8::7\",source=\"default\"} 40\n"),
            std::string::npos);
  EXPECT_NE(text.find("netflow_packets_total{exporter=\"192.0.2.1\",source=\"core \\\"east\\\"\"}"
                      " 100\n"),
            std::string::npos);
  EXPECT_NE(text.find("netflow_bytes_total{exporter=\"2001:db8::7\",source=\"default\"} 10000\n"),
            std::string::npos);
  EXPECT_NE(text.find("netflow_sequence_lost_total{exporter=\"192.0.2.1\""), std::string::npos);
  EXPECT_NE(text.find("netflow_templates{exporter=\"192.0.2.1\",source=\"core \\\"east\\\"\"} 3\n"),
            std::string::npos);
  const std::string truncated =
      "reason=\"" + std::string(decode::Name(decode::DecodeErrorKind::kTruncated)) + "\"} 2\n";
  EXPECT_NE(text.find(truncated), std::string::npos);
  EXPECT_NE(text.find("sluice_datagrams_dropped_total{reason=\"kernel\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_datagrams_dropped_total{reason=\"queue_full\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("sluice_store_segments_sealed_total 4\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_store_written_bytes_total 81920\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_query_duration_seconds_bucket{le=\"0.001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_query_duration_seconds_bucket{le=\"0.025\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_query_duration_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_store_write_duration_seconds_bucket{op=\"seal\",le=\"0.005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("sluice_store_write_duration_seconds_count{op=\"append\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_enrich_flows_total{result=\"matched\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_enrich_flows_total{result=\"unmatched\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_prefix_map_prefixes 2\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_query_duration_seconds_count 4\n"), std::string::npos);
  // Top talkers: at most 10 series, whatever the snapshot holds.
  EXPECT_EQ(Count(text, "\nnetflow_top_talker_bytes{"), 10u);
  EXPECT_NE(text.find("netflow_top_talker_bytes{address=\"198.51.100.1\"} 999000\n"),
            std::string::npos);
  // One HELP and one TYPE per family.
  EXPECT_EQ(Count(text, "# TYPE netflow_flows_total "), 1u);
  EXPECT_EQ(Count(text, "# HELP netflow_flows_total "), 1u);
  EXPECT_EQ(Count(text, "# TYPE sluice_query_duration_seconds histogram\n"), 1u);
  EXPECT_EQ(text.back(), '\n');
}

TEST(RenderMetricsTest, RendersAnEmptySnapshot) {
  ServiceSnapshot snapshot;
  snapshot.query_duration = LatencyHistogram().Snapshot();
  const std::string text = RenderMetrics(snapshot);
  EXPECT_NE(text.find("# TYPE netflow_flows_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_query_duration_seconds_bucket{le=\"+Inf\"} 0\n"), std::string::npos);
}

// Runs Prometheus' own checker over the body: no error and no lint finding.
void ExpectPromtoolAccepts(const std::string& text) {
  test::TempDir dir;
  const std::string path = dir.File("metrics.txt");
  {
    std::ofstream out(path);
    out << text;
  }
  test::Child child({"/bin/sh", "-c", "promtool check metrics < '" + path + "'"}, dir.File("out"),
                    dir.File("err"));
  ASSERT_TRUE(child.started());
  const int status = child.Wait(std::chrono::seconds(30));
  EXPECT_EQ(status, 0) << child.Out() << child.Err();
  EXPECT_EQ(child.Out() + child.Err(), "");
}

bool HavePromtool() {
  return access("/usr/bin/promtool", X_OK) == 0 || access("/usr/local/bin/promtool", X_OK) == 0;
}

TEST(RenderMetricsTest, PromtoolFindsNoProblemInAFilledSnapshot) {
  if (!HavePromtool()) {
    GTEST_SKIP() << "promtool is not installed (Debian package prometheus)";
  }
  ExpectPromtoolAccepts(RenderMetrics(FilledSnapshot()));
}

TEST(RenderMetricsTest, PromtoolFindsNoProblemInAnEmptySnapshot) {
  if (!HavePromtool()) {
    GTEST_SKIP() << "promtool is not installed (Debian package prometheus)";
  }
  ServiceSnapshot snapshot;
  snapshot.query_duration = LatencyHistogram().Snapshot();
  ExpectPromtoolAccepts(RenderMetrics(snapshot));
}

}  // namespace
}  // namespace sluice::api
