// SPDX-License-Identifier: Apache-2.0
// RunQuery's scan: totals, time windows, sources, open segments, damage, listing, filters.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "query/engine.h"
#include "query/engine_test_util.h"
#include "query/filter.h"
#include "store/segment_reader.h"

namespace sluice::test {
namespace {

using query::QuerySpec;
using query::RunQuery;

// core: two slots; edge: one slot. Rows per block 64, so windows cut blocks.
struct ThreeSegments {
  TestStore store;
  std::vector<TestFlow> core_a = MakeFlows(0, 700, kHour);
  std::vector<TestFlow> core_b = MakeFlows(700, 1500, kHour);
  std::vector<TestFlow> edge = MakeFlows(2000, 2600, kHour);

  ThreeSegments() {
    store.AddSegment("core", kHour, core_a);
    store.AddSegment("core", kHour + 5 * 60'000, core_b);
    store.AddSegment("edge", kHour, edge);
  }

  std::vector<TestFlow> all() const { return Concat({core_a, core_b, edge}); }
};

TEST(EngineScanTest, TotalsMatchEveryFlow) {
  ThreeSegments data;
  QuerySpec spec = SpecFor(data.store);
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  EXPECT_TRUE(result->totals == Totals(data.all()));
  EXPECT_EQ(result->scan.segments_total, 3u);
  EXPECT_EQ(result->scan.segments_read, 3u);
  EXPECT_EQ(result->scan.rows_scanned, data.all().size());
  EXPECT_EQ(result->scan.rows_matched, data.all().size());
  EXPECT_EQ(result->scan.damaged, 0u);
  EXPECT_TRUE(result->warnings.empty());
}

TEST(EngineScanTest, PastItsDeadlineTheQueryIsCancelled) {
  ThreeSegments data;
  QuerySpec spec = SpecFor(data.store);
  spec.stats.push_back({"srcip", {{flow::FieldId::kSrcAddr}}, {}, false, query::OrderBy::kBytes});
  spec.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  auto result = RunQuery(spec, nullptr);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().Code(), ErrorCode::kCancelled);
}

TEST(EngineScanTest, CancelFlagEndsTheQuery) {
  ThreeSegments data;
  QuerySpec spec = SpecFor(data.store);
  std::atomic<bool> cancel{true};
  spec.cancel = &cancel;
  auto result = RunQuery(spec, nullptr);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().Code(), ErrorCode::kCancelled);
  cancel = false;
  EXPECT_TRUE(RunQuery(spec, nullptr));
}

TEST(EngineScanTest, SourcesSelectTheirSegments) {
  ThreeSegments data;
  QuerySpec spec = SpecFor(data.store);
  spec.sources = {"edge"};
  auto edge = RunQuery(spec, nullptr);
  ASSERT_TRUE(edge) << edge.error().Message();
  EXPECT_TRUE(edge->totals == Totals(data.edge));
  EXPECT_EQ(edge->scan.segments_total, 1u);

  spec.sources = {"core", "nope"};
  auto core = RunQuery(spec, nullptr);
  ASSERT_TRUE(core) << core.error().Message();
  EXPECT_TRUE(core->totals == Totals(Concat({data.core_a, data.core_b})));
}

TEST(EngineScanTest, ExplicitFiles) {
  ThreeSegments data;
  QuerySpec spec;
  spec.files = {store::DetailSegmentPath(data.store.dir(), "edge", kHour, 0)};
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  EXPECT_TRUE(result->totals == Totals(data.edge));
}

// nfdump -t keeps a flow only if it lies entirely inside the window (both ends included).
TEST(EngineScanTest, WindowKeepsFlowsEntirelyInside) {
  ThreeSegments data;
  const std::vector<TestFlow> all = data.all();
  // Windows whose edges fall exactly on flow times, inside blocks and across segments.
  const std::vector<std::pair<std::int64_t, std::int64_t>> windows = {
      {all[100].first, all[900].last},
      {all[100].first + 1, all[900].last - 1},
      {all[1200].first, all[1200].last},
      {all[1600].first, kHour + 10 * store::kMillisPerHour},
      {kHour - store::kMillisPerDay, kHour - 1},
      {all[5].first, all[5].first},
  };
  for (const auto& [from, to] : windows) {
    QuerySpec spec = SpecFor(data.store);
    spec.window = query::TimeWindow{from, to};
    auto result = RunQuery(spec, nullptr);
    ASSERT_TRUE(result) << result.error().Message();
    const std::vector<TestFlow> want = InWindow(all, from, to);
    EXPECT_TRUE(result->totals == Totals(want)) << "window " << from << ".." << to;
    EXPECT_EQ(result->scan.rows_matched, want.size()) << "window " << from << ".." << to;
  }
}

TEST(EngineScanTest, WindowSkipsSegmentsAndBlocks) {
  ThreeSegments data;
  QuerySpec spec = SpecFor(data.store);
  spec.window = query::TimeWindow{data.core_a[10].first, data.core_a[100].last};
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  EXPECT_TRUE(result->totals == Totals(InWindow(data.core_a, spec.window->from_ms, spec.window->to_ms)));
  EXPECT_EQ(result->scan.segments_read, 1u);  // core_b and edge start after the window
  EXPECT_GT(result->scan.blocks_skipped, 0u);
  EXPECT_LE(result->scan.rows_scanned, 3u * 64u);
}

TEST(EngineScanTest, EmptyWindowIsAnError) {
  ThreeSegments data;
  QuerySpec spec = SpecFor(data.store);
  spec.window = query::TimeWindow{10, 5};
  auto result = RunQuery(spec, nullptr);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().Code(), ErrorCode::kInvalidArgument);
}

TEST(EngineScanTest, ReadsOpenSegments) {
  ThreeSegments data;
  const std::vector<TestFlow> live = MakeFlows(3000, 3300, kHour);
  data.store.AddSegment("core", kHour + 10 * 60'000, live, 0, /*finish=*/false);
  QuerySpec spec = SpecFor(data.store);
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  EXPECT_TRUE(result->totals == Totals(Concat({data.all(), live})));
  EXPECT_EQ(result->scan.segments_total, 4u);
}

TEST(EngineScanTest, DamagedSegmentIsSkippedWithAWarning) {
  ThreeSegments data;
  // A fourth segment whose trailer is overwritten: it cannot be opened.
  const std::vector<TestFlow> lost = MakeFlows(3000, 3100, kHour);
  const std::string path = data.store.AddSegment("core", kHour + 15 * 60'000, lost);
  std::vector<std::uint8_t> bytes = ReadBytes(path);
  for (std::size_t idx = bytes.size() - 8; idx < bytes.size(); ++idx) {
    bytes[idx] ^= 0x5a;
  }
  WriteBytes(path, bytes);
  QuerySpec spec = SpecFor(data.store);
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  EXPECT_TRUE(result->totals == Totals(data.all()));
  EXPECT_EQ(result->scan.damaged, 1u);
  ASSERT_EQ(result->warnings.size(), 1u);
  EXPECT_NE(result->warnings[0].find(path), std::string::npos) << result->warnings[0];
}

TEST(EngineScanTest, DamagedBlockIsSkippedWithAWarning) {
  ThreeSegments data;
  const std::string path = store::DetailSegmentPath(data.store.dir(), "core", kHour, 0);
  std::uint64_t data_offset = 0;
  {
    auto reader = store::SegmentReader::Open(path);
    ASSERT_TRUE(reader);
    const store::BlockInfo& block = (*reader)->blocks()[1];
    data_offset = block.chunks[0].offset;
  }
  std::vector<std::uint8_t> bytes = ReadBytes(path);
  bytes[data_offset] ^= 0xff;
  WriteBytes(path, bytes);
  for (const std::size_t threads : {1u, 3u}) {
    QuerySpec spec = SpecFor(data.store);
    spec.threads = threads;
    auto result = RunQuery(spec, nullptr);
    ASSERT_TRUE(result) << result.error().Message();
    std::vector<TestFlow> want = data.all();
    want.erase(want.begin() + 64, want.begin() + 128);  // block 1 of core_a
    EXPECT_TRUE(result->totals == Totals(want));
    EXPECT_EQ(result->scan.damaged, 1u);
    ASSERT_EQ(result->warnings.size(), 1u);
    EXPECT_NE(result->warnings[0].find(path), std::string::npos) << result->warnings[0];
  }
}

TEST(EngineScanTest, MissingDataDirIsEmpty) {
  TestStore store;
  QuerySpec spec = SpecFor(store);
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  EXPECT_EQ(result->totals.flows, 0u);
}

// Collects (first, src_port, bytes) of every record handed over.
class Collector final : public query::RecordSink {
 public:
  explicit Collector(std::size_t stop_after_calls = 0) : stop_after_(stop_after_calls) {}

  bool Consume(const flow::FlowBatch& batch, std::span<const std::uint32_t> rows) override {
    for (const std::uint32_t row : rows) {
      seen.push_back({batch.cols().first[row], batch.cols().bytes[row]});
    }
    ++calls;
    return stop_after_ == 0 || calls < stop_after_;
  }

  std::vector<std::pair<std::int64_t, std::uint64_t>> seen;
  std::size_t calls = 0;

 private:
  std::size_t stop_after_;
};

std::vector<std::pair<std::int64_t, std::uint64_t>> Seen(std::span<const TestFlow> flows) {
  std::vector<std::pair<std::int64_t, std::uint64_t>> out;
  for (const TestFlow& f : flows) {
    out.push_back({f.first, f.bytes});
  }
  return out;
}

TEST(EngineScanTest, ListingInSegmentThenRowOrder) {
  ThreeSegments data;
  QuerySpec spec = SpecFor(data.store);
  Collector sink;
  auto result = RunQuery(spec, &sink);
  ASSERT_TRUE(result) << result.error().Message();
  // Catalogue order: start, then source, then index.
  EXPECT_EQ(sink.seen, Seen(Concat({data.core_a, data.edge, data.core_b})));
  EXPECT_TRUE(result->totals == Totals(data.all()));
}

TEST(EngineScanTest, ListingLimitAndStop) {
  ThreeSegments data;
  QuerySpec spec = SpecFor(data.store);
  spec.limit = 70;
  Collector sink;
  auto result = RunQuery(spec, &sink);
  ASSERT_TRUE(result) << result.error().Message();
  const std::vector<TestFlow> first70(data.core_a.begin(), data.core_a.begin() + 70);
  EXPECT_EQ(sink.seen, Seen(first70));
  EXPECT_TRUE(result->totals == Totals(first70));

  spec.limit = 0;
  Collector stopper(1);
  auto stopped = RunQuery(spec, &stopper);
  ASSERT_TRUE(stopped) << stopped.error().Message();
  EXPECT_EQ(stopper.calls, 1u);
}

TEST(EngineScanTest, ListingOrderedByBytesThenScanOrder) {
  ThreeSegments data;
  QuerySpec spec = SpecFor(data.store);
  spec.order = query::OrderBy::kBytes;
  spec.limit = 25;
  spec.window = query::TimeWindow{kHour, kHour + 800 * 1000};
  Collector sink;
  auto result = RunQuery(spec, &sink);
  ASSERT_TRUE(result) << result.error().Message();
  std::vector<TestFlow> want = InWindow(Concat({data.core_a, data.edge, data.core_b}), spec.window->from_ms,
                                        spec.window->to_ms);
  std::stable_sort(want.begin(), want.end(), [](const TestFlow& a, const TestFlow& b) { return a.bytes > b.bytes; });
  want.resize(25);
  EXPECT_EQ(sink.seen, Seen(want));
}

TEST(EngineScanTest, ListingOrderedOverBudgetIsResourceExhausted) {
  ThreeSegments data;
  QuerySpec spec = SpecFor(data.store);
  spec.order = query::OrderBy::kTstart;
  spec.memory_budget_bytes = 1000;
  Collector sink;
  auto result = RunQuery(spec, &sink);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().Code(), ErrorCode::kResourceExhausted);
}

TEST(EngineScanTest, FilterSyntaxErrorIsInvalidArgument) {
  ThreeSegments data;
  QuerySpec spec = SpecFor(data.store);
  spec.filter = "proto tcp and and";
  auto result = RunQuery(spec, nullptr);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().Code(), ErrorCode::kInvalidArgument);
}

TEST(EngineScanTest, FilterSelectsRows) {
  if (!query::Filter::Parse("proto udp and dst port 53")) {
    GTEST_SKIP() << "the filter language is not there yet";
  }
  ThreeSegments data;
  QuerySpec spec = SpecFor(data.store);
  spec.filter = "proto udp and dst port 53";
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  std::vector<TestFlow> want;
  for (const TestFlow& f : data.all()) {
    if (f.proto == 17 && f.dst_port == 53) {
      want.push_back(f);
    }
  }
  EXPECT_TRUE(result->totals == Totals(want));
}

}  // namespace
}  // namespace sluice::test
