// SPDX-License-Identifier: Apache-2.0
// The engine's aggregation building blocks (internal to query/):
//   - MemoryBudget: bytes reserved by every group table of one query, across threads;
//   - KeyCodec: a KeyField list encoded into a fixed number of 64-bit words per row,
//     column at a time over a batch's selection (addresses cut to their prefix);
//   - GroupTable: open-addressing hash table over those keys, summing counters, with no
//     allocation per row (it grows by doubling, each growth reserved in the budget);
//   - TopGroups: the first N groups of a table in an OrderBy, without sorting them all.

#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/result.h"
#include "flow/flow_batch.h"
#include "query/query_result.h"
#include "query/query_spec.h"

namespace sluice::query::internal {

// Thread-safety: Reserve/Release may be called from any thread.
class MemoryBudget {
 public:
  explicit MemoryBudget(std::size_t limit_bytes) : limit_(limit_bytes) {}

  // Adds `bytes` to the use; false (and nothing added) if that would exceed the limit.
  bool Reserve(std::size_t bytes);
  void Release(std::size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  std::size_t used() const { return used_.load(std::memory_order_relaxed); }
  std::size_t limit() const { return limit_; }

 private:
  std::size_t limit_;
  std::atomic<std::size_t> used_{0};
};

// A key of fixed width: one word per integer or time field, two per address (its 16
// bytes as two big-endian words, so word order is address order). Thread-safety: const.
class KeyCodec {
 public:
  // kInvalidArgument for a field that cannot be a key (strings).
  static Result<KeyCodec> Make(std::span<const KeyField> key);

  KeyCodec() = default;

  std::size_t words() const { return words_; }
  bool empty() const { return parts_.empty(); }

  // For each i < count, writes the key of row rows[i] of `batch` at out + (i * stride +
  // offset). REQUIRES: stride >= offset + words().
  void Encode(const flow::FlowBatch& batch, const std::uint32_t* rows, std::size_t count,
              std::uint64_t* out, std::size_t stride, std::size_t offset) const;

  // The KeyValues of an encoded key (words() words at `key`).
  std::vector<KeyValue> Decode(const std::uint64_t* key) const;

  // The compact form of a key whose addresses are all IPv4: each part in as many bits as
  // its type has (an address in 32), packed from the high bits of each word and never
  // across a word, so that its words compare like the full key's. narrow_words() words.
  std::size_t narrow_words() const { return narrow_words_; }

  // Writes the compact form of the full key `key` to `narrow`; false (writing nothing
  // useful) if an address part is not IPv4.
  bool Narrow(const std::uint64_t* key, std::uint64_t* narrow) const;

  // The full key (words() words) of a compact one.
  void Widen(const std::uint64_t* narrow, std::uint64_t* key) const;

  // For a key of one address part cut to a fixed prefix (not by each flow's own mask):
  // its field; else nullopt. Its key is then a function of the address alone.
  std::optional<flow::FieldId> single_address_field() const {
    if (parts_.size() == 1 && parts_[0].address && parts_[0].mask_field == flow::kFieldCount) {
      return parts_[0].field;
    }
    return std::nullopt;
  }

  // For a key of one integer part of at most 16 bits (a port, the protocol, ...): the
  // number of values it can take (its one word is below that); else 0.
  std::size_t small_domain() const {
    return parts_.size() == 1 && !parts_[0].address && parts_[0].narrow_bits <= 16
               ? std::size_t{1} << parts_[0].narrow_bits
               : 0;
  }

 private:
  struct Part {
    flow::FieldId field{};
    std::uint8_t v4_prefix = 32;
    std::uint8_t v6_prefix = 128;
    bool address = false;
    // flow_mask: the column holding each row's own prefix length (src_mask for src_addr,
    // dst_mask for dst_addr), else kFieldCount.
    std::size_t mask_field = flow::kFieldCount;
    // next_hop, bgp_next_hop: `::` (no next hop element) keys as 0.0.0.0, as nfdump
    // counts a record without a next hop under 0.0.0.0.
    bool unspecified_as_v4 = false;
    std::size_t offset = 0;  // first word
    // The compact form: word, shift of the part's lowest bit, and bits.
    std::size_t narrow_word = 0;
    unsigned narrow_shift = 0;
    unsigned narrow_bits = 64;
  };

  std::vector<Part> parts_;
  std::size_t words_ = 0;
  std::size_t narrow_words_ = 0;
};

// The sums kept per group. first: the smallest non-zero `first` (0 if none), like the
// store's roll-ups; last: the largest `last`. Sums saturate at 2^64-1.
struct Aggregate {
  std::uint64_t flows = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::int64_t first = 0;
  std::int64_t last = 0;
};

inline std::uint64_t SaturatingAdd(std::uint64_t a, std::uint64_t b) {
  std::uint64_t sum;
  return __builtin_add_overflow(a, b, &sum) ? ~std::uint64_t{0} : sum;
}

inline void AddTimes(Aggregate& agg, std::int64_t first, std::int64_t last) {
  if (first != 0 && (agg.first == 0 || first < agg.first)) {
    agg.first = first;
  }
  if (last > agg.last) {
    agg.last = last;
  }
}

inline void MergeInto(Aggregate& into, const Aggregate& from) {
  into.flows = SaturatingAdd(into.flows, from.flows);
  into.packets = SaturatingAdd(into.packets, from.packets);
  into.bytes = SaturatingAdd(into.bytes, from.bytes);
  AddTimes(into, from.first, from.last);
}

Counters ToCounters(const Aggregate& agg);

// Memory for a large hash table's array, always zeroed. At least 2 MiB: mapped anonymous
// memory (zero as the kernel hands it over, with no pass of ours), aligned to 2 MiB and
// marked for transparent huge pages (a random probe then misses the TLB far less often,
// and filling it takes 1/512 of the page faults). Smaller: from the heap, cleared. Never
// null (a failed allocation stops the process: the MemoryBudget is what keeps tables
// bounded). The memory is freed when the last copy of the returned pointer goes.
std::shared_ptr<void> AllocateTableMemory(std::size_t bytes);

// Faults in `bytes` of memory from AllocateTableMemory() at `memory`, writable, without
// writing to it (MADV_POPULATE_WRITE): the first writes then take no page faults. Its
// contents are unchanged, so another thread may use the memory meanwhile. Does nothing
// for heap memory or where the kernel cannot.
void PopulateTableMemory(void* memory, std::size_t bytes);

// An array of T (an unsigned integer type), zeroed, in memory from AllocateTableMemory().
// Ownership: shares its memory with the holders of memory(). Thread-safety: none.
template <typename T>
class TableArray {
 public:
  TableArray() = default;
  explicit TableArray(std::size_t size)
      : memory_(size == 0 ? nullptr : AllocateTableMemory(size * sizeof(T))),
        items_(static_cast<T*>(memory_.get())), size_(size) {}
  TableArray(TableArray&& other) noexcept
      : memory_(std::move(other.memory_)), items_(other.items_), size_(other.size_) {
    other.items_ = nullptr;
    other.size_ = 0;
  }
  TableArray& operator=(TableArray&& other) noexcept {
    if (this != &other) {
      memory_ = std::move(other.memory_);
      items_ = other.items_;
      size_ = other.size_;
      other.items_ = nullptr;
      other.size_ = 0;
    }
    return *this;
  }
  TableArray(const TableArray&) = delete;
  TableArray& operator=(const TableArray&) = delete;

  T* data() { return items_; }
  const T* data() const { return items_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t idx) { return items_[idx]; }
  const T& operator[](std::size_t idx) const { return items_[idx]; }
  // The memory, kept alive for as long as the copy is held.
  const std::shared_ptr<void>& memory() const { return memory_; }

 private:
  std::shared_ptr<void> memory_;
  T* items_ = nullptr;
  std::size_t size_ = 0;
};

using WordArray = TableArray<std::uint64_t>;

// An array's memory as a thread that populates it holds it.
struct TableMemory {
  std::shared_ptr<void> memory;  // memory.get() is the start
  std::size_t bytes = 0;
};

// How a table keeps its groups' first and last times. By default as they are, a word
// each. When every time a scan can meet is 0 or lies in [base, base + kPackedSpan) (a query
// knows this from the statistics of the segments it reads: 49 days of milliseconds), as
// their offsets from `base` (plus one; 0 stays 0), both in one word: a 5-tuple group of
// IPv4 addresses is then 48 bytes instead of 56. The results are the same either way.
struct TimeCoding {
  static constexpr std::int64_t kPackedSpan = (std::int64_t{1} << 32) - 1;

  bool packed = false;
  std::int64_t base = 0;

  // Packed if the times of [min_time, max_time] allow it (min_time >= 1).
  static TimeCoding For(std::int64_t min_time, std::int64_t max_time) {
    TimeCoding coding;
    if (min_time >= 1 && max_time >= min_time && max_time - min_time < kPackedSpan) {
      coding.packed = true;
      coding.base = min_time;
    }
    return coding;
  }
  // A time (0, or one in the range) as its offset; one outside the range is clamped to it.
  std::uint64_t Pack(std::int64_t time) const {
    if (time == 0) {
      return 0;
    }
    const std::int64_t offset = std::clamp<std::int64_t>(time - base, 0, kPackedSpan - 1);
    return static_cast<std::uint64_t>(offset) + 1;
  }
  std::int64_t Unpack(std::uint64_t packed_time) const {
    return packed_time == 0 ? 0 : base + static_cast<std::int64_t>(packed_time) - 1;
  }
};

// Ownership: owns its groups; reserves its memory in `budget` (which must outlive it).
// Thread-safety: none (one per scan thread; merged at the end).
class GroupTable {
 public:
  GroupTable(std::size_t key_words, MemoryBudget* budget, TimeCoding times = {});
  ~GroupTable();
  GroupTable(const GroupTable&) = delete;
  GroupTable& operator=(const GroupTable&) = delete;

  // Adds rows rows[0..count) of `batch` (their flows, packets, bytes, first, last) under
  // the keys at keys + i * key_words(). False if the memory budget is exhausted (the
  // table then stays failed()).
  bool AddRows(const std::uint64_t* keys, const flow::FlowBatch& batch,
               const std::uint32_t* rows, std::size_t count);

  // Adds aggs[picks[i]] under the key at keys + i * key_words(), for each i < count (as
  // AddRows(), with the same prefetching). False when the budget is exhausted.
  bool AddAggregates(const std::uint64_t* keys, const Aggregate* aggs, const std::uint32_t* picks,
                     std::size_t count);

  // Adds `agg` under `key`. False when the budget is exhausted.
  bool AddAggregate(const std::uint64_t* key, const Aggregate& agg);

  // The group holding `key`, or SIZE_MAX if there is none.
  std::size_t Find(const std::uint64_t* key) const;

  // Adds every group of `other` (same key width). False when the budget is exhausted.
  bool Merge(const GroupTable& other);

  // Makes room for `groups` groups in one step, so that the table reaches that size
  // without growing by doubling (each doubling touches new memory and copies the groups).
  // A hint: returns false and changes nothing if the budget cannot hold it.
  bool Reserve(std::size_t groups);

  std::size_t size() const { return group_count_; }
  std::size_t key_words() const { return key_words_; }
  // What a group costs at most once the table is sized for it: its words and two 32-bit
  // slots (it has 1.5, rounded up).
  std::size_t bytes_per_group() const { return stride_ * sizeof(std::uint64_t) + 2 * sizeof(std::uint32_t); }
  bool failed() const { return failed_; }

  const TimeCoding& times() const { return times_; }

  // The memory of the table's arrays as they are now, for PopulateTableMemory() from any
  // thread (held, it stays mapped whatever the table does meanwhile).
  std::array<TableMemory, 2> memory() const {
    return {TableMemory{data_.memory(), data_.size() * sizeof(std::uint64_t)},
            TableMemory{slots_.memory(), slots_.size() * sizeof(std::uint32_t)}};
  }

  const std::uint64_t* key(std::size_t group) const { return data_.data() + group * stride_; }
  Aggregate aggregate(std::size_t group) const {
    const std::uint64_t* words = data_.data() + group * stride_ + key_words_;
    if (times_.packed) {
      return {words[kFlowsWord], words[kPacketsWord], words[kBytesWord],
              times_.Unpack(words[kTimesWord] >> 32), times_.Unpack(words[kTimesWord] & 0xffffffffu)};
    }
    return {words[kFlowsWord], words[kPacketsWord], words[kBytesWord],
            static_cast<std::int64_t>(words[kFirstWord]), static_cast<std::int64_t>(words[kLastWord])};
  }

  // The words of a group after its key, at most.
  static constexpr std::size_t kMaxValueWords = 5;

 private:
  // A group's words after its key: flows, packets, bytes, then either first and last
  // (kValueWords) or both packed in one word (kPackedValueWords: first << 32 | last).
  static constexpr std::size_t kFlowsWord = 0;
  static constexpr std::size_t kPacketsWord = 1;
  static constexpr std::size_t kBytesWord = 2;
  static constexpr std::size_t kFirstWord = 3;
  static constexpr std::size_t kLastWord = 4;
  static constexpr std::size_t kTimesWord = 3;
  static constexpr std::size_t kValueWords = kMaxValueWords;
  static constexpr std::size_t kPackedValueWords = 4;

  template <bool kPacked>
  bool AddRowsCoded(const std::uint64_t* keys, const flow::FlowBatch& batch, const std::uint32_t* rows,
                    std::size_t count);

  static std::uint64_t Hash(const std::uint64_t* key, std::size_t words);

  bool SameKey(std::size_t group, const std::uint64_t* key) const {
    const std::uint64_t* stored = data_.data() + group * stride_;
    for (std::size_t word = 0; word < key_words_; ++word) {
      if (stored[word] != key[word]) {
        return false;
      }
    }
    return true;
  }

  // The group of `key` (whose hash is `hash`), inserted if new; SIZE_MAX when the budget
  // is exhausted.
  std::size_t FindOrInsert(const std::uint64_t* key, std::uint64_t hash);
  std::size_t FindOrInsert(const std::uint64_t* key) { return FindOrInsert(key, Hash(key, key_words_)); }
  void MergeAggregate(std::size_t group, const Aggregate& agg);
  bool Grow();
  // Moves the groups into arrays for `new_capacity` groups (> group_count_). False if the
  // budget refuses; the table is left as it was.
  bool GrowTo(std::size_t new_capacity);

  std::size_t key_words_;
  TimeCoding times_;
  std::size_t stride_;  // key_words_ + kValueWords or kPackedValueWords
  MemoryBudget* budget_;
  std::size_t group_count_ = 0;
  std::size_t group_capacity_ = 0;
  // Per group: its key, then flows, packets, bytes, first, last (one cache line or two,
  // so a lookup that finds its key has its counters at hand).
  WordArray data_;
  std::vector<std::uint64_t> hashes_;  // AddRows() scratch, one per batch row
  // The slots: linear probing from a home position, the hash's high 32 bits scaled to the
  // slot count (which need not be a power of two). A slot is 0 (empty) or
  // Tag(hash) << index_bits_ | (group + 1): the group in the bits the capacity needs, the
  // rest a tag of the hash's low half, so that a probe past another key's slot seldom
  // reads that key. (64-bit slots of a power-of-two count were 28 % of the 5-tuple's
  // memory on 50 M flows; 32-bit ones, 1.5 per group, are 10 %.)
  std::size_t Home(std::uint64_t hash) const {
    return static_cast<std::size_t>(((hash >> 32) * slots_.size()) >> 32);
  }
  std::uint32_t Tag(std::uint64_t hash) const { return static_cast<std::uint32_t>(hash) >> index_bits_; }
  std::size_t GroupIn(std::uint32_t slot) const { return static_cast<std::size_t>(slot & index_mask_) - 1; }
  std::size_t NextSlot(std::size_t pos) const { return pos + 1 == slots_.size() ? 0 : pos + 1; }
  // The slot to prefetch for a row of hash `hash`, and its group's words if it has one.
  void Prefetch(std::uint64_t hash) const;
  // Hashes keys[0..count) into hashes_ and prefetches each one's home slot.
  void HashAndPrefetch(const std::uint64_t* keys, std::size_t count);

  TableArray<std::uint32_t> slots_;
  unsigned index_bits_ = 0;       // bit_width(group_capacity_), at most 31
  std::uint32_t index_mask_ = 0;  // (1 << index_bits_) - 1
  std::size_t reserved_bytes_ = 0;
  bool failed_ = false;
};

// Negative if a comes before b in `order`, positive if after, 0 if they tie.
int CompareAggregates(const Aggregate& a, const Aggregate& b, OrderBy order);

// True if a comes before b in `order` (descending counters and rates, ascending times);
// ties are broken by the encoded key, ascending (numbers and addresses in numeric order,
// key fields in their order).
bool GroupBefore(const GroupTable& table, std::size_t a, std::size_t b, OrderBy order);

// The first `n` groups of `table` in `order` (all of them, sorted, if n is 0).
std::vector<std::uint32_t> TopGroups(const GroupTable& table, OrderBy order, std::size_t n);

}  // namespace sluice::query::internal
