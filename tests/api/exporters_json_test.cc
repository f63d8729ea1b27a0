// SPDX-License-Identifier: Apache-2.0

#include "api/exporters_json.h"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "decode/decode_error.h"

namespace sluice::api {
namespace {

using nlohmann::json;

ExporterSnapshot IpfixExporter() {
  ExporterSnapshot exporter;
  exporter.report.address = *flow::IpAddress::Parse("192.0.2.1");
  exporter.report.protocol = decode::Protocol::kIpfix;
  exporter.report.first_seen = 1'764'756'000'000;  // 2025-12-03T10:00:00Z
  exporter.report.last_seen = 1'764'756'010'000;
  exporter.report.counters.datagrams = 100;
  exporter.report.counters.datagram_bytes = 140'000;
  exporter.report.counters.records = 2'000;
  exporter.report.counters.sequence_lost = 7;
  exporter.report.counters.CountError(decode::DecodeErrorKind::kTruncated);
  exporter.report.templates = 3;
  exporter.report.samplers.push_back(decode::SamplerReport{5, 1, 1000});
  decode::InterfaceReport named;
  named.index = 12;
  named.info.name = "xe-0/0/1 \"uplink\"";
  decode::InterfaceReport counted;
  counted.index = 13;
  counted.info.has_counters = true;
  counted.info.counters.in_octets = 123'456;
  counted.info.counters.out_octets = 654'321;
  exporter.report.interfaces = {named, counted};
  exporter.source = "core";
  return exporter;
}

TEST(ExportersJsonTest, DescribesEachExporter) {
  ServiceSnapshot snapshot;
  snapshot.exporters.push_back(IpfixExporter());
  const json body = json::parse(RenderExportersJson(snapshot));
  ASSERT_EQ(body["total"], 1);
  ASSERT_EQ(body["items"].size(), 1u);
  const json& item = body["items"][0];
  EXPECT_EQ(item["exporter"], "192.0.2.1");
  EXPECT_EQ(item["source"], "core");
  EXPECT_EQ(item["protocol"], "ipfix");
  EXPECT_EQ(item["first_seen"], "2025-12-03T10:00:00.000Z");
  EXPECT_EQ(item["last_seen"], "2025-12-03T10:00:10.000Z");
  EXPECT_EQ(item["flows"], 2000);
  EXPECT_EQ(item["packets"], 100);
  EXPECT_EQ(item["bytes"], 140000);
  EXPECT_DOUBLE_EQ(item["flows_per_s"].get<double>(), 200.0);
  EXPECT_EQ(item["templates"], 3);
  EXPECT_EQ(item["sequence_lost"], 7);
  EXPECT_EQ(item["sampling"], json::parse(R"([{"obs_domain":5,"sampler_id":1,"rate":1000}])"));
  EXPECT_EQ(item["decode_errors"][std::string(decode::Name(decode::DecodeErrorKind::kTruncated))],
            1);
  EXPECT_EQ(item["decode_errors"].size(), 1u);
  ASSERT_EQ(item["interfaces"].size(), 2u);
  EXPECT_EQ(item["interfaces"][0]["index"], 12);
  EXPECT_EQ(item["interfaces"][0]["name"], "xe-0/0/1 \"uplink\"");
  EXPECT_FALSE(item["interfaces"][0].contains("in_octets"));
  EXPECT_EQ(item["interfaces"][1]["in_octets"], 123456);
  EXPECT_EQ(item["interfaces"][1]["out_octets"], 654321);
}

TEST(ExportersJsonTest, AnEmptySnapshotHasNoItems) {
  EXPECT_EQ(RenderExportersJson(ServiceSnapshot{}), R"({"items":[],"total":0})");
}

TEST(ExportersJsonTest, UnseenTimesAreNullAndRatesZero) {
  ServiceSnapshot snapshot;
  ExporterSnapshot exporter;
  exporter.report.address = *flow::IpAddress::Parse("2001:db8::1");
  exporter.report.counters.records = 5;
  exporter.source = "default";
  snapshot.exporters.push_back(exporter);
  const json item = json::parse(RenderExportersJson(snapshot))["items"][0];
  EXPECT_TRUE(item["first_seen"].is_null());
  EXPECT_EQ(item["flows_per_s"], 0.0);
  EXPECT_EQ(item["exporter"], "2001:db8::1");
}

TEST(ExportersJsonTest, InvalidUtf8FromTheWireDoesNotBreakTheDocument) {
  ServiceSnapshot snapshot;
  ExporterSnapshot exporter = IpfixExporter();
  exporter.report.interfaces[0].info.name = std::string("bad\xff name");
  snapshot.exporters.push_back(exporter);
  const std::string text = RenderExportersJson(snapshot);
  EXPECT_TRUE(json::accept(text));
  EXPECT_NE(text.find("bad\xef\xbf\xbd name"), std::string::npos);  // U+FFFD
}

}  // namespace
}  // namespace sluice::api
