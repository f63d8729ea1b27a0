// SPDX-License-Identifier: Apache-2.0
// PartitionedGroups: the groups of one key (a statistic, or the -A aggregation) as kept by
// one scan thread, split by hash into kPartitions GroupTables, each in two forms: keys
// whose addresses are all IPv4 in KeyCodec's compact form (a 5-tuple in 2 words instead
// of 7), the others in full. Internal to query/.
//
// Why: a high-cardinality key (the 5-tuple: about one group per flow) is held by every
// scan thread; merging whole tables needed the merged table and both inputs at once, and
// growing one by doubling needed old and new. Split, the threads' tables are merged one
// partition at a time (MergePartition(), freeing the source's partition at once, and on
// every core: a group lies in the same partition in every thread), a table grows only
// 1/kPartitions of the groups at a time, and the top N is taken per partition and then
// over those candidates, which gives exactly the top N of all groups (the order is total:
// ties are broken by the key).
//
// A key of at most 16 bits (ports, protocol, ToS...) needs no hash table at all: its
// groups are an array indexed by the value (in partition 0; the others stay empty).
//
// Shared tables: several scan threads may fill one set of tables instead of one each (the
// second constructor), each thread through its own object, a partition's tables under that
// partition's lock. For a key with about one group per row (the 5-tuple) the threads'
// tables would hold as many groups together as the shared ones, and merging them would
// build all of them a second time: shared, the memory touched is half (on this kind of
// guest, touching fresh memory was half of such a query's time) and there is no merge.
//
// Ownership: owns its tables (with the objects sharing them), reserved in the
// MemoryBudget. Thread-safety: none, except that objects sharing tables may be used from
// different threads at once; distinct partitions of different objects may be merged from
// different threads at once.

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "flow/flow_batch.h"
#include "query/group_table.h"
#include "query/query_result.h"
#include "query/query_spec.h"

namespace sluice::query::internal {

class PartitionedGroups {
 public:
  static constexpr std::size_t kPartitions = 16;
  // Below this many groups everything stays in partition 0 (no scatter per row); past it
  // the groups are spread over every partition, for the memory's sake. (On 10 M flows,
  // 2^18 made -s srcip, 242 k groups, 10 % faster but the 5-tuple's peak RSS 1.5 GiB
  // instead of 1.1 GiB.)
  static constexpr std::size_t kSpreadAbove = std::size_t{1} << 16;

  // `codec` must outlive this object. The tables keep their times as `times` says.
  PartitionedGroups(const KeyCodec& codec, MemoryBudget* budget, TimeCoding times = {});
  // Fills the tables of `owner` (same codec and budget) from another thread, unless the
  // key is a small domain (then it has its own array, as the first constructor makes).
  // Call before any rows are added to `owner`; `owner` then also locks its partitions.
  explicit PartitionedGroups(PartitionedGroups& owner);
  ~PartitionedGroups();
  PartitionedGroups(const PartitionedGroups&) = delete;
  PartitionedGroups& operator=(const PartitionedGroups&) = delete;

  // Adds rows rows[0..count) of `batch` under the full keys at keys + i * codec.words().
  // False once the memory budget is exhausted.
  bool AddRows(const std::uint64_t* keys, const flow::FlowBatch& batch,
               const std::uint32_t* rows, std::size_t count);

  // Adds aggs[picks[i]] under the full key at keys + i * codec.words(), for each i <
  // count (a block's sums per distinct key, summed before). False once the memory budget
  // is exhausted.
  bool AddAggregates(const std::uint64_t* keys, const Aggregate* aggs, const std::uint32_t* picks,
                     std::size_t count);

  // Adds partition `partition` of `other` (same codec) to this one's and frees it there.
  // False when the memory budget is exhausted. REQUIRES: both spread() or neither.
  bool MergePartition(PartitionedGroups& other, std::size_t partition);

  // Whether the groups are spread over the partitions; MakeSpread() spreads them (false
  // when the budget is exhausted).
  bool spread() const { return spread_; }
  bool MakeSpread() { return spread_ || Spread(); }

  // The number of groups (in the shared tables, for objects sharing them).
  std::size_t size() const;

  // Whether this object fills another one's tables (the second constructor): its groups
  // are that one's, and it has nothing of its own to merge.
  bool shares_tables() const { return shares_; }
  // Whether other objects fill the same tables (either constructor).
  bool shared() const { return locks_ != nullptr; }

  // The most a group of either form costs once its table is sized for it (0 for the
  // small-domain array).
  std::size_t bytes_per_group() const;

  // A hint that the groups will number about `groups` in all: each partition's table is
  // given room for its share (in proportion to what it holds now) at once. Only once
  // spread; a table the budget cannot enlarge is left to grow as it fills.
  void Presize(std::size_t groups);

  // The first `n` groups in `order` (all, if n is 0) of partition `partition`: full key
  // words and aggregate of each, in order.
  struct Candidate {
    std::vector<std::uint64_t> key;
    Aggregate aggregate;
  };
  std::vector<Candidate> TopOfPartition(std::size_t partition, OrderBy order, std::size_t n) const;

 private:
  struct Form {
    std::shared_ptr<GroupTable> table;  // shared with the objects sharing tables
    std::vector<std::uint64_t> keys;  // AddRows() scratch: the keys of this partition's rows
    std::vector<std::uint32_t> rows;
    std::size_t count = 0;
  };

  // Adds the rows gathered in each form to its table (AddRows(), or AddAggregates() with
  // `aggs`), a partition at a time under its lock when tables are shared.
  bool AddGathered(const flow::FlowBatch* batch, const Aggregate* aggs);
  bool AddGatheredOf(std::size_t partition, const flow::FlowBatch* batch, const Aggregate* aggs);

  // Adds rows to partition 0 only (while !spread_).
  bool AddRowsUnspread(const std::uint64_t* keys, const flow::FlowBatch& batch,
                       const std::uint32_t* rows, std::size_t count);
  // Moves the groups of partition 0 to their partitions.
  bool Spread();
  bool AddTo(std::array<Form, kPartitions>& forms, const std::uint64_t* key, std::size_t words,
             const Aggregate& agg);

  // The small-domain form (dense_size_ > 0): sums and whether each value was seen.
  bool ReserveDense();
  bool AddRowsDense(const std::uint64_t* keys, const flow::FlowBatch& batch,
                    const std::uint32_t* rows, std::size_t count);

  const KeyCodec* codec_;
  MemoryBudget* budget_;
  std::size_t dense_size_ = 0;
  std::size_t dense_reserved_ = 0;  // bytes reserved in budget_ (0: not yet, or failed)
  bool dense_failed_ = false;
  std::vector<Aggregate> dense_sums_;
  std::vector<std::uint8_t> dense_used_;
  // The compact form is used when it saves at least a third of a group's words.
  bool narrow_ = false;
  bool spread_ = false;
  std::array<Form, kPartitions> narrow_forms_;
  std::array<Form, kPartitions> wide_forms_;
  std::vector<std::uint64_t> narrow_key_;  // one compact key
  // The partitions' locks, when tables are shared (null otherwise).
  std::shared_ptr<std::array<std::mutex, kPartitions>> locks_;
  bool shares_ = false;
};

// The first `n` (all if 0) of the candidates of every partition, in `order` with ties
// broken by the full key ascending, as GroupRows.
std::vector<GroupRow> TopRows(std::vector<PartitionedGroups::Candidate> candidates,
                              const KeyCodec& codec, OrderBy order, std::size_t n);

}  // namespace sluice::query::internal
