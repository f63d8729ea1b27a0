// SPDX-License-Identifier: Apache-2.0

#include "store/column_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <type_traits>

#include "flow/flow_batch.h"

namespace sluice::store {

static_assert(std::endian::native == std::endian::little,
              "plain encodings copy little-endian values straight from memory");

namespace {

using flow::FieldType;
using flow::IpAddress;
using flow::StringRef;

template <typename T>
T Load(const std::uint8_t* values, std::size_t row) {
  T v;
  std::memcpy(&v, values + row * sizeof(T), sizeof(T));
  return v;
}

std::uint64_t Mix64(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::uint64_t AddressHash(const IpAddress& a) {
  return Mix64(LoadLe64(a.bytes.data()) * 0x9E3779B97F4A7C15ULL ^ LoadLe64(a.bytes.data() + 8));
}

struct IntHash {
  std::uint64_t operator()(std::uint64_t v) const { return Mix64(v); }
};

struct AddrHash {
  std::uint64_t operator()(const IpAddress& a) const { return AddressHash(a); }
};

// Distinct values of a column, up to kMaxDictionarySize, in first-seen order.
template <typename K, typename Hash>
class DictBuilder {
 public:
  void Reset() {
    slots_.fill(0);
    size_ = 0;
  }

  // Returns the value's index, or -1 if it would be one value too many.
  int Add(const K& key) { return Add(key, Hash{}(key)); }

  // As above, with the key's hash already computed.
  int Add(const K& key, std::uint64_t hash) {
    std::size_t slot = hash & (kSlots - 1);
    while (true) {
      const std::uint16_t entry = slots_[slot];
      if (entry == 0) {
        if (size_ == kMaxDictionarySize) {
          return -1;
        }
        keys_[size_] = key;
        slots_[slot] = static_cast<std::uint16_t>(++size_);
        return static_cast<int>(size_ - 1);
      }
      if (keys_[entry - 1] == key) {
        return entry - 1;
      }
      slot = (slot + 1) & (kSlots - 1);
    }
  }

  std::size_t size() const { return size_; }
  const K& key(std::size_t idx) const { return keys_[idx]; }

 private:
  static constexpr std::size_t kSlots = 1024;  // load factor at most 1/4
  std::array<std::uint16_t, kSlots> slots_{};
  std::array<K, kMaxDictionarySize> keys_{};
  std::size_t size_ = 0;
};

enum AddressKind : std::uint8_t { kKindUnset = 0, kKindV4 = 4, kKindOther = 6 };


}  // namespace

struct ColumnEncoder::Scratch {
  DictBuilder<std::uint64_t, IntHash> int_dict;
  DictBuilder<IpAddress, AddrHash> addr_dict;
  Buffer indexes;
  Buffer kinds;
  Buffer v4;
  Buffer other;
};

namespace {

// Whether a dictionary is worth trying: the first rows (up to 2048) hold at most 128
// distinct values. Saves a futile hash pass over high-cardinality columns.
template <typename T>
bool LooksLowCardinality(const std::uint8_t* values, std::size_t rows,
                         DictBuilder<std::uint64_t, IntHash>& dict) {
  dict.Reset();
  const std::size_t sample = std::min<std::size_t>(rows, 2048);
  T prev = Load<T>(values, 0);
  (void)dict.Add(static_cast<std::uint64_t>(prev));
  for (std::size_t row = 1; row < sample; ++row) {
    const T v = Load<T>(values, row);
    if (v != prev) {
      prev = v;
      if (dict.Add(static_cast<std::uint64_t>(v)) < 0 || dict.size() > 128) {
        return false;
      }
    }
  }
  return true;
}

// Unsigned integers: constant, dictionary (16-bit and wider), varint (32-bit and wider)
// or plain, whichever is smallest before compression.
template <typename T>
  requires std::is_unsigned_v<T>
std::optional<EncodedColumn> EncodeInts(const std::uint8_t* values, std::size_t rows,
                                        DictBuilder<std::uint64_t, IntHash>& dict, Buffer& indexes,
                                        Buffer& out) {
  T lo = Load<T>(values, 0);
  T hi = lo;
  for (std::size_t row = 1; row < rows; ++row) {
    const T v = Load<T>(values, row);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo == 0 && hi == 0) {
    return std::nullopt;
  }
  EncodedColumn result;
  result.stats.min = lo;
  result.stats.max = hi;
  if (lo == hi) {
    result.encoding = Encoding::kConstant;
    out.Append(&lo, sizeof(T));
    return result;
  }

  bool dict_ok = false;
  std::size_t dict_size = 0;
  if constexpr (sizeof(T) >= 2) {
    dict_ok = LooksLowCardinality<T>(values, rows, dict);
    if (dict_ok) {
      dict.Reset();
      indexes.clear();
      std::uint8_t* idx = indexes.Reserve(rows);
      T prev = Load<T>(values, 0);
      int prev_idx = dict.Add(static_cast<std::uint64_t>(prev));
      for (std::size_t row = 0; row < rows; ++row) {
        const T v = Load<T>(values, row);
        if (v != prev) {
          prev = v;
          prev_idx = dict.Add(static_cast<std::uint64_t>(v));
          if (prev_idx < 0) {
            dict_ok = false;
            break;
          }
        }
        idx[row] = static_cast<std::uint8_t>(prev_idx);
      }
      dict_size = VarintLength(dict.size()) + dict.size() * sizeof(T) + rows;
    }
  }

  const std::size_t base = out.size();
  if constexpr (sizeof(T) >= 4) {
    result.encoding = Encoding::kVarint;
    std::uint8_t* p = out.Reserve(rows * kMaxVarintBytes);
    std::uint8_t* const start = p;
    for (std::size_t row = 0; row < rows; ++row) {
      p += EncodeVarint(p, Load<T>(values, row));
    }
    out.Commit(static_cast<std::size_t>(p - start));
  } else {
    result.encoding = Encoding::kPlain;
    out.Append(values, rows * sizeof(T));
  }
  if (dict_ok && dict_size < out.size() - base) {
    out.Resize(base);
    result.encoding = Encoding::kDictionary;
    out.PutVarint(dict.size());
    for (std::size_t idx = 0; idx < dict.size(); ++idx) {
      const T v = static_cast<T>(dict.key(idx));
      out.Append(&v, sizeof(T));
    }
    out.Append(indexes.data(), rows);
  }
  return result;
}

// Times: constant, delta (row to row) or relative (to the reference column), whichever
// is smaller before compression.
std::optional<EncodedColumn> EncodeTimes(const std::uint8_t* values, std::size_t rows,
                                         const std::uint8_t* reference, Buffer& out) {
  std::int64_t lo = Load<std::int64_t>(values, 0);
  std::int64_t hi = lo;
  for (std::size_t row = 1; row < rows; ++row) {
    const auto v = Load<std::int64_t>(values, row);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo == 0 && hi == 0) {
    return std::nullopt;
  }
  EncodedColumn result;
  result.stats.time_min = lo;
  result.stats.time_max = hi;
  if (lo == hi) {
    result.encoding = Encoding::kConstant;
    out.Append(&lo, sizeof lo);
    return result;
  }
  const std::size_t base = out.size();
  result.encoding = Encoding::kDelta;
  std::uint8_t* p = out.Reserve(rows * kMaxVarintBytes);
  std::uint8_t* const start = p;
  std::uint64_t prev = 0;
  for (std::size_t row = 0; row < rows; ++row) {
    const auto v = static_cast<std::uint64_t>(Load<std::int64_t>(values, row));
    p += EncodeVarint(p, ZigZag(static_cast<std::int64_t>(v - prev)));
    prev = v;
  }
  const auto delta_size = static_cast<std::size_t>(p - start);
  out.Commit(delta_size);
  if (reference != nullptr) {
    std::uint8_t* q = out.Reserve(rows * kMaxVarintBytes);
    std::uint8_t* const relative_start = q;
    for (std::size_t row = 0; row < rows; ++row) {
      const auto v = static_cast<std::uint64_t>(Load<std::int64_t>(values, row));
      const auto r = static_cast<std::uint64_t>(Load<std::int64_t>(reference, row));
      q += EncodeVarint(q, ZigZag(static_cast<std::int64_t>(v - r)));
    }
    const auto relative_size = static_cast<std::size_t>(q - relative_start);
    if (relative_size < delta_size) {
      result.encoding = Encoding::kRelative;
      std::memmove(out.data() + base, relative_start, relative_size);
      out.Resize(base + relative_size);
    }
  }
  return result;
}

std::optional<EncodedColumn> EncodeStrings(const std::uint8_t* values, std::size_t rows,
                                           std::string_view arena, Buffer& out) {
  auto text = [&](std::size_t row) {
    const auto ref = Load<StringRef>(values, row);
    if (ref.length == 0 || ref.offset > arena.size()) {
      return std::string_view();
    }
    return arena.substr(ref.offset, ref.length);
  };
  bool any = false;
  bool constant = true;
  const std::string_view first = text(0);
  for (std::size_t row = 0; row < rows; ++row) {
    const std::string_view t = text(row);
    any = any || !t.empty();
    constant = constant && t == first;
  }
  if (!any) {
    return std::nullopt;
  }
  EncodedColumn result;
  if (constant) {
    result.encoding = Encoding::kConstant;
    out.PutString(first);
    return result;
  }
  result.encoding = Encoding::kPlain;
  for (std::size_t row = 0; row < rows; ++row) {
    out.PutVarint(text(row).size());
  }
  for (std::size_t row = 0; row < rows; ++row) {
    const std::string_view t = text(row);
    out.Append(t.data(), t.size());
  }
  return result;
}

// An address as two 64-bit words in memory order, for cheap comparisons.
struct AddressWords {
  std::uint64_t hi;
  std::uint64_t lo;

  friend bool operator==(const AddressWords&, const AddressWords&) = default;
};

AddressWords LoadWords(const std::uint8_t* p) {
  AddressWords w;
  std::memcpy(&w.hi, p, 8);
  std::memcpy(&w.lo, p + 8, 8);
  return w;
}

AddressKind KindOf(const AddressWords& w) {
  if (w.hi != 0) {
    return kKindOther;
  }
  if ((w.lo & 0xffffffffULL) == 0xffff0000ULL) {  // bytes 8..11 are 00 00 ff ff
    return kKindV4;
  }
  return w.lo == 0 ? kKindUnset : kKindOther;
}

// Addresses: constant, dictionary, IPv4 (all rows IPv4) or mixed, whichever is
// smallest. One pass computes the statistics and every candidate layout.
std::optional<EncodedColumn> EncodeAddressColumn(const std::uint8_t* values, std::size_t rows,
                                                 DictBuilder<IpAddress, AddrHash>& dict,
                                                 Buffer& indexes, Buffer& kinds_buf, Buffer& v4,
                                                 Buffer& other, Buffer& out) {
  EncodedColumn result;
  ColumnStats& stats = result.stats;
  std::uint32_t v4_min = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t v4_max = 0;
  bool constant = true;
  bool dict_ok = true;
  dict.Reset();
  indexes.clear();
  kinds_buf.clear();
  v4.clear();
  other.clear();
  std::uint8_t* idx = indexes.Reserve(rows);
  std::uint8_t* kinds = kinds_buf.Reserve(rows);
  std::uint8_t* v4_out = v4.Reserve(rows * 4);
  std::uint8_t* other_out = other.Reserve(rows * 16);
  std::size_t v4_rows = 0;
  std::size_t other_rows = 0;

  AddressWords prev = LoadWords(values);
  AddressKind prev_kind = KindOf(prev);
  std::uint32_t prev_v4 = 0;
  int prev_idx = -1;
  auto account = [&](const std::uint8_t* p) {
    IpAddress a;
    std::memcpy(a.bytes.data(), p, 16);
    if (prev_kind == kKindUnset) {
      stats.has_unset = true;
    } else {
      if (prev_kind == kKindV4) {
        stats.has_v4 = true;
        prev_v4 = a.V4();
        v4_min = std::min(v4_min, prev_v4);
        v4_max = std::max(v4_max, prev_v4);
      } else {
        stats.has_v6 = true;
      }
    }
    const std::uint64_t hash = AddressHash(a);
    if (prev_kind != kKindUnset) {
      for (const std::uint8_t bit : {static_cast<std::uint8_t>(hash), static_cast<std::uint8_t>(hash >> 8)}) {
        stats.bloom[bit >> 6] |= std::uint64_t{1} << (bit & 63);
      }
    }
    if (dict_ok) {
      prev_idx = dict.Add(a, hash);
      dict_ok = prev_idx >= 0;
    }
  };
  account(values);
  for (std::size_t row = 0; row < rows; ++row) {
    const std::uint8_t* p = values + row * 16;
    const AddressWords w = LoadWords(p);
    if (!(w == prev)) {
      constant = false;
      prev = w;
      prev_kind = KindOf(w);
      account(p);
    }
    kinds[row] = prev_kind;
    idx[row] = static_cast<std::uint8_t>(prev_idx);
    if (prev_kind == kKindV4) {
      std::memcpy(v4_out + 4 * v4_rows++, p + 12, 4);
    } else if (prev_kind == kKindOther) {
      std::memcpy(other_out + 16 * other_rows++, p, 16);
    }
  }
  if (!stats.has_v4 && !stats.has_v6) {
    return std::nullopt;
  }
  if (stats.has_v4) {
    stats.v4_min = v4_min;
    stats.v4_max = v4_max;
  }
  if (constant) {
    result.encoding = Encoding::kConstant;
    out.Append(values, 16);
    return result;
  }
  const std::size_t dict_size = VarintLength(dict.size()) + dict.size() * 16 + rows;
  const bool all_v4 = v4_rows == rows;
  const std::size_t alt_size = all_v4 ? rows * 4 : rows + v4_rows * 4 + other_rows * 16;
  if (dict_ok && dict_size < alt_size) {
    result.encoding = Encoding::kDictionary;
    out.PutVarint(dict.size());
    for (std::size_t entry = 0; entry < dict.size(); ++entry) {
      out.Append(dict.key(entry).bytes.data(), 16);
    }
    out.Append(indexes.data(), rows);
    return result;
  }
  if (all_v4) {
    result.encoding = Encoding::kIpv4;
    out.Append(v4_out, rows * 4);
    return result;
  }
  result.encoding = Encoding::kIpMixed;
  out.Append(kinds, rows);
  out.Append(v4_out, v4_rows * 4);
  out.Append(other_out, other_rows * 16);
  return result;
}

}  // namespace

std::size_t ValueSize(FieldType type) {
  switch (type) {
    case FieldType::kTimeMillis:
    case FieldType::kUint64:
    case FieldType::kMacAddress:
      return 8;
    case FieldType::kUint8:
      return 1;
    case FieldType::kUint16:
    case FieldType::kCountry:
      return 2;
    case FieldType::kUint32:
      return 4;
    case FieldType::kIpAddress:
      return sizeof(IpAddress);
    case FieldType::kString:
      return sizeof(StringRef);
  }
  return 0;
}

ColumnEncoder::ColumnEncoder() : scratch_(std::make_unique<Scratch>()) {}

ColumnEncoder::~ColumnEncoder() = default;

std::optional<EncodedColumn> ColumnEncoder::Encode(FieldType type, const std::uint8_t* values,
                                                   std::size_t rows, std::string_view arena,
                                                   const std::uint8_t* reference, Buffer& out) {
  if (rows == 0) {
    return std::nullopt;
  }
  Scratch& s = *scratch_;
  switch (type) {
    case FieldType::kTimeMillis:
      return EncodeTimes(values, rows, reference, out);
    case FieldType::kUint8:
      return EncodeInts<std::uint8_t>(values, rows, s.int_dict, s.indexes, out);
    case FieldType::kUint16:
    case FieldType::kCountry:
      return EncodeInts<std::uint16_t>(values, rows, s.int_dict, s.indexes, out);
    case FieldType::kUint32:
      return EncodeInts<std::uint32_t>(values, rows, s.int_dict, s.indexes, out);
    case FieldType::kUint64:
    case FieldType::kMacAddress:
      return EncodeInts<std::uint64_t>(values, rows, s.int_dict, s.indexes, out);
    case FieldType::kIpAddress:
      return EncodeAddressColumn(values, rows, s.addr_dict, s.indexes, s.kinds, s.v4, s.other, out);
    case FieldType::kString:
      return EncodeStrings(values, rows, arena, out);
  }
  return std::nullopt;
}

namespace {

template <typename T>
bool DecodeInts(Encoding encoding, std::span<const std::uint8_t> raw, std::size_t rows,
                Buffer& values) {
  values.Resize(rows * sizeof(T));
  std::uint8_t* out = values.data();
  Cursor in(raw);
  switch (encoding) {
    case Encoding::kConstant: {
      if (raw.size() != sizeof(T)) {
        return false;
      }
      for (std::size_t row = 0; row < rows; ++row) {
        std::memcpy(out + row * sizeof(T), raw.data(), sizeof(T));
      }
      return true;
    }
    case Encoding::kPlain:
      if (raw.size() != rows * sizeof(T)) {
        return false;
      }
      if (rows > 0) {
        std::memcpy(out, raw.data(), raw.size());
      }
      return true;
    case Encoding::kVarint:
      if constexpr (std::is_signed_v<T>) {
        return false;
      } else {
        for (std::size_t row = 0; row < rows; ++row) {
          const std::uint64_t v = in.Varint();
          if (v > std::numeric_limits<T>::max()) {
            return false;
          }
          const T t = static_cast<T>(v);
          std::memcpy(out + row * sizeof(T), &t, sizeof(T));
        }
        return in.ok() && in.AtEnd();
      }
    case Encoding::kDelta:
      if constexpr (!std::is_signed_v<T>) {
        return false;
      } else {
        std::uint64_t prev = 0;
        for (std::size_t row = 0; row < rows; ++row) {
          prev += static_cast<std::uint64_t>(in.ZigZagVarint());
          const T t = static_cast<T>(prev);
          std::memcpy(out + row * sizeof(T), &t, sizeof(T));
        }
        return in.ok() && in.AtEnd();
      }
    case Encoding::kDictionary: {
      const std::uint64_t size = in.Varint();
      if (!in.ok() || size == 0 || size > kMaxDictionarySize) {
        return false;
      }
      const auto dict = in.Bytes(size * sizeof(T));
      const auto indexes = in.Bytes(rows);
      if (!in.ok() || !in.AtEnd()) {
        return false;
      }
      for (std::size_t row = 0; row < rows; ++row) {
        if (indexes[row] >= size) {
          return false;
        }
        std::memcpy(out + row * sizeof(T), dict.data() + indexes[row] * sizeof(T), sizeof(T));
      }
      return true;
    }
    case Encoding::kIpv4:
    case Encoding::kIpMixed:
    case Encoding::kRelative:
      return false;
  }
  return false;
}

bool DecodeAddresses(Encoding encoding, std::span<const std::uint8_t> raw, std::size_t rows,
                     Buffer& values) {
  values.Resize(rows * 16);
  std::uint8_t* out = values.data();
  if (rows > 0) {
    std::memset(out, 0, rows * 16);
  }
  Cursor in(raw);
  switch (encoding) {
    case Encoding::kConstant:
      if (raw.size() != 16) {
        return false;
      }
      for (std::size_t row = 0; row < rows; ++row) {
        std::memcpy(out + row * 16, raw.data(), 16);
      }
      return true;
    case Encoding::kDictionary: {
      const std::uint64_t size = in.Varint();
      if (!in.ok() || size == 0 || size > kMaxDictionarySize) {
        return false;
      }
      const auto dict = in.Bytes(size * 16);
      const auto indexes = in.Bytes(rows);
      if (!in.ok() || !in.AtEnd()) {
        return false;
      }
      for (std::size_t row = 0; row < rows; ++row) {
        if (indexes[row] >= size) {
          return false;
        }
        std::memcpy(out + row * 16, dict.data() + indexes[row] * 16, 16);
      }
      return true;
    }
    case Encoding::kIpv4:
      if (raw.size() != rows * 4) {
        return false;
      }
      for (std::size_t row = 0; row < rows; ++row) {
        out[row * 16 + 10] = 0xff;
        out[row * 16 + 11] = 0xff;
        std::memcpy(out + row * 16 + 12, raw.data() + row * 4, 4);
      }
      return true;
    case Encoding::kIpMixed: {
      const auto kinds = in.Bytes(rows);
      if (!in.ok()) {
        return false;
      }
      std::size_t v4_rows = 0;
      std::size_t other_rows = 0;
      for (const std::uint8_t kind : kinds) {
        if (kind == kKindV4) {
          ++v4_rows;
        } else if (kind == kKindOther) {
          ++other_rows;
        } else if (kind != kKindUnset) {
          return false;
        }
      }
      const auto v4 = in.Bytes(v4_rows * 4);
      const auto other = in.Bytes(other_rows * 16);
      if (!in.ok() || !in.AtEnd()) {
        return false;
      }
      std::size_t v4_idx = 0;
      std::size_t other_idx = 0;
      for (std::size_t row = 0; row < rows; ++row) {
        if (kinds[row] == kKindV4) {
          out[row * 16 + 10] = 0xff;
          out[row * 16 + 11] = 0xff;
          std::memcpy(out + row * 16 + 12, v4.data() + 4 * v4_idx++, 4);
        } else if (kinds[row] == kKindOther) {
          std::memcpy(out + row * 16, other.data() + 16 * other_idx++, 16);
        }
      }
      return true;
    }
    case Encoding::kPlain:
    case Encoding::kVarint:
    case Encoding::kDelta:
    case Encoding::kRelative:
      return false;
  }
  return false;
}

bool DecodeStrings(Encoding encoding, std::span<const std::uint8_t> raw, std::size_t rows,
                   Buffer& values, Buffer& strings) {
  values.Resize(rows * sizeof(StringRef));
  std::uint8_t* out = values.data();
  strings.clear();
  Cursor in(raw);
  auto put = [&](std::size_t row, StringRef ref) { std::memcpy(out + row * sizeof(StringRef), &ref, sizeof ref); };
  switch (encoding) {
    case Encoding::kConstant: {
      const std::uint64_t length = in.Varint();
      if (!in.ok() || length > flow::FlowBatch::kMaxStringLength) {
        return false;
      }
      strings.Append(in.Bytes(length));
      if (!in.ok() || !in.AtEnd()) {
        return false;
      }
      for (std::size_t row = 0; row < rows; ++row) {
        put(row, StringRef{0, static_cast<std::uint32_t>(length)});
      }
      return true;
    }
    case Encoding::kPlain: {
      std::uint64_t offset = 0;
      for (std::size_t row = 0; row < rows; ++row) {
        const std::uint64_t length = in.Varint();
        if (!in.ok() || length > flow::FlowBatch::kMaxStringLength) {
          return false;
        }
        put(row, StringRef{static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(length)});
        offset += length;
      }
      if (in.remaining() != offset) {
        return false;
      }
      strings.Append(in.Bytes(offset));
      return in.ok();
    }
    case Encoding::kVarint:
    case Encoding::kDelta:
    case Encoding::kDictionary:
    case Encoding::kIpv4:
    case Encoding::kIpMixed:
    case Encoding::kRelative:
      return false;
  }
  return false;
}

}  // namespace

bool DecodeColumn(FieldType type, Encoding encoding, std::span<const std::uint8_t> raw,
                  std::size_t rows, const std::uint8_t* reference, Buffer& values,
                  Buffer& strings) {
  switch (type) {
    case FieldType::kTimeMillis:
      if (encoding == Encoding::kRelative) {
        if (reference == nullptr) {
          return false;
        }
        values.Resize(rows * sizeof(std::int64_t));
        Cursor in(raw);
        for (std::size_t row = 0; row < rows; ++row) {
          const auto v = static_cast<std::uint64_t>(Load<std::int64_t>(reference, row)) +
                         static_cast<std::uint64_t>(in.ZigZagVarint());
          std::memcpy(values.data() + row * sizeof v, &v, sizeof v);
        }
        return in.ok() && in.AtEnd();
      }
      return DecodeInts<std::int64_t>(encoding, raw, rows, values);
    case FieldType::kUint8:
      return DecodeInts<std::uint8_t>(encoding, raw, rows, values);
    case FieldType::kUint16:
    case FieldType::kCountry:
      return DecodeInts<std::uint16_t>(encoding, raw, rows, values);
    case FieldType::kUint32:
      return DecodeInts<std::uint32_t>(encoding, raw, rows, values);
    case FieldType::kUint64:
    case FieldType::kMacAddress:
      return DecodeInts<std::uint64_t>(encoding, raw, rows, values);
    case FieldType::kIpAddress:
      return DecodeAddresses(encoding, raw, rows, values);
    case FieldType::kString:
      return DecodeStrings(encoding, raw, rows, values, strings);
  }
  return false;
}

void PutStats(FieldType type, const ColumnStats& stats, Buffer& out) {
  switch (type) {
    case FieldType::kTimeMillis:
      out.PutVarint(ZigZag(stats.time_min));
      out.PutVarint(ZigZag(stats.time_max));
      return;
    case FieldType::kIpAddress: {
      const std::uint8_t flags = (stats.has_unset ? 1 : 0) | (stats.has_v4 ? 2 : 0) | (stats.has_v6 ? 4 : 0);
      out.PutU8(flags);
      if (stats.has_v4) {
        out.PutFixed32(stats.v4_min);
        out.PutFixed32(stats.v4_max);
      }
      if (stats.has_v4 || stats.has_v6) {
        for (const std::uint64_t word : stats.bloom) {
          out.PutFixed64(word);
        }
      }
      return;
    }
    case FieldType::kString:
      return;
    case FieldType::kUint8:
    case FieldType::kUint16:
    case FieldType::kUint32:
    case FieldType::kUint64:
    case FieldType::kMacAddress:
    case FieldType::kCountry:
      out.PutVarint(stats.min);
      out.PutVarint(stats.max);
      return;
  }
}

ColumnStats GetStats(FieldType type, Cursor& in) {
  ColumnStats stats;
  switch (type) {
    case FieldType::kTimeMillis:
      stats.time_min = in.ZigZagVarint();
      stats.time_max = in.ZigZagVarint();
      break;
    case FieldType::kIpAddress: {
      const std::uint8_t flags = in.U8();
      if (flags > 7) {
        in.Fail();
        break;
      }
      stats.has_unset = (flags & 1) != 0;
      stats.has_v4 = (flags & 2) != 0;
      stats.has_v6 = (flags & 4) != 0;
      if (stats.has_v4) {
        stats.v4_min = in.Fixed32();
        stats.v4_max = in.Fixed32();
      }
      if (stats.has_v4 || stats.has_v6) {
        for (std::uint64_t& word : stats.bloom) {
          word = in.Fixed64();
        }
      }
      break;
    }
    case FieldType::kString:
      break;
    case FieldType::kUint8:
    case FieldType::kUint16:
    case FieldType::kUint32:
    case FieldType::kUint64:
    case FieldType::kMacAddress:
    case FieldType::kCountry:
      stats.min = in.Varint();
      stats.max = in.Varint();
      break;
  }
  return stats;
}

std::optional<flow::FieldId> ReferenceField(flow::FieldId field) {
  switch (field) {
    case flow::FieldId::kFirst:
      return flow::FieldId::kLast;
    case flow::FieldId::kLast:
      return flow::FieldId::kTimeReceived;
    default:
      return std::nullopt;
  }
}

std::array<std::uint8_t, 2> BloomBits(const IpAddress& address) {
  const std::uint64_t h = AddressHash(address);
  return {static_cast<std::uint8_t>(h), static_cast<std::uint8_t>(h >> 8)};
}

bool ColumnStats::MayContain(const IpAddress& address) const {
  if (address.IsUnset()) {
    return has_unset;
  }
  if (address.IsV4()) {
    if (!has_v4 || address.V4() < v4_min || address.V4() > v4_max) {
      return false;
    }
  } else if (!has_v6) {
    return false;
  }
  for (const std::uint8_t bit : BloomBits(address)) {
    if ((bloom[bit >> 6] & (std::uint64_t{1} << (bit & 63))) == 0) {
      return false;
    }
  }
  return true;
}

std::string_view EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kConstant:
      return "constant";
    case Encoding::kPlain:
      return "plain";
    case Encoding::kVarint:
      return "varint";
    case Encoding::kDelta:
      return "delta";
    case Encoding::kDictionary:
      return "dictionary";
    case Encoding::kIpv4:
      return "ipv4";
    case Encoding::kIpMixed:
      return "ip_mixed";
    case Encoding::kRelative:
      return "relative";
  }
  return "unknown";
}

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "none";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

}  // namespace sluice::store
