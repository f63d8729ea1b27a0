// SPDX-License-Identifier: Apache-2.0
// PartitionedGroups: compact and full keys, spreading over the partitions, merging one
// partition at a time, and the exact top N over the partitions' candidates.

#include "query/partitioned_groups.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "flow/flow_batch.h"
#include "query/group_table.h"

namespace sluice::query::internal {
namespace {

using flow::FieldId;

flow::IpAddress V6(std::uint64_t n) {
  flow::IpAddress a;
  a.bytes[0] = 0x20;
  a.bytes[1] = 0x01;
  for (int byte = 0; byte < 8; ++byte) {
    a.bytes[8 + byte] = static_cast<std::uint8_t>(n >> (56 - 8 * byte));
  }
  return a;
}

// Adds flows [from, to) (source address and port from n; bytes with many ties) to
// `groups`, batch by batch, and to the reference.
void AddFlows(PartitionedGroups& groups, const KeyCodec& codec, std::uint64_t from, std::uint64_t to,
              std::map<std::vector<std::uint64_t>, Aggregate>& reference) {
  flow::FlowBatch batch;
  std::vector<std::uint32_t> rows(flow::FlowBatch::kCapacity);
  std::vector<std::uint64_t> keys(flow::FlowBatch::kCapacity * codec.words());
  auto flush = [&] {
    for (std::uint32_t row = 0; row < batch.size(); ++row) {
      rows[row] = row;
    }
    codec.Encode(batch, rows.data(), batch.size(), keys.data(), codec.words(), 0);
    for (std::size_t row = 0; row < batch.size(); ++row) {
      const std::uint64_t* key = keys.data() + row * codec.words();
      Aggregate& ref = reference[std::vector<std::uint64_t>(key, key + codec.words())];
      ref.flows += batch.cols().flows[row];
      ref.packets += batch.cols().packets[row];
      ref.bytes += batch.cols().bytes[row];
      AddTimes(ref, batch.cols().first[row], batch.cols().last[row]);
    }
    ASSERT_TRUE(groups.AddRows(keys.data(), batch, rows.data(), batch.size()));
    batch.Clear();
  };
  for (std::uint64_t n = from; n < to; ++n) {
    const std::size_t row = batch.AppendRow();
    flow::FlowColumns& c = batch.cols();
    c.src_addr[row] = n % 4 == 3 ? V6(n % 1000) : flow::IpAddress::FromV4(0x0a000000u + static_cast<std::uint32_t>(n % 3000));
    c.dst_addr[row] = flow::IpAddress::FromV4(0xc0a80001u);
    c.src_port[row] = static_cast<std::uint16_t>(n % 5);
    c.dst_port[row] = 443;
    c.proto[row] = 6;
    c.bytes[row] = 100 * (n % 4);
    c.packets[row] = 1;
    c.flows[row] = 1;
    c.first[row] = 1000 + static_cast<std::int64_t>(n);
    c.last[row] = 2000 + static_cast<std::int64_t>(n);
    if (batch.full()) {
      flush();
    }
  }
  if (!batch.empty()) {
    flush();
  }
}

std::vector<GroupRow> Merged(std::vector<PartitionedGroups*> parts, const KeyCodec& codec, OrderBy order,
                             std::size_t n) {
  std::vector<PartitionedGroups::Candidate> candidates;
  for (std::size_t partition = 0; partition < PartitionedGroups::kPartitions; ++partition) {
    for (std::size_t idx = 1; idx < parts.size(); ++idx) {
      EXPECT_TRUE(parts[0]->MergePartition(*parts[idx], partition));
    }
    auto top = parts[0]->TopOfPartition(partition, order, n);
    candidates.insert(candidates.end(), top.begin(), top.end());
  }
  return TopRows(std::move(candidates), codec, order, n);
}

void ExpectTop(const std::map<std::vector<std::uint64_t>, Aggregate>& reference, const KeyCodec& codec,
               OrderBy order, std::size_t n, const std::vector<GroupRow>& got) {
  std::vector<std::pair<std::vector<std::uint64_t>, Aggregate>> want(reference.begin(), reference.end());
  std::stable_sort(want.begin(), want.end(), [&](const auto& a, const auto& b) {
    return CompareAggregates(a.second, b.second, order) < 0;
  });
  if (n > 0 && want.size() > n) {
    want.resize(n);
  }
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t idx = 0; idx < want.size(); ++idx) {
    EXPECT_TRUE(got[idx].key == codec.Decode(want[idx].first.data())) << "row " << idx;
    EXPECT_EQ(got[idx].counters.bytes, want[idx].second.bytes) << "row " << idx;
    EXPECT_EQ(got[idx].counters.flows, want[idx].second.flows) << "row " << idx;
    EXPECT_EQ(got[idx].counters.first_ms, want[idx].second.first) << "row " << idx;
  }
}

KeyCodec FiveTuple() {
  return *KeyCodec::Make(std::vector<KeyField>{{FieldId::kSrcAddr}, {FieldId::kDstAddr}, {FieldId::kSrcPort},
                                               {FieldId::kDstPort}, {FieldId::kProto}});
}

TEST(PartitionedGroupsTest, SpreadAndUnspreadMergeToTheExactTopN) {
  const KeyCodec codec = FiveTuple();
  MemoryBudget budget(std::size_t{1} << 30);
  for (const std::size_t n : {0u, 1u, 10u, 333u}) {
    PartitionedGroups a(codec, &budget);
    PartitionedGroups b(codec, &budget);
    PartitionedGroups c(codec, &budget);
    std::map<std::vector<std::uint64_t>, Aggregate> reference;
    AddFlows(a, codec, 0, 9000, reference);
    AddFlows(b, codec, 5000, 14000, reference);  // overlapping keys
    AddFlows(c, codec, 14000, 14010, reference);
    ASSERT_TRUE(a.MakeSpread());  // as past kSpreadAbove; b and c follow before merging
    EXPECT_TRUE(a.spread());
    EXPECT_FALSE(b.spread());
    ASSERT_TRUE(b.MakeSpread());
    ASSERT_TRUE(c.MakeSpread());
    AddFlows(b, codec, 14010, 15000, reference);  // rows added once spread
    SCOPED_TRACE("top " + std::to_string(n));
    const std::vector<GroupRow> got = Merged({&a, &b, &c}, codec, OrderBy::kBytes, n);
    EXPECT_EQ(a.size(), reference.size());
    ExpectTop(reference, codec, OrderBy::kBytes, n, got);
  }
}

// Objects sharing tables, filled from threads at once (overlapping keys, so that both
// threads add to the same groups): one set of groups, exact, and nothing left to merge.
TEST(PartitionedGroupsTest, TablesSharedByThreadsHoldEveryGroupOnce) {
  const KeyCodec codec = FiveTuple();
  MemoryBudget budget(std::size_t{1} << 30);
  PartitionedGroups owner(codec, &budget);
  PartitionedGroups second(owner);
  PartitionedGroups third(owner);
  EXPECT_FALSE(owner.shares_tables());
  EXPECT_TRUE(second.shares_tables());
  EXPECT_TRUE(owner.spread());
  std::array<std::map<std::vector<std::uint64_t>, Aggregate>, 3> references;
  {
    std::thread a([&] { AddFlows(owner, codec, 0, 90'000, references[0]); });
    std::thread b([&] { AddFlows(second, codec, 40'000, 130'000, references[1]); });
    std::thread c([&] { AddFlows(third, codec, 0, 30'000, references[2]); owner.Presize(200'000); });
    a.join();
    b.join();
    c.join();
  }
  std::map<std::vector<std::uint64_t>, Aggregate> reference;
  for (const auto& part : references) {
    for (const auto& [key, agg] : part) {
      MergeInto(reference[key], agg);
    }
  }
  EXPECT_EQ(owner.size(), reference.size());
  EXPECT_EQ(second.size(), reference.size());
  for (const std::size_t n : {0u, 10u}) {
    ExpectTop(reference, codec, OrderBy::kBytes, n, Merged({&owner, &second, &third}, codec, OrderBy::kBytes, n));
  }
}

// Small-domain keys keep an array per object, shared or not, and merge as usual.
TEST(PartitionedGroupsTest, SmallDomainKeysAreNeverShared) {
  const KeyCodec codec = *KeyCodec::Make(std::vector<KeyField>{{FieldId::kSrcPort}});
  MemoryBudget budget(std::size_t{1} << 30);
  PartitionedGroups owner(codec, &budget);
  PartitionedGroups second(owner);
  EXPECT_FALSE(second.shares_tables());
  std::map<std::vector<std::uint64_t>, Aggregate> reference;
  AddFlows(owner, codec, 0, 1000, reference);
  AddFlows(second, codec, 500, 2000, reference);
  ExpectTop(reference, codec, OrderBy::kBytes, 0, Merged({&owner, &second}, codec, OrderBy::kBytes, 0));
}

// Presize() is a hint: room made at once (or refused by a tight budget) changes no
// answer, and the budget still bounds what the tables hold.
TEST(PartitionedGroupsTest, PresizedTablesGiveTheSameGroups) {
  const KeyCodec codec = FiveTuple();
  for (const std::size_t limit : {std::size_t{1} << 30, std::size_t{4} << 20}) {
    MemoryBudget budget(limit);
    PartitionedGroups a(codec, &budget);
    PartitionedGroups b(codec, &budget);
    std::map<std::vector<std::uint64_t>, Aggregate> reference;
    AddFlows(a, codec, 0, 6000, reference);
    a.Presize(100000);  // not spread yet: nothing to do
    ASSERT_TRUE(a.MakeSpread());
    const std::size_t before = budget.used();
    a.Presize(limit > (std::size_t{64} << 20) ? 200000 : 10'000'000);
    if (limit > (std::size_t{64} << 20)) {
      EXPECT_GT(budget.used(), before);  // room for 200 k groups, taken at once
    } else {
      EXPECT_EQ(budget.used(), before);  // beyond the budget: refused, nothing reserved
    }
    AddFlows(a, codec, 6000, 15000, reference);
    AddFlows(b, codec, 3000, 9000, reference);
    ASSERT_TRUE(b.MakeSpread());
    SCOPED_TRACE("budget " + std::to_string(limit));
    const std::vector<GroupRow> got = Merged({&a, &b}, codec, OrderBy::kBytes, 0);
    EXPECT_EQ(a.size(), reference.size());
    ExpectTop(reference, codec, OrderBy::kBytes, 0, got);
  }
}

TEST(PartitionedGroupsTest, UnspreadTablesMergeInPartitionZero) {
  const KeyCodec codec = FiveTuple();
  MemoryBudget budget(std::size_t{1} << 30);
  PartitionedGroups a(codec, &budget);
  PartitionedGroups b(codec, &budget);
  std::map<std::vector<std::uint64_t>, Aggregate> reference;
  AddFlows(a, codec, 0, 3000, reference);
  AddFlows(b, codec, 1000, 4000, reference);
  const std::vector<GroupRow> got = Merged({&a, &b}, codec, OrderBy::kTstart, 0);
  ExpectTop(reference, codec, OrderBy::kTstart, 0, got);
}

TEST(PartitionedGroupsTest, SmallDomainKeysUseAnArray) {
  const KeyCodec codec = *KeyCodec::Make(std::vector<KeyField>{{FieldId::kSrcPort}});
  EXPECT_EQ(codec.small_domain(), 65536u);
  MemoryBudget budget(std::size_t{1} << 30);
  for (const std::size_t n : {0u, 2u}) {
    PartitionedGroups a(codec, &budget);
    PartitionedGroups b(codec, &budget);
    PartitionedGroups empty(codec, &budget);
    std::map<std::vector<std::uint64_t>, Aggregate> reference;
    AddFlows(a, codec, 0, 3000, reference);
    AddFlows(b, codec, 2000, 6001, reference);
    EXPECT_GT(budget.used(), 0u);
    ASSERT_TRUE(a.MakeSpread());  // no partitions to spread: a no-op
    const std::vector<GroupRow> got = Merged({&a, &b, &empty}, codec, OrderBy::kBytes, n);
    EXPECT_EQ(a.size(), reference.size());
    ExpectTop(reference, codec, OrderBy::kBytes, n, got);
  }
  EXPECT_EQ(budget.used(), 0u);  // every array released
  MemoryBudget small(1024);
  PartitionedGroups refused(codec, &small);
  std::map<std::vector<std::uint64_t>, Aggregate> reference;
  flow::FlowBatch batch;
  batch.AppendRow();
  const std::uint32_t rows[1] = {0};
  const std::uint64_t key = 7;
  EXPECT_FALSE(refused.AddRows(&key, batch, rows, 1));
}

TEST(PartitionedGroupsTest, BudgetExhaustedIsReported) {
  const KeyCodec codec = FiveTuple();
  MemoryBudget budget(64 * 1024);
  PartitionedGroups a(codec, &budget);
  flow::FlowBatch batch;
  std::vector<std::uint32_t> rows(flow::FlowBatch::kCapacity);
  std::vector<std::uint64_t> keys(flow::FlowBatch::kCapacity * codec.words());
  bool ok = true;
  for (std::uint64_t n = 0; n < 20000 && ok; ++n) {
    const std::size_t row = batch.AppendRow();
    batch.cols().src_addr[row] = flow::IpAddress::FromV4(static_cast<std::uint32_t>(n));
    batch.cols().flows[row] = 1;
    rows[row] = static_cast<std::uint32_t>(row);
    if (batch.full() || n + 1 == 20000) {
      codec.Encode(batch, rows.data(), batch.size(), keys.data(), codec.words(), 0);
      ok = a.AddRows(keys.data(), batch, rows.data(), batch.size());
      batch.Clear();
    }
  }
  EXPECT_FALSE(ok);
  EXPECT_LE(budget.used(), budget.limit());
}

}  // namespace
}  // namespace sluice::query::internal
