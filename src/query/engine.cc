// SPDX-License-Identifier: Apache-2.0

#include "query/engine.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "flow/field.h"
#include "flow/flow_batch.h"
#include "flow/flow_sink.h"
#include "query/filter.h"
#include "query/group_table.h"
#include "query/partitioned_groups.h"
#include "query/top_by_threshold.h"
#include "store/address_filter.h"
#include "store/catalog.h"
#include "store/columns.h"
#include "store/format.h"
#include "store/layout.h"
#include "store/rollup.h"
#include "store/segment_reader.h"

namespace sluice::query {
namespace {

using flow::FieldId;
using internal::Aggregate;
using internal::GroupTable;
using internal::KeyCodec;
using internal::MemoryBudget;
using internal::PartitionedGroups;

// A detail segment of slot S holds flows received in [S, S + 60 min) at the latest, and a
// flow ends before it is received: one that ends before the window starts is outside it.
// The slack allows an exporter clock up to an hour ahead.
constexpr std::int64_t kSlotNamePruneSlackMs = 2 * store::kMillisPerHour;

constexpr std::uint64_t kSignFlip = std::uint64_t{1} << 63;

bool IsDamage(const Error& error) {
  return error.Code() == ErrorCode::kCorruption || error.Code() == ErrorCode::kMalformed ||
         error.Code() == ErrorCode::kUnsupported;
}

std::string MemoryMessage(std::size_t budget) {
  return "the query needs more than its memory budget of " + std::to_string(budget) +
         " bytes for its group tables; narrow the filter or the time window, or raise the "
         "budget";
}

// MemoryMessage(), with how many groups the threads held when the budget ran out.
template <typename States>
std::string GroupMemoryMessage(const States& states, std::size_t budget) {
  std::size_t groups = 0;
  for (const auto& state : states) {
    if (state) {
      for (const auto& stat : state->stats()) {
        groups += stat->size();
      }
      if (state->aggregate() && !state->aggregate()->shares_tables()) {
        groups += state->aggregate()->size();
      }
    }
  }
  return MemoryMessage(budget) + " (" + std::to_string(groups) + " groups held when it ran out)";
}

// The other side's field of a directional field (src <-> dst, in <-> out), or the field
// itself.
FieldId Counterpart(FieldId field) {
  switch (field) {
    case FieldId::kSrcAddr: return FieldId::kDstAddr;
    case FieldId::kDstAddr: return FieldId::kSrcAddr;
    case FieldId::kSrcPort: return FieldId::kDstPort;
    case FieldId::kDstPort: return FieldId::kSrcPort;
    case FieldId::kSrcAs: return FieldId::kDstAs;
    case FieldId::kDstAs: return FieldId::kSrcAs;
    case FieldId::kInIf: return FieldId::kOutIf;
    case FieldId::kOutIf: return FieldId::kInIf;
    case FieldId::kSrcMask: return FieldId::kDstMask;
    case FieldId::kDstMask: return FieldId::kSrcMask;
    case FieldId::kSrcMac: return FieldId::kDstMac;
    case FieldId::kDstMac: return FieldId::kSrcMac;
    case FieldId::kSrcCountry: return FieldId::kDstCountry;
    case FieldId::kDstCountry: return FieldId::kSrcCountry;
    case FieldId::kXlateSrcAddr: return FieldId::kXlateDstAddr;
    case FieldId::kXlateDstAddr: return FieldId::kXlateSrcAddr;
    case FieldId::kXlateSrcPort: return FieldId::kXlateDstPort;
    case FieldId::kXlateDstPort: return FieldId::kXlateSrcPort;
    default: return field;
  }
}

// Everything the scan threads share, read-only.
struct Shape {
  const QuerySpec* spec = nullptr;
  const Filter* filter = nullptr;
  bool listing = false;  // records go to a RecordSink
  std::vector<StatSpec> stats;  // spec.stats; "-s record" without a key gets the 5-tuple
  std::vector<KeyCodec> stat_keys;
  std::vector<KeyCodec> stat_paired;  // empty codec: no paired key
  bool aggregating = false;
  KeyCodec aggregate_key;
  KeyCodec aggregate_reverse;  // bidirectional: the same key from the other side
  // Bidirectional with both ports in the key: the word of dst_port (the side with the
  // smaller port is taken as the server, the destination, as nfdump -B guesses).
  std::size_t dst_port_word = SIZE_MAX;
  bool series = false;
  KeyCodec bucket_group;
  std::size_t max_key_words = 1;
};

Result<Shape> MakeShape(const QuerySpec& spec, const Filter& filter, bool has_sink) {
  Shape shape;
  shape.spec = &spec;
  shape.filter = &filter;
  shape.stats = spec.stats;
  for (StatSpec& stat : shape.stats) {
    if (stat.key.empty() && stat.records) {
      stat.key = {{FieldId::kProto}, {FieldId::kSrcAddr}, {FieldId::kSrcPort}, {FieldId::kDstAddr},
                  {FieldId::kDstPort}};
    }
    if (stat.key.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "statistic '" + stat.name + "' has no key");
    }
    Result<KeyCodec> key = KeyCodec::Make(stat.key);
    if (!key) {
      return tl::unexpected(key.error());
    }
    KeyCodec paired;
    if (!stat.paired_key.empty()) {
      Result<KeyCodec> made = KeyCodec::Make(stat.paired_key);
      if (!made) {
        return tl::unexpected(made.error());
      }
      bool same_shape = stat.paired_key.size() == stat.key.size();
      for (std::size_t idx = 0; same_shape && idx < stat.key.size(); ++idx) {
        same_shape = (flow::Info(stat.key[idx].field).type == flow::FieldType::kIpAddress) ==
                     (flow::Info(stat.paired_key[idx].field).type == flow::FieldType::kIpAddress);
      }
      if (!same_shape) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "statistic '" + stat.name + "': paired key does not match its key");
      }
      paired = std::move(*made);
    }
    shape.max_key_words = std::max(shape.max_key_words, key->words());
    shape.stat_keys.push_back(std::move(*key));
    shape.stat_paired.push_back(std::move(paired));
  }
  std::vector<KeyField> aggregate = spec.aggregate;
  if (aggregate.empty() && spec.bidirectional) {
    // nfdump -b/-B aggregate on the 5-tuple.
    aggregate = {{FieldId::kProto}, {FieldId::kSrcAddr}, {FieldId::kSrcPort},
                 {FieldId::kDstAddr}, {FieldId::kDstPort}};
  }
  if (!aggregate.empty()) {
    shape.aggregating = true;
    Result<KeyCodec> key = KeyCodec::Make(aggregate);
    if (!key) {
      return tl::unexpected(key.error());
    }
    shape.aggregate_key = std::move(*key);
    if (spec.bidirectional) {
      std::vector<KeyField> reverse = aggregate;
      for (KeyField& field : reverse) {
        field.field = Counterpart(field.field);
      }
      Result<KeyCodec> reversed = KeyCodec::Make(reverse);
      if (!reversed) {
        return tl::unexpected(reversed.error());
      }
      shape.aggregate_reverse = std::move(*reversed);
      auto has = [&](FieldId id) {
        return std::any_of(aggregate.begin(), aggregate.end(), [&](const KeyField& f) { return f.field == id; });
      };
      if (has(FieldId::kSrcPort) && has(FieldId::kDstPort)) {
        std::size_t word = 0;
        for (const KeyField& field : aggregate) {
          if (field.field == FieldId::kDstPort) {
            shape.dst_port_word = word;
            break;
          }
          word += flow::Info(field.field).type == flow::FieldType::kIpAddress ? 2 : 1;
        }
      }
    }
    shape.max_key_words = std::max(shape.max_key_words, shape.aggregate_key.words());
  }
  if (spec.bucket_ms < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "bucket size must be positive");
  }
  if (spec.bucket_ms > 0) {
    shape.series = true;
    Result<KeyCodec> group = KeyCodec::Make(spec.bucket_group);
    if (!group) {
      return tl::unexpected(group.error());
    }
    shape.bucket_group = std::move(*group);
    shape.max_key_words = std::max(shape.max_key_words, 1 + shape.bucket_group.words());
  }
  shape.listing = has_sink && spec.stats.empty() && !shape.aggregating && !shape.series;
  return shape;
}

// The columns the scan reads.
std::vector<FieldId> NeededFields(const QuerySpec& spec, const Shape& shape, const Filter& filter,
                                  const RecordSink* records) {
  std::vector<bool> wanted(flow::kFieldCount, false);
  if (shape.listing) {
    // What the sink prints; the totals and an ordered listing need the counters below.
    for (const FieldId field : records->Fields()) {
      if (static_cast<std::size_t>(field) < flow::kFieldCount) {
        wanted[static_cast<std::size_t>(field)] = true;
      }
    }
  }
  for (const FieldId field : {FieldId::kFirst, FieldId::kLast, FieldId::kBytes, FieldId::kPackets,
                              FieldId::kFlows}) {
    wanted[static_cast<std::size_t>(field)] = true;
  }
  for (const FieldId field : filter.fields()) {
    wanted[static_cast<std::size_t>(field)] = true;
  }
  auto add_key = [&](const std::vector<KeyField>& key, bool both_sides) {
    for (const KeyField& field : key) {
      wanted[static_cast<std::size_t>(field.field)] = true;
      if (both_sides) {
        wanted[static_cast<std::size_t>(Counterpart(field.field))] = true;
      }
      if (field.flow_mask) {
        wanted[static_cast<std::size_t>(FieldId::kSrcMask)] = true;
        wanted[static_cast<std::size_t>(FieldId::kDstMask)] = true;
      }
    }
  };
  for (const StatSpec& stat : shape.stats) {
    add_key(stat.key, false);
    add_key(stat.paired_key, false);
  }
  if (shape.aggregating) {
    if (spec.aggregate.empty()) {
      for (const FieldId field : {FieldId::kProto, FieldId::kSrcAddr, FieldId::kSrcPort,
                                  FieldId::kDstAddr, FieldId::kDstPort}) {
        wanted[static_cast<std::size_t>(field)] = true;
      }
    }
    add_key(spec.aggregate, spec.bidirectional);
  }
  add_key(spec.bucket_group, false);
  std::vector<FieldId> fields;
  for (std::size_t field_idx = 0; field_idx < flow::kFieldCount; ++field_idx) {
    if (wanted[field_idx]) {
      fields.push_back(static_cast<FieldId>(field_idx));
    }
  }
  return fields;
}

// Which pre-aggregated files may answer a query instead of the detail segments.
struct Summaries {
  // The segments' summaries that answer (indexes into store::kSummaryShapes), in the
  // order they are tried for each segment (store::kSummaryPreference).
  std::vector<std::size_t> kinds;
  bool hourly = false;  // the hourly roll-ups, for the hours they hold whole
};

// True if roll-ups keyed by `key_fields` hold every column the query reads, with the
// same answer: the filter and every key use only those key columns, and nothing
// depends on single flows (records listed). A series needs rows that keep the bucket of
// each flow's start: `series_bucket_ms` > 0 is the bucket the roll-up keeps, and the
// series' buckets must be whole multiples of it (0: no series).
bool KeysAnswer(const QuerySpec& spec, const Shape& shape, const Filter& filter,
                std::span<const FieldId> key_fields, std::int64_t series_bucket_ms) {
  if (!spec.use_rollups || shape.listing || !spec.files.empty()) {
    return false;
  }
  if (shape.series &&
      (series_bucket_ms <= 0 || spec.bucket_ms <= 0 || spec.bucket_ms % series_bucket_ms != 0)) {
    return false;
  }
  auto is_key = [&](FieldId field) {
    return std::find(key_fields.begin(), key_fields.end(), field) != key_fields.end();
  };
  for (const FieldId field : filter.fields()) {
    if (!is_key(field)) {
      return false;
    }
  }
  auto keys_ok = [&](const std::vector<KeyField>& key, bool both_sides) {
    return std::all_of(key.begin(), key.end(), [&](const KeyField& field) {
      return is_key(field.field) && (!both_sides || is_key(Counterpart(field.field)));
    });
  };
  for (const StatSpec& stat : shape.stats) {
    if (!keys_ok(stat.key, false) || !keys_ok(stat.paired_key, false)) {
      return false;
    }
  }
  return keys_ok(spec.aggregate, spec.bidirectional) && keys_ok(spec.bucket_group, false);
}

// The summaries that can answer the query: the segments' summaries whose key is enough,
// in the order of store::kSummaryPreference (each segment is read from the first of them
// usable for the window); an hour none of whose segments has such a usable summary may
// still be answered by its roll-up.
Summaries ChooseSummaries(const QuerySpec& spec, const Shape& shape, const Filter& filter) {
  Summaries summaries;
  for (const std::size_t idx : store::kSummaryPreference) {
    const store::RollupShape& summary = store::kSummaryShapes[idx];
    if (KeysAnswer(spec, shape, filter, summary.key, summary.first_bucket_ms)) {
      summaries.kinds.push_back(idx);
    }
  }
  summaries.hourly = KeysAnswer(spec, shape, filter, store::kHourlyShape.key, 0);
  return summaries;
}

inline constexpr std::size_t kNotSummary = SIZE_MAX;

// A file to scan.
struct Segment {
  std::string path;
  bool recover = false;  // no footer yet (.seg.open)
  bool window_inside = false;  // every flow is inside the window: no per-row check
  std::string address_filter;  // its blocks' address filters, when the filter can use them
  std::size_t summary = kNotSummary;  // a summary or hour summary: its index in kSummaryShapes
};

struct WorkItem {
  std::uint32_t segment = 0;
  std::uint32_t block = 0;
};

struct Plan {
  std::vector<Segment> segments;
  std::vector<WorkItem> items;
  std::uint64_t rows = 0;  // in the blocks of `items`
  bool reads_rollups = false;  // summaries or hourly roll-ups stand for some segments
  // The range of `first` over the segments read (from their summaries); empty if
  // first_min > first_max.
  std::int64_t first_min = INT64_MAX;
  std::int64_t first_max = INT64_MIN;
  // The range of every time (`first` and `last`) in those segments; empty if
  // time_min > time_max.
  std::int64_t time_min = INT64_MAX;
  std::int64_t time_max = INT64_MIN;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  const std::atomic<bool>* cancel = nullptr;
};

// Whether the query must end now: cancelled, or past its deadline.
bool Cancelled(const Plan& plan) {
  if (plan.cancel != nullptr && plan.cancel->load(std::memory_order_relaxed)) {
    return true;
  }
  return plan.deadline != std::chrono::steady_clock::time_point::max() &&
         std::chrono::steady_clock::now() >= plan.deadline;
}

Result<std::unique_ptr<store::SegmentReader>> OpenSegment(const Segment& segment) {
  if (!segment.recover) {
    return store::SegmentReader::Open(segment.path);
  }
  // Being written: blocks found by their checksummed headers; chunks checked as read.
  auto reader = store::SegmentReader::OpenGrowing(segment.path);
  if (!reader && reader.error().Code() == ErrorCode::kNotFound) {
    // Sealed (renamed) since it was listed.
    const std::string_view path = segment.path;
    if (path.ends_with(store::kOpenSuffix)) {
      return store::SegmentReader::Open(std::string(path.substr(0, path.size() - store::kOpenSuffix.size())));
    }
  }
  return reader;
}

bool SummaryMayMatch(const store::SegmentSummary& summary, const std::optional<TimeWindow>& window) {
  if (summary.row_count == 0) {
    return false;
  }
  if (!window) {
    return true;
  }
  return summary.first.max >= window->from_ms && summary.last.min <= window->to_ms;
}

bool SummaryInside(const store::SegmentSummary& summary, const std::optional<TimeWindow>& window) {
  return !window || (summary.first.min >= window->from_ms && summary.last.max <= window->to_ms);
}

bool BlockMayMatch(const store::BlockInfo& block, const std::optional<TimeWindow>& window,
                   const Filter& filter) {
  if (block.row_count == 0) {
    return false;
  }
  if (window) {
    const store::ColumnChunk* first = block.Find(FieldId::kFirst);
    const store::ColumnChunk* last = block.Find(FieldId::kLast);
    const std::int64_t first_max = first == nullptr ? 0 : first->stats.time_max;
    const std::int64_t last_min = last == nullptr ? 0 : last->stats.time_min;
    if (first_max < window->from_ms || last_min > window->to_ms) {
      return false;
    }
  }
  return filter.MayMatch(block);
}

// Removes from `kept` (block indexes of `blocks`) the blocks whose address filters (the
// file at `path`) say that none of the filter's probe addresses (`keys`, their
// AddressFilterKey()s) is in them, where the filter then cannot match. A filter file
// that is missing, damaged or not of these blocks is not used: every block stays.
void DropBlocksWithoutTheAddresses(const std::string& path, const std::vector<store::BlockInfo>& blocks,
                                   const Filter& filter, std::span<const std::uint64_t> keys,
                                   std::vector<std::uint32_t>& kept) {
  auto filters = store::AddressFilterReader::Open(path);
  if (!filters || (*filters)->block_count() != blocks.size()) {
    return;
  }
  for (std::size_t block_idx = 0; block_idx < blocks.size(); ++block_idx) {
    if ((*filters)->block_rows(block_idx) != blocks[block_idx].row_count) {
      return;
    }
  }
  std::vector<std::uint32_t> still;
  std::unique_ptr<bool[]> present(new bool[keys.size()]);
  for (const std::uint32_t block_idx : kept) {
    for (std::size_t key_idx = 0; key_idx < keys.size(); ++key_idx) {
      Result<bool> may = (*filters)->MayContain(block_idx, keys[key_idx]);
      if (!may) {
        return;  // unreadable: keep every block
      }
      present[key_idx] = *may;
    }
    if (filter.MayMatch(blocks[block_idx], std::span<const bool>(present.get(), keys.size()))) {
      still.push_back(block_idx);
    }
  }
  kept = std::move(still);
}

// With QuerySpec::head_blocks: the column of the one statistic's order value, if the
// statistic is of one whole address by bytes, packets or flows.
std::optional<FieldId> HeadField(const QuerySpec& spec) {
  if (spec.head_blocks == 0 || spec.stats.size() != 1) {
    return std::nullopt;
  }
  const StatSpec& stat = spec.stats.front();
  if (stat.records || stat.key.size() != 1 || !stat.paired_key.empty() ||
      stat.key.front().v4_prefix != 32 || stat.key.front().v6_prefix != 128 ||
      stat.key.front().flow_mask) {
    return std::nullopt;
  }
  switch (stat.order) {
    case OrderBy::kBytes:
      return FieldId::kBytes;
    case OrderBy::kPackets:
      return FieldId::kPackets;
    case OrderBy::kFlows:
      return FieldId::kFlows;
    default:
      return std::nullopt;
  }
}

// True if `segment` holds each value of `stat`'s key in at most one row per exporter: a
// summary keyed by exporter and that field alone, written with unique keys.
bool HoldsKeysOnce(const Segment& segment, const store::SegmentSummary& summary, const StatSpec& stat) {
  if (segment.summary == kNotSummary || !summary.unique_keys) {
    return false;
  }
  const std::span<const FieldId> key = store::kSummaryShapes[segment.summary].key;
  return key.size() == 2 && key[0] == FieldId::kExporter && key[1] == stat.key.front().field;
}

// Keeps the first `head_blocks` blocks of `kept` (indexes into `blocks`), and
// returns the most that the blocks dropped could add to one key's `field` value when a key
// has at most `rows_per_key` rows: that many times the largest value of a dropped block.
std::uint64_t CutToHead(const std::vector<store::BlockInfo>& blocks, FieldId field, std::size_t head_blocks,
                        std::uint64_t rows_per_key, std::vector<std::uint32_t>& kept) {
  const std::size_t head = std::min(head_blocks, kept.size());
  std::uint64_t largest = 0;
  for (std::size_t idx = head; idx < kept.size(); ++idx) {
    const store::ColumnChunk* chunk = blocks[kept[idx]].Find(field);
    largest = std::max(largest, chunk == nullptr ? 0 : chunk->stats.max);
  }
  kept.resize(head);
  if (largest != 0 && rows_per_key > UINT64_MAX / largest) {
    return UINT64_MAX;
  }
  return largest * rows_per_key;
}

// Lists, opens and prunes the segments; the surviving blocks become work items.
Result<Plan> MakePlan(const QuerySpec& spec, Summaries summaries, const Filter& filter,
                      std::size_t threads, QueryResult& result) {
  Plan plan;
  const std::optional<TimeWindow>& window = spec.window;
  std::vector<Segment> candidates;
  if (!spec.files.empty()) {
    for (const std::string& file : spec.files) {
      candidates.push_back({file, std::string_view(file).ends_with(store::kOpenSuffix), false, {}});
    }
    result.scan.segments_total = candidates.size();
  } else {
    Result<std::vector<store::CatalogEntry>> catalog = store::ScanCatalog(spec.data_dir);
    if (!catalog) {
      return tl::unexpected(catalog.error());
    }
    auto wanted_source = [&](const std::string& source) {
      return spec.sources.empty() ||
             std::find(spec.sources.begin(), spec.sources.end(), source) != spec.sources.end();
    };
    // What the summaries answer, per source: (source, slot start, index) of the detail
    // segment for a summary, (source, hour start) for an hourly roll-up.
    std::set<std::tuple<std::string, std::int64_t, std::uint32_t>> summarised;
    std::set<std::pair<std::string, std::int64_t>> summarised_hours;
    std::set<std::pair<std::string, std::int64_t>> rolled_up;
    std::vector<Segment> rollups;
    // True if `entry` (a sealed summary of a wanted source) can stand for its detail rows:
    // all its flows lie inside the window; or, for a summary by minute of `first`, the
    // window starts on a whole minute and none of its flows ends after the window: each
    // row's flows then all start before the window (its minute is earlier) or all lie
    // inside it, and the rows are filtered by the window like flows. Otherwise only
    // detail rows are exact.
    auto usable = [&](const store::CatalogEntry& entry) {
      auto reader = store::SegmentReader::Open(entry.path);
      if (!reader) {
        return false;  // the detail segments answer instead
      }
      const store::SegmentSummary& summary = (*reader)->summary();
      if (summary.row_count == 0 || SummaryInside(summary, window)) {
        return true;
      }
      if (entry.name.kind != store::SegmentKind::kSummary) {
        return false;  // hour summaries and roll-ups: only with all their flows inside
      }
      const std::int64_t bucket = store::kSummaryShapes[entry.name.summary].first_bucket_ms;
      return bucket > 0 && window->from_ms % bucket == 0 && summary.last.max <= window->to_ms;
    };
    auto candidate_summary = [&](const store::CatalogEntry& entry, store::SegmentKind kind) {
      return entry.name.kind == kind && entry.name.state == store::SegmentState::kSealed &&
             wanted_source(entry.name.source);
    };
    // Hours answered whole by an hour summary: their detail segments and slot summaries
    // are not read.
    std::set<std::pair<std::string, std::int64_t>> hour_summarised;
    for (const std::size_t kind : summaries.kinds) {
      // An hour summary first (one file for the hour's slots), where no slot of its hour
      // is answered yet by another summary.
      for (const store::CatalogEntry& entry : *catalog) {
        if (!candidate_summary(entry, store::SegmentKind::kHourSummary) || entry.name.summary != kind ||
            (window && entry.name.start + kSlotNamePruneSlackMs <= window->from_ms) ||
            summarised_hours.contains({entry.name.source, entry.name.start}) || !usable(entry)) {
          continue;
        }
        hour_summarised.emplace(entry.name.source, entry.name.start);
        summarised_hours.emplace(entry.name.source, entry.name.start);
        rollups.push_back({entry.path, false, false, {}, kind});
      }
      for (const store::CatalogEntry& entry : *catalog) {
        if (!candidate_summary(entry, store::SegmentKind::kSummary) || entry.name.summary != kind ||
            (window && entry.name.start + kSlotNamePruneSlackMs <= window->from_ms) ||
            hour_summarised.contains({entry.name.source, store::HourStart(entry.name.start)}) ||
            summarised.contains({entry.name.source, entry.name.start, entry.name.index}) ||
            !usable(entry)) {
          continue;
        }
        summarised.emplace(entry.name.source, entry.name.start, entry.name.index);
        summarised_hours.emplace(entry.name.source, store::HourStart(entry.name.start));
        rollups.push_back({entry.path, false, false, {}, kind});
      }
    }
    if (summaries.hourly) {
      for (const store::CatalogEntry& entry : *catalog) {
        if (!candidate_summary(entry, store::SegmentKind::kRollup) ||
            summarised_hours.contains({entry.name.source, entry.name.start}) || !usable(entry)) {
          continue;
        }
        rolled_up.emplace(entry.name.source, entry.name.start);
        rollups.push_back({entry.path, false, false, {}});
      }
    }
    // Detail segments with address filters, when the filter names addresses they judge.
    std::set<std::tuple<std::string, std::int64_t, std::uint32_t>> address_filtered;
    if (!filter.ProbeAddresses().empty()) {
      for (const store::CatalogEntry& entry : *catalog) {
        if (entry.name.kind == store::SegmentKind::kAddressFilter &&
            entry.name.state == store::SegmentState::kSealed) {
          address_filtered.emplace(entry.name.source, entry.name.start, entry.name.index);
        }
      }
    }
    for (const store::CatalogEntry& entry : *catalog) {
      if (entry.name.kind != store::SegmentKind::kDetail ||
          entry.name.state == store::SegmentState::kTemp || !wanted_source(entry.name.source)) {
        continue;
      }
      ++result.scan.segments_total;
      if (rolled_up.contains({entry.name.source, store::HourStart(entry.name.start)}) ||
          hour_summarised.contains({entry.name.source, store::HourStart(entry.name.start)}) ||
          summarised.contains({entry.name.source, entry.name.start, entry.name.index})) {
        continue;
      }
      if (window && entry.name.start + kSlotNamePruneSlackMs <= window->from_ms) {
        continue;
      }
      candidates.push_back({entry.path, entry.name.state == store::SegmentState::kOpen, false, {}});
      if (entry.name.state == store::SegmentState::kSealed &&
          address_filtered.contains({entry.name.source, entry.name.start, entry.name.index})) {
        candidates.back().address_filter = store::AddressFilterPath(
            spec.data_dir, entry.name.source, entry.name.start, entry.name.index);
      }
    }
    // Roll-ups first, then the detail segments in catalogue order (start, source, index).
    if (spec.files_read == FilesRead::kDetail) {
      rollups.clear();
    } else if (spec.files_read == FilesRead::kRollups) {
      candidates.clear();
    }
    result.scan.rollups_read = rollups.size();
    plan.reads_rollups = !rollups.empty();
    rollups.insert(rollups.end(), candidates.begin(), candidates.end());
    candidates = std::move(rollups);
  }

  // Footers are read by `threads` threads at once (a long range has thousands of
  // segments); the plan is then assembled in candidate order.
  struct Probe {
    std::optional<Error> error;
    bool may_match = false;
    bool inside = false;
    std::size_t blocks = 0;
    std::vector<std::uint32_t> kept;
    std::uint64_t kept_rows = 0;
    bool head_cut = false;
    std::uint64_t unread_bound = 0;
    store::TimeRange first;
    store::TimeRange last;
  };
  std::vector<Probe> probes(candidates.size());
  const std::optional<FieldId> head_field = HeadField(spec);
  std::vector<std::uint64_t> probe_keys;
  for (const flow::IpAddress& address : filter.ProbeAddresses()) {
    probe_keys.push_back(store::AddressFilterKey(address));
  }
  std::atomic<std::size_t> next{0};
  auto probe_loop = [&] {
    for (;;) {
      const std::size_t idx = next.fetch_add(1, std::memory_order_relaxed);
      if (idx >= candidates.size()) {
        return;
      }
      Probe& probe = probes[idx];
      auto reader = OpenSegment(candidates[idx]);
      if (!reader) {
        probe.error = reader.error();
        continue;
      }
      const store::SegmentSummary& summary = (*reader)->summary();
      probe.may_match = SummaryMayMatch(summary, window);
      if (!probe.may_match) {
        continue;
      }
      probe.inside = SummaryInside(summary, window);
      probe.first = summary.first;
      probe.last = summary.last;
      const std::vector<store::BlockInfo>& blocks = (*reader)->blocks();
      probe.blocks = blocks.size();
      for (std::size_t block_idx = 0; block_idx < blocks.size(); ++block_idx) {
        if (BlockMayMatch(blocks[block_idx], probe.inside ? std::nullopt : window, filter)) {
          probe.kept.push_back(static_cast<std::uint32_t>(block_idx));
        }
      }
      if (!candidates[idx].address_filter.empty()) {
        DropBlocksWithoutTheAddresses(candidates[idx].address_filter, blocks, filter, probe_keys,
                                      probe.kept);
      }
      if (head_field && HoldsKeysOnce(candidates[idx], summary, spec.stats.front())) {
        const std::size_t before = probe.kept.size();
        probe.unread_bound = CutToHead(blocks, *head_field, spec.head_blocks,
                                       std::max<std::size_t>(summary.exporters.size(), 1), probe.kept);
        probe.head_cut = probe.kept.size() < before;
      }
      for (const std::uint32_t block_idx : probe.kept) {
        probe.kept_rows += blocks[block_idx].row_count;
      }
    }
  };
  {
    const std::size_t workers = std::min(threads, candidates.size());
    std::vector<std::thread> pool;
    for (std::size_t worker = 1; worker < workers; ++worker) {
      pool.emplace_back(probe_loop);
    }
    probe_loop();
    for (std::thread& thread : pool) {
      thread.join();
    }
  }
  for (std::size_t idx = 0; idx < candidates.size(); ++idx) {
    Probe& probe = probes[idx];
    if (probe.error) {
      if (IsDamage(*probe.error)) {
        ++result.scan.damaged;
        result.warnings.push_back("skipped damaged segment: " + std::string(probe.error->Message()));
        continue;
      }
      if (probe.error->Code() == ErrorCode::kNotFound) {
        result.warnings.push_back("skipped vanished segment: " + std::string(probe.error->Message()));
        continue;
      }
      return tl::unexpected(*probe.error);
    }
    if (!probe.may_match) {
      continue;
    }
    ++result.scan.segments_read;
    result.head_cut = result.head_cut || probe.head_cut;
    result.unread_bound = internal::SaturatingAdd(result.unread_bound, probe.unread_bound);
    plan.first_min = std::min(plan.first_min, probe.first.min);
    plan.first_max = std::max(plan.first_max, probe.first.max);
    plan.time_min = std::min({plan.time_min, probe.first.min, probe.last.min});
    plan.time_max = std::max({plan.time_max, probe.first.max, probe.last.max});
    Segment& segment = candidates[idx];
    segment.window_inside = probe.inside;
    const auto segment_idx = static_cast<std::uint32_t>(plan.segments.size());
    result.scan.blocks_total += probe.blocks;
    result.scan.blocks_skipped += probe.blocks - probe.kept.size();
    for (const std::uint32_t block_idx : probe.kept) {
      plan.items.push_back({segment_idx, block_idx});
    }
    plan.rows += probe.kept_rows;
    plan.segments.push_back(std::move(segment));
  }
  return plan;
}

// Window and filter: the matching rows of a batch (late materialization: the batch
// holds only the columns of SelectFields()).
class Selector final : public store::RowSelector {
 public:
  explicit Selector(const Shape& shape) : shape_(&shape) {}

  void set_check_window(bool check) { check_window_ = check; }

  std::size_t Select(const flow::FlowBatch& batch, std::size_t /*start*/,
                     std::uint32_t* rows) override {
    const std::size_t n = batch.size();
    std::size_t count = 0;
    const std::optional<TimeWindow>& window = shape_->spec->window;
    if (check_window_ && window) {
      const auto& first = batch.cols().first;
      const auto& last = batch.cols().last;
      const std::int64_t from = window->from_ms;
      const std::int64_t to = window->to_ms;
      for (std::size_t row = 0; row < n; ++row) {
        rows[count] = static_cast<std::uint32_t>(row);
        count += static_cast<std::size_t>(first[row] >= from && last[row] <= to);
      }
    } else {
      for (std::size_t row = 0; row < n; ++row) {
        rows[row] = static_cast<std::uint32_t>(row);
      }
      count = n;
    }
    if (count > 0 && !shape_->filter->MatchesAll()) {
      count = shape_->filter->Select(batch, rows, count);
    }
    return count;
  }

  // The filter judged by the block's address dictionaries: `host A` skips each block in
  // whose dictionaries A is not.
  bool MayKeep(const store::BlockInfo& block,
               std::span<const std::span<const std::uint8_t>> dictionaries) override {
    return shape_->filter->MayMatch(block, dictionaries);
  }

 private:
  const Shape* shape_;
  bool check_window_ = true;
};

// The columns Selector reads: the filter's, and the times when there is a window.
std::vector<FieldId> SelectFields(const QuerySpec& spec, const Filter& filter) {
  std::vector<FieldId> fields(filter.fields().begin(), filter.fields().end());
  if (spec.window) {
    for (const FieldId field : {FieldId::kFirst, FieldId::kLast}) {
      if (std::find(fields.begin(), fields.end(), field) == fields.end()) {
        fields.push_back(field);
      }
    }
  }
  return fields;
}

// 0, 1, 2, ... kCapacity - 1: the rows of a batch handed over by ReadSelected(), every
// one of them selected.
std::vector<std::uint32_t> EveryRow() {
  std::vector<std::uint32_t> rows(flow::FlowBatch::kCapacity);
  for (std::size_t row = 0; row < rows.size(); ++row) {
    rows[row] = static_cast<std::uint32_t>(row);
  }
  return rows;
}

void AddTotals(Aggregate& totals, const flow::FlowBatch& batch, const std::uint32_t* rows,
               std::size_t count) {
  const flow::FlowColumns& cols = batch.cols();
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint32_t row = rows[i];
    totals.flows = internal::SaturatingAdd(totals.flows, cols.flows[row]);
    totals.packets = internal::SaturatingAdd(totals.packets, cols.packets[row]);
    totals.bytes = internal::SaturatingAdd(totals.bytes, cols.bytes[row]);
    internal::AddTimes(totals, cols.first[row], cols.last[row]);
  }
}

// A series without a group: one Aggregate per bucket in a dense array covering the
// plan's range of `first`, so that a row costs an index computation instead of a hash
// lookup. Rows outside that range (none, when the summaries hold) are left to the caller.
class DenseSeries {
 public:
  // At most this many buckets (beyond, the hash table does the work).
  static constexpr std::int64_t kMaxBuckets = std::int64_t{1} << 20;

  // nullopt if the range is empty or needs more than kMaxBuckets.
  static std::optional<DenseSeries> Make(const Plan& plan, std::int64_t step) {
    if (plan.first_min > plan.first_max || step <= 0) {
      return std::nullopt;
    }
    const std::int64_t base = FloorBucket(plan.first_min, step);
    const std::int64_t last = FloorBucket(plan.first_max, step);
    // In unsigned arithmetic: the span of extreme times does not fit an int64.
    const std::uint64_t buckets =
        (static_cast<std::uint64_t>(last) - static_cast<std::uint64_t>(base)) / static_cast<std::uint64_t>(step) + 1;
    if (buckets > static_cast<std::uint64_t>(kMaxBuckets)) {
      return std::nullopt;
    }
    return DenseSeries(base, step, static_cast<std::size_t>(buckets));
  }

  // The start of the bucket holding `t` (floor, also before the epoch).
  static std::int64_t FloorBucket(std::int64_t t, std::int64_t step) {
    std::int64_t bucket = t / step * step;
    if (bucket > t) {
      bucket -= step;
    }
    return bucket;
  }

  // Adds rows[0..count) of `batch`; writes those outside the range to rows[0..n) and
  // returns n.
  std::size_t Add(const flow::FlowBatch& batch, const std::uint32_t* rows, std::size_t count,
                  std::uint32_t* outside) {
    const flow::FlowColumns& cols = batch.cols();
    std::size_t left = 0;
    const auto step = static_cast<std::uint64_t>(step_);
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint32_t row = rows[i];
      const std::int64_t t = cols.first[row];
      const std::uint64_t offset = static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(base_);
      if (t < base_ || offset >= span_) {
        outside[left++] = row;
        continue;
      }
      // offset / step by a multiplication (offset < 2^20 steps), corrected by one step.
      auto bucket = static_cast<std::uint64_t>(static_cast<double>(offset) * inverse_step_);
      if (bucket * step > offset) {
        --bucket;
      } else if ((bucket + 1) * step <= offset) {
        ++bucket;
      }
      Aggregate& sum = sums_[static_cast<std::size_t>(bucket)];
      sum.flows = internal::SaturatingAdd(sum.flows, cols.flows[row]);
      sum.packets = internal::SaturatingAdd(sum.packets, cols.packets[row]);
      sum.bytes = internal::SaturatingAdd(sum.bytes, cols.bytes[row]);
      internal::AddTimes(sum, cols.first[row], cols.last[row]);
      used_[static_cast<std::size_t>(bucket)] = 1;
    }
    return left;
  }

  // Adds every used bucket to `table` (keys as ScanState's series keys).
  bool AddTo(GroupTable& table) const {
    for (std::size_t bucket = 0; bucket < sums_.size(); ++bucket) {
      if (used_[bucket] != 0) {
        const std::uint64_t key =
            static_cast<std::uint64_t>(base_ + static_cast<std::int64_t>(bucket) * step_) ^ kSignFlip;
        if (!table.AddAggregate(&key, sums_[bucket])) {
          return false;
        }
      }
    }
    return true;
  }

 private:
  DenseSeries(std::int64_t base, std::int64_t step, std::size_t buckets)
      : base_(base), step_(step), inverse_step_(1.0 / static_cast<double>(step)),
        span_(SpanOf(buckets, step)), sums_(buckets), used_(buckets, 0) {}

  // buckets * step, or 2^64 - 1 if that does not fit.
  static std::uint64_t SpanOf(std::size_t buckets, std::int64_t step) {
    std::uint64_t span = 0;
    return __builtin_mul_overflow(static_cast<std::uint64_t>(buckets), static_cast<std::uint64_t>(step), &span)
               ? ~std::uint64_t{0}
               : span;
  }

  std::int64_t base_;
  std::int64_t step_;
  double inverse_step_;
  std::uint64_t span_;  // offsets from base_ below this fall in a bucket
  std::vector<Aggregate> sums_;
  std::vector<std::uint8_t> used_;
};

// One scan thread's state: its reader, selection and aggregation tables.
class ScanState final : public flow::FlowSink {
 public:
  // `first`: the first thread's state, whose -A groups this one's fill (nullptr for the
  // first thread itself; PartitionedGroups, "Shared tables").
  ScanState(const Shape& shape, const Plan& plan, MemoryBudget& budget, ScanState* first)
      : shape_(&shape), groups_budget_(&budget), every_row_(EveryRow()),
        keys_(flow::FlowBatch::kCapacity * shape.max_key_words),
        reverse_keys_(shape.aggregate_reverse.empty() ? 0 : flow::FlowBatch::kCapacity * shape.max_key_words) {
    // Every time these threads read lies in the plan's range: the groups may keep theirs
    // packed, in one word.
    const internal::TimeCoding times = internal::TimeCoding::For(plan.time_min, plan.time_max);
    for (const KeyCodec& key : shape.stat_keys) {
      stats_.push_back(std::make_unique<PartitionedGroups>(key, &budget, times));
    }
    if (shape.aggregating) {
      aggregate_ = first != nullptr ? std::make_unique<PartitionedGroups>(*first->aggregate_)
                                    : std::make_unique<PartitionedGroups>(shape.aggregate_key, &budget, times);
    }
    // One statistic keyed by an address alone: each block's rows are summed per entry of
    // the block's address dictionary first, and each entry used goes to the group table
    // once (FinishBlock()), instead of one probe per row.
    const std::optional<FieldId> address = shape.stat_keys.size() == 1 && shape.stat_paired[0].empty()
                                               ? shape.stat_keys[0].single_address_field()
                                               : std::nullopt;
    if (address && !shape.aggregating && !shape.series &&
        budget.Reserve(kDictionaryBytes)) {
      budget_ = &budget;
      reserved_ = kDictionaryBytes;
      dictionary_.emplace();
      dictionary_->field = *address;
      // The sums arrays are sized at the first dictionary-coded block (AddByIndex()):
      // a store whose blocks are not (a summary of many addresses, say) never touches them.
    }
    if (shape.series) {
      series_ = std::make_unique<GroupTable>(1 + shape.bucket_group.words(), &budget);
      if (shape.bucket_group.empty()) {
        dense_series_ = DenseSeries::Make(plan, shape.spec->bucket_ms);
        outside_.resize(flow::FlowBatch::kCapacity);
      }
    }
  }

  ~ScanState() override {
    if (budget_ != nullptr) {
      budget_->Release(reserved_);
    }
  }

  ScanState(const ScanState&) = delete;
  ScanState& operator=(const ScanState&) = delete;

  // Adds the dense series to the series table (after the scan).
  bool FinishSeries() { return !dense_series_ || dense_series_->AddTo(*series_); }

  // The column to read as dictionary indexes (ReadSelected()), or null.
  store::DictionaryColumn* dictionary() { return dictionary_ ? &*dictionary_ : nullptr; }

  // After each block: adds the block's sums per dictionary entry to the statistic, in
  // entry order (the arrays are read in sequence), and clears them.
  void FinishBlock() {
    if (!dictionary_ || block_entries_ == 0) {
      return;
    }
    if (!dict_batch_) {
      dict_batch_ = std::make_unique<flow::FlowBatch>();
      for (std::size_t row = 0; row < flow::FlowBatch::kCapacity; ++row) {
        dict_batch_->AppendRow();
      }
      picks_.resize(flow::FlowBatch::kCapacity);
    }
    const KeyCodec& key = shape_->stat_keys[0];
    const std::size_t words = key.words();
    const std::uint8_t* values = block_dictionary_;
    std::size_t entry = 0;
    while (entry < block_entries_ && !exhausted_) {
      std::size_t count = 0;
      for (; entry < block_entries_ && count < flow::FlowBatch::kCapacity; ++entry) {
        if (block_used_[entry] != 0) {
          picks_[count++] = static_cast<std::uint32_t>(entry);
        }
      }
      store::VisitColumn(static_cast<std::size_t>(dictionary_->field), [&](auto member) {
        auto& column = dict_batch_->cols().*member;
        using T = std::decay_t<decltype(column[0])>;
        if constexpr (std::is_same_v<T, flow::IpAddress>) {
          for (std::size_t i = 0; i < count; ++i) {
            std::memcpy(column[i].bytes.data(), values + std::size_t{picks_[i]} * 16, 16);
          }
        }
      });
      key.Encode(*dict_batch_, every_row_.data(), count, keys_.data(), words, 0);
      exhausted_ |= !stats_[0]->AddAggregates(keys_.data(), block_sums_.data(), picks_.data(), count);
    }
    std::fill_n(block_sums_.begin(), block_entries_, Aggregate{});
    std::fill_n(block_used_.begin(), block_entries_, std::uint8_t{0});
    block_entries_ = 0;
  }

  // `batch` holds selected rows only (SegmentReader::ReadSelected()).
  void Consume(flow::FlowBatch& batch) override {
    if (exhausted_) {
      return;
    }
    std::size_t count = batch.size();
    const std::uint32_t* rows = every_row_.data();
    AddTotals(totals_, batch, rows, count);
    for (std::size_t stat_idx = 0; stat_idx < stats_.size(); ++stat_idx) {
      if (stat_idx == 0 && dictionary_ && dictionary_->coded) {
        // The reader's dictionary for the block (the same for each of its batches).
        block_dictionary_ = dictionary_->dictionary.data();
        block_entries_ = dictionary_->dictionary.size() / 16;
        AddByIndex(batch, count);
        continue;
      }
      const KeyCodec& key = shape_->stat_keys[stat_idx];
      const std::size_t words = key.words();
      key.Encode(batch, rows, count, keys_.data(), words, 0);
      exhausted_ |= !stats_[stat_idx]->AddRows(keys_.data(), batch, rows, count);
      const KeyCodec& paired = shape_->stat_paired[stat_idx];
      if (!paired.empty()) {
        paired.Encode(batch, rows, count, keys_.data(), words, 0);
        exhausted_ |= !stats_[stat_idx]->AddRows(keys_.data(), batch, rows, count);
      }
    }
    if (aggregate_) {
      const std::size_t words = shape_->aggregate_key.words();
      shape_->aggregate_key.Encode(batch, rows, count, keys_.data(), words, 0);
      if (!shape_->aggregate_reverse.empty()) {
        // Both directions of a conversation share one key: the one whose destination port
        // is the smaller (the server's), else the smaller key.
        shape_->aggregate_reverse.Encode(batch, rows, count, reverse_keys_.data(), words, 0);
        const std::size_t port = shape_->dst_port_word;
        for (std::size_t i = 0; i < count; ++i) {
          std::uint64_t* forward = keys_.data() + i * words;
          const std::uint64_t* reverse = reverse_keys_.data() + i * words;
          const bool use_reverse =
              port != SIZE_MAX && forward[port] != reverse[port]
                  ? reverse[port] < forward[port]
                  : std::lexicographical_compare(reverse, reverse + words, forward, forward + words);
          if (use_reverse) {
            std::copy(reverse, reverse + words, forward);
          }
        }
      }
      exhausted_ |= !aggregate_->AddRows(keys_.data(), batch, rows, count);
    }
    if (series_) {
      std::size_t series_count = count;
      if (dense_series_) {
        series_count = dense_series_->Add(batch, rows, count, outside_.data());
        rows = outside_.data();
      }
      const std::size_t words = 1 + shape_->bucket_group.words();
      const std::int64_t step = shape_->spec->bucket_ms;
      const auto& first = batch.cols().first;
      for (std::size_t i = 0; i < series_count; ++i) {
        keys_[i * words] = static_cast<std::uint64_t>(DenseSeries::FloorBucket(first[rows[i]], step)) ^ kSignFlip;
      }
      count = series_count;
      shape_->bucket_group.Encode(batch, rows, count, keys_.data(), words, 1);
      exhausted_ |= !series_->AddRows(keys_.data(), batch, rows, count);
    }
  }

  // After a block: once a table of groups holds about one group per row scanned (the
  // 5-tuple, say), its final size is about the rows this thread will scan, and it is given
  // that room at once (PartitionedGroups::Presize()) instead of doubling its way there.
  // Keys that repeat (addresses, ports) grow slower than the rows and keep doubling.
  void PresizeGroups(std::uint64_t plan_rows, std::size_t threads, std::uint64_t rows_scanned_by_all) {
    const std::uint64_t rows_expected = plan_rows / std::max<std::size_t>(1, threads);
    // Decided once a 64th of the rows is scanned: the first block alone (clustered by
    // port) said 26-37 M groups of 50 M flows' 48 M, and the tables then doubled.
    if (presized_ || scan_.rows_scanned == 0 || scan_.rows_scanned * kPresizeAfterShare < rows_expected) {
      return;
    }
    auto presize = [&](PartitionedGroups& groups) {
      if (!groups.spread()) {
        return false;
      }
      // Tables the threads share hold the groups of every thread's rows: their share of
      // the groups per row is of all rows scanned (of this thread's alone, it was up to
      // twice too high, as the other thread ran ahead, and the tables up to 18 % larger).
      const bool shared = groups.shared();
      const double scanned =
          static_cast<double>(shared ? std::max(rows_scanned_by_all, scan_.rows_scanned) : scan_.rows_scanned);
      const double per_row = static_cast<double>(groups.size()) / scanned;
      if (per_row >= kPresizeGroupsPerRow) {
        const double expected =
            per_row * std::max(static_cast<double>(shared ? plan_rows : rows_expected), scanned);
        // Never more than a quarter of what the budget has left (half for tables the
        // threads share: no other thread's tables of this key need the rest): an
        // estimate must not starve the other tables. (The bytes a group costs once its
        // table is sized; measured from the tables' use so far, the early figure was twice
        // that, and on 50 M flows held the 5-tuple's tables to half their size.)
        const double bytes_per_group = static_cast<double>(std::max<std::size_t>(1, groups.bytes_per_group()));
        const double room = static_cast<double>(groups_budget_->limit() - std::min(groups_budget_->limit(), groups_budget_->used()));
        const double share_of_room = shared ? 0.5 : 0.25;
        const double affordable = static_cast<double>(groups.size()) + room * share_of_room / bytes_per_group;
        groups.Presize(static_cast<std::size_t>(std::min(expected * 1.05, affordable)));
      }
      return true;
    };
    bool decided = false;
    for (const auto& stat : stats_) {
      decided |= presize(*stat);
    }
    if (aggregate_) {
      // Tables the threads share are sized by the first thread's estimate alone: another
      // thread's, a little larger, would rebuild every table a second time.
      decided |= aggregate_->shares_tables() || presize(*aggregate_);
    }
    presized_ = decided;
  }

  const Shape* shape() const { return shape_; }
  bool exhausted() const { return exhausted_; }
  bool done() const { return exhausted_; }
  ScanStats& scan() { return scan_; }
  Aggregate& totals() { return totals_; }
  std::vector<std::unique_ptr<PartitionedGroups>>& stats() { return stats_; }
  std::unique_ptr<PartitionedGroups>& aggregate() { return aggregate_; }
  std::unique_ptr<GroupTable>& series() { return series_; }
  std::vector<std::string>& warnings() { return warnings_; }
  std::optional<Error>& fatal() { return fatal_; }

 private:
  // Bytes held for the sums per dictionary entry.
  static constexpr std::size_t kDictionaryBytes =
      store::kMaxWideDictionarySize * (sizeof(Aggregate) + 1);

  // Sums rows [0, count) of `batch` per dictionary entry (dictionary_->indexes).
  void AddByIndex(const flow::FlowBatch& batch, std::size_t count) {
    if (block_sums_.empty()) {
      block_sums_.resize(store::kMaxWideDictionarySize);
      block_used_.resize(store::kMaxWideDictionarySize, 0);
    }
    const flow::FlowColumns& cols = batch.cols();
    const std::uint16_t* indexes = dictionary_->indexes.data();
    for (std::size_t row = 0; row < count; ++row) {
      const std::uint16_t entry = indexes[row];
      if (entry >= block_entries_) {
        continue;  // the reader checked every index; never taken
      }
      block_used_[entry] = 1;
      Aggregate& sum = block_sums_[entry];
      sum.flows = internal::SaturatingAdd(sum.flows, cols.flows[row]);
      sum.packets = internal::SaturatingAdd(sum.packets, cols.packets[row]);
      sum.bytes = internal::SaturatingAdd(sum.bytes, cols.bytes[row]);
      internal::AddTimes(sum, cols.first[row], cols.last[row]);
    }
  }

  const Shape* shape_;
  MemoryBudget* groups_budget_;  // shared by every thread's tables
  std::vector<std::uint32_t> every_row_;
  bool exhausted_ = false;
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint64_t> reverse_keys_;
  Aggregate totals_;
  ScanStats scan_;
  std::vector<std::unique_ptr<PartitionedGroups>> stats_;
  std::unique_ptr<PartitionedGroups> aggregate_;
  static constexpr double kPresizeGroupsPerRow = 0.5;
  static constexpr std::uint64_t kPresizeAfterShare = 64;
  bool presized_ = false;  // PresizeGroups() has decided
  std::unique_ptr<GroupTable> series_;
  std::optional<DenseSeries> dense_series_;
  std::vector<std::uint32_t> outside_;  // rows outside the dense series' range
  std::vector<std::string> warnings_;
  std::optional<Error> fatal_;
  // The statistic by dictionary entry (see the constructor): the reader's column; the
  // current block's dictionary (16 bytes an entry), its size (0: nothing summed), sums
  // and whether each entry was used; FinishBlock()'s batch of dictionary values and the
  // entries they are.
  MemoryBudget* budget_ = nullptr;
  std::size_t reserved_ = 0;
  std::optional<store::DictionaryColumn> dictionary_;
  const std::uint8_t* block_dictionary_ = nullptr;
  std::size_t block_entries_ = 0;
  std::vector<Aggregate> block_sums_;
  std::vector<std::uint8_t> block_used_;
  std::unique_ptr<flow::FlowBatch> dict_batch_;
  std::vector<std::uint32_t> picks_;
};


// One scan thread's reader, reopened when a work item lies in another segment.
class ItemReader {
 public:
  // Reads the rows of work item `item` that `selector` keeps into `sink`. A damaged or
  // vanished segment or block is skipped with a warning (and counted in scan.damaged);
  // any other failure is returned.
  Status Read(const Plan& plan, const WorkItem& item, std::span<const FieldId> select_fields,
              Selector& selector, std::span<const FieldId> fields, flow::FlowSink& sink,
              ScanStats& scan, std::vector<std::string>& warnings,
              store::DictionaryColumn* dictionary = nullptr, std::size_t max_kept = SIZE_MAX) {
    const Segment& segment = plan.segments[item.segment];
    if (item.segment != segment_) {
      reader_.reset();
      segment_ = item.segment;
      failed_ = false;
      auto opened = OpenSegment(segment);
      if (!opened) {
        failed_ = true;
        if (!IsDamage(opened.error()) && opened.error().Code() != ErrorCode::kNotFound) {
          return tl::unexpected(opened.error());
        }
        scan.damaged += IsDamage(opened.error()) ? 1 : 0;
        warnings.push_back("skipped segment: " + std::string(opened.error().Message()));
      } else {
        reader_ = std::move(*opened);
      }
    }
    if (failed_) {
      return OkStatus();
    }
    selector.set_check_window(!segment.window_inside);
    Result<std::size_t> kept =
        reader_->ReadSelected(item.block, select_fields, selector, fields, sink, dictionary,
                              max_kept);
    if (!kept) {
      if (!IsDamage(kept.error()) && kept.error().Code() != ErrorCode::kInvalidArgument) {
        return tl::unexpected(kept.error());
      }
      ++scan.damaged;
      warnings.push_back("skipped damaged block " + std::to_string(item.block) + ": " +
                         std::string(kept.error().Message()));
      return OkStatus();
    }
    scan.rows_scanned += reader_->blocks()[item.block].row_count;
    scan.rows_matched += *kept;
    return OkStatus();
  }

 private:
  std::unique_ptr<store::SegmentReader> reader_;
  std::size_t segment_ = SIZE_MAX;
  bool failed_ = false;
};

// Listing on every scan thread. Whichever thread claims a work item reads its matching
// rows into batches of its own; the batches are handed on strictly in work-item order
// (segments in catalogue order, blocks and rows in file order) by one thread at a time,
// whichever finished the item next in line, so the records come out exactly as from one
// thread. At most kInFlight items are read ahead of the one next in line, which bounds
// the memory. Unordered, the records go to the RecordSink (up to spec.limit, or until it
// returns false; the totals cover the records handed over); with spec.order they are
// collected (within the memory budget), then stably sorted (ties keep scan order) and the
// first `limit` handed over by EmitOrdered() (the totals cover every matching flow).
class ParallelListing {
 public:
  ParallelListing(const Shape& shape, const Plan& plan, std::span<const FieldId> select_fields,
                  std::span<const FieldId> fields, RecordSink* sink, MemoryBudget& budget)
      : shape_(&shape), plan_(&plan), select_fields_(select_fields), fields_(fields), sink_(sink),
        budget_(&budget), every_row_(EveryRow()), slots_(kInFlight), remaining_(shape.spec->limit),
        ordered_(shape.spec->order.has_value()) {}

  ~ParallelListing() { budget_->Release(reserved_); }

  ParallelListing(const ParallelListing&) = delete;
  ParallelListing& operator=(const ParallelListing&) = delete;

  // Scans on `threads` threads, the calling one included.
  void Run(std::size_t threads) {
    std::vector<std::thread> workers;
    for (std::size_t thread_idx = 1; thread_idx < threads; ++thread_idx) {
      workers.emplace_back([this] { Work(); });
    }
    Work();
    for (std::thread& worker : workers) {
      worker.join();
    }
  }

  // Ordered listing: sorts what was collected and hands the first `limit` to the sink.
  void EmitOrdered() {
    const OrderBy order = *shape_->spec->order;
    auto aggregate_of = [&](const Entry& entry) {
      const flow::FlowColumns& cols = collected_[entry.batch]->cols();
      Aggregate agg;
      agg.flows = cols.flows[entry.row];
      agg.packets = cols.packets[entry.row];
      agg.bytes = cols.bytes[entry.row];
      agg.first = cols.first[entry.row];
      agg.last = cols.last[entry.row];
      return agg;
    };
    std::stable_sort(entries_.begin(), entries_.end(), [&](const Entry& a, const Entry& b) {
      return internal::CompareAggregates(aggregate_of(a), aggregate_of(b), order) < 0;
    });
    std::size_t end = entries_.size();
    if (shape_->spec->limit > 0) {
      end = std::min(end, shape_->spec->limit);
    }
    std::vector<std::uint32_t> rows;
    rows.reserve(flow::FlowBatch::kCapacity);
    for (std::size_t idx = 0; idx < end;) {
      const std::uint32_t batch = entries_[idx].batch;
      rows.clear();
      while (idx < end && entries_[idx].batch == batch) {
        rows.push_back(entries_[idx].row);
        ++idx;
      }
      if (!sink_->Consume(*collected_[batch], rows)) {
        return;
      }
    }
  }

  // After Run(); no lock needed then.
  bool exhausted() const { return exhausted_; }
  const ScanStats& scan() const { return scan_; }
  const Aggregate& totals() const { return totals_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  const std::optional<Error>& fatal() const { return fatal_; }

 private:
  static constexpr std::size_t kInFlight = 8;

  // The rows of one work item, read and waiting for their turn.
  struct Slot {
    std::vector<std::unique_ptr<flow::FlowBatch>> batches;
    ScanStats scan;
    std::vector<std::string> warnings;
    bool ready = false;
  };

  struct Entry {
    std::uint32_t batch;
    std::uint32_t row;
  };

  // Keeps the reader's batches in a slot, swapping in empty ones from the pool.
  class SlotSink final : public flow::FlowSink {
   public:
    SlotSink(ParallelListing& listing, Slot& slot) : listing_(&listing), slot_(&slot) {}
    void Consume(flow::FlowBatch& batch) override {
      std::unique_ptr<flow::FlowBatch> kept = listing_->TakeBatch();
      std::swap(batch, *kept);
      slot_->batches.push_back(std::move(kept));
    }

   private:
    ParallelListing* listing_;
    Slot* slot_;
  };

  std::unique_ptr<flow::FlowBatch> TakeBatch() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pool_.empty()) {
        std::unique_ptr<flow::FlowBatch> batch = std::move(pool_.back());
        pool_.pop_back();
        return batch;
      }
    }
    return std::make_unique<flow::FlowBatch>();
  }

  void Work() {
    Selector selector(*shape_);
    ItemReader reader;
    for (;;) {
      const std::size_t item_idx = next_.fetch_add(1, std::memory_order_relaxed);
      if (item_idx >= plan_->items.size()) {
        return;
      }
      {
        std::unique_lock<std::mutex> lock(mu_);
        room_.wait(lock, [&] { return stop_ || item_idx < emit_next_ + kInFlight; });
        if (stop_) {
          return;
        }
      }
      Slot& slot = slots_[item_idx % kInFlight];
      std::optional<Error> error;
      if (Cancelled(*plan_)) {
        error = Error(ErrorCode::kCancelled, "the query was cancelled or ran past its time limit");
      } else {
        SlotSink sink(*this, slot);
        // Unordered, no item can hand on more than the limit: an item keeps at most that
        // many rows, so `-c 10` decodes ten rows of a block, not the block.
        const std::size_t max_kept =
            !ordered_ && shape_->spec->limit > 0 ? shape_->spec->limit : SIZE_MAX;
        Status read = reader.Read(*plan_, plan_->items[item_idx], select_fields_, selector, fields_,
                                  sink, slot.scan, slot.warnings, nullptr, max_kept);
        if (!read) {
          error = read.error();
        }
      }
      std::unique_lock<std::mutex> lock(mu_);
      if (error) {
        if (!fatal_) {
          fatal_ = std::move(error);
        }
        stop_ = true;
        room_.notify_all();
        return;
      }
      slot.ready = true;
      if (emitting_) {
        continue;  // the thread emitting now hands this item on when its turn comes
      }
      emitting_ = true;
      while (!stop_ && slots_[emit_next_ % kInFlight].ready) {
        Slot& next = slots_[emit_next_ % kInFlight];
        lock.unlock();
        Emit(next);
        lock.lock();
        for (std::unique_ptr<flow::FlowBatch>& batch : next.batches) {
          pool_.push_back(std::move(batch));
        }
        next.batches.clear();
        next.ready = false;
        ++emit_next_;
        stop_ |= done_;
        room_.notify_all();
      }
      emitting_ = false;
      if (stop_) {
        return;
      }
    }
  }

  // Hands a slot's records on. Called by one thread at a time (the emitting one).
  void Emit(Slot& slot) {
    scan_.rows_scanned += slot.scan.rows_scanned;
    scan_.rows_matched += slot.scan.rows_matched;
    scan_.damaged += slot.scan.damaged;
    slot.scan = ScanStats{};
    for (std::string& warning : slot.warnings) {
      if (warnings_.empty() || warnings_.back() != warning) {  // one per segment, not per block
        warnings_.push_back(std::move(warning));
      }
    }
    slot.warnings.clear();
    for (std::unique_ptr<flow::FlowBatch>& batch : slot.batches) {
      if (!done_) {
        EmitBatch(*batch);
      }
      batch->Clear();
    }
  }

  void EmitBatch(const flow::FlowBatch& batch) {
    std::size_t count = batch.size();
    const std::uint32_t* rows = every_row_.data();
    if (ordered_) {
      AddTotals(totals_, batch, rows, count);
      Collect(batch, count);
      return;
    }
    const std::size_t limit = shape_->spec->limit;
    if (limit > 0 && count > remaining_) {
      count = remaining_;
    }
    AddTotals(totals_, batch, rows, count);
    if (!sink_->Consume(batch, std::span<const std::uint32_t>(rows, count))) {
      done_ = true;
    }
    if (limit > 0) {
      remaining_ -= count;
      done_ |= remaining_ == 0;
    }
  }

  void Collect(const flow::FlowBatch& batch, std::size_t count) {
    for (std::size_t row = 0; row < count; ++row) {
      if (collected_.empty() || collected_.back()->full()) {
        const std::size_t bytes = sizeof(flow::FlowColumns) + flow::FlowBatch::kMaxArenaBytes +
                                  flow::FlowBatch::kCapacity * sizeof(Entry);
        if (!budget_->Reserve(bytes)) {
          exhausted_ = true;
          done_ = true;
          return;
        }
        reserved_ += bytes;
        collected_.push_back(std::make_unique<flow::FlowBatch>());
      }
      const std::size_t copied = collected_.back()->AppendCopyOf(batch, row);
      entries_.push_back({static_cast<std::uint32_t>(collected_.size() - 1),
                          static_cast<std::uint32_t>(copied)});
    }
  }

  const Shape* shape_;
  const Plan* plan_;
  std::span<const FieldId> select_fields_;
  std::span<const FieldId> fields_;
  RecordSink* sink_;
  MemoryBudget* budget_;
  const std::vector<std::uint32_t> every_row_;
  std::atomic<std::size_t> next_{0};

  std::mutex mu_;
  std::condition_variable room_;  // signalled when emit_next_ advances or stop_ is set
  std::size_t emit_next_ = 0;     // guarded by mu_: the work item to hand on next
  bool emitting_ = false;         // guarded by mu_: a thread is handing items on
  bool stop_ = false;             // guarded by mu_
  std::vector<std::unique_ptr<flow::FlowBatch>> pool_;  // guarded by mu_
  std::optional<Error> fatal_;                          // guarded by mu_
  // Slot i % kInFlight belongs to the thread reading item i until it is ready, then to
  // the emitting thread (ownership passes under mu_).
  std::vector<Slot> slots_;

  // Touched by the emitting thread only.
  std::size_t remaining_;
  bool ordered_;
  bool done_ = false;  // limit reached, sink stopped, or out of budget
  bool exhausted_ = false;
  std::size_t reserved_ = 0;
  std::vector<std::unique_ptr<flow::FlowBatch>> collected_;
  std::vector<Entry> entries_;
  Aggregate totals_;
  ScanStats scan_;
  std::vector<std::string> warnings_;
};

// Reads work items into `state` until none is left or `stop` is set.
void ScanLoop(const Plan& plan, std::span<const FieldId> select_fields,
              std::span<const FieldId> fields, std::size_t threads, std::atomic<std::size_t>& next,
              std::atomic<std::uint64_t>& rows_scanned, std::atomic<bool>& stop, ScanState& state) {
  Selector selector(*state.shape());
  ItemReader reader;
  while (!stop.load(std::memory_order_relaxed)) {
    const std::size_t item_idx = next.fetch_add(1, std::memory_order_relaxed);
    if (item_idx >= plan.items.size()) {
      break;
    }
    if (Cancelled(plan)) {
      state.fatal() = Error(ErrorCode::kCancelled, "the query was cancelled or ran past its time limit");
      stop.store(true);
      break;
    }
    const std::uint64_t scanned_before = state.scan().rows_scanned;
    Status read = reader.Read(plan, plan.items[item_idx], select_fields, selector, fields, state,
                              state.scan(), state.warnings(), state.dictionary());
    state.FinishBlock();
    const std::uint64_t scanned = state.scan().rows_scanned - scanned_before;
    const std::uint64_t scanned_by_all = rows_scanned.fetch_add(scanned, std::memory_order_relaxed) + scanned;
    if (!plan.reads_rollups) {
      // A summary or roll-up holds each key once per file: its rows look like new groups
      // although the files share most keys, and would make the estimate far too large.
      state.PresizeGroups(plan.rows, threads, scanned_by_all);
    }
    if (!read) {
      state.fatal() = read.error();
      stop.store(true);
      break;
    }
    if (state.done()) {
      stop.store(true);
      break;
    }
  }
}

void AddScan(ScanStats& into, const ScanStats& from) {
  into.rows_scanned += from.rows_scanned;
  into.rows_matched += from.rows_matched;
  into.damaged += from.damaged;
}

Status BuildSeries(const Shape& shape, const GroupTable& series, MemoryBudget& budget,
                   std::vector<SeriesPoint>& out) {
  const KeyCodec& group_codec = shape.bucket_group;
  const std::size_t group_words = group_codec.words();
  constexpr std::uint32_t kOther = UINT32_MAX;
  struct Entry {
    std::uint64_t bucket;
    std::uint32_t rank;
    std::uint32_t entry;
  };
  std::vector<Entry> entries;
  entries.reserve(series.size());
  if (group_words == 0) {
    for (std::size_t entry = 0; entry < series.size(); ++entry) {
      entries.push_back({series.key(entry)[0], 0, static_cast<std::uint32_t>(entry)});
    }
  } else {
    // Each group's bytes over every bucket rank the groups; those past bucket_group_top
    // are summed as "other" in each bucket.
    GroupTable totals(group_words, &budget);
    for (std::size_t entry = 0; entry < series.size(); ++entry) {
      if (!totals.AddAggregate(series.key(entry) + 1, series.aggregate(entry))) {
        return MakeError(ErrorCode::kResourceExhausted, MemoryMessage(budget.limit()));
      }
    }
    const std::vector<std::uint32_t> top =
        internal::TopGroups(totals, OrderBy::kBytes, shape.spec->bucket_group_top);
    std::vector<std::uint32_t> rank_of(totals.size(), kOther);
    for (std::size_t rank = 0; rank < top.size(); ++rank) {
      rank_of[top[rank]] = static_cast<std::uint32_t>(rank);
    }
    for (std::size_t entry = 0; entry < series.size(); ++entry) {
      const std::size_t group = totals.Find(series.key(entry) + 1);
      entries.push_back({series.key(entry)[0], rank_of[group], static_cast<std::uint32_t>(entry)});
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.bucket != b.bucket) {
      return a.bucket < b.bucket;
    }
    if (a.rank != b.rank) {
      return a.rank < b.rank;
    }
    return a.entry < b.entry;
  });
  for (std::size_t idx = 0; idx < entries.size(); ++idx) {
    const Entry& entry = entries[idx];
    SeriesPoint point;
    point.bucket_start_ms = static_cast<std::int64_t>(entry.bucket ^ kSignFlip);
    if (entry.rank != kOther) {
      point.group = group_codec.Decode(series.key(entry.entry) + 1);
      point.counters = internal::ToCounters(series.aggregate(entry.entry));
    } else {
      Aggregate other;
      while (idx < entries.size() && entries[idx].bucket == entry.bucket) {
        internal::MergeInto(other, series.aggregate(entries[idx].entry));
        ++idx;
      }
      --idx;
      point.other = true;
      point.counters = internal::ToCounters(other);
    }
    out.push_back(std::move(point));
  }
  return OkStatus();
}

// One pass of the engine over the plan's blocks.
Result<QueryResult> RunScan(const QuerySpec& spec, RecordSink* records) {
  const auto started = std::chrono::steady_clock::now();
  auto filter = Filter::Parse(spec.filter);
  if (!filter) {
    return tl::unexpected(filter.error().ToError());
  }
  if (spec.window && spec.window->from_ms > spec.window->to_ms) {
    return MakeError(ErrorCode::kInvalidArgument, "the time window ends before it starts");
  }
  Result<Shape> shape = MakeShape(spec, *filter, records != nullptr);
  if (!shape) {
    return tl::unexpected(shape.error());
  }
  QueryResult result;
  std::size_t threads = spec.threads;
  if (threads == 0) {
    threads = std::max<std::size_t>(1, std::thread::hardware_concurrency());
  }
  Result<Plan> plan = MakePlan(spec, ChooseSummaries(spec, *shape, *filter), *filter, threads, result);
  if (!plan) {
    return tl::unexpected(plan.error());
  }
  plan->deadline = spec.deadline;
  plan->cancel = spec.cancel;
  const std::vector<FieldId> fields = NeededFields(spec, *shape, *filter, records);
  const std::vector<FieldId> select_fields = SelectFields(spec, *filter);
  MemoryBudget budget(spec.memory_budget_bytes);
  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> rows_scanned{0};  // by every scan thread
  std::atomic<bool> stop{false};

  threads = std::clamp<std::size_t>(threads, 1, std::max<std::size_t>(1, plan->items.size()));
  if (shape->listing) {
    ParallelListing listing(*shape, *plan, select_fields, fields, records, budget);
    listing.Run(threads);
    if (listing.fatal()) {
      return tl::unexpected(*listing.fatal());
    }
    if (listing.exhausted()) {
      return MakeError(ErrorCode::kResourceExhausted,
                       "the records to sort need more than the memory budget of " +
                           std::to_string(budget.limit()) + " bytes; add a limit or narrow the query");
    }
    if (spec.order) {
      listing.EmitOrdered();
    }
    result.totals = internal::ToCounters(listing.totals());
    AddScan(result.scan, listing.scan());
    result.warnings.insert(result.warnings.end(), listing.warnings().begin(), listing.warnings().end());
    result.scan.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
  }

  std::vector<std::unique_ptr<ScanState>> states;
  for (std::size_t thread_idx = 0; thread_idx < threads; ++thread_idx) {
    states.push_back(std::make_unique<ScanState>(*shape, *plan, budget,
                                                 thread_idx == 0 ? nullptr : states[0].get()));
  }
  {
    std::vector<std::thread> workers;
    for (std::size_t thread_idx = 1; thread_idx < threads; ++thread_idx) {
      workers.emplace_back(
          [&, thread_idx] { ScanLoop(*plan, select_fields, fields, threads, next, rows_scanned, stop, *states[thread_idx]); });
    }
    ScanLoop(*plan, select_fields, fields, threads, next, rows_scanned, stop, *states[0]);
    for (std::thread& worker : workers) {
      worker.join();
    }
  }
  for (const auto& state : states) {
    if (state->fatal()) {
      return tl::unexpected(*state->fatal());
    }
  }
  bool exhausted = false;
  ScanState& merged = *states[0];
  for (std::size_t thread_idx = 0; thread_idx < threads; ++thread_idx) {
    ScanState& state = *states[thread_idx];
    exhausted |= state.exhausted();
    AddScan(result.scan, state.scan());
    result.warnings.insert(result.warnings.end(), state.warnings().begin(), state.warnings().end());
    if (thread_idx > 0) {
      internal::MergeInto(merged.totals(), state.totals());
    }
  }
  if (exhausted) {
    return MakeError(ErrorCode::kResourceExhausted, GroupMemoryMessage(states, budget.limit()));
  }
  std::sort(result.warnings.begin(), result.warnings.end());
  result.totals = internal::ToCounters(merged.totals());

  // The threads' statistics and aggregation, partition by partition on every thread; the
  // top rows of each partition are the candidates for the top rows of all.
  std::size_t aggregate_n = spec.order ? spec.top_n : 0;
  if (spec.limit > 0) {
    aggregate_n = aggregate_n == 0 ? spec.limit : std::min(aggregate_n, spec.limit);
  }
  const OrderBy aggregate_order = spec.order.value_or(OrderBy::kTstart);
  constexpr std::size_t kPartitions = internal::PartitionedGroups::kPartitions;
  using Candidates = std::vector<internal::PartitionedGroups::Candidate>;
  std::vector<std::array<Candidates, kPartitions>> stat_candidates(spec.stats.size());
  std::array<Candidates, kPartitions> aggregate_candidates;
  // Partitions are merged alike: once one thread's groups are spread, every thread's are.
  auto spread_alike = [&](auto groups_of) {
    bool any = false;
    for (std::size_t thread_idx = 0; thread_idx < threads; ++thread_idx) {
      any |= groups_of(*states[thread_idx]).spread();
    }
    bool ok = true;
    for (std::size_t thread_idx = 0; any && thread_idx < threads; ++thread_idx) {
      ok &= groups_of(*states[thread_idx]).MakeSpread();
    }
    return ok;
  };
  bool spread_ok = true;
  for (std::size_t stat_idx = 0; stat_idx < merged.stats().size(); ++stat_idx) {
    spread_ok &= spread_alike([stat_idx](ScanState& state) -> PartitionedGroups& {
      return *state.stats()[stat_idx];
    });
  }
  if (merged.aggregate()) {
    spread_ok &= spread_alike([](ScanState& state) -> PartitionedGroups& { return *state.aggregate(); });
  }
  if (!spread_ok) {
    return MakeError(ErrorCode::kResourceExhausted, GroupMemoryMessage(states, budget.limit()));
  }
  {
    std::atomic<std::size_t> next_partition{0};
    std::atomic<bool> merge_failed{false};
    auto merge_loop = [&] {
      for (;;) {
        const std::size_t partition = next_partition.fetch_add(1, std::memory_order_relaxed);
        if (partition >= kPartitions) {
          return;
        }
        for (std::size_t stat_idx = 0; stat_idx < merged.stats().size(); ++stat_idx) {
          for (std::size_t thread_idx = 1; thread_idx < threads; ++thread_idx) {
            if (!merged.stats()[stat_idx]->MergePartition(*states[thread_idx]->stats()[stat_idx], partition)) {
              merge_failed.store(true);
              return;
            }
          }
          stat_candidates[stat_idx][partition] = merged.stats()[stat_idx]->TopOfPartition(
              partition, shape->stats[stat_idx].order, spec.top_n);
        }
        if (merged.aggregate()) {
          for (std::size_t thread_idx = 1; thread_idx < threads; ++thread_idx) {
            if (!merged.aggregate()->MergePartition(*states[thread_idx]->aggregate(), partition)) {
              merge_failed.store(true);
              return;
            }
          }
          aggregate_candidates[partition] =
              merged.aggregate()->TopOfPartition(partition, aggregate_order, aggregate_n);
        }
      }
    };
    std::vector<std::thread> workers;
    for (std::size_t thread_idx = 1; thread_idx < threads; ++thread_idx) {
      workers.emplace_back(merge_loop);
    }
    merge_loop();
    for (std::thread& worker : workers) {
      worker.join();
    }
    if (merge_failed.load()) {
      return MakeError(ErrorCode::kResourceExhausted, GroupMemoryMessage(states, budget.limit()));
    }
  }
  auto concat = [](std::array<Candidates, kPartitions>& parts) {
    Candidates all;
    for (Candidates& part : parts) {
      std::move(part.begin(), part.end(), std::back_inserter(all));
      Candidates().swap(part);
    }
    return all;
  };
  for (std::size_t stat_idx = 0; stat_idx < spec.stats.size(); ++stat_idx) {
    StatTable stat;
    stat.spec = shape->stats[stat_idx];
    stat.rows = internal::TopRows(concat(stat_candidates[stat_idx]), shape->stat_keys[stat_idx],
                                  stat.spec.order, spec.top_n);
    stat.distinct = merged.stats()[stat_idx]->size();
    stat.total = result.totals;
    result.stats.push_back(std::move(stat));
  }
  if (merged.aggregate()) {
    result.aggregated = internal::TopRows(concat(aggregate_candidates), shape->aggregate_key,
                                          aggregate_order, aggregate_n);
  }
  // The series tables are small (one entry per bucket and group).
  for (std::size_t thread_idx = 0; thread_idx < threads && merged.series(); ++thread_idx) {
    if (!states[thread_idx]->FinishSeries()) {
      return MakeError(ErrorCode::kResourceExhausted, MemoryMessage(budget.limit()));
    }
  }
  for (std::size_t thread_idx = 1; thread_idx < threads && merged.series(); ++thread_idx) {
    if (!merged.series()->Merge(*states[thread_idx]->series())) {
      return MakeError(ErrorCode::kResourceExhausted, MemoryMessage(budget.limit()));
    }
  }
  for (std::size_t thread_idx = 1; thread_idx < threads; ++thread_idx) {
    states[thread_idx].reset();
  }
  if (merged.series()) {
    if (Status built = BuildSeries(*shape, *merged.series(), budget, result.series); !built) {
      return tl::unexpected(built.error());
    }
  }
  result.scan.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace

Result<QueryResult> RunQuery(const QuerySpec& spec, RecordSink* records) {
  if (records == nullptr && AnswersByThreshold(spec)) {
    return RunTopByThreshold(spec, [](const QuerySpec& pass) { return RunScan(pass, nullptr); });
  }
  return RunScan(spec, records);
}

}  // namespace sluice::query
