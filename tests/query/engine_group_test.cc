// SPDX-License-Identifier: Apache-2.0
// RunQuery's aggregations: statistics (every kind of key, paired, prefixes, top N and
// ties), aggregated records (-A, -B), bucket series, the memory budget, roll-ups and
// thread counts, each against a brute-force reference over the same flows.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "query/engine.h"
#include "query/engine_test_util.h"
#include "store/rollup.h"

namespace sluice::test {
namespace {

using flow::FieldId;
using query::KeyField;
using query::OrderBy;
using query::QuerySpec;
using query::RunQuery;
using query::StatSpec;

struct Store {
  TestStore store;
  std::vector<TestFlow> a = MakeFlows(0, 900, kHour);
  std::vector<TestFlow> b = MakeFlows(900, 1700, kHour);

  Store() {
    store.AddSegment("core", kHour, a);
    store.AddSegment("core", kHour + 15 * 60'000, b, 0, true, 100);
  }

  std::vector<TestFlow> all() const { return Concat({a, b}); }
};

StatSpec Stat(std::string name, std::vector<KeyField> key, OrderBy order,
              std::vector<KeyField> paired = {}) {
  StatSpec stat;
  stat.name = std::move(name);
  stat.key = std::move(key);
  stat.paired_key = std::move(paired);
  stat.order = order;
  return stat;
}

TEST(EngineGroupTest, StatisticsOfEveryKindOfKey) {
  Store data;
  QuerySpec spec = SpecFor(data.store);
  spec.top_n = 7;
  spec.stats = {
      Stat("srcip", {{FieldId::kSrcAddr}}, OrderBy::kFlows),
      Stat("dstip", {{FieldId::kDstAddr}}, OrderBy::kBytes),
      Stat("srcport", {{FieldId::kSrcPort}}, OrderBy::kPackets),
      Stat("dstport", {{FieldId::kDstPort}}, OrderBy::kBytes),
      Stat("proto", {{FieldId::kProto}}, OrderBy::kFlows),
      Stat("srcas", {{FieldId::kSrcAs}}, OrderBy::kBytes),
      Stat("inif", {{FieldId::kInIf}}, OrderBy::kPackets),
      Stat("exporter", {{FieldId::kExporter}}, OrderBy::kFlows),
      Stat("proto+dstport", {{FieldId::kProto}, {FieldId::kDstPort}}, OrderBy::kBytes),
      Stat("srcip4/24", {{FieldId::kSrcAddr, 24, 64}}, OrderBy::kBytes),
      Stat("srcip/20,/36", {{FieldId::kSrcAddr, 20, 36}}, OrderBy::kFlows),
      Stat("srcip tstart", {{FieldId::kSrcAddr}}, OrderBy::kTstart),
  };
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  ASSERT_EQ(result->stats.size(), spec.stats.size());
  const std::vector<TestFlow> all = data.all();
  for (std::size_t idx = 0; idx < spec.stats.size(); ++idx) {
    SCOPED_TRACE(spec.stats[idx].name);
    const query::StatTable& table = result->stats[idx];
    const RefGroups groups = Group(all, spec.stats[idx].key);
    EXPECT_EQ(table.distinct, groups.size());
    EXPECT_TRUE(table.total == Totals(all));
    ExpectRows(Top(groups, spec.stats[idx].order, spec.top_n), table.rows);
  }
}

// nfdump -s ip counts a flow under its source and its destination, twice when they are
// the same address (checked with nfdump 1.7.1).
TEST(EngineGroupTest, PairedStatisticCountsBothSides) {
  Store data;
  QuerySpec spec = SpecFor(data.store);
  spec.top_n = 0;
  spec.stats = {
      Stat("ip", {{FieldId::kSrcAddr}}, OrderBy::kBytes, {{FieldId::kDstAddr}}),
      Stat("port", {{FieldId::kSrcPort}}, OrderBy::kFlows, {{FieldId::kDstPort}}),
      Stat("ip4/16", {{FieldId::kSrcAddr, 16, 48}}, OrderBy::kFlows, {{FieldId::kDstAddr, 16, 48}}),
  };
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  const std::vector<TestFlow> all = data.all();
  for (std::size_t idx = 0; idx < spec.stats.size(); ++idx) {
    SCOPED_TRACE(spec.stats[idx].name);
    const RefGroups groups = Group(all, spec.stats[idx].key, spec.stats[idx].paired_key);
    EXPECT_EQ(result->stats[idx].distinct, groups.size());
    ExpectRows(Top(groups, spec.stats[idx].order, 0), result->stats[idx].rows);
  }
  // A flow from an address to itself counts twice for that address.
  const TestFlow& self = all[17];
  ASSERT_TRUE(self.src == self.dst);
  const RefGroups groups = Group(all, spec.stats[0].key, spec.stats[0].paired_key);
  std::uint64_t with_self = 0;
  for (const TestFlow& f : all) {
    with_self += (f.src == self.src ? f.flows : 0) + (f.dst == self.src ? f.flows : 0);
  }
  EXPECT_EQ(groups.at(KeyOf(self, spec.stats[0].key)).flows, with_self);
}

TEST(EngineGroupTest, RecordStatisticWithoutKeyUsesTheFiveTuple) {
  Store data;
  QuerySpec spec = SpecFor(data.store);
  StatSpec record;
  record.name = "record";
  record.records = true;
  record.order = OrderBy::kBytes;
  spec.stats = {record};
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  const std::vector<KeyField> five = {{FieldId::kProto}, {FieldId::kSrcAddr}, {FieldId::kSrcPort},
                                      {FieldId::kDstAddr}, {FieldId::kDstPort}};
  EXPECT_TRUE(result->stats[0].spec.key == five);
  ExpectRows(Top(Group(data.all(), five), OrderBy::kBytes, 10), result->stats[0].rows);
}

TEST(EngineGroupTest, TopNTiesAreBrokenByKeyAscending) {
  TestStore store;
  std::vector<TestFlow> flows;
  for (std::uint32_t host = 0; host < 20; ++host) {
    TestFlow f = MakeFlow(host, kHour);
    f.src = flow::IpAddress::FromV4(0x0a000000u + (19 - host));
    f.bytes = 100;
    f.packets = 1;
    f.flows = 1;
    flows.push_back(f);
  }
  store.AddSegment("core", kHour, flows, 0, true, 4);
  QuerySpec spec = SpecFor(store);
  spec.threads = 4;
  spec.top_n = 5;
  spec.stats = {Stat("srcip", {{FieldId::kSrcAddr}}, OrderBy::kBytes)};
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  ASSERT_EQ(result->stats[0].rows.size(), 5u);
  for (std::uint32_t rank = 0; rank < 5; ++rank) {
    EXPECT_EQ(result->stats[0].rows[rank].key[0].address, flow::IpAddress::FromV4(0x0a000000u + rank));
  }
  EXPECT_EQ(result->stats[0].distinct, 20u);
}

TEST(EngineGroupTest, AggregatedRecordsOrderedAndCut) {
  Store data;
  QuerySpec spec = SpecFor(data.store);
  spec.aggregate = {{FieldId::kSrcAddr}, {FieldId::kDstPort}};
  spec.order = OrderBy::kBytes;
  spec.top_n = 12;
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  const RefGroups groups = Group(data.all(), spec.aggregate);
  ExpectRows(Top(groups, OrderBy::kBytes, 12), result->aggregated);

  // Without an order: every record by first seen; -c cuts.
  spec.order.reset();
  spec.limit = 0;
  auto unordered = RunQuery(spec, nullptr);
  ASSERT_TRUE(unordered) << unordered.error().Message();
  ExpectRows(Top(groups, OrderBy::kTstart, 0), unordered->aggregated);
  spec.limit = 3;
  auto limited = RunQuery(spec, nullptr);
  ASSERT_TRUE(limited) << limited.error().Message();
  ExpectRows(Top(groups, OrderBy::kTstart, 3), limited->aggregated);
}

TEST(EngineGroupTest, BidirectionalJoinsBothDirections) {
  TestStore store;
  std::vector<TestFlow> flows;
  const flow::IpAddress client = flow::IpAddress::FromV4(0x0a000001);
  const flow::IpAddress server = flow::IpAddress::FromV4(0x0a000002);
  for (int idx = 0; idx < 6; ++idx) {
    TestFlow f = MakeFlow(static_cast<std::uint64_t>(idx), kHour);
    f.proto = 6;
    const bool request = idx % 2 == 0;
    f.src = request ? client : server;
    f.dst = request ? server : client;
    f.src_port = request ? 40000 : 443;
    f.dst_port = request ? 443 : 40000;
    flows.push_back(f);
  }
  store.AddSegment("core", kHour, flows);
  QuerySpec spec = SpecFor(store);
  spec.bidirectional = true;
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  ASSERT_EQ(result->aggregated.size(), 1u);
  const query::GroupRow& row = result->aggregated[0];
  // proto, src_addr, src_port, dst_addr, dst_port: the server (lower port) is the destination.
  EXPECT_EQ(row.key[1].address, client);
  EXPECT_EQ(row.key[2].number, 40000u);
  EXPECT_EQ(row.key[3].address, server);
  EXPECT_EQ(row.key[4].number, 443u);
  EXPECT_TRUE(row.counters == Totals(flows));
}

TEST(EngineGroupTest, BucketSeriesWithTopGroupsAndOther) {
  Store data;
  QuerySpec spec = SpecFor(data.store);
  spec.bucket_ms = 5 * 60'000;
  spec.bucket_group = {{FieldId::kDstPort}};
  spec.bucket_group_top = 2;
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();

  const std::vector<TestFlow> all = data.all();
  const RefGroups by_port = Group(all, spec.bucket_group);
  const auto top = Top(by_port, OrderBy::kBytes, 2);
  // bucket -> (rank or 2 for other) -> counters
  std::map<std::int64_t, std::map<std::size_t, query::Counters>> want;
  for (const TestFlow& f : all) {
    const std::int64_t bucket = f.first / spec.bucket_ms * spec.bucket_ms;
    const RefKey key = KeyOf(f, spec.bucket_group);
    std::size_t rank = 2;
    for (std::size_t idx = 0; idx < top.size(); ++idx) {
      if (top[idx].first == key) {
        rank = idx;
      }
    }
    AddTo(want[bucket][rank], f);
  }
  std::size_t point = 0;
  for (const auto& [bucket, ranks] : want) {
    for (const auto& [rank, counters] : ranks) {
      ASSERT_LT(point, result->series.size());
      const query::SeriesPoint& got = result->series[point++];
      EXPECT_EQ(got.bucket_start_ms, bucket);
      EXPECT_EQ(got.other, rank == 2);
      if (rank < 2) {
        EXPECT_TRUE(KeyOf(got.group) == top[rank].first);
      } else {
        EXPECT_TRUE(got.group.empty());
      }
      EXPECT_TRUE(got.counters == counters) << "bucket " << bucket << " rank " << rank;
    }
  }
  EXPECT_EQ(point, result->series.size());

  // Without a group: one point per bucket.
  spec.bucket_group.clear();
  auto plain = RunQuery(spec, nullptr);
  ASSERT_TRUE(plain) << plain.error().Message();
  ASSERT_EQ(plain->series.size(), want.size());
  for (const query::SeriesPoint& got : plain->series) {
    query::Counters sum;
    for (const TestFlow& f : all) {
      if (f.first / spec.bucket_ms * spec.bucket_ms == got.bucket_start_ms) {
        AddTo(sum, f);
      }
    }
    EXPECT_TRUE(got.counters == sum);
  }
}

// The series without a group (a dense array per bucket): every bucket with a flow, also
// before the epoch and at uneven steps, under a window, on any thread count.
TEST(EngineGroupTest, PlainSeriesMatchesTheReference) {
  TestStore store;
  const std::int64_t before_epoch = -3'600'000;
  const std::vector<TestFlow> early = MakeFlows(0, 500, before_epoch);
  const std::vector<TestFlow> late = MakeFlows(500, 1400, kHour);
  store.AddSegment("core", kHour, late, 0, true, 37);
  store.AddSegment("edge", kHour, early, 0, true, 64);
  const std::vector<TestFlow> all = Concat({early, late});
  for (const std::int64_t step : {std::int64_t{60'000}, std::int64_t{7'001}, std::int64_t{86'400'000}}) {
    for (const std::size_t threads : {1u, 3u}) {
      for (const bool windowed : {false, true}) {
        QuerySpec spec = SpecFor(store);
        spec.threads = threads;
        spec.bucket_ms = step;
        std::vector<TestFlow> flows = all;
        if (windowed) {
          spec.window = query::TimeWindow{kHour + 100'000, kHour + 700'000};
          flows = InWindow(all, spec.window->from_ms, spec.window->to_ms);
        }
        std::map<std::int64_t, query::Counters> want;
        for (const TestFlow& f : flows) {
          std::int64_t bucket = f.first / step * step;
          if (bucket > f.first) {
            bucket -= step;
          }
          AddTo(want[bucket], f);
        }
        auto result = RunQuery(spec, nullptr);
        ASSERT_TRUE(result) << result.error().Message();
        SCOPED_TRACE("step " + std::to_string(step) + ", " + std::to_string(threads) + " threads" +
                     (windowed ? ", window" : ""));
        ASSERT_EQ(result->series.size(), want.size());
        std::size_t point = 0;
        for (const auto& [bucket, counters] : want) {
          const query::SeriesPoint& got = result->series[point++];
          EXPECT_EQ(got.bucket_start_ms, bucket);
          EXPECT_FALSE(got.other);
          EXPECT_TRUE(got.counters == counters) << "bucket " << bucket;
        }
      }
    }
  }
}

TEST(EngineGroupTest, MemoryBudgetExceededIsResourceExhausted) {
  Store data;
  QuerySpec spec = SpecFor(data.store);
  spec.aggregate = {{FieldId::kProto}, {FieldId::kSrcAddr}, {FieldId::kSrcPort}, {FieldId::kDstAddr},
                    {FieldId::kDstPort}};
  spec.memory_budget_bytes = 16 * 1024;
  auto result = RunQuery(spec, nullptr);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().Code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(std::string(result.error().Message()).find("memory budget"), std::string::npos);

  spec.memory_budget_bytes = std::size_t{64} << 20;
  EXPECT_TRUE(RunQuery(spec, nullptr));
}

TEST(EngineGroupTest, OverTheBudgetTheMessageSaysHowManyGroups) {
  Store data;
  QuerySpec spec = SpecFor(data.store);
  spec.aggregate = {{FieldId::kProto}, {FieldId::kSrcAddr}, {FieldId::kSrcPort}, {FieldId::kDstAddr},
                    {FieldId::kDstPort}};
  spec.order = OrderBy::kBytes;
  spec.memory_budget_bytes = 48 * 1024;
  for (const std::size_t threads : {1u, 3u}) {
    spec.threads = threads;
    auto result = RunQuery(spec, nullptr);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().Code(), ErrorCode::kResourceExhausted);
    EXPECT_NE(std::string(result.error().Message()).find("groups held"), std::string::npos)
        << result.error().Message();
  }
}

// Many groups with the same bytes, IPv4 keys (kept compact) and IPv6 keys (kept in full)
// in every partition: the top N is exact and its ties go by the key, whatever the threads.
TEST(EngineGroupTest, PartitionedTopNWithTiesAcrossIpv4AndIpv6Keys) {
  TestStore store;
  std::vector<TestFlow> flows;
  for (std::uint64_t n = 0; n < 3000; ++n) {
    TestFlow f = MakeFlow(n, kHour);
    f.bytes = 100 * (1 + n % 3);  // three values: many ties
    f.packets = 1;
    f.flows = 1;
    flows.push_back(f);
  }
  store.AddSegment("core", kHour, std::span<const TestFlow>(flows).subspan(0, 1700), 0, true, 50);
  store.AddSegment("core", kHour + 5 * 60'000, std::span<const TestFlow>(flows).subspan(1700), 0, true, 50);
  const std::vector<KeyField> five = {{FieldId::kSrcAddr}, {FieldId::kDstAddr}, {FieldId::kSrcPort},
                                      {FieldId::kDstPort}, {FieldId::kProto}};
  const RefGroups groups = Group(flows, five);
  const std::vector<KeyField> src = {{FieldId::kSrcAddr}};
  const RefGroups by_src = Group(flows, src);
  for (const std::size_t threads : {1u, 2u, 3u}) {
    for (const std::size_t n : {1u, 7u, 100u, 0u}) {
      QuerySpec spec = SpecFor(store);
      spec.threads = threads;
      spec.aggregate = five;
      spec.order = OrderBy::kBytes;
      spec.top_n = n;
      spec.stats = {Stat("srcip", {{FieldId::kSrcAddr}}, OrderBy::kBytes)};
      auto result = RunQuery(spec, nullptr);
      ASSERT_TRUE(result) << result.error().Message();
      SCOPED_TRACE(std::to_string(threads) + " threads, top " + std::to_string(n));
      ExpectRows(Top(groups, OrderBy::kBytes, n), result->aggregated);
      ExpectRows(Top(by_src, OrderBy::kBytes, n), result->stats[0].rows);
      EXPECT_EQ(result->stats[0].distinct, by_src.size());
    }
  }
}

// Many groups, IPv4 and IPv6, with ties, in one thread's table or several: exact.
// (Spreading past PartitionedGroups::kSpreadAbove is tested in partitioned_groups_test.)
TEST(EngineGroupTest, ManyGroupsStayExact) {
  TestStore store;
  std::vector<TestFlow> flows;
  const std::uint64_t count = 90'000;
  for (std::uint64_t n = 0; n < count; ++n) {
    TestFlow f = MakeFlow(n, kHour);
    f.src = n % 9 == 0 ? V6(0x20010db800000000ULL, n) : flow::IpAddress::FromV4(0x0a000000u + static_cast<std::uint32_t>(n / 7));
    f.src_port = static_cast<std::uint16_t>(n % 7 + 1);
    f.bytes = 1000 + n % 500;  // ties
    flows.push_back(f);
  }
  // One big segment and one small.
  store.AddSegment("core", kHour, std::span<const TestFlow>(flows).subspan(0, 85'000), 0, true, 4096);
  store.AddSegment("core", kHour + 5 * 60'000, std::span<const TestFlow>(flows).subspan(85'000), 0, true, 4096);
  const std::vector<KeyField> five = {{FieldId::kSrcAddr}, {FieldId::kDstAddr}, {FieldId::kSrcPort},
                                      {FieldId::kDstPort}, {FieldId::kProto}};
  const RefGroups groups = Group(flows, five);
  ASSERT_GT(groups.size(), 70'000u);
  for (const std::size_t threads : {1u, 3u}) {
    QuerySpec spec = SpecFor(store);
    spec.threads = threads;
    spec.aggregate = five;
    spec.order = OrderBy::kBytes;
    spec.top_n = 25;
    spec.stats = {Stat("srcip", {{FieldId::kSrcAddr}}, OrderBy::kFlows)};
    auto result = RunQuery(spec, nullptr);
    ASSERT_TRUE(result) << result.error().Message();
    ExpectRows(Top(groups, OrderBy::kBytes, 25), result->aggregated);
    const std::vector<KeyField> src = {{FieldId::kSrcAddr}};
    const RefGroups by_src = Group(flows, src);
    ExpectRows(Top(by_src, OrderBy::kFlows, 25), result->stats[0].rows);
    EXPECT_EQ(result->stats[0].distinct, by_src.size());
  }
}

TEST(EngineGroupTest, TextKeysAreRefused) {
  Store data;
  QuerySpec spec = SpecFor(data.store);
  spec.stats = {Stat("app", {{FieldId::kApp}}, OrderBy::kFlows)};
  auto result = RunQuery(spec, nullptr);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().Code(), ErrorCode::kInvalidArgument);
}

QuerySpec EverythingSpec(const TestStore& store) {
  QuerySpec spec = SpecFor(store);
  spec.top_n = 0;
  spec.stats = {
      Stat("srcip", {{FieldId::kSrcAddr}}, OrderBy::kBytes),
      Stat("ip", {{FieldId::kSrcAddr}}, OrderBy::kFlows, {{FieldId::kDstAddr}}),
      Stat("dstport", {{FieldId::kDstPort}}, OrderBy::kPackets),
  };
  spec.aggregate = {{FieldId::kProto}, {FieldId::kSrcAddr}, {FieldId::kSrcPort}, {FieldId::kDstAddr},
                    {FieldId::kDstPort}};
  spec.order = OrderBy::kBytes;
  return spec;
}

void ExpectSameAnswer(const query::QueryResult& a, const query::QueryResult& b) {
  EXPECT_TRUE(a.totals == b.totals);
  ASSERT_EQ(a.stats.size(), b.stats.size());
  for (std::size_t idx = 0; idx < a.stats.size(); ++idx) {
    EXPECT_EQ(a.stats[idx].distinct, b.stats[idx].distinct);
    ASSERT_EQ(a.stats[idx].rows.size(), b.stats[idx].rows.size());
    for (std::size_t row = 0; row < a.stats[idx].rows.size(); ++row) {
      EXPECT_TRUE(a.stats[idx].rows[row].key == b.stats[idx].rows[row].key);
      EXPECT_TRUE(a.stats[idx].rows[row].counters == b.stats[idx].rows[row].counters);
    }
  }
  ASSERT_EQ(a.aggregated.size(), b.aggregated.size());
  for (std::size_t row = 0; row < a.aggregated.size(); ++row) {
    EXPECT_TRUE(a.aggregated[row].key == b.aggregated[row].key);
    EXPECT_TRUE(a.aggregated[row].counters == b.aggregated[row].counters);
  }
  ASSERT_EQ(a.series.size(), b.series.size());
  for (std::size_t row = 0; row < a.series.size(); ++row) {
    EXPECT_EQ(a.series[row].bucket_start_ms, b.series[row].bucket_start_ms);
    EXPECT_TRUE(a.series[row].group == b.series[row].group);
    EXPECT_TRUE(a.series[row].counters == b.series[row].counters);
  }
}

TEST(EngineGroupTest, OneThreadAndFourThreadsAgree) {
  Store data;
  QuerySpec spec = EverythingSpec(data.store);
  spec.bucket_ms = 60'000;
  spec.bucket_group = {{FieldId::kSrcAddr, 24, 64}};
  spec.bucket_group_top = 3;
  spec.threads = 1;
  auto one = RunQuery(spec, nullptr);
  ASSERT_TRUE(one) << one.error().Message();
  spec.threads = 4;
  auto four = RunQuery(spec, nullptr);
  ASSERT_TRUE(four) << four.error().Message();
  ExpectSameAnswer(*one, *four);
  const RefGroups groups = Group(data.all(), spec.aggregate);
  ExpectRows(Top(groups, OrderBy::kBytes, 0), four->aggregated);
}

// The hourly roll-up answers exactly as the detail segments it was built from.
// Writes the hourly roll-up of the hour of `data`'s two segments (kHour).
Result<store::RollupResult> RollUpFirstHour(const Store& data) {
  store::RollupSpec rollup;
  rollup.path = store::RollupSegmentPath(data.store.dir(), "core", kHour);
  std::filesystem::create_directories(std::filesystem::path(rollup.path).parent_path());
  rollup.hour_start = kHour;
  rollup.segments = {store::DetailSegmentPath(data.store.dir(), "core", kHour, 0),
                     store::DetailSegmentPath(data.store.dir(), "core", kHour + 15 * 60'000, 0)};
  rollup.writer_options = TestWriterOptions(256);
  return store::BuildRollup(rollup);
}

TEST(EngineGroupTest, RollupAndDetailGiveTheSameAnswer) {
  Store data;
  // A second hour without a roll-up, so a query mixes both.
  const std::vector<TestFlow> later = MakeFlows(5000, 5400, kHour + store::kMillisPerHour);
  data.store.AddSegment("core", kHour + store::kMillisPerHour, later);

  auto built = RollUpFirstHour(data);
  ASSERT_TRUE(built) << built.error().Message();
  ASSERT_LT(built->rows, built->input_rows);

  QuerySpec spec = EverythingSpec(data.store);
  spec.use_rollups = true;
  auto from_rollup = RunQuery(spec, nullptr);
  ASSERT_TRUE(from_rollup) << from_rollup.error().Message();
  EXPECT_EQ(from_rollup->scan.rollups_read, 1u);
  spec.use_rollups = false;
  auto from_detail = RunQuery(spec, nullptr);
  ASSERT_TRUE(from_detail) << from_detail.error().Message();
  EXPECT_EQ(from_detail->scan.rollups_read, 0u);
  ExpectSameAnswer(*from_rollup, *from_detail);
  EXPECT_TRUE(from_detail->totals == Totals(Concat({data.all(), later})));

  // A window that cuts the rolled-up hour reads its detail segments.
  spec.use_rollups = true;
  spec.window = query::TimeWindow{kHour + 60'000, kHour + 2 * store::kMillisPerHour};
  auto cut = RunQuery(spec, nullptr);
  ASSERT_TRUE(cut) << cut.error().Message();
  EXPECT_EQ(cut->scan.rollups_read, 0u);
  EXPECT_TRUE(cut->totals == Totals(InWindow(Concat({data.all(), later}), spec.window->from_ms,
                                             spec.window->to_ms)));
  // A window covering the hour whole uses it.
  spec.window = query::TimeWindow{kHour - store::kMillisPerHour, kHour + 3 * store::kMillisPerHour};
  auto whole = RunQuery(spec, nullptr);
  ASSERT_TRUE(whole) << whole.error().Message();
  EXPECT_EQ(whole->scan.rollups_read, 1u);
  ExpectSameAnswer(*whole, *from_detail);

  // A key the roll-up does not keep (tcp_flags) reads the detail segments.
  spec.stats.push_back(Stat("flags", {{FieldId::kTcpFlags}}, OrderBy::kFlows));
  auto flags = RunQuery(spec, nullptr);
  ASSERT_TRUE(flags) << flags.error().Message();
  EXPECT_EQ(flags->scan.rollups_read, 0u);
}

// Writes the summaries of each detail segment of `data` (as the store's Maintainer
// does), keeping only every other one when `every_other`.
void SummariseSegments(const Store& data, bool every_other = false) {
  const std::vector<std::int64_t> slots = {kHour, kHour + 15 * 60'000};
  for (std::size_t idx = 0; idx < slots.size(); ++idx) {
    if (every_other && idx % 2 == 1) {
      continue;
    }
    SummariseSlot(data.store, slots[idx], true);
  }
}

// Runs `spec` with and without the summaries: the same answer, `summaries_read` summary
// files read with them, none without.
void ExpectSummariesAnswerAsDetail(QuerySpec& spec, std::size_t summaries_read) {
  spec.use_rollups = true;
  auto summarised = RunQuery(spec, nullptr);
  ASSERT_TRUE(summarised) << summarised.error().Message();
  EXPECT_EQ(summarised->scan.rollups_read, summaries_read);
  spec.use_rollups = false;
  auto detail = RunQuery(spec, nullptr);
  ASSERT_TRUE(detail) << detail.error().Message();
  EXPECT_EQ(detail->scan.rollups_read, 0u);
  ExpectSameAnswer(*summarised, *detail);
}

// Graphs and breakdowns by protocol or exporter: the minute summaries answer exactly as
// the detail segments, for series of whole minutes, statistics and aggregations.
TEST(EngineGroupTest, MinuteSummariesAndDetailGiveTheSameAnswer) {
  Store data;
  SummariseSegments(data);
  QuerySpec spec = SpecFor(data.store);
  spec.top_n = 0;
  spec.stats = {Stat("proto", {{FieldId::kProto}}, OrderBy::kBytes),
                Stat("exporter", {{FieldId::kExporter}}, OrderBy::kFlows)};
  spec.aggregate = {{FieldId::kExporter}, {FieldId::kProto}};
  spec.order = OrderBy::kBytes;
  auto check = [&](std::size_t summaries_read) { ExpectSummariesAnswerAsDetail(spec, summaries_read); };
  check(2);
  // The top lists: by source or destination address (and exporter), by destination port
  // (and protocol), each from its own summary.
  spec.aggregate.clear();
  spec.order.reset();
  spec.stats = {Stat("srcip", {{FieldId::kSrcAddr}}, OrderBy::kBytes)};
  check(2);
  spec.stats = {Stat("dstip", {{FieldId::kDstAddr, 24, 64}}, OrderBy::kPackets)};
  check(2);
  spec.filter = "exporter 192.0.2.1";
  spec.stats = {Stat("dstport", {{FieldId::kDstPort}}, OrderBy::kFlows),
                Stat("proto", {{FieldId::kProto}}, OrderBy::kBytes)};
  check(2);
  spec.filter.clear();
  // Series of whole minutes, with and without a group.
  spec.stats.clear();
  spec.aggregate.clear();
  spec.order.reset();
  spec.bucket_ms = 5 * 60'000;
  check(2);
  spec.bucket_group = {{FieldId::kProto}};
  check(2);
  spec.filter = "proto udp or exporter 192.0.2.2";
  check(2);
  // A bucket that is no whole number of minutes, a key the summaries do not keep, or a
  // filter on one, reads the detail segments.
  spec.bucket_ms = 90'000;
  check(0);
  spec.bucket_ms = 60'000;
  spec.bucket_group = {{FieldId::kDstPort}};  // the port summary keeps the minute
  check(2);
  spec.bucket_group = {{FieldId::kSrcAddr}};  // the src summary does not
  check(0);
  spec.bucket_group = {{FieldId::kProto}};
  spec.filter = "port 53";  // src_port too
  check(0);
  spec.filter.clear();
  // A window that starts on a whole minute may cut a summary: its rows of earlier
  // minutes are left out like the flows they stand for.
  spec.window = query::TimeWindow{kHour + 60'000, kHour + 2 * store::kMillisPerHour};
  check(2);
  // A window that starts within a minute, or ends before a summary's last flow, reads
  // the segment it cuts as detail; the other stays summarised.
  spec.window = query::TimeWindow{kHour + 60'001, kHour + 2 * store::kMillisPerHour};
  check(1);
  spec.window = query::TimeWindow{kHour, kHour + 20 * 60'000};
  check(1);
  spec.window = query::TimeWindow{kHour + 7 * 60'000, kHour + 20 * 60'000};
  check(1);
  // A segment without its minute summary is read from the next summary that answers (by
  // port, which keeps the minute and the protocol too); without any (not written yet),
  // as detail beside the others.
  spec.window.reset();
  std::filesystem::remove(store::SummaryPath(data.store.dir(), "core", store::kMinuteSummary, kHour, 0));
  check(2);
  std::filesystem::remove(store::SummaryPath(data.store.dir(), "core", 3, kHour, 0));  // port
  check(1);
  EXPECT_TRUE(RunQuery(spec, nullptr)->totals == Totals(data.all()));
}

// Each segment is read from the first summary usable for it: top ports from the
// port-slot summary, or, for a segment that a window cuts on a whole minute or that has
// no port-slot summary, from the port summary by minute; the answer is the detail's.
TEST(EngineGroupTest, EachSegmentReadsTheFirstUsableSummary) {
  Store data;
  SummariseSegments(data);
  QuerySpec spec = SpecFor(data.store);
  spec.top_n = 0;
  spec.stats = {Stat("dstport", {{FieldId::kDstPort}}, OrderBy::kBytes),
                Stat("proto", {{FieldId::kProto}}, OrderBy::kFlows)};
  auto check = [&](std::size_t summaries_read) { ExpectSummariesAnswerAsDetail(spec, summaries_read); };
  check(2);
  // The first segment is cut on a whole minute: its port summary answers, the port-slot
  // summary of the second.
  spec.window = query::TimeWindow{kHour + 60'000, kHour + 2 * store::kMillisPerHour};
  check(2);
  spec.window.reset();
  constexpr std::size_t kPortSlot = 4;
  ASSERT_EQ(store::kSummaryDirs[kPortSlot], "port-slot");
  std::filesystem::remove(store::SummaryPath(data.store.dir(), "core", kPortSlot, kHour, 0));
  check(2);
  std::filesystem::remove(store::SummaryPath(data.store.dir(), "core", 3, kHour, 0));  // port
  check(1);
}

// With minute summaries for some hours, the hourly roll-ups answer only the hours none of
// whose segments was summarised, so nothing is counted twice.
TEST(EngineGroupTest, MinuteSummariesAndHourlyRollupsNeverCountTwice) {
  Store data;
  ASSERT_TRUE(RollUpFirstHour(data));
  SummariseSegments(data, true);

  QuerySpec spec = SpecFor(data.store);
  spec.stats = {Stat("proto", {{FieldId::kProto}}, OrderBy::kBytes)};
  auto proto = RunQuery(spec, nullptr);
  ASSERT_TRUE(proto) << proto.error().Message();
  EXPECT_EQ(proto->scan.rollups_read, 1u);  // the summary; the hour's other segment as detail
  EXPECT_TRUE(proto->totals == Totals(data.all()));
  spec.stats = {Stat("srcas", {{FieldId::kSrcAs}}, OrderBy::kBytes)};
  auto srcas = RunQuery(spec, nullptr);  // no summary keeps src_as
  ASSERT_TRUE(srcas) << srcas.error().Message();
  EXPECT_EQ(srcas->scan.rollups_read, 1u);  // the hourly roll-up alone
  EXPECT_TRUE(srcas->totals == Totals(data.all()));
}

// An hour summary answers its whole hour (one file for the slots' summaries) when the
// window holds all its flows and no slot of the hour is answered otherwise; the answer is
// the detail's, and nothing is counted twice.
TEST(EngineGroupTest, HourSummariesAnswerTheirWholeHourExactly) {
  Store data;
  const std::int64_t next_hour = kHour + store::kMillisPerHour;
  const std::vector<TestFlow> later = MakeFlows(5000, 5400, next_hour);
  data.store.AddSegment("core", next_hour, later);
  SummariseSlot(data.store, kHour);
  SummariseSlot(data.store, kHour + 15 * 60'000);
  SummariseSlot(data.store, next_hour);
  WriteHourSummaries(data.store, kHour, {kHour, kHour + 15 * 60'000});

  QuerySpec spec = SpecFor(data.store);
  spec.top_n = 0;
  auto check = [&](std::size_t summaries_read) { ExpectSummariesAnswerAsDetail(spec, summaries_read); };
  // Top talkers, destinations and ports: the hour summary, and the slot summary of the
  // next hour (which has none).
  spec.stats = {Stat("srcip", {{FieldId::kSrcAddr}}, OrderBy::kBytes)};
  check(2);
  spec.stats = {Stat("dstip", {{FieldId::kDstAddr, 24, 64}}, OrderBy::kPackets)};
  check(2);
  spec.stats = {Stat("dstport", {{FieldId::kDstPort}}, OrderBy::kFlows)};
  check(2);
  spec.stats = {Stat("srcport", {{FieldId::kSrcPort}}, OrderBy::kBytes)};
  check(2);
  spec.filter = "proto udp";
  check(2);
  spec.filter = "exporter 192.0.2.1";
  spec.stats = {Stat("srcip", {{FieldId::kSrcAddr}}, OrderBy::kFlows)};
  check(2);
  spec.filter.clear();
  // A window that cuts the hour: its slots are read one by one (both slot summaries are
  // usable for this window), the hour summary not at all.
  spec.window = query::TimeWindow{kHour + 60'000, kHour + 2 * store::kMillisPerHour};
  spec.stats = {Stat("srcip", {{FieldId::kSrcAddr}}, OrderBy::kBytes)};
  {
    spec.use_rollups = true;
    auto cut = RunQuery(spec, nullptr);
    ASSERT_TRUE(cut) << cut.error().Message();
    EXPECT_TRUE(cut->totals == Totals(InWindow(Concat({data.all(), later}), spec.window->from_ms,
                                               spec.window->to_ms)));
    spec.use_rollups = false;
    auto detail = RunQuery(spec, nullptr);
    ASSERT_TRUE(detail) << detail.error().Message();
    ExpectSameAnswer(*cut, *detail);
  }
  spec.window.reset();
  // A slot of the hour answered by the minute summary (protocols): the hour's port-slot
  // summary, which keeps the protocol too, is not used for the rest of the hour; its other
  // slot (no minute summary) reads its own port-slot summary.
  std::filesystem::remove(store::SummaryPath(data.store.dir(), "core", store::kMinuteSummary,
                                             kHour + 15 * 60'000, 0));
  spec.stats = {Stat("proto", {{FieldId::kProto}}, OrderBy::kBytes)};
  check(3);
  EXPECT_TRUE(RunQuery(spec, nullptr)->totals == Totals(Concat({data.all(), later})));
  // With no minute summary in the hour at all, the hour's port-slot summary answers it.
  std::filesystem::remove(store::SummaryPath(data.store.dir(), "core", store::kMinuteSummary, kHour, 0));
  check(2);
  // Hour summaries and the hourly roll-up never both answer an hour.
  ASSERT_TRUE(RollUpFirstHour(data));
  spec.stats = {Stat("srcip", {{FieldId::kSrcAddr}}, OrderBy::kBytes)};
  check(2);
  EXPECT_TRUE(RunQuery(spec, nullptr)->totals == Totals(Concat({data.all(), later})));
}

// Presizing (a table given the room its first blocks predict) must not make a query over
// summaries fail where the detail answers: a summary holds each key once per file, so its
// rows look like new groups although the files share them. Twice the smallest budget (to
// 4 KiB) that the detail read answers a top-talkers query with is enough for the
// summaries, on one thread and on several; and the 5-tuple, which is presized, stays exact.
TEST(EngineGroupTest, SummariesAnswerTopTalkersWithinTheBudgetTheDetailNeeds) {
  TestStore store;
  constexpr std::uint64_t kAddresses = 3000;
  constexpr std::int64_t kSlots = 8;
  std::vector<TestFlow> all;
  for (std::int64_t slot = 0; slot < kSlots; ++slot) {
    const std::int64_t start = kHour + slot * 5 * 60'000;
    std::vector<TestFlow> flows = MakeFlows(0, 2 * kAddresses, start);
    for (std::size_t idx = 0; idx < flows.size(); ++idx) {
      flows[idx].src = flow::IpAddress::FromV4(0x0a000000u + static_cast<std::uint32_t>(
                                                                 (idx * 7 + static_cast<std::size_t>(slot)) % kAddresses));
      flows[idx].first = start + static_cast<std::int64_t>(idx % 200) * 1000;
      flows[idx].last = flows[idx].first + 500;
      flows[idx].received = flows[idx].last + 1000;
    }
    store.AddSegment("core", start, flows, 0, true, 1024);
    SummariseSlot(store, start);
    all.insert(all.end(), flows.begin(), flows.end());
  }
  QuerySpec spec = SpecFor(store);
  spec.stats = {Stat("srcip", {{FieldId::kSrcAddr}}, OrderBy::kBytes)};
  for (const std::size_t threads : {1u, 2u}) {
    spec.threads = threads;
    spec.use_rollups = false;
    std::size_t budget = 4096;
    for (;; budget += 4096) {
      spec.memory_budget_bytes = budget;
      if (RunQuery(spec, nullptr)) {
        break;
      }
      ASSERT_LT(budget, std::size_t{64} << 20);
    }
    // Twice that: with several threads, which thread gets which block (and so how many
    // groups each holds) varies from run to run.
    spec.memory_budget_bytes = 2 * budget;
    auto detail = RunQuery(spec, nullptr);
    ASSERT_TRUE(detail) << detail.error().Message();
    spec.use_rollups = true;
    auto summarised = RunQuery(spec, nullptr);
    ASSERT_TRUE(summarised) << threads << " threads, budget " << budget << ": "
                            << summarised.error().Message();
    EXPECT_EQ(summarised->scan.rollups_read, static_cast<std::size_t>(kSlots));
    ExpectSameAnswer(*summarised, *detail);
    EXPECT_EQ(detail->stats[0].distinct, kAddresses);
  }
  // The 5-tuple over the detail (about a group per row: presized) is exact.
  spec.stats.clear();
  spec.use_rollups = false;
  spec.memory_budget_bytes = std::size_t{256} << 20;
  spec.aggregate = {{FieldId::kProto}, {FieldId::kSrcAddr}, {FieldId::kSrcPort}, {FieldId::kDstAddr},
                    {FieldId::kDstPort}};
  spec.order = OrderBy::kBytes;
  spec.top_n = 10;
  auto five = RunQuery(spec, nullptr);
  ASSERT_TRUE(five) << five.error().Message();
  EXPECT_TRUE(five->totals == Totals(all));
}

}  // namespace
}  // namespace sluice::test
