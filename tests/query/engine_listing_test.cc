// SPDX-License-Identifier: Apache-2.0
// RunQuery's listing on several threads with late materialization: the records come in
// scan order whatever the thread count, also when the selection is scattered across
// batch and block boundaries, empty, cut by a limit or stopped by the sink.

#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "query/engine.h"
#include "query/engine_test_util.h"

namespace sluice::test {
namespace {

using query::QuerySpec;
using query::RunQuery;

using Seen = std::vector<std::tuple<std::int64_t, std::uint16_t, std::uint16_t, std::uint64_t>>;

// Keeps (first, src_port, dst_port, bytes) of every record handed over.
class Collector final : public query::RecordSink {
 public:
  explicit Collector(std::size_t stop_after_calls = 0) : stop_after_(stop_after_calls) {}

  bool Consume(const flow::FlowBatch& batch, std::span<const std::uint32_t> rows) override {
    for (const std::uint32_t row : rows) {
      const flow::FlowColumns& c = batch.cols();
      seen.emplace_back(c.first[row], c.src_port[row], c.dst_port[row], c.bytes[row]);
    }
    ++calls;
    return stop_after_ == 0 || calls < stop_after_;
  }

  Seen seen;
  std::size_t calls = 0;

 private:
  std::size_t stop_after_;
};

Seen SeenOf(std::span<const TestFlow> flows, const std::function<bool(const TestFlow&)>& keep) {
  Seen out;
  for (const TestFlow& f : flows) {
    if (keep(f)) {
      out.emplace_back(f.first, f.src_port, f.dst_port, f.bytes);
    }
  }
  return out;
}

// Six five-minute segments of 300 flows in blocks of 16 rows: about 110 work items, far
// more than are read ahead at once.
struct ManyBlocks {
  TestStore store;
  std::vector<TestFlow> all;

  ManyBlocks() {
    for (std::uint64_t slot = 0; slot < 6; ++slot) {
      const std::vector<TestFlow> flows = MakeFlows(slot * 300, slot * 300 + 300, kHour);
      store.AddSegment("core", kHour + static_cast<std::int64_t>(slot) * 5 * 60'000, flows, 0, true, 16);
      all.insert(all.end(), flows.begin(), flows.end());
    }
  }
};

// dst port 53 is every fourth flow; src port 1030 every fiftieth: scattered rows, in
// every block, across block boundaries.
const char kScattered[] = "dst port 53 or src port 1030";
bool Scattered(const TestFlow& f) { return f.dst_port == 53 || f.src_port == 1030; }

TEST(EngineListingTest, ScanOrderWithAnyThreadCount) {
  ManyBlocks data;
  for (const std::size_t threads : {1u, 2u, 3u, 8u}) {
    QuerySpec spec = SpecFor(data.store);
    spec.threads = threads;
    spec.filter = kScattered;
    Collector sink;
    auto result = RunQuery(spec, &sink);
    ASSERT_TRUE(result) << result.error().Message();
    EXPECT_EQ(sink.seen, SeenOf(data.all, Scattered)) << threads << " threads";
    std::vector<TestFlow> want;
    for (const TestFlow& f : data.all) {
      if (Scattered(f)) {
        want.push_back(f);
      }
    }
    EXPECT_TRUE(result->totals == Totals(want)) << threads << " threads";
    EXPECT_EQ(result->scan.rows_matched, want.size());
    EXPECT_EQ(result->scan.rows_scanned, data.all.size());
  }
}

TEST(EngineListingTest, EveryRowWithAnyThreadCount) {
  ManyBlocks data;
  for (const std::size_t threads : {1u, 3u}) {
    QuerySpec spec = SpecFor(data.store);
    spec.threads = threads;
    Collector sink;
    auto result = RunQuery(spec, &sink);
    ASSERT_TRUE(result) << result.error().Message();
    EXPECT_EQ(sink.seen, SeenOf(data.all, [](const TestFlow&) { return true; }));
    EXPECT_TRUE(result->totals == Totals(data.all));
  }
}

TEST(EngineListingTest, EmptySelectionListsNothing) {
  ManyBlocks data;
  // Both ports occur in every block (no block is pruned), never together.
  QuerySpec spec = SpecFor(data.store);
  spec.threads = 3;
  spec.filter = "src port 1025 and dst port 80";
  Collector sink;
  auto result = RunQuery(spec, &sink);
  ASSERT_TRUE(result) << result.error().Message();
  EXPECT_EQ(sink.calls, 0u);
  EXPECT_EQ(result->totals.flows, 0u);
  EXPECT_EQ(result->scan.rows_matched, 0u);
  EXPECT_GT(result->scan.rows_scanned, 0u);
}

TEST(EngineListingTest, LimitAndStopAcrossThreads) {
  ManyBlocks data;
  const Seen want = SeenOf(data.all, Scattered);
  ASSERT_GT(want.size(), 100u);
  QuerySpec spec = SpecFor(data.store);
  spec.threads = 3;
  spec.filter = kScattered;
  spec.limit = 37;
  Collector sink;
  auto result = RunQuery(spec, &sink);
  ASSERT_TRUE(result) << result.error().Message();
  EXPECT_EQ(sink.seen, Seen(want.begin(), want.begin() + 37));
  EXPECT_EQ(result->totals.flows, [&] {
    std::uint64_t flows = 0;
    std::size_t taken = 0;
    for (const TestFlow& f : data.all) {
      if (Scattered(f) && taken < 37) {
        flows += f.flows;
        ++taken;
      }
    }
    return flows;
  }());

  // Each item keeps at most the limit's rows (ReadSelected's max_kept): the first ones
  // still come out, for limits under and over what a block holds.
  for (const std::size_t limit : {std::size_t{1}, want.size() / 2, want.size() - 1}) {
    spec.limit = limit;
    Collector first;
    auto limited = RunQuery(spec, &first);
    ASSERT_TRUE(limited) << limited.error().Message();
    EXPECT_EQ(first.seen, Seen(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(limit)))
        << limit;
  }

  spec.limit = 0;
  Collector stopper(2);
  auto stopped = RunQuery(spec, &stopper);
  ASSERT_TRUE(stopped) << stopped.error().Message();
  EXPECT_EQ(stopper.calls, 2u);
  EXPECT_EQ(stopper.seen, Seen(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(stopper.seen.size())));
}

TEST(EngineListingTest, WindowAndFilterCutBlocks) {
  ManyBlocks data;
  const std::int64_t from = kHour + 123 * 1000;
  const std::int64_t to = kHour + 1456 * 1000;
  for (const std::size_t threads : {1u, 3u}) {
    QuerySpec spec = SpecFor(data.store);
    spec.threads = threads;
    spec.filter = kScattered;
    spec.window = query::TimeWindow{from, to};
    Collector sink;
    auto result = RunQuery(spec, &sink);
    ASSERT_TRUE(result) << result.error().Message();
    EXPECT_EQ(sink.seen, SeenOf(data.all, [&](const TestFlow& f) {
                return Scattered(f) && f.first >= from && f.last <= to;
              }));
  }
}

TEST(EngineListingTest, OrderedListingKeepsScanOrderForTies) {
  ManyBlocks data;
  std::vector<TestFlow> want;
  for (const TestFlow& f : data.all) {
    if (Scattered(f)) {
      want.push_back(f);
    }
  }
  std::stable_sort(want.begin(), want.end(),
                   [](const TestFlow& a, const TestFlow& b) { return a.packets > b.packets; });
  want.resize(50);
  for (const std::size_t threads : {1u, 3u}) {
    QuerySpec spec = SpecFor(data.store);
    spec.threads = threads;
    spec.filter = kScattered;
    spec.order = query::OrderBy::kPackets;
    spec.limit = 50;
    Collector sink;
    auto result = RunQuery(spec, &sink);
    ASSERT_TRUE(result) << result.error().Message();
    EXPECT_EQ(sink.seen, SeenOf(want, [](const TestFlow&) { return true; }));
  }
}

TEST(EngineListingTest, StatisticOverAScatteredSelection) {
  ManyBlocks data;
  std::vector<TestFlow> matching;
  for (const TestFlow& f : data.all) {
    if (Scattered(f)) {
      matching.push_back(f);
    }
  }
  const std::vector<query::KeyField> key = {{flow::FieldId::kSrcAddr}};
  for (const std::size_t threads : {1u, 3u}) {
    QuerySpec spec = SpecFor(data.store);
    spec.threads = threads;
    spec.filter = kScattered;
    spec.stats.push_back({"srcip", key, {}, false, query::OrderBy::kBytes});
    spec.top_n = 0;
    auto result = RunQuery(spec, nullptr);
    ASSERT_TRUE(result) << result.error().Message();
    ASSERT_EQ(result->stats.size(), 1u);
    ExpectRows(Top(Group(matching, key), query::OrderBy::kBytes, 0), result->stats[0].rows);
    EXPECT_TRUE(result->totals == Totals(matching));
  }
}

}  // namespace
}  // namespace sluice::test
