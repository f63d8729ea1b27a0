// SPDX-License-Identifier: Apache-2.0
// Top lists of addresses from the summaries' heads (query/top_by_threshold.h): the same
// rows and totals as the whole detail read, whatever the traffic, window or filter.

#include "query/top_by_threshold.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "query/engine.h"
#include "query/engine_test_util.h"
#include "store/rollup.h"
#include "store/segment_reader.h"

namespace sluice::test {
namespace {

using flow::FieldId;
using query::OrderBy;
using query::QuerySpec;
using query::RunQuery;

constexpr std::int64_t kSlotMs = 5 * 60'000;

std::uint64_t Mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Host `rank` of a pool of IPv4 and IPv6 addresses.
flow::IpAddress Host(std::uint64_t rank) {
  if (rank % 4 == 3) {
    return V6(0x20010db800000000ULL + rank % 5, Mix(rank) & 0xffffffffULL);
  }
  return flow::IpAddress::FromV4(0x0a000000u + static_cast<std::uint32_t>(Mix(rank) & 0xffffff));
}

// `count` flows of slot `slot`: with `skewed`, a few hosts send most bytes (ranks drawn
// about as 1/rank, bytes falling with rank); else every host alike.
std::vector<TestFlow> SlotFlows(std::uint64_t seed, std::int64_t slot, std::size_t count, bool skewed) {
  std::vector<TestFlow> flows;
  for (std::size_t idx = 0; idx < count; ++idx) {
    const std::uint64_t r = Mix(seed * 1'000'003 + static_cast<std::uint64_t>(slot) * 7919 + idx);
    const double u = static_cast<double>(r >> 11) / 9007199254740992.0;
    const std::uint64_t src_rank = skewed ? static_cast<std::uint64_t>(std::pow(4000.0, u)) : r % 4000;
    const std::uint64_t dst_rank = skewed ? static_cast<std::uint64_t>(std::pow(3000.0, 1 - u)) : (r >> 20) % 3000;
    TestFlow f;
    f.first = slot + static_cast<std::int64_t>(idx * 97 % static_cast<std::uint64_t>(kSlotMs - 2000));
    f.last = f.first + static_cast<std::int64_t>(r % 1000);
    f.received = f.last + 500;
    f.exporter = flow::IpAddress::FromV4(0xc0000201u + static_cast<std::uint32_t>((r >> 40) % 2));
    f.src = Host(src_rank);
    f.dst = Host(dst_rank + 10'000);
    f.proto = (r >> 8) % 3 == 0 ? 17 : 6;
    f.dst_port = (r >> 50) % 4 == 0 ? 443 : static_cast<std::uint16_t>(1024 + (r >> 24) % 60000);
    f.bytes = skewed ? 40 + 2'000'000 / (src_rank + 1) + r % 1500 : 1000;
    f.packets = 1 + f.bytes / 700;
    f.flows = 1;
    flows.push_back(f);
  }
  return flows;
}

// A store of one whole hour of 5-minute slots (its hour summaries written) and three
// slots of the next, every slot with its summaries.
struct DayStore {
  TestStore store;
  std::vector<TestFlow> all;

  DayStore(std::uint64_t seed, bool skewed, std::size_t per_slot = 2500) {
    const std::int64_t next_hour = kHour + store::kMillisPerHour;
    std::vector<std::int64_t> slots;
    for (std::int64_t slot = kHour; slot < next_hour + 3 * kSlotMs; slot += kSlotMs) {
      std::vector<TestFlow> flows = SlotFlows(seed, slot, per_slot, skewed);
      store.AddSegment("core", slot, flows, 0, true, 256);
      SummariseSlot(store, slot);
      all.insert(all.end(), flows.begin(), flows.end());
      if (slot < next_hour) {
        slots.push_back(slot);
      }
    }
    WriteHourSummaries(store, kHour, slots);
  }
};

query::StatSpec AddressStat(FieldId field, OrderBy order) {
  query::StatSpec stat;
  stat.name = field == FieldId::kSrcAddr ? "srcip" : "dstip";
  stat.key = {{field}};
  stat.order = order;
  return stat;
}

// The top list without counting distinct keys against the whole detail read: the same
// rows, totals and percentages' denominators.
void ExpectSameTopList(QuerySpec spec) {
  spec.count_distinct = false;
  spec.use_rollups = true;
  auto heads = RunQuery(spec, nullptr);
  ASSERT_TRUE(heads) << heads.error().Message();
  spec.count_distinct = true;
  spec.use_rollups = false;
  auto detail = RunQuery(spec, nullptr);
  ASSERT_TRUE(detail) << detail.error().Message();
  EXPECT_TRUE(heads->totals == detail->totals);
  ASSERT_EQ(heads->stats.size(), 1u);
  const query::StatTable& got = heads->stats.front();
  const query::StatTable& want = detail->stats.front();
  EXPECT_TRUE(got.total == want.total);
  ASSERT_EQ(got.rows.size(), want.rows.size());
  for (std::size_t row = 0; row < want.rows.size(); ++row) {
    EXPECT_TRUE(got.rows[row].key == want.rows[row].key) << "row " << row;
    EXPECT_TRUE(got.rows[row].counters == want.rows[row].counters) << "row " << row;
  }
  if (got.distinct_known) {
    EXPECT_EQ(got.distinct, want.distinct);
  }
}

TEST(TopByThresholdTest, AnswersOnlyTopListsOfWholeAddressesWithoutDistinct) {
  QuerySpec spec;
  spec.data_dir = "unused";
  spec.count_distinct = false;
  spec.stats = {AddressStat(FieldId::kSrcAddr, OrderBy::kBytes)};
  EXPECT_TRUE(query::AnswersByThreshold(spec));
  spec.stats.front().order = OrderBy::kBps;
  EXPECT_FALSE(query::AnswersByThreshold(spec));
  spec.stats = {AddressStat(FieldId::kDstAddr, OrderBy::kFlows)};
  EXPECT_TRUE(query::AnswersByThreshold(spec));
  spec.stats.front().key.front().v4_prefix = 24;
  EXPECT_FALSE(query::AnswersByThreshold(spec));
  spec.stats = {AddressStat(FieldId::kDstAddr, OrderBy::kFlows)};
  spec.top_n = 0;
  EXPECT_FALSE(query::AnswersByThreshold(spec));
  spec.top_n = 10;
  spec.count_distinct = true;
  EXPECT_FALSE(query::AnswersByThreshold(spec));
  spec.count_distinct = false;
  spec.bucket_ms = 60'000;
  EXPECT_FALSE(query::AnswersByThreshold(spec));
}

// The summaries of addresses start with their rows of most bytes and then hold the rest
// by address, each key once: what the head pass relies on.
TEST(TopByThresholdTest, AddressSummariesStartWithTheirHeadsAndHoldKeysOnce) {
  DayStore day(1, true);
  for (const std::string& path : {store::SummaryPath(day.store.dir(), "core", 1, kHour, 0),
                                  store::HourSummaryPath(day.store.dir(), "core", 2, kHour)}) {
    auto reader = store::SegmentReader::Open(path);
    ASSERT_TRUE(reader) << reader.error().Message();
    EXPECT_TRUE((*reader)->summary().unique_keys) << path;
    const auto& blocks = (*reader)->blocks();
    ASSERT_GT(blocks.size(), store::kTopHeadBlocks + 1) << path;
    std::uint64_t head_min = UINT64_MAX;
    for (std::size_t idx = 0; idx < store::kTopHeadBlocks; ++idx) {
      head_min = std::min(head_min, blocks[idx].Find(FieldId::kBytes)->stats.min);
    }
    for (std::size_t idx = store::kTopHeadBlocks; idx < blocks.size(); ++idx) {
      EXPECT_LE(blocks[idx].Find(FieldId::kBytes)->stats.max, head_min) << path << " block " << idx;
    }
  }
}

// The port summary (by minute) is ordered by destination port, so that a filter on a
// few ports reads few of its blocks; the answer stays the detail's.
TEST(TopByThresholdTest, PortSummaryIsOrderedByPort) {
  DayStore day(6, true);
  auto reader = store::SegmentReader::Open(store::SummaryPath(day.store.dir(), "core", 3, kHour, 0));
  ASSERT_TRUE(reader) << reader.error().Message();
  const auto& blocks = (*reader)->blocks();
  ASSERT_GT(blocks.size(), 2u);
  for (std::size_t idx = 1; idx < blocks.size(); ++idx) {
    EXPECT_LE(blocks[idx - 1].Find(FieldId::kDstPort)->stats.max, blocks[idx].Find(FieldId::kDstPort)->stats.min);
  }
  QuerySpec spec = SpecFor(day.store);
  spec.filter = "dst port in [443 22]";
  spec.bucket_ms = 5 * 60'000;
  spec.bucket_group = {{FieldId::kDstPort}};
  spec.use_rollups = true;
  auto summarised = RunQuery(spec, nullptr);
  ASSERT_TRUE(summarised) << summarised.error().Message();
  EXPECT_GT(summarised->scan.blocks_skipped, 0u);
  spec.use_rollups = false;
  auto detail = RunQuery(spec, nullptr);
  ASSERT_TRUE(detail) << detail.error().Message();
  EXPECT_TRUE(summarised->totals == detail->totals);
  ASSERT_EQ(summarised->series.size(), detail->series.size());
  for (std::size_t idx = 0; idx < detail->series.size(); ++idx) {
    EXPECT_EQ(summarised->series[idx].bucket_start_ms, detail->series[idx].bucket_start_ms);
    EXPECT_TRUE(summarised->series[idx].group == detail->series[idx].group);
    EXPECT_TRUE(summarised->series[idx].counters == detail->series[idx].counters);
  }
}

TEST(TopByThresholdTest, SkewedTrafficGivesTheDetailsTopLists) {
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    DayStore day(seed, true);
    QuerySpec spec = SpecFor(day.store);
    for (const FieldId field : {FieldId::kSrcAddr, FieldId::kDstAddr}) {
      for (const OrderBy order : {OrderBy::kBytes, OrderBy::kPackets, OrderBy::kFlows}) {
        for (const std::size_t top : {1u, 10u, 40u}) {
          SCOPED_TRACE(testing::Message() << "seed " << seed << " field " << static_cast<int>(field)
                                          << " order " << static_cast<int>(order) << " top " << top);
          spec.stats = {AddressStat(field, order)};
          spec.top_n = top;
          spec.window.reset();
          ExpectSameTopList(spec);
          // A window that cuts the hour: its slots' summaries, and the detail of the slot
          // it cuts.
          spec.window = query::TimeWindow{kHour + 7 * 60'000, kHour + store::kMillisPerHour + 12 * 60'000};
          ExpectSameTopList(spec);
        }
      }
    }
    // Within a filter the summaries answer (the exporter), and one they do not.
    spec.window.reset();
    spec.stats = {AddressStat(FieldId::kSrcAddr, OrderBy::kBytes)};
    spec.filter = "exporter 192.0.2.2";
    ExpectSameTopList(spec);
    spec.filter = "proto udp";
    ExpectSameTopList(spec);
  }
}

// With only a few of the detail segments' addresses kept, the others bounded by the last
// one kept: the candidates outside them are read again from the detail, and the rows stay
// exact.
TEST(TopByThresholdTest, FewDetailAddressesKeptStayExact) {
  DayStore day(7, true);
  QuerySpec spec = SpecFor(day.store);
  spec.window = query::TimeWindow{kHour + 7 * 60'000, kHour + store::kMillisPerHour + 12 * 60'000};
  spec.count_distinct = false;
  auto scan = [](const QuerySpec& pass) {
    QuerySpec one = pass;
    one.count_distinct = true;  // a pass, never this path again
    return RunQuery(one, nullptr);
  };
  for (const std::size_t kept : {1u, 3u, 50u}) {
    for (const FieldId field : {FieldId::kSrcAddr, FieldId::kDstAddr}) {
      spec.stats = {AddressStat(field, OrderBy::kBytes)};
      spec.top_n = 10;
      auto heads = query::RunTopByThreshold(spec, scan, kept);
      ASSERT_TRUE(heads) << heads.error().Message();
      QuerySpec whole = spec;
      whole.count_distinct = true;
      whole.use_rollups = false;
      auto detail = RunQuery(whole, nullptr);
      ASSERT_TRUE(detail) << detail.error().Message();
      EXPECT_TRUE(heads->totals == detail->totals);
      const auto& got = heads->stats.front().rows;
      const auto& want = detail->stats.front().rows;
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t row = 0; row < want.size(); ++row) {
        EXPECT_TRUE(got[row].key == want[row].key) << "kept " << kept << " row " << row;
        EXPECT_TRUE(got[row].counters == want[row].counters) << "kept " << kept << " row " << row;
      }
    }
  }
}

// On skewed traffic the head pass closes the bound: the answer did not count distinct
// keys, and read fewer rows than the whole of the summaries.
TEST(TopByThresholdTest, SkewedTrafficReadsTheHeads) {
  DayStore day(4, true);
  QuerySpec spec = SpecFor(day.store);
  spec.stats = {AddressStat(FieldId::kSrcAddr, OrderBy::kBytes)};
  spec.top_n = 10;
  spec.count_distinct = false;
  auto heads = RunQuery(spec, nullptr);
  ASSERT_TRUE(heads) << heads.error().Message();
  EXPECT_FALSE(heads->stats.front().distinct_known);
  spec.count_distinct = true;
  auto whole = RunQuery(spec, nullptr);
  ASSERT_TRUE(whole) << whole.error().Message();
  EXPECT_TRUE(whole->stats.front().distinct_known);
  EXPECT_LT(heads->scan.rows_scanned, whole->scan.rows_scanned);
}

// Traffic where every host sends alike leaves the bound open: the whole scan answers,
// with the same rows.
TEST(TopByThresholdTest, EvenTrafficFallsBackToTheWholeScan) {
  DayStore day(5, false);
  QuerySpec spec = SpecFor(day.store);
  for (const std::size_t top : {1u, 10u}) {
    spec.top_n = top;
    spec.stats = {AddressStat(FieldId::kSrcAddr, OrderBy::kBytes)};
    ExpectSameTopList(spec);
    spec.stats = {AddressStat(FieldId::kDstAddr, OrderBy::kFlows)};
    ExpectSameTopList(spec);
  }
}

}  // namespace
}  // namespace sluice::test
