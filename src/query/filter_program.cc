// SPDX-License-Identifier: Apache-2.0

#include "query/filter_program.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "store/columns.h"

namespace sluice::query::filter {
namespace {

using flow::FieldId;
using flow::IpAddress;

__extension__ typedef unsigned __int128 Uint128;

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

// The two raw 64-bit words of an address, in memory order (compared only with words
// made the same way, so byte order does not matter).
std::array<std::uint64_t, 2> Words(const IpAddress& a) {
  std::array<std::uint64_t, 2> words;
  std::memcpy(words.data(), a.bytes.data(), 16);
  return words;
}

std::array<std::uint64_t, 4> NetWords(const AddressPrefix& prefix) {
  IpAddress mask;
  for (unsigned bit = 0; bit < prefix.bits; ++bit) {
    mask.bytes[bit / 8] = static_cast<std::uint8_t>(mask.bytes[bit / 8] | (0x80U >> (bit % 8)));
  }
  const auto a = Words(prefix.address);
  const auto m = Words(mask);
  return {a[0], a[1], m[0], m[1]};
}

const std::array<std::uint64_t, 4> kV4Net = NetWords(AddressPrefix{IpAddress::FromV4(0), 96});

void Prepare(Node& node, std::size_t depth, std::size_t& max_depth, std::vector<FieldId>& fields) {
  max_depth = std::max(max_depth, depth);
  switch (node.kind) {
    case NodeKind::kTrue:
    case NodeKind::kFalse:
      return;
    case NodeKind::kAnd:
      for (Node& child : node.children) {
        Prepare(child, depth, max_depth, fields);
      }
      return;
    case NodeKind::kOr:
    case NodeKind::kNot:
      for (Node& child : node.children) {
        Prepare(child, depth + 1, max_depth, fields);
      }
      return;
    case NodeKind::kDerived:
      if (node.derived != Derived::kBpp) {
        fields.push_back(FieldId::kFirst);
        fields.push_back(FieldId::kLast);
      }
      if (node.derived == Derived::kPps || node.derived == Derived::kBpp) {
        fields.push_back(FieldId::kPackets);
      }
      if (node.derived == Derived::kBps || node.derived == Derived::kBpp) {
        fields.push_back(FieldId::kBytes);
      }
      return;
    case NodeKind::kPrefix:
      for (const AddressPrefix& prefix : node.prefixes) {
        if (prefix.bits == 128) {
          node.exact_words.push_back(Words(prefix.address));
        } else {
          node.net_words.push_back(NetWords(prefix));
        }
      }
      std::sort(node.exact_words.begin(), node.exact_words.end());
      node.exact_words.erase(std::unique(node.exact_words.begin(), node.exact_words.end()),
                             node.exact_words.end());
      fields.push_back(node.field);
      return;
    default:
      fields.push_back(node.field);
      return;
  }
}

// ---- row loops ----

// Keeps the rows whose value satisfies `pred`; branch-free.
template <typename T, typename Pred>
std::size_t Keep(const T* column, std::uint32_t* rows, std::size_t count, Pred pred) {
  std::size_t out = 0;
  for (std::size_t idx = 0; idx < count; ++idx) {
    const std::uint32_t row = rows[idx];
    rows[out] = row;
    out += pred(column[row]) ? 1 : 0;
  }
  return out;
}

// Keeps the rows whose `get(value)` compares to `operand`; the switch is outside the loop.
template <typename T, typename V, typename Get>
std::size_t KeepCompare(const T* column, CompareOp op, V operand, Get get, std::uint32_t* rows,
                        std::size_t count) {
  switch (op) {
    case CompareOp::kEq:
      return Keep(column, rows, count, [&](const T& x) { return get(x) == operand; });
    case CompareOp::kNe:
      return Keep(column, rows, count, [&](const T& x) { return get(x) != operand; });
    case CompareOp::kLt:
      return Keep(column, rows, count, [&](const T& x) { return get(x) < operand; });
    case CompareOp::kLe:
      return Keep(column, rows, count, [&](const T& x) { return get(x) <= operand; });
    case CompareOp::kGt:
      return Keep(column, rows, count, [&](const T& x) { return get(x) > operand; });
    case CompareOp::kGe:
      return Keep(column, rows, count, [&](const T& x) { return get(x) >= operand; });
  }
  return 0;
}

bool InList(const std::vector<std::uint64_t>& list, std::uint64_t value) {
  if (list.size() <= 8) {
    bool found = false;
    for (const std::uint64_t item : list) {
      found |= item == value;
    }
    return found;
  }
  return std::binary_search(list.begin(), list.end(), value);
}

bool PrefixMatchWords(const Node& node, const std::array<std::uint64_t, 2>& words) {
  for (const auto& net : node.net_words) {
    if ((words[0] & net[2]) == net[0] && (words[1] & net[3]) == net[1]) {
      return true;
    }
  }
  if (node.exact_words.size() <= 4) {
    bool found = false;
    for (const auto& exact : node.exact_words) {
      found |= exact[0] == words[0] && exact[1] == words[1];  // no memcmp() call
    }
    return found;
  }
  return std::binary_search(node.exact_words.begin(), node.exact_words.end(), words);
}

bool PrefixMatch(const Node& node, const IpAddress& address) {
  return PrefixMatchWords(node, Words(address));
}

bool IsV4Words(const std::array<std::uint64_t, 2>& words) {
  return (words[0] & kV4Net[2]) == kV4Net[0] && (words[1] & kV4Net[3]) == kV4Net[1];
}

std::uint64_t DurationMs(std::int64_t first, std::int64_t last) {
  // Exact for last >= first (unsigned difference of two int64); 0 for a reversed flow.
  return last >= first ? static_cast<std::uint64_t>(last) - static_cast<std::uint64_t>(first) : 0;
}

std::uint64_t PerSecond(std::uint64_t amount, std::uint64_t factor, std::uint64_t duration_ms) {
  if (duration_ms == 0) {
    return 0;  // nfdump: no rate for a zero-length flow
  }
  const Uint128 rate = Uint128{amount} * factor / duration_ms;
  return rate > kMaxU64 ? kMaxU64 : static_cast<std::uint64_t>(rate);
}

std::uint64_t DerivedValue(Derived derived, const flow::FlowColumns& c, std::uint32_t row) {
  switch (derived) {
    case Derived::kDuration:
      return DurationMs(c.first[row], c.last[row]);
    case Derived::kPps:
      return PerSecond(c.packets[row], 1000, DurationMs(c.first[row], c.last[row]));
    case Derived::kBps:
      return PerSecond(c.bytes[row], 8000, DurationMs(c.first[row], c.last[row]));
    case Derived::kBpp:
      return c.packets[row] == 0 ? 0 : c.bytes[row] / c.packets[row];
  }
  return 0;
}

template <typename Get>
std::size_t KeepRowsCompare(CompareOp op, std::uint64_t operand, Get get, std::uint32_t* rows,
                            std::size_t count) {
  // Same as KeepCompare, over row numbers instead of one column.
  std::size_t out = 0;
  switch (op) {
#define SLUICE_FILTER_ROW_LOOP(OP)                     \
  for (std::size_t idx = 0; idx < count; ++idx) {      \
    const std::uint32_t row = rows[idx];               \
    rows[out] = row;                                   \
    out += get(row) OP operand ? 1 : 0;                \
  }                                                    \
  return out;
    case CompareOp::kEq:
      SLUICE_FILTER_ROW_LOOP(==)
    case CompareOp::kNe:
      SLUICE_FILTER_ROW_LOOP(!=)
    case CompareOp::kLt:
      SLUICE_FILTER_ROW_LOOP(<)
    case CompareOp::kLe:
      SLUICE_FILTER_ROW_LOOP(<=)
    case CompareOp::kGt:
      SLUICE_FILTER_ROW_LOOP(>)
    case CompareOp::kGe:
      SLUICE_FILTER_ROW_LOOP(>=)
#undef SLUICE_FILTER_ROW_LOOP
  }
  return 0;
}

std::size_t EvalLeaf(const Node& node, const flow::FlowBatch& batch, std::uint32_t* rows, std::size_t count) {
  const flow::FlowColumns& c = batch.cols();
  if (node.kind == NodeKind::kDerived) {
    return KeepRowsCompare(
        node.op, node.value, [&](std::uint32_t row) { return DerivedValue(node.derived, c, row); }, rows,
        count);
  }
  std::size_t kept = 0;
  store::VisitColumn(static_cast<std::size_t>(node.field), [&](auto member) {
    const auto& column = c.*member;
    using T = std::decay_t<decltype(column[0])>;
    const T* data = column.data();
    if constexpr (std::is_same_v<T, std::int64_t>) {
      if (node.kind == NodeKind::kCompare) {
        kept = KeepCompare(data, node.op, static_cast<std::int64_t>(node.value), [](std::int64_t x) { return x; },
                           rows, count);
      }
    } else if constexpr (std::is_integral_v<T>) {
      switch (node.kind) {
        case NodeKind::kCompare:
          kept = KeepCompare(data, node.op, node.value, [](T x) { return static_cast<std::uint64_t>(x); }, rows,
                             count);
          break;
        case NodeKind::kInList:
          kept = Keep(data, rows, count, [&](T x) { return InList(node.list, x); });
          break;
        case NodeKind::kBitsAll:
          kept = Keep(data, rows, count, [&](T x) { return (static_cast<std::uint64_t>(x) & node.value) == node.value; });
          break;
        case NodeKind::kBitsAny:
          kept = Keep(data, rows, count, [&](T x) { return (static_cast<std::uint64_t>(x) & node.value) != 0; });
          break;
        case NodeKind::kMasked: {
          const unsigned shift = node.shift;
          const std::uint64_t mask = node.mask;
          kept = KeepCompare(
              data, node.op, node.value, [shift, mask](T x) { return (static_cast<std::uint64_t>(x) >> shift) & mask; },
              rows, count);
          break;
        }
        default:
          break;
      }
    } else if constexpr (std::is_same_v<T, IpAddress>) {
      if (node.kind == NodeKind::kPrefix && node.net_words.size() == 1 && node.exact_words.empty()) {
        const std::array<std::uint64_t, 4> net = node.net_words[0];
        kept = Keep(data, rows, count, [net](const IpAddress& a) {
          const auto words = Words(a);
          return (((words[0] & net[2]) ^ net[0]) | ((words[1] & net[3]) ^ net[1])) == 0;
        });
      } else if (node.kind == NodeKind::kPrefix && node.exact_words.size() == 1 && node.net_words.empty()) {
        const std::array<std::uint64_t, 2> exact = node.exact_words[0];
        kept = Keep(data, rows, count, [exact](const IpAddress& a) {
          const auto words = Words(a);
          return ((words[0] ^ exact[0]) | (words[1] ^ exact[1])) == 0;
        });
      } else if (node.kind == NodeKind::kPrefix) {
        kept = Keep(data, rows, count, [&](const IpAddress& a) { return PrefixMatch(node, a); });
      } else if (node.kind == NodeKind::kFamily) {
        if (node.family_v6) {
          kept = Keep(data, rows, count, [](const IpAddress& a) {
            const auto words = Words(a);
            return !IsV4Words(words) && (words[0] | words[1]) != 0;
          });
        } else {
          kept = Keep(data, rows, count, [](const IpAddress& a) { return IsV4Words(Words(a)); });
        }
      }
    } else if constexpr (std::is_same_v<T, flow::StringRef>) {
      if (node.kind == NodeKind::kString) {
        const std::string_view text = node.text;
        kept = Keep(data, rows, count, [&](const flow::StringRef& ref) { return batch.String(ref) == text; });
      }
    }
  });
  return kept;
}

// Writes a ∪ b (both ascending) to `out`; returns its size.
std::size_t Union(const std::uint32_t* a, std::size_t na, const std::uint32_t* b, std::size_t nb,
                  std::uint32_t* out) {
  return static_cast<std::size_t>(std::set_union(a, a + na, b, b + nb, out) - out);
}

// Removes from `rows` (ascending) those in `drop` (ascending, a subset); in place.
std::size_t Minus(std::uint32_t* rows, std::size_t count, const std::uint32_t* drop, std::size_t ndrop) {
  std::size_t out = 0;
  std::size_t d = 0;
  for (std::size_t idx = 0; idx < count; ++idx) {
    const std::uint32_t row = rows[idx];
    while (d < ndrop && drop[d] < row) {
      ++d;
    }
    const bool dropped = d < ndrop && drop[d] == row;
    rows[out] = row;
    out += dropped ? 0 : 1;
  }
  return out;
}

// Evaluates `node` over rows[0..count); `scratch` holds 3 * count entries per OR/NOT level.
std::size_t Eval(const Node& node, const flow::FlowBatch& batch, std::uint32_t* rows, std::size_t count,
                 std::uint32_t* scratch) {
  if (count == 0) {
    return 0;
  }
  switch (node.kind) {
    case NodeKind::kTrue:
      return count;
    case NodeKind::kFalse:
      return 0;
    case NodeKind::kAnd:
      for (const Node& child : node.children) {
        count = Eval(child, batch, rows, count, scratch);
        if (count == 0) {
          break;
        }
      }
      return count;
    case NodeKind::kOr: {
      std::uint32_t* remaining = scratch;
      std::uint32_t* result = scratch + count;
      std::uint32_t* matched = scratch + 2 * count;
      std::uint32_t* deeper = scratch + 3 * count;
      std::copy(rows, rows + count, remaining);
      std::size_t remaining_count = count;
      std::size_t result_count = 0;
      for (const Node& child : node.children) {
        std::copy(remaining, remaining + remaining_count, matched);
        const std::size_t hits = Eval(child, batch, matched, remaining_count, deeper);
        if (hits == 0) {
          continue;
        }
        // rows[] is free until the end: merge into it, then keep the union in result[].
        result_count = Union(result, result_count, matched, hits, rows);
        std::copy(rows, rows + result_count, result);
        remaining_count = Minus(remaining, remaining_count, matched, hits);
        if (remaining_count == 0) {
          break;
        }
      }
      std::copy(result, result + result_count, rows);
      return result_count;
    }
    case NodeKind::kNot: {
      std::uint32_t* matched = scratch;
      std::copy(rows, rows + count, matched);
      const std::size_t hits = Eval(node.children[0], batch, matched, count, scratch + 3 * count);
      return Minus(rows, count, matched, hits);
    }
    default:
      return EvalLeaf(node, batch, rows, count);
  }
}

// ---- block statistics ----

Tri NotTri(Tri t) { return t == Tri::kNever ? Tri::kAlways : t == Tri::kAlways ? Tri::kNever : Tri::kMaybe; }

Tri FromBool(bool b) { return b ? Tri::kAlways : Tri::kNever; }

// Combines the verdicts for two candidate values (a column without chunk is 0 or its default).
Tri Either(Tri a, Tri b) { return a == b ? a : Tri::kMaybe; }

template <typename V>
Tri RangeCompare(CompareOp op, V lo, V hi, V v) {
  switch (op) {
    case CompareOp::kEq:
      if (v < lo || v > hi) {
        return Tri::kNever;
      }
      return lo == hi ? Tri::kAlways : Tri::kMaybe;
    case CompareOp::kNe:
      return NotTri(RangeCompare(CompareOp::kEq, lo, hi, v));
    case CompareOp::kLt:
      return hi < v ? Tri::kAlways : lo >= v ? Tri::kNever : Tri::kMaybe;
    case CompareOp::kLe:
      return hi <= v ? Tri::kAlways : lo > v ? Tri::kNever : Tri::kMaybe;
    case CompareOp::kGt:
      return lo > v ? Tri::kAlways : hi <= v ? Tri::kNever : Tri::kMaybe;
    case CompareOp::kGe:
      return lo >= v ? Tri::kAlways : hi < v ? Tri::kNever : Tri::kMaybe;
  }
  return Tri::kMaybe;
}

// The verdict of an integer leaf on the values [lo, hi].
Tri IntegerRange(const Node& node, std::uint64_t lo, std::uint64_t hi) {
  switch (node.kind) {
    case NodeKind::kCompare:
      return RangeCompare(node.op, lo, hi, node.value);
    case NodeKind::kInList: {
      const auto it = std::lower_bound(node.list.begin(), node.list.end(), lo);
      if (it == node.list.end() || *it > hi) {
        return Tri::kNever;
      }
      return lo == hi ? Tri::kAlways : Tri::kMaybe;
    }
    case NodeKind::kBitsAll:
      if (lo == hi) {
        return FromBool((lo & node.value) == node.value);
      }
      return hi < node.value ? Tri::kNever : Tri::kMaybe;
    case NodeKind::kBitsAny:
      if (lo == hi) {
        return FromBool((lo & node.value) != 0);
      }
      return hi == 0 ? Tri::kNever : Tri::kMaybe;
    case NodeKind::kMasked:
      if (lo == hi) {
        return FromBool(ApplyOp(node.op, (lo >> node.shift) & node.mask, node.value));
      }
      return Tri::kMaybe;
    default:
      return Tri::kMaybe;
  }
}

// The smallest and largest address of `prefix` (its host bits all 0, all 1), in network
// order: the bounds to compare with a block's IPv6 range.
std::pair<std::array<std::uint8_t, 16>, std::array<std::uint8_t, 16>> PrefixBounds(
    const AddressPrefix& prefix) {
  std::array<std::uint8_t, 16> lo = prefix.address.bytes;
  std::array<std::uint8_t, 16> hi = lo;
  for (unsigned byte_idx = 0; byte_idx < 16; ++byte_idx) {
    const unsigned network_bits =
        std::min(8U, prefix.bits > 8 * byte_idx ? prefix.bits - 8 * byte_idx : 0U);
    const auto host_mask = static_cast<std::uint8_t>(0xffU >> network_bits);
    lo[byte_idx] = static_cast<std::uint8_t>(lo[byte_idx] & ~host_mask);
    hi[byte_idx] = static_cast<std::uint8_t>(hi[byte_idx] | host_mask);
  }
  return {lo, hi};
}

Tri PrefixOnStats(const Node& node, const store::ColumnStats& stats) {
  Tri verdict = Tri::kNever;
  if (stats.has_unset && PrefixMatch(node, IpAddress{})) {
    verdict = Tri::kMaybe;  // some rows are :: and :: matches
  }
  for (const AddressPrefix& prefix : node.prefixes) {
    const bool v4_prefix = prefix.bits >= 96 && prefix.address.IsV4();
    if (v4_prefix) {
      if (!stats.has_v4) {
        continue;
      }
      const std::uint32_t host_bits = 128U - prefix.bits;
      const std::uint32_t lo = prefix.address.V4();
      const std::uint32_t hi = host_bits >= 32 ? 0xffffffffU : lo | ((std::uint32_t{1} << host_bits) - 1);
      if (hi < stats.v4_min || lo > stats.v4_max) {
        continue;
      }
      if (prefix.bits == 128 && !stats.MayContain(prefix.address)) {
        continue;
      }
      if (!stats.has_v6 && !stats.has_unset && lo <= stats.v4_min && stats.v4_max <= hi) {
        return Tri::kAlways;
      }
      verdict = Tri::kMaybe;
      continue;
    }
    // An IPv6 prefix; it may still cover IPv4-mapped addresses (::ffff:0:0/96, ::/0).
    const bool covers_v4 = prefix.Contains(IpAddress::FromV4(0));
    if (prefix.bits == 128 && (stats.has_v4 || stats.has_v6) && !stats.MayContain(prefix.address)) {
      continue;
    }
    bool v6_may_match = stats.has_v6;
    if (stats.has_v6_range) {  // version 4 statistics: the IPv6 rows lie in [v6_min, v6_max]
      const auto [lo, hi] = PrefixBounds(prefix);
      if (hi < stats.v6_min || lo > stats.v6_max) {
        v6_may_match = false;
      } else if (!stats.has_v4 && !stats.has_unset && lo <= stats.v6_min && stats.v6_max <= hi) {
        return Tri::kAlways;
      }
    }
    if (v6_may_match || (covers_v4 && stats.has_v4)) {
      verdict = Tri::kMaybe;
    }
  }
  return verdict;
}

Tri FamilyOnStats(const Node& node, const store::ColumnStats& stats) {
  if (node.family_v6) {
    if (!stats.has_v6) {
      return Tri::kNever;
    }
    return !stats.has_v4 && !stats.has_unset ? Tri::kAlways : Tri::kMaybe;
  }
  if (!stats.has_v4) {
    return Tri::kNever;
  }
  return !stats.has_v6 && !stats.has_unset ? Tri::kAlways : Tri::kMaybe;
}

// [lo, hi] of a time column in `block` (a column without chunk is 0).
std::pair<std::int64_t, std::int64_t> TimeRange(const store::BlockInfo& block, FieldId field) {
  const store::ColumnChunk* chunk = block.Find(field);
  if (chunk == nullptr) {
    return {0, 0};
  }
  return {chunk->stats.time_min, chunk->stats.time_max};
}

Tri JudgeLeaf(const Node& node, const store::BlockInfo& block) {
  if (node.kind == NodeKind::kDerived) {
    if (node.derived != Derived::kDuration) {
      return Tri::kMaybe;
    }
    const auto [first_lo, first_hi] = TimeRange(block, FieldId::kFirst);
    const auto [last_lo, last_hi] = TimeRange(block, FieldId::kLast);
    // duration = max(0, last - first) grows with last and shrinks with first.
    return RangeCompare(node.op, DurationMs(first_hi, last_lo), DurationMs(first_lo, last_hi), node.value);
  }
  const flow::FieldInfo& info = flow::Info(node.field);
  const store::ColumnChunk* chunk = block.Find(node.field);
  switch (info.type) {
    case flow::FieldType::kTimeMillis: {
      const std::int64_t lo = chunk == nullptr ? 0 : chunk->stats.time_min;
      const std::int64_t hi = chunk == nullptr ? 0 : chunk->stats.time_max;
      return RangeCompare(node.op, lo, hi, static_cast<std::int64_t>(node.value));
    }
    case flow::FieldType::kIpAddress:
      if (chunk == nullptr) {
        if (node.kind == NodeKind::kFamily) {
          return Tri::kNever;  // every row is ::
        }
        return FromBool(PrefixMatch(node, IpAddress{}));
      }
      return node.kind == NodeKind::kFamily ? FamilyOnStats(node, chunk->stats) : PrefixOnStats(node, chunk->stats);
    case flow::FieldType::kString:
      if (chunk == nullptr) {
        return FromBool(node.text.empty());
      }
      return Tri::kMaybe;
    default:
      if (chunk == nullptr) {
        // The block has no chunk: every row is 0, or the catalogue default when the
        // segment predates the field.
        const Tri zero = IntegerRange(node, 0, 0);
        return info.default_value == 0 ? zero
                                       : Either(zero, IntegerRange(node, info.default_value, info.default_value));
      }
      return IntegerRange(node, chunk->stats.min, chunk->stats.max);
  }
}

// A kPrefix leaf judged by every distinct value of its column in the block (16 bytes
// each): exact, since every row holds one of them.
Tri PrefixOnDictionary(const Node& node, std::span<const std::uint8_t> dictionary) {
  if (node.net_words.empty() && node.exact_words.size() == 1) {
    // One address (`host A`): how many entries are it, in one branch-free pass.
    const std::array<std::uint64_t, 2> want = node.exact_words[0];
    const std::size_t entries = dictionary.size() / 16;
    std::size_t hits = 0;
    for (std::size_t entry = 0; entry < entries; ++entry) {
      std::array<std::uint64_t, 2> words;
      std::memcpy(words.data(), dictionary.data() + entry * 16, 16);
      hits += static_cast<std::size_t>(words[0] == want[0]) & static_cast<std::size_t>(words[1] == want[1]);
    }
    return hits == 0 ? Tri::kNever : hits == entries ? Tri::kAlways : Tri::kMaybe;
  }
  bool any = false;
  bool all = true;
  for (std::size_t offset = 0; offset + 16 <= dictionary.size(); offset += 16) {
    std::array<std::uint64_t, 2> words;
    std::memcpy(words.data(), dictionary.data() + offset, 16);
    const bool match = PrefixMatchWords(node, words);
    any |= match;
    all &= match;
    if (any && !all) {
      return Tri::kMaybe;
    }
  }
  return !any ? Tri::kNever : Tri::kAlways;
}

// For a block: whether each of FilterProgram::probe_words() may be in its source or
// destination column (an address filter said so), or none known.
struct Presence {
  std::span<const std::array<std::uint64_t, 2>> words;
  std::span<const bool> present;
};

bool IsProbeLeaf(const Node& node) {
  return node.kind == NodeKind::kPrefix && node.net_words.empty() && !node.exact_words.empty() &&
         (node.field == flow::FieldId::kSrcAddr || node.field == flow::FieldId::kDstAddr);
}

// kNever if none of the leaf's addresses is in the block, by `presence`; else kMaybe.
Tri PrefixOnPresence(const Node& node, const Presence& presence) {
  for (const auto& words : node.exact_words) {
    const auto found = std::find(presence.words.begin(), presence.words.end(), words);
    if (found == presence.words.end() || presence.present[static_cast<std::size_t>(found - presence.words.begin())]) {
      return Tri::kMaybe;
    }
  }
  return Tri::kNever;
}

// `dictionaries`: null, or kFieldCount spans (see FilterProgram::Judge()); `presence`:
// null, or the block's address filter answers.
Tri Judge(const Node& node, const store::BlockInfo& block,
          const std::span<const std::uint8_t>* dictionaries, const Presence* presence) {
  switch (node.kind) {
    case NodeKind::kTrue:
      return Tri::kAlways;
    case NodeKind::kFalse:
      return Tri::kNever;
    case NodeKind::kAnd: {
      Tri verdict = Tri::kAlways;
      for (const Node& child : node.children) {
        const Tri t = Judge(child, block, dictionaries, presence);
        if (t == Tri::kNever) {
          return Tri::kNever;
        }
        if (t == Tri::kMaybe) {
          verdict = Tri::kMaybe;
        }
      }
      return verdict;
    }
    case NodeKind::kOr: {
      Tri verdict = Tri::kNever;
      for (const Node& child : node.children) {
        const Tri t = Judge(child, block, dictionaries, presence);
        if (t == Tri::kAlways) {
          return Tri::kAlways;
        }
        if (t == Tri::kMaybe) {
          verdict = Tri::kMaybe;
        }
      }
      return verdict;
    }
    case NodeKind::kNot:
      return NotTri(Judge(node.children[0], block, dictionaries, presence));
    default:
      if (presence != nullptr && IsProbeLeaf(node) && PrefixOnPresence(node, *presence) == Tri::kNever) {
        return Tri::kNever;
      }
      if (dictionaries != nullptr && node.kind == NodeKind::kPrefix &&
          !dictionaries[static_cast<std::size_t>(node.field)].empty()) {
        return PrefixOnDictionary(node, dictionaries[static_cast<std::size_t>(node.field)]);
      }
      return JudgeLeaf(node, block);
  }
}

}  // namespace

namespace {

void CollectProbeWords(const Node& node, std::vector<std::array<std::uint64_t, 2>>& words) {
  if (IsProbeLeaf(node)) {
    words.insert(words.end(), node.exact_words.begin(), node.exact_words.end());
  }
  for (const Node& child : node.children) {
    CollectProbeWords(child, words);
  }
}

}  // namespace

FilterProgram::FilterProgram(Node root) : root_(std::move(root)) {
  Prepare(root_, 0, depth_, fields_);
  std::sort(fields_.begin(), fields_.end());
  fields_.erase(std::unique(fields_.begin(), fields_.end()), fields_.end());
  CollectProbeWords(root_, probe_words_);
  std::sort(probe_words_.begin(), probe_words_.end());
  probe_words_.erase(std::unique(probe_words_.begin(), probe_words_.end()), probe_words_.end());
}

Tri FilterProgram::Judge(const store::BlockInfo& block) const {
  return filter::Judge(root_, block, nullptr, nullptr);
}

Tri FilterProgram::Judge(const store::BlockInfo& block,
                         std::span<const std::span<const std::uint8_t>> dictionaries) const {
  return filter::Judge(root_, block,
                       dictionaries.size() == flow::kFieldCount ? dictionaries.data() : nullptr, nullptr);
}

Tri FilterProgram::Judge(const store::BlockInfo& block, std::span<const bool> present) const {
  if (present.size() != probe_words_.size()) {
    return filter::Judge(root_, block, nullptr, nullptr);
  }
  const Presence presence{probe_words_, present};
  return filter::Judge(root_, block, nullptr, &presence);
}

std::size_t FilterProgram::Select(const flow::FlowBatch& batch, std::uint32_t* rows, std::size_t count) const {
  if (count == 0 || root_.kind == NodeKind::kTrue) {
    return count;
  }
  thread_local std::vector<std::uint32_t> scratch;
  const std::size_t needed = 3 * count * (depth_ + 1);
  if (scratch.size() < needed) {
    scratch.resize(needed);
  }
  return Eval(root_, batch, rows, count, scratch.data());
}

}  // namespace sluice::query::filter
