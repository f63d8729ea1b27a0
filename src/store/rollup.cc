// SPDX-License-Identifier: Apache-2.0

#include "store/rollup.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <utility>

#include "flow/flow_sink.h"
#include "store/segment_reader.h"

namespace sluice::store {
namespace {

// The key fields, then the summed counters and the flow times.
constexpr std::array<flow::FieldId, 5> kValueFields = {
    flow::FieldId::kBytes, flow::FieldId::kPackets, flow::FieldId::kFlows, flow::FieldId::kFirst,
    flow::FieldId::kLast};

// Byte offsets of the key fields in the packed key (addresses first, then by width).
constexpr std::size_t kExporterAt = 0;
constexpr std::size_t kSrcAddrAt = 16;
constexpr std::size_t kDstAddrAt = 32;
constexpr std::size_t kNextHopAt = 48;
constexpr std::size_t kObsDomainAt = 64;
constexpr std::size_t kInIfAt = 68;
constexpr std::size_t kOutIfAt = 72;
constexpr std::size_t kSrcAsAt = 76;
constexpr std::size_t kDstAsAt = 80;
constexpr std::size_t kSamplingRateAt = 84;
constexpr std::size_t kSrcPortAt = 88;
constexpr std::size_t kDstPortAt = 90;
constexpr std::size_t kSrcCountryAt = 92;
constexpr std::size_t kDstCountryAt = 94;
constexpr std::size_t kProtoAt = 96;
constexpr std::size_t kTosAt = 97;
constexpr std::size_t kSrcMaskAt = 98;
constexpr std::size_t kDstMaskAt = 99;
constexpr std::size_t kDirectionAt = 100;
constexpr std::size_t kKeyBytes = 101;

// Where key field `field` lies in the packed key: {offset, width}; {0, 0} if it is none.
std::pair<std::size_t, std::size_t> KeyRange(flow::FieldId field) {
  using flow::FieldId;
  switch (field) {
    case FieldId::kExporter: return {kExporterAt, 16};
    case FieldId::kSrcAddr: return {kSrcAddrAt, 16};
    case FieldId::kDstAddr: return {kDstAddrAt, 16};
    case FieldId::kNextHop: return {kNextHopAt, 16};
    case FieldId::kObsDomain: return {kObsDomainAt, 4};
    case FieldId::kInIf: return {kInIfAt, 4};
    case FieldId::kOutIf: return {kOutIfAt, 4};
    case FieldId::kSrcAs: return {kSrcAsAt, 4};
    case FieldId::kDstAs: return {kDstAsAt, 4};
    case FieldId::kSamplingRate: return {kSamplingRateAt, 4};
    case FieldId::kSrcPort: return {kSrcPortAt, 2};
    case FieldId::kDstPort: return {kDstPortAt, 2};
    case FieldId::kSrcCountry: return {kSrcCountryAt, 2};
    case FieldId::kDstCountry: return {kDstCountryAt, 2};
    case FieldId::kProto: return {kProtoAt, 1};
    case FieldId::kTos: return {kTosAt, 1};
    case FieldId::kSrcMask: return {kSrcMaskAt, 1};
    case FieldId::kDstMask: return {kDstMaskAt, 1};
    case FieldId::kDirection: return {kDirectionAt, 1};
    default: return {0, 0};
  }
}

std::uint64_t SaturatingAdd(std::uint64_t a, std::uint64_t b) {
  const std::uint64_t sum = a + b;
  return sum < a ? std::numeric_limits<std::uint64_t>::max() : sum;
}

std::uint64_t Mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// True for errors that mean the detail segment's bytes are bad (skip it), as opposed to
// the file being unreadable right now (retry the whole roll-up later).
bool IsDamage(const Error& error) {
  return error.Code() == ErrorCode::kCorruption || error.Code() == ErrorCode::kUnsupported ||
         error.Code() == ErrorCode::kMalformed;
}

// What a TableSink does when its table is full and a row needs a new group.
enum class WhenFull : std::uint8_t {
  kDrain,   // drain the table into the writer (a key may then get a row in each drain)
  kStop,    // stop with an error; overflowed() tells
  kFreeze,  // keep the groups held and skip rows of other keys
  kShrink,  // narrow the table's key range (RollupTable::ShrinkToLowerHalf)
};

// Feeds the rows a SegmentReader hands out into a RollupTable.
class TableSink final : public flow::FlowSink {
 public:
  TableSink(RollupTable& table, SegmentWriter& writer, UnixMillis hour_start,
            WhenFull when_full = WhenFull::kDrain)
      : table_(&table), writer_(&writer), hour_start_(hour_start), when_full_(when_full) {}

  void Consume(flow::FlowBatch& batch) override {
    if (!status_) {
      return;
    }
    std::size_t row = 0;
    while (row < batch.size()) {
      row = table_->Add(batch, row);
      if (row == batch.size()) {
        break;
      }
      switch (when_full_) {
        case WhenFull::kDrain:
          writer_->DropUniqueKeys();
          rows_written_ += table_->size();
          if (Status drained = table_->DrainTo(hour_start_, *writer_); !drained) {
            status_ = std::move(drained);
            return;
          }
          break;
        case WhenFull::kStop:
          overflowed_ = true;
          status_ = MakeError(ErrorCode::kResourceExhausted, "roll-up: more groups than allowed");
          return;
        case WhenFull::kFreeze:
          table_->Freeze();
          break;
        case WhenFull::kShrink:
          table_->ShrinkToLowerHalf();
          break;
      }
    }
    rows_added_ += batch.size();
  }

  bool overflowed() const { return overflowed_; }

  // Drains what the table still holds.
  Status Finish() {
    if (!status_) {
      return status_;
    }
    rows_written_ += table_->size();
    return table_->DrainTo(hour_start_, *writer_);
  }

  const Status& status() const { return status_; }

  std::uint64_t rows_added() const { return rows_added_; }

  std::uint64_t rows_written() const { return rows_written_; }

 private:
  RollupTable* table_;
  SegmentWriter* writer_;
  UnixMillis hour_start_;
  WhenFull when_full_;
  bool overflowed_ = false;
  Status status_;
  std::uint64_t rows_added_ = 0;
  std::uint64_t rows_written_ = 0;
};

// Hands every batch to several sinks.
class FanOutSink final : public flow::FlowSink {
 public:
  explicit FanOutSink(std::vector<TableSink*> sinks) : sinks_(std::move(sinks)) {}

  void Consume(flow::FlowBatch& batch) override {
    for (TableSink* sink : sinks_) {
      sink->Consume(batch);
    }
  }

 private:
  std::vector<TableSink*> sinks_;
};

}  // namespace

Result<SummaryResult> BuildSummaries(const SummarySpec& spec) {
  SummaryResult result;
  const std::size_t count = spec.summaries.size();
  std::vector<std::unique_ptr<SegmentWriter>> writers;
  std::vector<std::unique_ptr<RollupTable>> tables;
  std::vector<std::unique_ptr<TableSink>> sinks;
  std::vector<TableSink*> sink_ptrs;
  std::vector<flow::FieldId> input_fields;
  for (std::size_t idx = 0; idx < count; ++idx) {
    const RollupShape& shape = kSummaryShapes[spec.summaries[idx]];
    const SegmentWriterOptions options = RollupWriterOptions(shape, spec.writer_options);
    auto writer = SegmentWriter::Create(spec.paths[idx], options);
    if (!writer) {
      return tl::unexpected(writer.error());
    }
    writers.push_back(std::move(*writer));
    tables.push_back(
        std::make_unique<RollupTable>(spec.max_groups, shape, kTopHeadBlocks * options.rows_per_block));
    sinks.push_back(std::make_unique<TableSink>(*tables.back(), *writers.back(), spec.slot_start));
    sink_ptrs.push_back(sinks.back().get());
    for (const flow::FieldId field : RollupInputFields(shape)) {
      if (std::find(input_fields.begin(), input_fields.end(), field) == input_fields.end()) {
        input_fields.push_back(field);
      }
    }
  }
  FanOutSink fan_out(sink_ptrs);
  auto failed_sink = [&]() -> const Status* {
    for (const auto& sink : sinks) {
      if (!sink->status()) {
        return &sink->status();
      }
    }
    return nullptr;
  };
  auto reader = SegmentReader::Open(spec.segment);
  if (!reader) {
    if (!IsDamage(reader.error())) {
      return tl::unexpected(reader.error());
    }
    result.damaged = reader.error();
    return result;
  }
  for (std::size_t block_idx = 0; block_idx < (*reader)->blocks().size(); ++block_idx) {
    if (spec.stop != nullptr && spec.stop->load(std::memory_order_relaxed)) {
      return MakeError(ErrorCode::kResourceExhausted, spec.segment + ": stopped (shutting down)");
    }
    Status read = (*reader)->ReadBlock(block_idx, input_fields, fan_out);
    if (const Status* status = failed_sink()) {
      return tl::unexpected(status->error());
    }
    if (!read) {
      if (!IsDamage(read.error())) {
        return tl::unexpected(read.error());
      }
      result.damaged = read.error();
      return result;
    }
  }
  for (std::size_t idx = 0; idx < count; ++idx) {
    if (Status drained = sinks[idx]->Finish(); !drained) {
      return tl::unexpected(drained.error());
    }
    if (Status finished = writers[idx]->Finish(); !finished) {
      return tl::unexpected(finished.error());
    }
    result.rows.push_back(sinks[idx]->rows_written());
  }
  result.input_rows = count == 0 ? 0 : sinks.front()->rows_added();
  return result;
}

SegmentWriterOptions RollupWriterOptions(const RollupShape& shape, SegmentWriterOptions options) {
  if (shape.order != RowOrder::kAny) {
    options.rows_per_block = std::min(options.rows_per_block, kTopListBlockRows);
    options.cluster_rows = 0;  // clustering would reorder the rows
  }
  // One row per key (a key by minute of `first` is not all in the row's columns), as long
  // as the table is drained once (TableSink says otherwise).
  options.unique_keys = shape.first_bucket_ms == 0;
  return options;
}

std::vector<flow::FieldId> RollupInputFields(const RollupShape& shape) {
  std::vector<flow::FieldId> fields(shape.key.begin(), shape.key.end());
  for (const flow::FieldId value : kValueFields) {
    if (std::find(fields.begin(), fields.end(), value) == fields.end()) {
      fields.push_back(value);
    }
  }
  return fields;
}

RollupTable::RollupTable(std::size_t max_groups, const RollupShape& shape, std::size_t head_rows)
    : max_groups_(std::clamp<std::size_t>(max_groups, 1, kMaxGroups)),
      first_bucket_ms_(std::max<UnixMillis>(shape.first_bucket_ms, 0)),
      order_(shape.key.empty() ? RowOrder::kAny : shape.order),
      order_field_at_(shape.key.empty() ? 0 : KeyRange(shape.key.back()).first),
      order_field_width_(shape.key.empty() ? 0 : KeyRange(shape.key.back()).second),
      head_rows_(head_rows),
      slots_(1024, 0) {
  alignas(8) std::array<std::uint8_t, kKeyWords * 8> mask{};
  for (const flow::FieldId field : shape.key) {
    const auto [offset, width] = KeyRange(field);
    std::fill_n(mask.begin() + static_cast<std::ptrdiff_t>(offset), width, std::uint8_t{0xff});
  }
  std::memcpy(key_mask_.data(), mask.data(), sizeof key_mask_);
  for (std::size_t word = 0; word < kKeyWords; ++word) {
    if (key_mask_[word] != 0 || (word == kKeyWords - 1 && first_bucket_ms_ > 0)) {
      active_[active_count_++] = static_cast<std::uint8_t>(word);
    }
  }
}

std::uint64_t RollupTable::Hash(const Key& key) const {
  std::uint64_t hash = 0;
  for (std::size_t idx = 0; idx < active_count_; ++idx) {
    hash = Mix(hash ^ key[active_[idx]]) + 0x9e3779b97f4a7c15ULL;
  }
  return hash;
}

bool RollupTable::SameKey(const Key& a, const Key& b) const {
  for (std::size_t idx = 0; idx < active_count_; ++idx) {
    if (a[active_[idx]] != b[active_[idx]]) {
      return false;
    }
  }
  return true;
}

void RollupTable::Grow() {
  std::vector<std::uint64_t> slots(slots_.size() * 2, 0);
  const std::size_t mask = slots.size() - 1;
  for (const std::uint64_t slot : slots_) {
    if (slot == 0) {
      continue;
    }
    // The position comes from the tag the slot keeps, so no group is touched.
    std::size_t pos = static_cast<std::size_t>(slot >> 32) & mask;
    while (slots[pos] != 0) {
      pos = (pos + 1) & mask;
    }
    slots[pos] = slot;
  }
  slots_ = std::move(slots);
}

std::size_t RollupTable::Add(const flow::FlowBatch& batch, std::size_t begin) {
  const flow::FlowColumns& c = batch.cols();
  alignas(8) std::array<std::uint8_t, kKeyWords * 8> packed{};
  for (std::size_t row = begin; row < batch.size(); ++row) {
    std::memcpy(&packed[kExporterAt], c.exporter[row].bytes.data(), 16);
    std::memcpy(&packed[kSrcAddrAt], c.src_addr[row].bytes.data(), 16);
    std::memcpy(&packed[kDstAddrAt], c.dst_addr[row].bytes.data(), 16);
    std::memcpy(&packed[kNextHopAt], c.next_hop[row].bytes.data(), 16);
    std::memcpy(&packed[kObsDomainAt], &c.obs_domain[row], 4);
    std::memcpy(&packed[kInIfAt], &c.in_if[row], 4);
    std::memcpy(&packed[kOutIfAt], &c.out_if[row], 4);
    std::memcpy(&packed[kSrcAsAt], &c.src_as[row], 4);
    std::memcpy(&packed[kDstAsAt], &c.dst_as[row], 4);
    std::memcpy(&packed[kSamplingRateAt], &c.sampling_rate[row], 4);
    std::memcpy(&packed[kSrcPortAt], &c.src_port[row], 2);
    std::memcpy(&packed[kDstPortAt], &c.dst_port[row], 2);
    std::memcpy(&packed[kSrcCountryAt], &c.src_country[row], 2);
    std::memcpy(&packed[kDstCountryAt], &c.dst_country[row], 2);
    packed[kProtoAt] = c.proto[row];
    packed[kTosAt] = c.tos[row];
    packed[kSrcMaskAt] = c.src_mask[row];
    packed[kDstMaskAt] = c.dst_mask[row];
    packed[kDirectionAt] = c.direction[row];
    Key key;
    std::memcpy(key.data(), packed.data(), sizeof key);
    for (std::size_t word = 0; word < kKeyWords; ++word) {
      key[word] &= key_mask_[word];
    }
    if (first_bucket_ms_ > 0 && c.first[row] > 0) {
      key[kKeyWords - 1] = static_cast<std::uint64_t>(c.first[row] / first_bucket_ms_) + 1;
    }
    if ((has_lo_ && KeyLess(key, lo_)) || (has_hi_ && !KeyLess(key, hi_))) {
      continue;
    }
    const std::uint64_t hash = Hash(key);
    if (skip_ != nullptr && skip_->Find(key, hash) != nullptr) {
      continue;
    }
    const std::uint64_t tag = hash & 0xffffffff00000000ULL;
    const std::size_t pos = Probe(key, hash);
    if (slots_[pos] == 0) {
      if (frozen_) {
        continue;
      }
      if (full()) {
        return row;
      }
      if ((group_count_ >> kChunkShift) == chunks_.size()) {
        chunks_.push_back(std::make_unique<Group[]>(kChunkGroups));
      }
      At(group_count_) =
          Group{key, c.bytes[row], c.packets[row], c.flows[row], c.first[row], c.last[row]};
      ++group_count_;
      slots_[pos] = tag | static_cast<std::uint64_t>(group_count_);
      if (group_count_ * 2 > slots_.size()) {
        Grow();
      }
      continue;
    }
    Group* group = &At(static_cast<std::size_t>(slots_[pos] & 0xffffffffu) - 1);
    group->bytes = SaturatingAdd(group->bytes, c.bytes[row]);
    group->packets = SaturatingAdd(group->packets, c.packets[row]);
    group->flows = SaturatingAdd(group->flows, c.flows[row]);
    // A `first` of 0 is unset (a record without times), not the oldest time.
    const std::int64_t first = c.first[row];
    if (first != 0 && (group->first == 0 || first < group->first)) {
      group->first = first;
    }
    group->last = std::max(group->last, c.last[row]);
  }
  return batch.size();
}

std::size_t RollupTable::Probe(const Key& key, std::uint64_t hash) const {
  const std::uint64_t tag = hash & 0xffffffff00000000ULL;
  const std::size_t mask = slots_.size() - 1;
  std::size_t pos = static_cast<std::size_t>(hash >> 32) & mask;
  while (slots_[pos] != 0) {
    const std::uint64_t slot = slots_[pos];
    if ((slot & 0xffffffff00000000ULL) == tag &&
        SameKey(At(static_cast<std::size_t>(slot & 0xffffffffu) - 1).key, key)) {
      return pos;
    }
    pos = (pos + 1) & mask;
  }
  return pos;
}

const RollupTable::Group* RollupTable::Find(const Key& key, std::uint64_t hash) const {
  const std::uint64_t slot = slots_[Probe(key, hash)];
  return slot == 0 ? nullptr : &At(static_cast<std::size_t>(slot & 0xffffffffu) - 1);
}

bool RollupTable::KeyLess(const Key& a, const Key& b) const {
  const auto* ka = reinterpret_cast<const std::uint8_t*>(a.data());
  const auto* kb = reinterpret_cast<const std::uint8_t*>(b.data());
  if (order_field_width_ == 16) {
    if (const int cmp = std::memcmp(ka + order_field_at_, kb + order_field_at_, 16); cmp != 0) {
      return cmp < 0;
    }
  } else {
    std::uint64_t a_value = 0;
    std::uint64_t b_value = 0;
    std::memcpy(&a_value, ka + order_field_at_, order_field_width_);
    std::memcpy(&b_value, kb + order_field_at_, order_field_width_);
    if (a_value != b_value) {
      return a_value < b_value;
    }
  }
  return std::memcmp(ka, kb, kKeyWords * 8) < 0;
}

std::vector<std::uint32_t> RollupTable::GroupIndexes() const {
  std::vector<std::uint32_t> indexes(group_count_);
  std::iota(indexes.begin(), indexes.end(), std::uint32_t{0});
  return indexes;
}

void RollupTable::KeepOnly(std::vector<std::uint32_t> kept) {
  std::sort(kept.begin(), kept.end());
  // Ascending, so that each group moves down to a place already vacated or its own.
  for (std::size_t idx = 0; idx < kept.size(); ++idx) {
    if (kept[idx] != idx) {
      At(idx) = At(kept[idx]);
    }
  }
  group_count_ = kept.size();
  std::fill(slots_.begin(), slots_.end(), 0);
  for (std::size_t idx = 0; idx < group_count_; ++idx) {
    const std::uint64_t hash = Hash(At(idx).key);
    slots_[Probe(At(idx).key, hash)] =
        (hash & 0xffffffff00000000ULL) | static_cast<std::uint64_t>(idx + 1);
  }
}

void RollupTable::ShrinkToLowerHalf() {
  std::vector<std::uint32_t> order = GroupIndexes();
  const std::size_t keep = group_count_ / 2;
  const auto middle = order.begin() + static_cast<std::ptrdiff_t>(keep);
  std::nth_element(order.begin(), middle, order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return KeyLess(At(a).key, At(b).key); });
  hi_ = At(*middle).key;
  has_hi_ = true;
  order.resize(keep);
  KeepOnly(std::move(order));
}

void RollupTable::KeepMostBytes(std::size_t count) {
  if (count >= group_count_) {
    return;
  }
  std::vector<std::uint32_t> order = GroupIndexes();
  std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(count), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) {
                     const Group& ga = At(a);
                     const Group& gb = At(b);
                     return ga.bytes != gb.bytes ? ga.bytes > gb.bytes : KeyLess(ga.key, gb.key);
                   });
  order.resize(count);
  KeepOnly(std::move(order));
}

void RollupTable::ResetCounters() {
  for (std::size_t idx = 0; idx < group_count_; ++idx) {
    Group& group = At(idx);
    group.bytes = 0;
    group.packets = 0;
    group.flows = 0;
    group.first = 0;
    group.last = 0;
  }
}

void RollupTable::NextRange() {
  lo_ = hi_;
  has_lo_ = has_hi_;
  has_hi_ = false;
}

std::vector<std::uint32_t> RollupTable::DrainOrder() {
  std::vector<std::uint32_t> order = GroupIndexes();
  if (order_ == RowOrder::kAny) {
    return order;
  }
  // Ties of bytes go by key, so that the file is the same whatever the hash order.
  auto key_less = [&](std::uint32_t a, std::uint32_t b) { return KeyLess(At(a).key, At(b).key); };
  if (order_ == RowOrder::kByLastKeyField) {
    std::sort(order.begin(), order.end(), key_less);
    return order;
  }
  auto more_bytes = [&](std::uint32_t a, std::uint32_t b) {
    const std::uint64_t bytes_a = At(a).bytes;
    const std::uint64_t bytes_b = At(b).bytes;
    return bytes_a != bytes_b ? bytes_a > bytes_b : key_less(a, b);
  };
  const auto head = static_cast<std::ptrdiff_t>(std::min(head_rows_, order.size()));
  std::nth_element(order.begin(), order.begin() + head, order.end(), more_bytes);
  std::sort(order.begin(), order.begin() + head, more_bytes);
  std::sort(order.begin() + head, order.end(), key_less);
  return order;
}

Status RollupTable::DrainTo(UnixMillis hour_start, SegmentWriter& writer) {
  if (Status written = WriteTo(hour_start, writer); !written) {
    return written;
  }
  group_count_ = 0;  // the chunks stay allocated for the next groups
  std::fill(slots_.begin(), slots_.end(), 0);
  return OkStatus();
}

Status RollupTable::WriteTo(UnixMillis hour_start, SegmentWriter& writer) {
  static_assert(kKeyBytes <= kKeyWords * 8);
  out_.Clear();
  alignas(8) std::array<std::uint8_t, kKeyWords * 8> packed{};
  for (const std::uint32_t group_idx : DrainOrder()) {
    const Group& group = At(group_idx);
    if (out_.full()) {
      if (Status appended = writer.Append(out_); !appended) {
        return appended;
      }
      out_.Clear();
    }
    const std::size_t row = out_.AppendRow();
    flow::FlowColumns& c = out_.cols();
    std::memcpy(packed.data(), group.key.data(), packed.size());
    std::memcpy(c.exporter[row].bytes.data(), &packed[kExporterAt], 16);
    std::memcpy(c.src_addr[row].bytes.data(), &packed[kSrcAddrAt], 16);
    std::memcpy(c.dst_addr[row].bytes.data(), &packed[kDstAddrAt], 16);
    std::memcpy(c.next_hop[row].bytes.data(), &packed[kNextHopAt], 16);
    std::memcpy(&c.obs_domain[row], &packed[kObsDomainAt], 4);
    std::memcpy(&c.in_if[row], &packed[kInIfAt], 4);
    std::memcpy(&c.out_if[row], &packed[kOutIfAt], 4);
    std::memcpy(&c.src_as[row], &packed[kSrcAsAt], 4);
    std::memcpy(&c.dst_as[row], &packed[kDstAsAt], 4);
    std::memcpy(&c.sampling_rate[row], &packed[kSamplingRateAt], 4);
    std::memcpy(&c.src_port[row], &packed[kSrcPortAt], 2);
    std::memcpy(&c.dst_port[row], &packed[kDstPortAt], 2);
    std::memcpy(&c.src_country[row], &packed[kSrcCountryAt], 2);
    std::memcpy(&c.dst_country[row], &packed[kDstCountryAt], 2);
    c.proto[row] = packed[kProtoAt];
    c.tos[row] = packed[kTosAt];
    c.src_mask[row] = packed[kSrcMaskAt];
    c.dst_mask[row] = packed[kDstMaskAt];
    c.direction[row] = packed[kDirectionAt];
    c.time_received[row] = hour_start;
    c.first[row] = group.first;
    c.last[row] = group.last;
    c.bytes[row] = group.bytes;
    c.packets[row] = group.packets;
    c.flows[row] = group.flows;
  }
  if (!out_.empty()) {
    if (Status appended = writer.Append(out_); !appended) {
      return appended;
    }
    out_.Clear();
  }
  return OkStatus();
}

namespace {

enum class ReadOutcome : std::uint8_t {
  kDone,
  kStartOver,  // a damaged segment was left out after some of its rows were added
};

// Reads the blocks of spec.segments (all, or the first `max_blocks` of each) that
// `excluded` does not leave out into `sink`; a damaged segment becomes excluded and goes
// into result.skipped. Counts the segments read in result.segments_read.
Result<ReadOutcome> ReadSegments(const RollupSpec& spec, std::span<const flow::FieldId> fields,
                                 std::size_t max_blocks, std::vector<bool>& excluded,
                                 TableSink& sink, RollupResult& result) {
  result.segments_read = 0;
  for (std::size_t segment_idx = 0; segment_idx < spec.segments.size(); ++segment_idx) {
    if (excluded[segment_idx]) {
      continue;
    }
    const std::string& path = spec.segments[segment_idx];
    auto reader = SegmentReader::Open(path);
    if (!reader) {
      if (!IsDamage(reader.error())) {
        return tl::unexpected(reader.error());
      }
      excluded[segment_idx] = true;
      result.skipped.push_back(reader.error());
      continue;
    }
    const std::uint64_t rows_before = sink.rows_added();
    const std::size_t blocks = std::min(max_blocks, (*reader)->blocks().size());
    for (std::size_t block_idx = 0; block_idx < blocks; ++block_idx) {
      if (spec.stop != nullptr && spec.stop->load(std::memory_order_relaxed)) {
        return MakeError(ErrorCode::kResourceExhausted, spec.path + ": stopped (shutting down)");
      }
      Status read = (*reader)->ReadBlock(block_idx, fields, sink);
      if (!sink.status()) {
        return tl::unexpected(sink.status().error());
      }
      if (!read) {
        if (!IsDamage(read.error())) {
          return tl::unexpected(read.error());
        }
        excluded[segment_idx] = true;
        result.skipped.push_back(read.error());
        if (sink.rows_added() != rows_before) {
          return ReadOutcome::kStartOver;
        }
        break;
      }
    }
    if (!excluded[segment_idx]) {
      ++result.segments_read;
    }
  }
  return ReadOutcome::kDone;
}

constexpr std::size_t kAllBlocks = std::numeric_limits<std::size_t>::max();

// True for the shapes whose roll-up keeps one row per key however many keys there are
// (BuildRanged), rather than draining its table in runs.
bool BuildsInRanges(const RollupShape& shape) {
  return shape.order == RowOrder::kHeadByBytesThenKey && shape.first_bucket_ms == 0;
}

// One read of the segments into one table, drained into the writer whenever it fills
// (or, with WhenFull::kStop, giving up: `overflowed`). False: start over, a segment
// turned out damaged half-way.
Result<bool> BuildInOneRead(const RollupSpec& spec, WhenFull when_full, std::vector<bool>& excluded,
                            RollupResult& result, bool& overflowed) {
  const std::vector<flow::FieldId> input_fields = RollupInputFields(spec.shape);
  const SegmentWriterOptions options = RollupWriterOptions(spec.shape, spec.writer_options);
  auto writer = SegmentWriter::Create(spec.path, options);
  if (!writer) {
    return tl::unexpected(writer.error());
  }
  RollupTable table(spec.max_groups, spec.shape, kTopHeadBlocks * options.rows_per_block);
  TableSink sink(table, **writer, spec.hour_start, when_full);
  Result<ReadOutcome> read = ReadSegments(spec, input_fields, kAllBlocks, excluded, sink, result);
  if (!read) {
    overflowed = sink.overflowed();
    return tl::unexpected(read.error());
  }
  if (*read == ReadOutcome::kStartOver) {
    return false;
  }
  if (Status drained = sink.Finish(); !drained) {
    return tl::unexpected(drained.error());
  }
  if (Status finished = (*writer)->Finish(); !finished) {
    return tl::unexpected(finished.error());
  }
  result.input_rows = sink.rows_added();
  result.rows = sink.rows_written();
  return true;
}

// A roll-up of more keys than one table may hold, with one row per key and a head of the
// keys of most bytes (RowOrder::kHeadByBytesThenKey), in several reads of the segments:
//   1. the keys of the segments' own heads (their first kTopHeadBlocks blocks) are the
//      candidates for the head; a read of everything sums their rows, and the head is the
//      candidates of most bytes, written first;
//   2. then every other key, range by range in key order: a read of everything aggregates
//      the keys from where the last range ended; when the table fills, it keeps the lower
//      half of its keys and the range ends there (RollupTable::ShrinkToLowerHalf).
// The memory bound is spec.max_groups groups, a quarter for the candidates. False: start
// over, a segment turned out damaged.
Result<bool> BuildRanged(const RollupSpec& spec, std::vector<bool>& excluded, RollupResult& result) {
  const std::vector<flow::FieldId> input_fields = RollupInputFields(spec.shape);
  const SegmentWriterOptions options = RollupWriterOptions(spec.shape, spec.writer_options);
  auto writer = SegmentWriter::Create(spec.path, options);
  if (!writer) {
    return tl::unexpected(writer.error());
  }
  const std::size_t skipped_before = result.skipped.size();
  auto read_all = [&](TableSink& sink, std::size_t max_blocks) -> Result<bool> {
    Result<ReadOutcome> read = ReadSegments(spec, input_fields, max_blocks, excluded, sink, result);
    if (!read) {
      return tl::unexpected(read.error());
    }
    // A segment left out now may have rows in what an earlier read wrote.
    return result.skipped.size() == skipped_before;
  };
  const std::size_t max_groups = std::max<std::size_t>(spec.max_groups, 8);
  const std::size_t head_rows = kTopHeadBlocks * options.rows_per_block;
  RollupTable head(max_groups / 4, spec.shape, std::numeric_limits<std::size_t>::max());
  TableSink head_sink(head, **writer, spec.hour_start, WhenFull::kFreeze);
  Result<bool> read = read_all(head_sink, kTopHeadBlocks);  // the candidates' keys
  if (read && *read) {
    head.ResetCounters();
    head.Freeze();
    const std::uint64_t candidate_rows = head_sink.rows_added();
    read = read_all(head_sink, kAllBlocks);  // their sums
    result.input_rows = head_sink.rows_added() - candidate_rows;
  }
  if (!read) {
    return tl::unexpected(read.error());
  }
  if (!*read) {
    return false;
  }
  head.KeepMostBytes(head_rows);
  if (Status written = head.WriteTo(spec.hour_start, **writer); !written) {
    return tl::unexpected(written.error());
  }
  result.rows = head.size();
  RollupTable tail(max_groups - max_groups / 4, spec.shape, /*head_rows=*/0);
  tail.SkipKeysOf(&head);
  TableSink tail_sink(tail, **writer, spec.hour_start, WhenFull::kShrink);
  for (;;) {
    read = read_all(tail_sink, kAllBlocks);
    if (!read) {
      return tl::unexpected(read.error());
    }
    if (!*read) {
      return false;
    }
    const bool more = tail.range_bounded();
    result.rows += tail.size();
    if (Status drained = tail.DrainTo(spec.hour_start, **writer); !drained) {
      return tl::unexpected(drained.error());
    }
    if (!more) {
      break;
    }
    tail.NextRange();
  }
  if (Status finished = (*writer)->Finish(); !finished) {
    return tl::unexpected(finished.error());
  }
  return true;
}

}  // namespace

Result<RollupResult> BuildRollup(const RollupSpec& spec) {
  std::vector<bool> excluded(spec.segments.size(), false);
  RollupResult result;
  bool ranged = false;
  // Each try either succeeds, or leaves out one more damaged segment, or (once) turns to
  // reading in ranges, so this ends.
  for (;;) {
    Result<bool> built;
    if (ranged) {
      built = BuildRanged(spec, excluded, result);
    } else {
      bool overflowed = false;
      const WhenFull when_full = BuildsInRanges(spec.shape) ? WhenFull::kStop : WhenFull::kDrain;
      built = BuildInOneRead(spec, when_full, excluded, result, overflowed);
      if (!built && overflowed) {
        ranged = true;
        continue;
      }
    }
    if (!built) {
      return tl::unexpected(built.error());
    }
    if (*built) {
      return result;
    }
  }
}

}  // namespace sluice::store
