// SPDX-License-Identifier: Apache-2.0

#include "query/group_table.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <utility>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "common/check.h"
#include "flow/field.h"
#include "store/columns.h"

namespace sluice::query::internal {
namespace {

constexpr std::size_t kInitialGroups = 32;
// How many rows ahead AddRows() and AddAggregates() prefetch a group's words.
constexpr std::size_t kAhead = 8;

std::uint64_t LoadBigEndian64(const std::uint8_t* bytes) {
  std::uint64_t value;
  std::memcpy(&value, bytes, sizeof value);
  return __builtin_bswap64(value);
}

void StoreBigEndian64(std::uint64_t value, std::uint8_t* bytes) {
  value = __builtin_bswap64(value);
  std::memcpy(bytes, &value, sizeof value);
}

// Keeps the top `bits` of a 64-bit word (0..64).
std::uint64_t HighBits(std::uint64_t word, unsigned bits) {
  if (bits >= 64) {
    return word;
  }
  if (bits == 0) {
    return 0;
  }
  return word & (~std::uint64_t{0} << (64 - bits));
}

std::uint64_t Mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

double Rate(std::uint64_t amount, const Aggregate& agg, double scale) {
  const std::int64_t duration_ms = agg.first == 0 ? 0 : agg.last - agg.first;
  if (duration_ms <= 0) {
    return 0;
  }
  return static_cast<double>(amount) * scale * 1000.0 / static_cast<double>(duration_ms);
}

}  // namespace

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

}  // namespace

std::shared_ptr<void> AllocateTableMemory(std::size_t bytes_wanted) {
  if (bytes_wanted < kHugePage) {
    void* memory = std::calloc(1, bytes_wanted);
    SLUICE_CHECK(memory != nullptr, "out of memory for a group table");
    return std::shared_ptr<void>(memory, [](void* p) { std::free(p); });
  }
  // Mapped with a huge page to spare, then cut to a 2 MiB boundary at both ends.
  const std::size_t bytes = (bytes_wanted + kHugePage - 1) / kHugePage * kHugePage;
  void* mapped = ::mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  SLUICE_CHECK(mapped != MAP_FAILED, "out of memory for a group table");
  const auto start = reinterpret_cast<std::uintptr_t>(mapped);
  const std::uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) {
    ::munmap(mapped, aligned - start);
  }
  const std::uintptr_t tail = aligned + bytes;
  if (tail < start + bytes + kHugePage) {
    ::munmap(reinterpret_cast<void*>(tail), start + bytes + kHugePage - tail);
  }
  void* memory = reinterpret_cast<void*>(aligned);
  ::madvise(memory, bytes, MADV_HUGEPAGE);  // a hint: without it the table still works
  return std::shared_ptr<void>(memory, [bytes](void* p) { ::munmap(p, bytes); });
}

void PopulateTableMemory(void* memory, std::size_t bytes) {
#ifdef MADV_POPULATE_WRITE
  if (memory != nullptr && bytes >= kHugePage) {
    // Only whole mapped pages: the mapping is a multiple of kHugePage from `memory`.
    (void)::madvise(memory, (bytes + kHugePage - 1) / kHugePage * kHugePage, MADV_POPULATE_WRITE);
  }
#else
  (void)memory;
  (void)bytes;
#endif
}

bool MemoryBudget::Reserve(std::size_t bytes) {
  std::size_t used = used_.load(std::memory_order_relaxed);
  do {
    if (bytes > limit_ || used > limit_ - bytes) {
      return false;
    }
  } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  return true;
}

Result<KeyCodec> KeyCodec::Make(std::span<const KeyField> key) {
  KeyCodec codec;
  for (const KeyField& field : key) {
    if (static_cast<std::size_t>(field.field) >= flow::kFieldCount) {
      return MakeError(ErrorCode::kInvalidArgument, "unknown key field");
    }
    const flow::FieldType type = flow::Info(field.field).type;
    if (type == flow::FieldType::kString) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "cannot group by the text field " + std::string(flow::Info(field.field).name));
    }
    Part part;
    part.field = field.field;
    part.v4_prefix = std::min<std::uint8_t>(field.v4_prefix, 32);
    part.v6_prefix = std::min<std::uint8_t>(field.v6_prefix, 128);
    part.address = type == flow::FieldType::kIpAddress;
    if (field.flow_mask && field.field == flow::FieldId::kSrcAddr) {
      part.mask_field = static_cast<std::size_t>(flow::FieldId::kSrcMask);
    } else if (field.flow_mask && field.field == flow::FieldId::kDstAddr) {
      part.mask_field = static_cast<std::size_t>(flow::FieldId::kDstMask);
    }
    part.unspecified_as_v4 =
        field.field == flow::FieldId::kNextHop || field.field == flow::FieldId::kBgpNextHop;
    part.offset = codec.words_;
    codec.words_ += part.address ? 2 : 1;
    codec.parts_.push_back(part);
  }
  // The compact layout: parts from the high bits down, a new word when one does not fit.
  unsigned used = 64;  // bits used in the current compact word (64: start a new one)
  for (Part& part : codec.parts_) {
    unsigned bits = 64;
    switch (flow::Info(part.field).type) {
      case flow::FieldType::kIpAddress:
      case flow::FieldType::kUint32:
        bits = 32;
        break;
      case flow::FieldType::kUint8:
        bits = 8;
        break;
      case flow::FieldType::kUint16:
      case flow::FieldType::kCountry:
        bits = 16;
        break;
      default:
        bits = 64;
        break;
    }
    if (used + bits > 64) {
      ++codec.narrow_words_;
      used = 0;
    }
    part.narrow_word = codec.narrow_words_ - 1;
    part.narrow_bits = bits;
    used += bits;
    part.narrow_shift = 64 - used;
  }
  return codec;
}

bool KeyCodec::Narrow(const std::uint64_t* key, std::uint64_t* narrow) const {
  std::fill(narrow, narrow + narrow_words_, 0);
  for (const Part& part : parts_) {
    std::uint64_t value = key[part.offset];
    if (part.address) {
      const std::uint64_t lo = key[part.offset + 1];
      if (value != 0 || (lo >> 32) != 0xffffu) {
        return false;
      }
      value = lo & 0xffffffffu;
    }
    narrow[part.narrow_word] |= part.narrow_bits == 64 ? value : value << part.narrow_shift;
  }
  return true;
}

void KeyCodec::Widen(const std::uint64_t* narrow, std::uint64_t* key) const {
  for (const Part& part : parts_) {
    const std::uint64_t word = narrow[part.narrow_word];
    const std::uint64_t value =
        part.narrow_bits == 64 ? word : (word >> part.narrow_shift) & ((std::uint64_t{1} << part.narrow_bits) - 1);
    if (part.address) {
      key[part.offset] = 0;
      key[part.offset + 1] = (std::uint64_t{0xffffu} << 32) | value;
    } else {
      key[part.offset] = value;
    }
  }
}

void KeyCodec::Encode(const flow::FlowBatch& batch, const std::uint32_t* rows, std::size_t count,
                      std::uint64_t* out, std::size_t stride, std::size_t offset) const {
  for (const Part& part : parts_) {
    std::uint64_t* dest = out + offset + part.offset;
    store::VisitColumn(static_cast<std::size_t>(part.field), [&](auto member) {
      const auto& column = batch.cols().*member;
      using T = std::decay_t<decltype(column[0])>;
      if constexpr (std::is_same_v<T, flow::IpAddress>) {
        const std::uint8_t* masks = part.mask_field == flow::kFieldCount
                                        ? nullptr
                                        : part.mask_field == static_cast<std::size_t>(flow::FieldId::kSrcMask)
                                              ? batch.cols().src_mask.data()
                                              : batch.cols().dst_mask.data();
        for (std::size_t i = 0; i < count; ++i) {
          const flow::IpAddress& address = column[rows[i]];
          std::uint64_t hi = LoadBigEndian64(address.bytes.data());
          std::uint64_t lo = LoadBigEndian64(address.bytes.data() + 8);
          unsigned v4_bits = part.v4_prefix;
          unsigned v6_bits = part.v6_prefix;
          if (masks != nullptr) {
            // The flow's own mask (0: none, the whole address); the shorter cut wins.
            const unsigned mask = masks[rows[i]];
            if (mask != 0) {
              v4_bits = std::min(v4_bits, mask);
              v6_bits = std::min(v6_bits, mask);
            }
          }
          if (part.unspecified_as_v4 && hi == 0 && lo == 0) {
            lo = std::uint64_t{0xffffu} << 32;
          }
          if (hi == 0 && (lo >> 32) == 0xffffu) {
            const std::uint64_t v4_mask =
                v4_bits == 0 ? 0 : (std::uint64_t{0xffffffffu} << (32 - v4_bits)) & 0xffffffffu;
            lo = (std::uint64_t{0xffffu} << 32) | (lo & v4_mask);
          } else if (v6_bits >= 64) {
            lo = HighBits(lo, v6_bits - 64);
          } else {
            hi = HighBits(hi, v6_bits);
            lo = 0;
          }
          dest[i * stride] = hi;
          dest[i * stride + 1] = lo;
        }
      } else if constexpr (std::is_same_v<T, flow::StringRef>) {
        // Refused by Make().
      } else if constexpr (std::is_signed_v<T>) {
        for (std::size_t i = 0; i < count; ++i) {
          dest[i * stride] = static_cast<std::uint64_t>(column[rows[i]]);
        }
      } else {
        for (std::size_t i = 0; i < count; ++i) {
          dest[i * stride] = column[rows[i]];
        }
      }
    });
  }
}

std::vector<KeyValue> KeyCodec::Decode(const std::uint64_t* key) const {
  std::vector<KeyValue> values(parts_.size());
  for (std::size_t part_idx = 0; part_idx < parts_.size(); ++part_idx) {
    const Part& part = parts_[part_idx];
    if (part.address) {
      StoreBigEndian64(key[part.offset], values[part_idx].address.bytes.data());
      StoreBigEndian64(key[part.offset + 1], values[part_idx].address.bytes.data() + 8);
    } else {
      values[part_idx].number = key[part.offset];
    }
  }
  return values;
}

Counters ToCounters(const Aggregate& agg) {
  Counters counters;
  counters.flows = agg.flows;
  counters.packets = agg.packets;
  counters.bytes = agg.bytes;
  counters.first_ms = agg.first;
  counters.last_ms = agg.last;
  return counters;
}

GroupTable::GroupTable(std::size_t key_words, MemoryBudget* budget, TimeCoding times)
    : key_words_(key_words == 0 ? 1 : key_words),
      times_(times),
      stride_(key_words_ + (times.packed ? kPackedValueWords : kValueWords)),
      budget_(budget),
      hashes_(flow::FlowBatch::kCapacity) {}

GroupTable::~GroupTable() {
  budget_->Release(reserved_bytes_);
}

std::uint64_t GroupTable::Hash(const std::uint64_t* key, std::size_t words) {
  std::uint64_t hash = 0x9e3779b97f4a7c15ULL * words;
  for (std::size_t word_idx = 0; word_idx < words; ++word_idx) {
    hash = (hash ^ key[word_idx]) * 0x9e3779b97f4a7c15ULL;
    hash ^= hash >> 29;
  }
  return Mix(hash);
}

bool GroupTable::Grow() {
  const std::size_t new_capacity = group_capacity_ == 0 ? kInitialGroups : group_capacity_ * 2;
  if (!GrowTo(new_capacity)) {
    failed_ = true;
    return false;
  }
  return true;
}

bool GroupTable::Reserve(std::size_t groups) {
  if (failed_ || groups <= group_capacity_) {
    return !failed_;
  }
  return GrowTo(groups);  // exactly: neither array needs a power of two
}

bool GroupTable::GrowTo(std::size_t new_capacity) {
  // At most two slots in three used when the table is full. A group number must fit in
  // 31 bits with a tag bit to spare (2^31 groups would be far past any budget anyway).
  const std::size_t new_slots = new_capacity + new_capacity / 2 + 1;
  if (new_capacity >= (std::size_t{1} << 31) || new_slots > (std::size_t{1} << 32)) {
    return false;
  }
  const std::size_t new_bytes =
      new_capacity * stride_ * sizeof(std::uint64_t) + new_slots * sizeof(std::uint32_t);
  // The old arrays live until the new ones are filled: both are reserved meanwhile.
  if (!budget_->Reserve(new_bytes)) {
    return false;
  }
  WordArray data(new_capacity * stride_);
  if (!data_.empty()) {
    std::memcpy(data.data(), data_.data(), group_count_ * stride_ * sizeof(std::uint64_t));
  }
  data_ = std::move(data);
  // The slots are filled again from the groups' keys: a slot keeps too few of its hash's
  // bits to find its place in a table of another size.
  slots_ = TableArray<std::uint32_t>(new_slots);
  index_bits_ = static_cast<unsigned>(std::bit_width(new_capacity));
  index_mask_ = static_cast<std::uint32_t>((std::uint64_t{1} << index_bits_) - 1);
  for (std::size_t group = 0; group < group_count_; ++group) {
    const std::uint64_t hash = Hash(key(group), key_words_);
    std::size_t pos = Home(hash);
    while (slots_[pos] != 0) {
      pos = NextSlot(pos);
    }
    slots_[pos] = (Tag(hash) << index_bits_) | static_cast<std::uint32_t>(group + 1);
  }
  budget_->Release(reserved_bytes_);
  reserved_bytes_ = new_bytes;
  group_capacity_ = new_capacity;
  return true;
}

std::size_t GroupTable::Find(const std::uint64_t* key) const {
  if (slots_.empty()) {
    return SIZE_MAX;
  }
  const std::uint64_t hash = Hash(key, key_words_);
  const std::uint32_t tag = Tag(hash);
  for (std::size_t pos = Home(hash);; pos = NextSlot(pos)) {
    const std::uint32_t slot = slots_[pos];
    if (slot == 0) {
      return SIZE_MAX;
    }
    if ((slot >> index_bits_) == tag && SameKey(GroupIn(slot), key)) {
      return GroupIn(slot);
    }
  }
}

std::size_t GroupTable::FindOrInsert(const std::uint64_t* key, std::uint64_t hash) {
  std::size_t pos = 0;
  if (!slots_.empty()) {
    const std::uint32_t tag = Tag(hash);
    for (pos = Home(hash);; pos = NextSlot(pos)) {
      const std::uint32_t slot = slots_[pos];
      if (slot == 0) {
        break;
      }
      if ((slot >> index_bits_) == tag && SameKey(GroupIn(slot), key)) {
        return GroupIn(slot);
      }
    }
  }
  if (group_count_ == group_capacity_) {
    if (!Grow()) {
      return SIZE_MAX;
    }
    pos = Home(hash);
    while (slots_[pos] != 0) {
      pos = NextSlot(pos);
    }
  }
  const std::size_t group = group_count_++;
  slots_[pos] = (Tag(hash) << index_bits_) | static_cast<std::uint32_t>(group + 1);
  std::uint64_t* stored = data_.data() + group * stride_;
  std::copy(key, key + key_words_, stored);
  std::fill(stored + key_words_, stored + stride_, 0);
  return group;
}

void GroupTable::HashAndPrefetch(const std::uint64_t* keys, std::size_t count) {
  if (hashes_.size() < count) {
    hashes_.resize(count);
  }
  for (std::size_t i = 0; i < count; ++i) {
    hashes_[i] = Hash(keys + i * key_words_, key_words_);
    if (!slots_.empty()) {
      __builtin_prefetch(&slots_[Home(hashes_[i])]);
    }
  }
}

void GroupTable::Prefetch(std::uint64_t hash) const {
  const std::uint32_t slot = slots_[Home(hash)];
  if (slot != 0) {
    __builtin_prefetch(data_.data() + GroupIn(slot) * stride_);
  }
}

bool GroupTable::AddRows(const std::uint64_t* keys, const flow::FlowBatch& batch,
                         const std::uint32_t* rows, std::size_t count) {
  return times_.packed ? AddRowsCoded<true>(keys, batch, rows, count)
                       : AddRowsCoded<false>(keys, batch, rows, count);
}

template <bool kPacked>
bool GroupTable::AddRowsCoded(const std::uint64_t* keys, const flow::FlowBatch& batch,
                              const std::uint32_t* rows, std::size_t count) {
  if (failed_) {
    return false;
  }
  // While probing row i, prefetch the group that row i + kAhead's slot names, so the two
  // cache misses of a lookup overlap others.
  HashAndPrefetch(keys, count);
  const flow::FlowColumns& cols = batch.cols();
  for (std::size_t i = 0; i < count; ++i) {
    if (i + kAhead < count && !slots_.empty()) {
      Prefetch(hashes_[i + kAhead]);
    }
    const std::size_t group = FindOrInsert(keys + i * key_words_, hashes_[i]);
    if (group == SIZE_MAX) {
      return false;
    }
    const std::uint32_t row = rows[i];
    std::uint64_t* values = data_.data() + group * stride_ + key_words_;
    values[kFlowsWord] = SaturatingAdd(values[kFlowsWord], cols.flows[row]);
    values[kPacketsWord] = SaturatingAdd(values[kPacketsWord], cols.packets[row]);
    values[kBytesWord] = SaturatingAdd(values[kBytesWord], cols.bytes[row]);
    if constexpr (kPacked) {
      // Packed times keep the order of the times (0 stays lowest), so the rules are those
      // below: the least first that is not 0, the greatest last.
      const std::uint64_t first = times_.Pack(cols.first[row]);
      const std::uint64_t last = times_.Pack(cols.last[row]);
      std::uint64_t stored_first = values[kTimesWord] >> 32;
      std::uint64_t stored_last = values[kTimesWord] & 0xffffffffu;
      if (first != 0 && (stored_first == 0 || first < stored_first)) {
        stored_first = first;
      }
      stored_last = std::max(stored_last, last);
      values[kTimesWord] = stored_first << 32 | stored_last;
    } else {
      const std::int64_t first = cols.first[row];
      const auto stored_first = static_cast<std::int64_t>(values[kFirstWord]);
      if (first != 0 && (stored_first == 0 || first < stored_first)) {
        values[kFirstWord] = static_cast<std::uint64_t>(first);
      }
      if (cols.last[row] > static_cast<std::int64_t>(values[kLastWord])) {
        values[kLastWord] = static_cast<std::uint64_t>(cols.last[row]);
      }
    }
  }
  return true;
}

bool GroupTable::AddAggregates(const std::uint64_t* keys, const Aggregate* aggs,
                               const std::uint32_t* picks, std::size_t count) {
  if (failed_) {
    return false;
  }
  HashAndPrefetch(keys, count);
  for (std::size_t i = 0; i < count; ++i) {
    if (i + kAhead < count && !slots_.empty()) {
      Prefetch(hashes_[i + kAhead]);
    }
    const std::size_t group = FindOrInsert(keys + i * key_words_, hashes_[i]);
    if (group == SIZE_MAX) {
      return false;
    }
    MergeAggregate(group, aggs[picks[i]]);
  }
  return true;
}

void GroupTable::MergeAggregate(std::size_t group, const Aggregate& agg) {
  Aggregate merged = aggregate(group);
  MergeInto(merged, agg);
  std::uint64_t* values = data_.data() + group * stride_ + key_words_;
  values[kFlowsWord] = merged.flows;
  values[kPacketsWord] = merged.packets;
  values[kBytesWord] = merged.bytes;
  if (times_.packed) {
    values[kTimesWord] = times_.Pack(merged.first) << 32 | times_.Pack(merged.last);
  } else {
    values[kFirstWord] = static_cast<std::uint64_t>(merged.first);
    values[kLastWord] = static_cast<std::uint64_t>(merged.last);
  }
}

bool GroupTable::AddAggregate(const std::uint64_t* key, const Aggregate& agg) {
  if (failed_) {
    return false;
  }
  const std::size_t group = FindOrInsert(key);
  if (group == SIZE_MAX) {
    return false;
  }
  MergeAggregate(group, agg);
  return true;
}

bool GroupTable::Merge(const GroupTable& other) {
  if (failed_) {
    return false;
  }
  for (std::size_t group = 0; group < other.size(); ++group) {
    const std::size_t into = FindOrInsert(other.key(group));
    if (into == SIZE_MAX) {
      return false;
    }
    MergeAggregate(into, other.aggregate(group));
  }
  return true;
}

int CompareAggregates(const Aggregate& x, const Aggregate& y, OrderBy order) {
  auto descending = [](auto vx, auto vy) { return vx > vy ? -1 : (vx < vy ? 1 : 0); };
  auto ascending = [](auto vx, auto vy) { return vx < vy ? -1 : (vx > vy ? 1 : 0); };
  switch (order) {
    case OrderBy::kFlows:
      return descending(x.flows, y.flows);
    case OrderBy::kPackets:
      return descending(x.packets, y.packets);
    case OrderBy::kBytes:
      return descending(x.bytes, y.bytes);
    case OrderBy::kPps:
      return descending(Rate(x.packets, x, 1), Rate(y.packets, y, 1));
    case OrderBy::kBps:
      return descending(Rate(x.bytes, x, 8), Rate(y.bytes, y, 8));
    case OrderBy::kBpp: {
      const double bx = x.packets == 0 ? 0 : static_cast<double>(x.bytes) / static_cast<double>(x.packets);
      const double by = y.packets == 0 ? 0 : static_cast<double>(y.bytes) / static_cast<double>(y.packets);
      return descending(bx, by);
    }
    case OrderBy::kTstart:
      return ascending(x.first, y.first);
    case OrderBy::kTend:
      return ascending(x.last, y.last);
  }
  return 0;
}

bool GroupBefore(const GroupTable& table, std::size_t a, std::size_t b, OrderBy order) {
  const int cmp = CompareAggregates(table.aggregate(a), table.aggregate(b), order);
  if (cmp != 0) {
    return cmp < 0;
  }
  const std::uint64_t* ka = table.key(a);
  const std::uint64_t* kb = table.key(b);
  return std::lexicographical_compare(ka, ka + table.key_words(), kb, kb + table.key_words());
}

std::vector<std::uint32_t> TopGroups(const GroupTable& table, OrderBy order, std::size_t n) {
  std::vector<std::uint32_t> groups(table.size());
  for (std::size_t group = 0; group < groups.size(); ++group) {
    groups[group] = static_cast<std::uint32_t>(group);
  }
  auto before = [&](std::uint32_t a, std::uint32_t b) { return GroupBefore(table, a, b, order); };
  if (n == 0 || n >= groups.size()) {
    std::sort(groups.begin(), groups.end(), before);
    return groups;
  }
  std::partial_sort(groups.begin(), groups.begin() + static_cast<std::ptrdiff_t>(n), groups.end(), before);
  groups.resize(n);
  return groups;
}

}  // namespace sluice::query::internal
