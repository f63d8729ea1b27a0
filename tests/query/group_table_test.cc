// SPDX-License-Identifier: Apache-2.0
// GroupTable: packed times give the groups a wide table gives, slots of any count find
// every key again after growing, and TimeCoding packs only what fits.

#include "query/group_table.h"

#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "flow/flow_batch.h"

namespace sluice::query::internal {
namespace {

TEST(TimeCodingTest, PacksOnlyARangeOfPositiveTimesThatFits) {
  EXPECT_FALSE(TimeCoding::For(0, 1000).packed);  // a 0 among the times: kept as they are
  EXPECT_FALSE(TimeCoding::For(-5, 1000).packed);
  EXPECT_FALSE(TimeCoding::For(1000, 999).packed);  // empty
  EXPECT_FALSE(TimeCoding::For(1, TimeCoding::kPackedSpan + 1).packed);
  const TimeCoding coding = TimeCoding::For(1, TimeCoding::kPackedSpan);
  ASSERT_TRUE(coding.packed);
  for (const std::int64_t time : {std::int64_t{0}, std::int64_t{1}, std::int64_t{2}, TimeCoding::kPackedSpan}) {
    EXPECT_EQ(coding.Unpack(coding.Pack(time)), time) << time;
    EXPECT_LT(coding.Pack(time), std::uint64_t{1} << 32) << time;
  }
  const TimeCoding day = TimeCoding::For(1764979200000, 1764979200000 + 86'400'000);
  ASSERT_TRUE(day.packed);
  EXPECT_LT(day.Pack(1764979200000 + 5), day.Pack(1764979200000 + 6));  // order kept
  EXPECT_EQ(day.Unpack(day.Pack(1764979200000 + 86'400'000)), 1764979200000 + 86'400'000);
}

// Rows with keys drawn from `distinct` values, times in [base, base + span] or 0.
flow::FlowBatch RandomRows(std::mt19937_64& rng, std::uint64_t distinct, std::int64_t base, std::int64_t span,
                           std::vector<std::uint64_t>& keys) {
  flow::FlowBatch batch;
  keys.clear();
  while (!batch.full()) {
    const std::size_t row = batch.AppendRow();
    flow::FlowColumns& c = batch.cols();
    c.flows[row] = 1 + rng() % 3;
    c.packets[row] = rng() % 1000;
    c.bytes[row] = rng() % 1'000'000;
    const std::int64_t first = rng() % 16 == 0 ? 0 : base + static_cast<std::int64_t>(rng() % (span + 1));
    c.first[row] = first;
    c.last[row] = rng() % 16 == 0 ? 0 : std::max(first, base + static_cast<std::int64_t>(rng() % (span + 1)));
    keys.push_back(rng() % distinct);
    keys.push_back(keys.back() * 0x9e3779b97f4a7c15ULL);
  }
  return batch;
}

TEST(GroupTableTest, PackedTimesGiveTheGroupsOfWideOnes) {
  std::mt19937_64 rng(7);
  const std::int64_t base = 1764979200123;
  const std::int64_t span = 40LL * 86'400'000;  // 40 days of milliseconds
  MemoryBudget budget(std::size_t{1} << 30);
  GroupTable wide(2, &budget);
  GroupTable packed(2, &budget, TimeCoding::For(base, base + span));
  ASSERT_TRUE(packed.times().packed);
  std::vector<std::uint32_t> rows(flow::FlowBatch::kCapacity);
  for (std::uint32_t row = 0; row < rows.size(); ++row) {
    rows[row] = row;
  }
  std::vector<std::uint64_t> keys;
  // 64 k rows, whatever the build's batch capacity (the sanitizer build's is 2).
  const std::size_t rounds = 65536 / flow::FlowBatch::kCapacity;
  for (std::size_t round = 0; round < rounds; ++round) {
    const flow::FlowBatch batch = RandomRows(rng, 5000, base, span, keys);
    ASSERT_TRUE(wide.AddRows(keys.data(), batch, rows.data(), batch.size()));
    ASSERT_TRUE(packed.AddRows(keys.data(), batch, rows.data(), batch.size()));
    // Summed aggregates too (as from roll-ups), first or last 0 among them.
    const auto offset = static_cast<std::int64_t>(round % 1000);
    const Aggregate agg{2, 3, 4, round % 3 == 0 ? 0 : base + offset, round % 5 == 0 ? 0 : base + span - offset};
    ASSERT_TRUE(wide.AddAggregate(keys.data(), agg));
    ASSERT_TRUE(packed.AddAggregate(keys.data(), agg));
  }
  ASSERT_EQ(wide.size(), packed.size());
  ASSERT_GT(wide.size(), 4000u);
  for (std::size_t group = 0; group < wide.size(); ++group) {
    const std::size_t other = packed.Find(wide.key(group));
    ASSERT_NE(other, SIZE_MAX);
    const Aggregate a = wide.aggregate(group);
    const Aggregate b = packed.aggregate(other);
    EXPECT_EQ(a.flows, b.flows);
    EXPECT_EQ(a.packets, b.packets);
    EXPECT_EQ(a.bytes, b.bytes);
    EXPECT_EQ(a.first, b.first) << "group " << group;
    EXPECT_EQ(a.last, b.last) << "group " << group;
  }
  EXPECT_LT(packed.bytes_per_group(), wide.bytes_per_group());
}

TEST(GroupTableTest, EveryKeyIsFoundAfterGrowingAndReserving) {
  MemoryBudget budget(std::size_t{1} << 30);
  for (const std::size_t reserve : {std::size_t{0}, std::size_t{1000}, std::size_t{77777}}) {
    GroupTable table(1, &budget);
    if (reserve > 0) {
      ASSERT_TRUE(table.Reserve(reserve));
    }
    const Aggregate one{1, 1, 1, 5, 6};
    for (std::uint64_t key = 0; key < 100'000; ++key) {
      const std::uint64_t word = key * 7919;
      ASSERT_TRUE(table.AddAggregate(&word, one));
    }
    ASSERT_EQ(table.size(), 100'000u);
    for (std::uint64_t key = 0; key < 100'000; ++key) {
      const std::uint64_t word = key * 7919;
      const std::size_t group = table.Find(&word);
      ASSERT_NE(group, SIZE_MAX) << key;
      EXPECT_EQ(table.key(group)[0], word);
      EXPECT_EQ(table.aggregate(group).flows, 1u);
    }
    const std::uint64_t absent = 3;  // not a multiple of 7919
    EXPECT_EQ(table.Find(&absent), SIZE_MAX);
  }
}

TEST(TableMemoryTest, ZeroedAlignedAndUnchangedByPopulating) {
  for (const std::size_t bytes : {std::size_t{24}, std::size_t{100'000}, std::size_t{5} << 20}) {
    TableArray<std::uint64_t> array(bytes / sizeof(std::uint64_t));
    ASSERT_NE(array.data(), nullptr);
    for (std::size_t idx = 0; idx < array.size(); ++idx) {
      ASSERT_EQ(array[idx], 0u) << idx;
    }
    if (bytes >= (std::size_t{2} << 20)) {
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(array.data()) % (std::size_t{2} << 20), 0u);
    }
    for (std::size_t idx = 0; idx < array.size(); idx += 97) {
      array[idx] = idx * 3 + 1;
    }
    PopulateTableMemory(array.data(), array.size() * sizeof(std::uint64_t));
    for (std::size_t idx = 0; idx < array.size(); ++idx) {
      ASSERT_EQ(array[idx], idx % 97 == 0 ? idx * 3 + 1 : 0u) << idx;
    }
    // The memory outlives the array while a copy is held.
    const std::shared_ptr<void> held = array.memory();
    array = TableArray<std::uint64_t>();
    PopulateTableMemory(held.get(), bytes);
    EXPECT_EQ(static_cast<const std::uint64_t*>(held.get())[0], 1u);
  }
}

}  // namespace
}  // namespace sluice::query::internal
