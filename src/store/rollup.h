// SPDX-License-Identifier: Apache-2.0
// Roll-ups: detail rows grouped by a key, with bytes, packets and flows summed.
//   - Hourly roll-ups group the detail rows of one hour by their whole traffic key
//     (kRollupKeyFields).
//   - Summaries group the rows of one detail segment by a narrow key (kSummaryShapes):
//     the minute summary by exporter and protocol (and a few more) per minute of `first`,
//     a few rows per minute, so that graphs and protocol or exporter breakdowns over any
//     range read almost nothing; the others by source address, destination address, or
//     destination port, for the top lists.
// Internal to store/; store::Maintainer (maintenance.h) decides what to roll up and
// publishes the files.

#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "flow/field.h"
#include "flow/flow_batch.h"
#include "store/layout.h"
#include "store/segment_writer.h"

namespace sluice::store {

// The group key of a roll-up row: exporter, obs_domain, in_if, out_if, src_addr, dst_addr,
// src_port, dst_port, proto, tos, src_as, dst_as, src_mask, dst_mask, next_hop, direction,
// src_country, dst_country and sampling_rate.
inline constexpr std::array kRollupKeyFields = {
    flow::FieldId::kExporter,     flow::FieldId::kObsDomain,  flow::FieldId::kInIf,
    flow::FieldId::kOutIf,        flow::FieldId::kSrcAddr,    flow::FieldId::kDstAddr,
    flow::FieldId::kSrcPort,      flow::FieldId::kDstPort,    flow::FieldId::kProto,
    flow::FieldId::kTos,          flow::FieldId::kSrcAs,      flow::FieldId::kDstAs,
    flow::FieldId::kSrcMask,      flow::FieldId::kDstMask,    flow::FieldId::kNextHop,
    flow::FieldId::kDirection,    flow::FieldId::kSrcCountry, flow::FieldId::kDstCountry,
    flow::FieldId::kSamplingRate,
};

// The key of the minute summaries: exporter, obs_domain, proto, direction and
// sampling_rate (and the minute of `first`).
inline constexpr std::array kMinuteKeyFields = {
    flow::FieldId::kExporter, flow::FieldId::kObsDomain,    flow::FieldId::kProto,
    flow::FieldId::kDirection, flow::FieldId::kSamplingRate,
};

// The order of a roll-up's rows in its file.
enum class RowOrder : std::uint8_t {
  kAny,  // as the hash table holds them
  // The rows of most bytes first, kTopHeadBlocks blocks of them (bytes descending), then
  // the others by the shape's last key field (an address: 16 network-order bytes) and the
  // rest of the key, ascending; blocks of kTopListBlockRows rows. A top list by bytes reads the head
  // and bounds what the rest can add from the blocks' statistics; a lookup of a few
  // addresses reads only the blocks whose address ranges hold them
  // (query/top_by_threshold.h).
  kHeadByBytesThenKey,
  // By the shape's last key field (a port: numerically), then the rest of the key, in
  // blocks of kTopListBlockRows rows: a filter on that field reads only the blocks whose
  // range of it holds the values asked for (the ports page's well-known ports, say, among
  // tens of thousands of ephemeral ones).
  kByLastKeyField,
};

inline constexpr std::size_t kTopHeadBlocks = 2;
inline constexpr std::uint32_t kTopListBlockRows = 8192;

// What a roll-up groups by: `key` (a subset of kRollupKeyFields; the other key columns
// are written as 0) and, when first_bucket_ms > 0, the bucket of `first` (floor(first /
// first_bucket_ms)), so that every flow of a row starts in the same bucket.
struct RollupShape {
  std::span<const flow::FieldId> key;
  UnixMillis first_bucket_ms = 0;
  RowOrder order = RowOrder::kAny;
};

// The writer options of a roll-up of `shape`: `options`, with the block size and the
// clustering its row order asks for.
SegmentWriterOptions RollupWriterOptions(const RollupShape& shape, SegmentWriterOptions options);

inline constexpr RollupShape kHourlyShape{kRollupKeyFields, 0};
inline constexpr RollupShape kMinuteShape{kMinuteKeyFields, kMillisPerMinute};

inline constexpr std::array kSrcKeyFields = {flow::FieldId::kExporter, flow::FieldId::kSrcAddr};
inline constexpr std::array kDstKeyFields = {flow::FieldId::kExporter, flow::FieldId::kDstAddr};
inline constexpr std::array kPortKeyFields = {flow::FieldId::kExporter, flow::FieldId::kProto,
                                              flow::FieldId::kDstPort};
inline constexpr std::array kSrcPortKeyFields = {flow::FieldId::kExporter, flow::FieldId::kProto,
                                                 flow::FieldId::kSrcPort};

// The summaries of a detail segment, in the order of kSummaryDirs (store/layout.h):
// minute; src and dst (a row per address and exporter over the segment); port (per
// exporter, protocol, destination port and minute of `first`, for ports over time);
// port-slot (the same over the whole segment: far fewer rows when flows start over a
// long time or ephemeral destination ports abound, for top-port lists); src-port-slot (per
// exporter, protocol and source port over the segment, for source-port lists: mostly
// ephemeral ports, so at most 65536 rows per exporter and protocol).
inline constexpr std::array<RollupShape, kSummaryDirs.size()> kSummaryShapes = {
    kMinuteShape,
    RollupShape{kSrcKeyFields, 0, RowOrder::kHeadByBytesThenKey},
    RollupShape{kDstKeyFields, 0, RowOrder::kHeadByBytesThenKey},
    RollupShape{kPortKeyFields, kMillisPerMinute, RowOrder::kByLastKeyField},
    RollupShape{kPortKeyFields, 0},
    RollupShape{kSrcPortKeyFields, 0},
};
inline constexpr std::size_t kMinuteSummary = 0;
// The order in which a query tries the summaries that could answer it (fewest rows
// first, on typical traffic): a segment is read from the first whose file is usable for
// the query's window, else as detail.
inline constexpr std::array<std::size_t, kSummaryShapes.size()> kSummaryPreference = {
    0, 1, 2, 4, 3, 5};
// The summaries that are also merged per hour (kHourSummary files): those keyed by
// address or port over a whole slot, whose rows repeat from slot to slot (a day's top
// talkers then read 24 files instead of 288). The minute summaries are small already,
// and the port summary keeps the minute, so an hour's merge would hardly shrink it.
inline constexpr std::array<std::size_t, 4> kHourSummaries = {1, 2, 4, 5};
// Every column a roll-up of `shape` reads from a detail segment: its key, the summed
// counters (bytes, packets, flows) and the flow times (first, last).
std::vector<flow::FieldId> RollupInputFields(const RollupShape& shape);

// A hash table of roll-up groups with a fixed-size packed key (no allocation per row;
// the table grows by doubling). Values: bytes, packets and flows summed (saturating at
// 2^64-1), first = the smallest non-zero `first`, last = the largest `last`.
//
// Memory: about 170 bytes per group; the caller bounds the groups with `max_groups`.
// Thread-safety: none.
class RollupTable {
 public:
  // REQUIRES: shape.key is a subset of kRollupKeyFields. `head_rows`: the rows of most
  // bytes that RowOrder::kHeadByBytesThenKey puts first.
  RollupTable(std::size_t max_groups, const RollupShape& shape,
              std::size_t head_rows = kTopHeadBlocks * kTopListBlockRows);

  RollupTable(const RollupTable&) = delete;
  RollupTable& operator=(const RollupTable&) = delete;

  // Adds rows [begin, batch.size()) of `batch`, stopping at the first row that would
  // need a new group while the table holds max_groups groups. Returns the index of the
  // first row not added (batch.size() once all are).
  std::size_t Add(const flow::FlowBatch& batch, std::size_t begin);

  // Groups held.
  std::size_t size() const { return group_count_; }

  bool full() const { return group_count_ >= max_groups_; }

  // Appends one row per group to `writer`, in the shape's RowOrder, with time_received =
  // `hour_start`, and empties the table. Every other column of the rows is 0.
  Status DrainTo(UnixMillis hour_start, SegmentWriter& writer);

  // The same, and the table keeps its groups.
  Status WriteTo(UnixMillis hour_start, SegmentWriter& writer);

  // Filters for building a roll-up in key ranges (BuildRollup):
  //   - frozen: a row whose key the table does not hold is skipped (Add never stops);
  //   - a range [lo, hi) of keys, in the order of RowOrder's tail (the last key field,
  //     then the rest of the key): rows outside it are skipped;
  //   - `other`: rows whose key `other` holds are skipped. REQUIRES: the same shape.
  void Freeze() { frozen_ = true; }
  void SkipKeysOf(const RollupTable* other) { skip_ = other; }
  // Sets the range to [hi, none): the next range after the current one.
  void NextRange();
  // Whether the current range has an upper end (ShrinkToLowerHalf set one).
  bool range_bounded() const { return has_hi_; }
  // Keeps the lower half of the groups by key and makes the range end at the smallest
  // key dropped. REQUIRES: at least 2 groups.
  void ShrinkToLowerHalf();
  // Keeps the `count` groups of most bytes.
  void KeepMostBytes(std::size_t count);
  // Sets every group's counters and times to 0, keeping the keys.
  void ResetCounters();

 private:
  // 101 bytes of key fields, zero-padded to 13 words, then the bucket of `first`.
  static constexpr std::size_t kKeyWords = 14;
  using Key = std::array<std::uint64_t, kKeyWords>;

  struct Group {
    Key key;
    std::uint64_t bytes;
    std::uint64_t packets;
    std::uint64_t flows;
    std::int64_t first;
    std::int64_t last;
  };

  // Slots hold a group index in 32 bits.
  static constexpr std::size_t kMaxGroups = std::size_t{1} << 31;

  // Groups live in chunks that never move, so growing never copies them (no peak of twice
  // the memory, as a doubling vector would have).
  static constexpr std::size_t kChunkShift = 16;
  static constexpr std::size_t kChunkGroups = std::size_t{1} << kChunkShift;

  // Hash and equality over the key's active words (the others are 0 in every key).
  std::uint64_t Hash(const Key& key) const;
  bool SameKey(const Key& a, const Key& b) const;
  // The order of the tail of RowOrder::kHeadByBytesThenKey and of kByLastKeyField.
  bool KeyLess(const Key& a, const Key& b) const;
  // The slot that holds `key`, or the empty slot where it would go.
  std::size_t Probe(const Key& key, std::uint64_t hash) const;
  // The group holding `key`, or nullptr.
  const Group* Find(const Key& key, std::uint64_t hash) const;
  // 0, 1, ..., size() - 1.
  std::vector<std::uint32_t> GroupIndexes() const;
  // Keeps the groups `kept` (indexes, in any order) and drops the others.
  void KeepOnly(std::vector<std::uint32_t> kept);

  Group& At(std::size_t group_idx) {
    return chunks_[group_idx >> kChunkShift][group_idx & (kChunkGroups - 1)];
  }
  const Group& At(std::size_t group_idx) const {
    return chunks_[group_idx >> kChunkShift][group_idx & (kChunkGroups - 1)];
  }

  void Grow();

  // The groups' indexes in the order DrainTo() writes them.
  std::vector<std::uint32_t> DrainOrder();

  std::size_t max_groups_;
  Key key_mask_{};  // the bytes of the shape's key fields
  std::array<std::uint8_t, kKeyWords> active_{};  // the words that can be non-zero
  std::size_t active_count_ = 0;
  UnixMillis first_bucket_ms_ = 0;
  RowOrder order_ = RowOrder::kAny;
  // Where the last key field lies in the packed key, and its width (16: an address,
  // compared as bytes; else a little-endian integer).
  std::size_t order_field_at_ = 0;
  std::size_t order_field_width_ = 0;
  std::size_t head_rows_ = 0;
  std::vector<std::unique_ptr<Group[]>> chunks_;
  std::size_t group_count_ = 0;
  // Open addressing, linear probing from (hash >> 32) & mask; a slot is 0 (empty) or
  // (hash >> 32) << 32 | (group + 1). At most 2^32 slots (kMaxGroups keeps them fewer).
  std::vector<std::uint64_t> slots_;
  flow::FlowBatch out_;
  bool frozen_ = false;
  const RollupTable* skip_ = nullptr;
  bool has_lo_ = false;
  bool has_hi_ = false;
  Key lo_{};
  Key hi_{};
};

// What one roll-up needs.
struct RollupSpec {
  std::string path;                   // the file to write, in place
  RollupShape shape = kHourlyShape;
  UnixMillis hour_start = 0;          // time_received of every row (hour or slot start)
  std::vector<std::string> segments;  // the sealed detail segments to roll up
  SegmentWriterOptions writer_options;
  std::size_t max_groups = 1 << 22;  // see RollupTable
  const std::atomic<bool>* stop = nullptr;  // checked between blocks: error if set
};

struct RollupResult {
  std::uint64_t input_rows = 0;  // detail rows aggregated
  std::uint64_t rows = 0;        // roll-up rows written
  std::uint64_t segments_read = 0;
  // One per detail segment left out because its data is damaged (kCorruption,
  // kUnsupported): the roll-up holds none of its rows.
  std::vector<Error> skipped;
};

// The summaries of one detail segment, built in one read of it.
struct SummarySpec {
  std::string segment;                // the sealed detail segment
  UnixMillis slot_start = 0;          // time_received of every row
  std::vector<std::size_t> summaries;  // indexes into kSummaryShapes
  std::vector<std::string> paths;     // the file of each, written in place
  SegmentWriterOptions writer_options;
  std::size_t max_groups = 1 << 22;  // per summary, see RollupTable
  const std::atomic<bool>* stop = nullptr;  // checked between blocks: error if set
};

struct SummaryResult {
  std::uint64_t input_rows = 0;
  std::vector<std::uint64_t> rows;  // per summary
  // Set if the segment's data is damaged (kCorruption, kUnsupported, kMalformed): the
  // files then hold only part of it and must not be published.
  std::optional<Error> damaged;
};

// Reads spec.segment once and writes each summary of spec.summaries to its path
// (finished). Any other error (writing, or a file that cannot be read) fails the whole;
// the caller removes the files.
Result<SummaryResult> BuildSummaries(const SummarySpec& spec);

// Reads every segment of `spec` (detail segments, or the summaries of one shape for an
// hour summary: their flows column is summed like any detail row's) and writes the roll-up to spec.path (finished). A damaged
// detail segment is left out whole and listed in `skipped` (if it failed half-way, the
// roll-up starts over without it). Any other error (writing, or reading a file that
// vanished or cannot be read) fails the roll-up; spec.path then holds no usable file and
// the caller removes it.
Result<RollupResult> BuildRollup(const RollupSpec& spec);

}  // namespace sluice::store
