// SPDX-License-Identifier: Apache-2.0
// Output formats of `sluice query`, on hand-built flows and QueryResults. The expected
// text layouts are what nfdump 1.7.1 prints for the same flows.

#include "query/output.h"

#include <memory>
#include <numeric>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "query/stat_names.h"
#include "store/columns.h"
#include "store/segment_test_util.h"

namespace sluice::query {
namespace {

using flow::FieldId;

constexpr std::int64_t kFirst = 1'795'432'969'000;  // 2026-11-23 11:22:49 UTC

struct Flow {
  std::uint32_t src;
  std::uint32_t dst;
  std::uint16_t src_port;
  std::uint16_t dst_port;
  std::uint64_t packets;
  std::uint64_t bytes;
};

// The flows of the nfdump comparison run: 59 s long, TCP, flags ...AP.SF.
const std::vector<Flow> kFlows = {
    {0x0a000001, 0x0a010001, 1001, 80, 999, 999'999},
    {0x0a000002, 0x0a010002, 1002, 80, 1000, 1'000'000},
    {0x0a000003, 0x0a010003, 1003, 80, 1'500'000, 1'234'567'890},
};

void Fill(flow::FlowBatch& batch, const std::vector<Flow>& flows) {
  for (const Flow& f : flows) {
    const std::size_t row = batch.AppendRow();
    flow::FlowColumns& c = batch.cols();
    c.first[row] = kFirst;
    c.last[row] = kFirst + 59'000;
    c.src_addr[row] = flow::IpAddress::FromV4(f.src);
    c.dst_addr[row] = flow::IpAddress::FromV4(f.dst);
    c.src_port[row] = f.src_port;
    c.dst_port[row] = f.dst_port;
    c.proto[row] = 6;
    c.tcp_flags[row] = 0x1b;
    c.packets[row] = f.packets;
    c.bytes[row] = f.bytes;
    c.flows[row] = 1;
    c.in_if[row] = 1;
    c.out_if[row] = 2;
  }
}

QueryResult Totals(const std::vector<Flow>& flows) {
  QueryResult result;
  for (const Flow& f : flows) {
    result.totals.flows += 1;
    result.totals.packets += f.packets;
    result.totals.bytes += f.bytes;
  }
  result.totals.first_ms = kFirst;
  result.totals.last_ms = kFirst + 59'000;
  result.scan.rows_scanned = flows.size();
  result.scan.rows_matched = flows.size();
  result.scan.segments_read = 1;
  return result;
}

std::string List(const OutputOptions& options, const QuerySpec& spec = {}) {
  std::string out;
  auto writer = OutputWriter::CreateForString(spec, options, &out);
  EXPECT_TRUE(writer);
  // One flow per batch and call, as a tiny-batch build (2 rows) would deliver them.
  for (const Flow& flow : kFlows) {
    auto batch = std::make_unique<flow::FlowBatch>();
    Fill(*batch, {flow});
    const std::uint32_t rows[1] = {0};
    if (!(*writer)->Consume(*batch, rows)) {
      break;
    }
  }
  EXPECT_TRUE((*writer)->Finish(Totals(kFlows)));
  return out;
}

TEST(OutputTest, LineLikeNfdump) {
  const std::string expected =
      "Date first seen             Duration     Proto      Src IP Addr:Port          Dst IP "
      "Addr:Port   Packets    Bytes Flows\n"
      "2026-11-23 11:22:49.000     00:00:59.000 TCP           10.0.0.1:1001  ->         "
      "10.1.0.1:80         999   999999     1\n"
      "2026-11-23 11:22:49.000     00:00:59.000 TCP           10.0.0.2:1002  ->         "
      "10.1.0.2:80        1000    1.0 M     1\n"
      "2026-11-23 11:22:49.000     00:00:59.000 TCP           10.0.0.3:1003  ->         "
      "10.1.0.3:80       1.5 M    1.2 G     1\n"
      "Summary: total flows: 3, total bytes: 1.2 G, total packets: 1.5 M, avg bps: 167.7 M, avg "
      "pps: 25457, avg bpp: 823\n"
      "Time window: 2026-11-23 11:22:49 - 2026-11-23 11:23:48\n"
      "Total flows processed: 3, passed: 3, Blocks skipped: 0, Segments read: 1\n";
  EXPECT_EQ(List(OutputOptions{}), expected);
}

TEST(OutputTest, ExtendedAndExactNumbers) {
  OutputOptions options;
  options.format = OutputFormat::kExtended;
  options.exact = true;
  options.quiet = true;
  const std::string expected =
      "2026-11-23 11:22:49.000     00:00:59.000 TCP           10.0.0.1:1001  ->         "
      "10.1.0.1:80    ...AP.SF   0      999   999999       16   135593   1001     1\n"
      "2026-11-23 11:22:49.000     00:00:59.000 TCP           10.0.0.2:1002  ->         "
      "10.1.0.2:80    ...AP.SF   0     1000  1000000       16   135593   1000     1\n"
      "2026-11-23 11:22:49.000     00:00:59.000 TCP           10.0.0.3:1003  ->         "
      "10.1.0.3:80    ...AP.SF   0  1500000 1234567890    25423 167399035    823     1\n";
  EXPECT_EQ(List(options), expected);
}

TEST(OutputTest, FmtTokensAndErrors) {
  OutputOptions options;
  ASSERT_TRUE(ParseOutputFormat("fmt:%sa|%dp|%pr|%byt|%in|%{exporter}", options));
  options.quiet = true;
  const std::string out = List(options);
  EXPECT_EQ(out.substr(0, out.find('\n')),
            "        10.0.0.1|    80|TCP  |  999999|     1|         0.0.0.0");

  OutputOptions bad;
  const Status status = ParseOutputFormat("fmt:%ts %nosuch", bad);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().Message().find("unknown token '%nosuch'"), std::string_view::npos);
  EXPECT_FALSE(ParseOutputFormat("fmt:%{nosuch}", bad));
  EXPECT_FALSE(ParseOutputFormat("pipe", bad));
  for (const char* name : {"line", "long", "extended", "csv", "json", "ndjson"}) {
    EXPECT_TRUE(ParseOutputFormat(name, bad)) << name;
  }
}

TEST(OutputTest, LimitStopsTheListing) {
  QuerySpec spec;
  spec.limit = 2;
  OutputOptions options;
  options.quiet = true;
  const std::string out = List(options, spec);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
}

TEST(OutputTest, CsvLikeNfdump) {
  OutputOptions options;
  options.format = OutputFormat::kCsv;
  const std::string out = List(options);
  EXPECT_EQ(out.substr(0, out.find('\n')),
            "ts,te,td,sa,da,sp,dp,pr,flg,stos,ipkt,ibyt,fl,in,out,sas,das,smk,dmk,dir,nh,nhb,svln,"
            "ismc,odmc,mpls1,ra,tr");
  EXPECT_NE(
      out.find("\n2026-11-23 11:22:49,2026-11-23 11:23:48,59.000,10.0.0.3,10.1.0.3,1003,80,TCP,"
               "...AP.SF,0,1500000,1234567890,1,1,2,"),
      std::string::npos);
  EXPECT_NE(out.find("Summary\nflows,bytes,packets,avg_bps,avg_pps,avg_bpp\n3,1236567889,1501999,"),
            std::string::npos);
}

TEST(OutputTest, JsonListing) {
  OutputOptions options;
  options.format = OutputFormat::kJson;
  const std::string out = List(options);
  EXPECT_EQ(out.rfind("{\"records\":[{", 0), 0u) << out;
  EXPECT_NE(out.find("],\"summary\":{\"flows\":3,\"packets\":1501999,\"bytes\":1236567889,"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\"first\":\"2026-11-23T11:22:49.000Z\""), std::string::npos);
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);

  options.format = OutputFormat::kNdjson;
  const std::string lines = List(options);
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 4);
  EXPECT_NE(lines.find("\n{\"summary\":{\"flows\":3,"), std::string::npos);
}

QueryResult StatResult(const StatSpec& spec) {
  QueryResult result = Totals(kFlows);
  StatTable table;
  table.spec = spec;
  table.distinct = 3;
  table.total = result.totals;
  for (auto it = kFlows.rbegin(); it != kFlows.rend(); ++it) {
    GroupRow row;
    KeyValue value;
    if (spec.key.back().field == FieldId::kSrcAddr) {
      value.address = flow::IpAddress::FromV4(it->src);
    } else {
      value.number = it->dst_port;
    }
    if (spec.key.size() == 2) {
      row.key.push_back(KeyValue{6, {}});
    }
    row.key.push_back(value);
    row.counters = {1, it->packets, it->bytes, kFirst, kFirst + 59'000};
    table.rows.push_back(row);
  }
  result.stats.push_back(table);
  return result;
}

TEST(OutputTest, StatTableLikeNfdump) {
  QuerySpec spec;
  spec.stats = *ParseStat("srcip/bytes");
  std::string out;
  auto writer = OutputWriter::CreateForString(spec, OutputOptions{}, &out);
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->Finish(StatResult(spec.stats[0])));
  const std::string expected_head =
      "Top 3 Src IP Addr ordered by bytes:\n"
      "Date first seen                 Duration Proto       Src IP Addr    Flows(%)     Packets(%) "
      "      Bytes(%)         pps      bps   bpp\n"
      "2026-11-23 11:22:49.000     00:00:59.000 any            10.0.0.3        1(33.3)    1.5 "
      "M(99.9)    1.2 G(99.8)    25423  167.4 M   823\n"
      "2026-11-23 11:22:49.000     00:00:59.000 any            10.0.0.2        1(33.3)     1000( "
      "0.1)    1.0 M( 0.1)       16   135593  1000\n"
      "2026-11-23 11:22:49.000     00:00:59.000 any            10.0.0.1        1(33.3)      999( "
      "0.1)   999999( 0.1)       16   135593  1001\n"
      "\n"
      "Summary: total flows: 3,";
  EXPECT_EQ(out.substr(0, expected_head.size()), expected_head);

  QuerySpec split;
  split.stats = *ParseStat("dstport:p");
  std::string split_out;
  OutputOptions quiet;
  quiet.quiet = true;
  auto split_writer = OutputWriter::CreateForString(split, quiet, &split_out);
  ASSERT_TRUE((*split_writer)->Finish(StatResult(split.stats[0])));
  EXPECT_EQ(split_out.substr(0, split_out.find('\n')),
            "2026-11-23 11:22:49.000     00:00:59.000 TCP                  80        1(33.3)    "
            "1.5 M(99.9)    1.2 G(99.8)    25423  167.4 M   823");
}

TEST(OutputTest, StatJsonFollowsTheContract) {
  QuerySpec spec;
  spec.stats = *ParseStat("srcip/bytes");
  OutputOptions options;
  options.format = OutputFormat::kJson;
  std::string out;
  auto writer = OutputWriter::CreateForString(spec, options, &out);
  ASSERT_TRUE((*writer)->Finish(StatResult(spec.stats[0])));
  EXPECT_EQ(out.rfind("{\"summary\":{\"flows\":3,", 0), 0u) << out;
  EXPECT_NE(
      out.find(
          ",\"stats\":[{\"stat\":\"srcip\",\"order\":\"bytes\",\"distinct\":3,\"rows\":[{\"key\":"
          "{\"src_addr\":\"10.0.0.3\"},\"flows\":1,\"packets\":1500000,\"bytes\":1234567890,"
          "\"first\":\"2026-11-23T11:22:49.000Z\",\"last\":\"2026-11-23T11:23:48.000Z\"}"),
      std::string::npos)
      << out;
  EXPECT_EQ(out.find("\"records\""), std::string::npos);
}

TEST(OutputTest, AggregatedRecordsWithPrefixes) {
  QuerySpec spec;
  spec.aggregate = *ParseAggregation("srcip4/24,proto");
  QueryResult result = Totals(kFlows);
  GroupRow row;
  row.key = {KeyValue{0, flow::IpAddress::FromV4(0x0a000000)}, KeyValue{6, {}}};
  row.counters = result.totals;
  row.counters.flows = 3;
  result.aggregated.push_back(row);

  std::string text;
  auto writer = OutputWriter::CreateForString(spec, OutputOptions{}, &text);
  ASSERT_TRUE((*writer)->Finish(result));
  EXPECT_EQ(text.substr(0, text.find("Summary")),
            "Date first seen             Duration          Src IP Addr Proto  Packets    Bytes     "
            " bps    Bpp Flows\n"
            "2026-11-23 11:22:49.000     00:00:59.000      10.0.0.0/24 TCP      1.5 M    1.2 G  "
            "167.7 M    823     3\n");

  OutputOptions json;
  json.format = OutputFormat::kJson;
  std::string doc;
  auto json_writer = OutputWriter::CreateForString(spec, json, &doc);
  ASSERT_TRUE((*json_writer)->Finish(result));
  EXPECT_NE(
      doc.find(",\"records\":[{\"key\":{\"src_addr\":\"10.0.0.0/24\",\"proto\":6},\"flows\":3,"),
      std::string::npos)
      << doc;
}

TEST(OutputTest, Series) {
  QuerySpec spec;
  spec.bucket_ms = 300'000;
  spec.bucket_group = *ParseAggregation("dstport");
  QueryResult result = Totals(kFlows);
  SeriesPoint point;
  point.bucket_start_ms = kFirst - 49'000;
  point.group = {KeyValue{80, {}}};
  point.counters = result.totals;
  result.series.push_back(point);
  SeriesPoint other;
  other.bucket_start_ms = point.bucket_start_ms;
  other.other = true;
  other.counters = {2, 3, 4, 0, 0};
  result.series.push_back(other);

  OutputOptions json;
  json.format = OutputFormat::kJson;
  std::string doc;
  auto writer = OutputWriter::CreateForString(spec, json, &doc);
  ASSERT_TRUE((*writer)->Finish(result));
  EXPECT_NE(
      doc.find(
          ",\"series\":[{\"start\":\"2026-11-23T11:22:00.000Z\",\"group\":{\"dst_port\":80},"
          "\"flows\":3,\"packets\":1501999,\"bytes\":1236567889},{\"start\":"
          "\"2026-11-23T11:22:00.000Z\",\"other\":true,\"flows\":2,\"packets\":3,\"bytes\":4}]}"),
      std::string::npos)
      << doc;

  std::string text;
  auto text_writer = OutputWriter::CreateForString(spec, OutputOptions{}, &text);
  ASSERT_TRUE((*text_writer)->Finish(result));
  EXPECT_NE(text.find("2026-11-23 11:22:00                   80        3    1.5 M    1.2 G\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("2026-11-23 11:22:00                other        2        3        4\n"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::query

namespace sluice::query {
namespace {

TEST(OutputTest, ManyAggregatedRecordsSpanSeveralBatches) {
  QuerySpec spec;
  spec.aggregate = *ParseAggregation("dstport");
  QueryResult result = Totals(kFlows);
  constexpr std::size_t kRows = flow::kBatchCapacity * 2 + 3;
  for (std::size_t idx = 0; idx < kRows; ++idx) {
    GroupRow row;
    row.key = {KeyValue{idx, {}}};
    row.counters = {1, 1, 100, kFirst, kFirst};
    result.aggregated.push_back(row);
  }
  OutputOptions options;
  options.quiet = true;
  options.format = OutputFormat::kCsv;
  std::string out;
  auto writer = OutputWriter::CreateForString(spec, options, &out);
  ASSERT_TRUE((*writer)->Finish(result));
  // The header and one line per record (-q: no summary block).
  EXPECT_EQ(static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n')), 1 + kRows);
  EXPECT_NE(out.find(",0," + std::to_string(kRows - 1) + ",0,"), std::string::npos);
}

}  // namespace
}  // namespace sluice::query

namespace sluice::query {
namespace {

TEST(OutputTest, Ipv6AndCountries) {
  auto batch = std::make_unique<flow::FlowBatch>();
  const std::size_t row = batch->AppendRow();
  flow::FlowColumns& c = batch->cols();
  c.first[row] = kFirst;
  c.last[row] = kFirst + 1500;
  c.src_addr[row] = *flow::IpAddress::Parse("2001:db8::1");
  c.dst_addr[row] = *flow::IpAddress::Parse("2001:db8:ffff::2");
  c.src_port[row] = 443;
  c.dst_port[row] = 51000;
  c.proto[row] = 17;
  c.packets[row] = 3;
  c.bytes[row] = 3000;
  c.flows[row] = 1;
  c.src_country[row] = ('D' << 8) | 'E';

  OutputOptions options;
  options.quiet = true;
  ASSERT_TRUE(ParseOutputFormat("fmt:%ts %td %pr %sap -> %dap %sc %dc", options));
  std::string out;
  auto writer = OutputWriter::CreateForString(QuerySpec{}, options, &out);
  const std::uint32_t rows[1] = {0};
  ASSERT_TRUE((*writer)->Consume(*batch, rows));
  EXPECT_EQ(out,
            "2026-11-23 11:22:49.000     00:00:01.500 UDP        2001:db8::1.443   -> "
            "2001:db8:ffff::2.51000 DE ..\n");

  // Statistic keys: an IPv6 network and a country.
  QuerySpec spec;
  spec.stats = *ParseStat("srcnet/24/48");
  auto country = ParseStat("srcgeo");
  spec.stats.push_back(country->front());
  QueryResult result;
  for (const StatSpec& stat : spec.stats) {
    StatTable table;
    table.spec = stat;
    GroupRow group;
    KeyValue value;
    if (stat.name == "srcgeo") {
      value.number = ('D' << 8) | 'E';
    } else {
      value.address = *flow::IpAddress::Parse("2001:db8::");
    }
    group.key.push_back(value);
    group.counters = {1, 3, 3000, kFirst, kFirst + 1500};
    table.rows.push_back(group);
    result.stats.push_back(table);
  }
  OutputOptions json;
  json.format = OutputFormat::kJson;
  std::string doc;
  auto json_writer = OutputWriter::CreateForString(spec, json, &doc);
  ASSERT_TRUE((*json_writer)->Finish(result));
  EXPECT_NE(doc.find("{\"key\":{\"src_addr\":\"2001:db8::/48\"},\"flows\":1,"), std::string::npos)
      << doc;
  EXPECT_NE(doc.find("{\"key\":{\"src_country\":\"DE\"},\"flows\":1,"), std::string::npos) << doc;
}

// A listing reads only OutputWriter::Fields(): printing rows whose other fields are all
// zero gives the same text as printing rows with every field set.
TEST(OutputTest, FieldsNameEverythingTheRecordLayoutPrints) {
  for (const std::string_view format :
       {"line", "long", "extended", "csv", "json", "fmt:%ts %te %td %sap %dap %pr %flg %ipkt %ibyt %bps %pps %bpp %sn %dn %in %out %sas %das %ismc %nh %dir %sc %xsa %xdp %ra %tr %{app} %{subscriber}"}) {
    OutputOptions options;
    ASSERT_TRUE(ParseOutputFormat(format, options)) << format;
    options.quiet = true;
    const QuerySpec spec;
    std::string full;
    std::string projected;
    auto full_writer = OutputWriter::CreateForString(spec, options, &full);
    auto projected_writer = OutputWriter::CreateForString(spec, options, &projected);
    ASSERT_TRUE(full_writer && projected_writer);
    const std::vector<FieldId> fields = (*projected_writer)->Fields();
    // Rows whose times are ordinary (FillEveryField makes extreme ones for n % 11 == 5
    // and n % 13 == 7, whose duration does not fit an int64).
    for (const std::uint64_t n : {1u, 2u, 3u, 4u, 6u, 8u}) {
      auto batch = std::make_unique<flow::FlowBatch>();
      test::FillEveryField(*batch, batch->AppendRow(), n);
      auto kept = std::make_unique<flow::FlowBatch>();
      kept->AppendRow();
      for (const FieldId field : fields) {
        store::VisitColumn(static_cast<std::size_t>(field), [&](auto member) {
          auto& value = (kept->cols().*member)[0];
          const auto& from = (batch->cols().*member)[0];
          if constexpr (std::is_same_v<std::decay_t<decltype(value)>, flow::StringRef>) {
            value = kept->AddString(batch->String(from));
          } else {
            value = from;
          }
        });
      }
      const std::uint32_t rows[1] = {0};
      ASSERT_TRUE((*full_writer)->Consume(*batch, rows));
      ASSERT_TRUE((*projected_writer)->Consume(*kept, rows));
    }
    EXPECT_EQ(full, projected) << format;
    EXPECT_FALSE(full.empty());
  }
}

}  // namespace
}  // namespace sluice::query
