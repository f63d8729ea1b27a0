// SPDX-License-Identifier: Apache-2.0

#include "store/column_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

template <typename T>
void Store(std::uint8_t* values, std::size_t row, T v) {
  std::memcpy(values + row * sizeof(T), &v, sizeof(T));
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

// Hashes for DictBuilder, which uses their high bits: one multiplication (Fibonacci
// hashing) is enough for a table at most a quarter full.
struct IntHash {
  std::uint64_t operator()(std::uint64_t v) const { return v * 0x9E3779B97F4A7C15ULL; }
};

// Distinct values of a column, up to kCapacity, in first-seen order.
template <typename K, typename Hash, std::size_t kCapacity>
class DictBuilder {
 public:
  static_assert(kCapacity < 65536, "slots hold 16-bit entry numbers");

  void Reset() {
    slots_.fill(0);
    size_ = 0;
  }

  // Returns the value's index, or -1 if it would be one value too many.
  int Add(const K& key) { return Add(key, Hash{}(key)); }

  // As above, with the key's hash already computed.
  int Add(const K& key, std::uint64_t hash) {
    std::size_t slot = static_cast<std::size_t>(hash >> (64 - kSlotBits));
    while (true) {
      const std::uint16_t entry = slots_[slot];
      if (entry == 0) {
        if (size_ == kCapacity) {
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
  static constexpr std::size_t kSlots = std::bit_ceil(kCapacity * 4);  // load factor <= 1/4
  static constexpr int kSlotBits = std::countr_zero(kSlots);
  std::array<std::uint16_t, kSlots> slots_{};
  std::array<K, kCapacity> keys_{};
  std::size_t size_ = 0;
};

enum AddressKind : std::uint8_t { kKindUnset = 0, kKindV4 = 4, kKindOther = 6 };

// The writer's largest kWideDictionary (the format allows kMaxWideDictionarySize).
constexpr std::size_t kWideDictCapacity = 4096;

// Rows sampled to guess a column's cardinality before building a dictionary.
constexpr std::size_t kSampleRows = 1024;

// Bits per row of kBitPack / kDictPacked codes below 2^bits: 1, 2 or 4, so that codes
// never straddle a byte (zstd's byte-wise entropy coder then sees whole groups).
unsigned PackWidth(unsigned bits) {
  return bits <= 1 ? 1 : bits <= 2 ? 2 : 4;
}

// kDictPacked index width for a dictionary of n (1..16) values.
unsigned DictPackWidth(std::size_t n) {
  return PackWidth(static_cast<unsigned>(std::bit_width(n - 1)));
}

std::size_t PackedBytes(std::size_t rows, unsigned width) {
  return (rows * width + 7) / 8;
}

// Packs `rows` codes (each < 2^width, width 1, 2 or 4) LSB-first: code i lands in byte
// i * width / 8 at bit (i * width) % 8. Unused high bits of the last byte are 0.
template <unsigned kWidth>
void PackCodesOf(const std::uint8_t* codes, std::size_t rows, std::uint8_t* out) {
  constexpr unsigned kPerByte = 8 / kWidth;
  const std::size_t full = rows / kPerByte;
  std::size_t first = 0;
  // Eight codes (one u64, a code per byte) at a time: fold neighbouring bytes together
  // until each of the 8 / kPerByte result bytes holds kPerByte codes, then gather them.
  for (; (first + 1) * 8 <= full * kPerByte; ++first) {
    std::uint64_t w;
    std::memcpy(&w, codes + first * 8, 8);
    if constexpr (kWidth == 4) {
      w = (w | (w >> 4)) & 0x00ff00ff00ff00ffULL;  // 4 bytes at 0, 2, 4, 6
      w = (w | (w >> 8)) & 0x0000ffff0000ffffULL;  // 2 u16 at 0, 4
      w = (w | (w >> 16)) & 0xffffffffULL;         // bytes 0..3
      std::memcpy(out + first * 4, &w, 4);
    } else if constexpr (kWidth == 2) {
      w = (w | (w >> 6)) & 0x00ff00ff00ff00ffULL;   // 2-code nibbles at 0, 2, 4, 6
      w = (w | (w >> 12)) & 0x000000ff000000ffULL;  // 4-code bytes at 0, 4
      w = (w | (w >> 24)) & 0xffffULL;
      std::memcpy(out + first * 2, &w, 2);
    } else {
      w = (w | (w >> 7)) & 0x0003000300030003ULL;
      w = (w | (w >> 14)) & 0x0000000f0000000fULL;
      w = (w | (w >> 28)) & 0xffULL;
      out[first] = static_cast<std::uint8_t>(w);
    }
  }
  for (std::size_t byte_idx = first * 8 / kPerByte; byte_idx < full; ++byte_idx) {
    unsigned byte = 0;
    for (unsigned code_idx = 0; code_idx < kPerByte; ++code_idx) {
      byte |= static_cast<unsigned>(codes[byte_idx * kPerByte + code_idx]) << (code_idx * kWidth);
    }
    out[byte_idx] = static_cast<std::uint8_t>(byte);
  }
  if (full * kPerByte < rows) {
    unsigned byte = 0;
    for (std::size_t row = full * kPerByte; row < rows; ++row) {
      byte |= static_cast<unsigned>(codes[row]) << ((row - full * kPerByte) * kWidth);
    }
    out[full] = static_cast<std::uint8_t>(byte);
  }
}

void PackCodes(const std::uint8_t* codes, std::size_t rows, unsigned width, Buffer& out) {
  const std::size_t bytes = PackedBytes(rows, width);
  std::uint8_t* p = out.Reserve(bytes);
  if (width == 1) {
    PackCodesOf<1>(codes, rows, p);
  } else if (width == 2) {
    PackCodesOf<2>(codes, rows, p);
  } else {
    PackCodesOf<4>(codes, rows, p);
  }
  out.Commit(bytes);
}

// Reads code `row` of a PackCodes() array (bounds checked by the caller).
unsigned PackedCode(const std::uint8_t* packed, std::size_t row, unsigned width) {
  const std::size_t bit = row * width;
  return (packed[bit / 8] >> (bit % 8)) & ((1u << width) - 1);
}

// Whether the unused bits after `rows` codes are zero (the encoding is canonical).
bool PaddingIsZero(std::span<const std::uint8_t> packed, std::size_t rows, unsigned width) {
  const std::size_t used = (rows * width) % 8;
  return used == 0 || (packed.back() >> used) == 0;
}

// Rows per inner loop of the hot loops (a fixed trip count the compiler vectorizes).
constexpr std::size_t kRun = 64;

// Smallest and largest of `rows` (>= 1) values of type T.
template <typename T, typename Value>
std::pair<T, T> MinMax(std::size_t rows, Value value) {
  T lo = value(0);
  T hi = lo;
  std::size_t row = 0;
  for (; row + kRun <= rows; row += kRun) {
    T run_lo = value(row);
    T run_hi = run_lo;
    for (std::size_t offset = 0; offset < kRun; ++offset) {
      run_lo = std::min(run_lo, value(row + offset));
      run_hi = std::max(run_hi, value(row + offset));
    }
    lo = std::min(lo, run_lo);
    hi = std::max(hi, run_hi);
  }
  for (; row < rows; ++row) {
    lo = std::min(lo, value(row));
    hi = std::max(hi, value(row));
  }
  return {lo, hi};
}

// Bytes needed for an unsigned range (0 for 0).
unsigned ByteWidth(std::uint64_t range) {
  return static_cast<unsigned>((std::bit_width(range) + 7) / 8);
}

// Writes the k byte planes of the `rows` deltas at `p`: plane j holds byte j of
// delta(row) for every row. Runs of kRun deltas, narrowed to N (wide enough for k bytes),
// are computed once into a local array, then split into the planes by fixed-length loops
// that the compiler vectorizes (the array cannot alias the output; a narrower N packs
// into bytes with fewer instructions).
template <typename N, typename Delta>
void WritePlanes(std::size_t rows, unsigned k, Delta delta, std::uint8_t* p) {
  std::size_t row = 0;
  for (; row + kRun <= rows; row += kRun) {
    std::array<N, kRun> run;
    for (std::size_t offset = 0; offset < kRun; ++offset) {
      run[offset] = static_cast<N>(delta(row + offset));
    }
    for (unsigned plane = 0; plane < k; ++plane) {
      std::uint8_t* dst = p + plane * rows + row;
      const unsigned shift = 8 * plane;
      for (std::size_t offset = 0; offset < kRun; ++offset) {
        dst[offset] = static_cast<std::uint8_t>(run[offset] >> shift);
      }
    }
  }
  for (; row < rows; ++row) {
    const N d = static_cast<N>(delta(row));
    for (unsigned plane = 0; plane < k; ++plane) {
      p[plane * rows + row] = static_cast<std::uint8_t>(d >> (8 * plane));
    }
  }
}

// Appends the k byte planes of kFrame: plane j holds byte j of delta(row) for every row.
template <typename Delta>
void PutPlanes(std::size_t rows, unsigned k, Delta delta, Buffer& out,
               SectionMarks* marks = nullptr) {
  using D = decltype(delta(std::size_t{0}));
  std::uint8_t* p = out.Reserve(rows * k);
  if (marks != nullptr) {
    for (unsigned plane = 0; plane < k; ++plane) {
      marks->Add(out.size() + plane * rows);
    }
  }
  if constexpr (sizeof(D) > 2) {
    if (k <= 2) {
      WritePlanes<std::uint16_t>(rows, k, delta, p);
      out.Commit(rows * k);
      return;
    }
  }
  if constexpr (sizeof(D) > 4) {
    if (k <= 4) {
      WritePlanes<std::uint32_t>(rows, k, delta, p);
      out.Commit(rows * k);
      return;
    }
  }
  WritePlanes<D>(rows, k, delta, p);
  out.Commit(rows * k);
}

// Appends the kFrame/kRelativeFrame layout: u8 k, the base (8 bytes for times, else the
// type's width), then the planes of delta(row) (already relative to the base).
template <typename T, typename Delta>
void PutFrame(std::size_t rows, unsigned k, T base, Delta delta, Buffer& out,
              SectionMarks* marks = nullptr) {
  out.PutU8(static_cast<std::uint8_t>(k));
  out.Append(&base, sizeof(T));
  PutPlanes(rows, k, delta, out, marks);
}

// Scratch of the integer encoder.
struct IntScratch {
  DictBuilder<std::uint64_t, IntHash, kMaxDictionarySize> int_dict;
  DictBuilder<std::uint64_t, IntHash, kWideDictCapacity> wide_dict;
  Buffer indexes;
  Buffer wide_indexes;
  Buffer quotients;
  Buffer remainders;
  Buffer codes;
  Buffer exceptions;
  std::array<std::uint32_t, kSampleRows> sample_counts{};
  std::array<std::uint8_t, 65536> code_of{};  // kPatchedDictionary: code of each u16 value
  std::vector<std::uint32_t> entry_order;     // kWideDictionary: uses, then rank of each entry
  std::vector<std::uint64_t> order_keys;
};

// kPatchedDictionary for a u16 column whose sample has values that repeat (service ports
// next to ephemeral ones): the values seen at least max(2, sample / 256) times among the
// first kSampleRows rows, if they make up at least a quarter of the sample, become a
// dictionary (most frequent first, at most 254 values); each row gets a code byte (its
// index, or n for an exception) and the exceptions follow as a frame. Appends it and
// returns true if the sample qualifies.
bool EncodePatched(const std::uint8_t* values, std::size_t rows, IntScratch& s, Buffer& out,
                   SectionMarks& marks) {
  constexpr std::size_t kMaxValues = 254;
  auto& dict = s.wide_dict;  // the sample's distinct values (at most kSampleRows)
  dict.Reset();
  const std::size_t sampled = std::min(rows, kSampleRows);
  std::fill(s.sample_counts.begin(), s.sample_counts.end(), 0u);
  for (std::size_t row = 0; row < sampled; ++row) {
    const int at = dict.Add(Load<std::uint16_t>(values, row));
    ++s.sample_counts[static_cast<std::size_t>(at)];  // never -1: capacity > kSampleRows
  }
  const std::size_t min_count = std::max<std::size_t>(2, sampled / 256);
  std::array<std::pair<std::uint32_t, std::uint16_t>, kSampleRows> frequent;  // count, value
  std::size_t n = 0;
  std::size_t covered = 0;
  for (std::size_t entry = 0; entry < dict.size(); ++entry) {
    if (s.sample_counts[entry] >= min_count) {
      frequent[n++] = {s.sample_counts[entry], static_cast<std::uint16_t>(dict.key(entry))};
      covered += s.sample_counts[entry];
    }
  }
  if (n == 0 || covered * 4 < sampled) {
    return false;
  }
  std::sort(frequent.begin(), frequent.begin() + static_cast<std::ptrdiff_t>(n),
            [](const auto& a, const auto& b) {
              return a.first > b.first || (a.first == b.first && a.second < b.second);
            });
  n = std::min(n, kMaxValues);
  std::fill(s.code_of.begin(), s.code_of.end(), static_cast<std::uint8_t>(n));
  out.PutVarint(n);
  std::uint8_t* p = out.Reserve(n * 2);
  for (std::size_t entry = 0; entry < n; ++entry) {
    s.code_of[frequent[entry].second] = static_cast<std::uint8_t>(entry);
    Store<std::uint16_t>(p, entry, frequent[entry].second);
  }
  out.Commit(n * 2);
  // Codes, and the exceptions gathered without a branch per row.
  marks.Add(out.size());
  std::uint8_t* codes = out.Reserve(rows);
  s.exceptions.clear();
  auto* exceptions = reinterpret_cast<std::uint16_t*>(s.exceptions.Reserve(rows * 2));
  std::size_t count = 0;
  for (std::size_t row = 0; row < rows; ++row) {
    const auto v = Load<std::uint16_t>(values, row);
    const std::uint8_t code = s.code_of[v];
    codes[row] = code;
    exceptions[count] = v;
    count += code == n ? 1 : 0;
  }
  out.Commit(rows);
  std::uint16_t lo = 0;
  std::uint16_t hi = 0;
  if (count > 0) {
    const std::pair<std::uint16_t, std::uint16_t> ends =
        MinMax<std::uint16_t>(count, [exceptions](std::size_t row) { return exceptions[row]; });
    lo = ends.first;
    hi = ends.second;
  }
  PutFrame<std::uint16_t>(
      count, ByteWidth(static_cast<std::uint16_t>(hi - lo)), lo,
      [exceptions, lo](std::size_t row) {
        return static_cast<std::uint16_t>(exceptions[row] - lo);
      },
      out, &marks);
  return true;
}

// kRatio: each value as quotient and remainder by the reference column's value in the
// same row (a zero divisor gives quotient 0), each part as a frame. Appends it and
// returns true if the two frames need no more byte planes than `k`, the plain frame's:
// at the same raw size, what the value shares with its reference (the packets of the
// bytes) is no longer stored twice, which the compressor turns into fewer bytes.
bool EncodeRatio(const std::uint8_t* values, std::size_t rows, const std::uint8_t* reference,
                 unsigned k, IntScratch& s, Buffer& out, SectionMarks& marks) {
  s.quotients.clear();
  s.remainders.clear();
  auto* q = reinterpret_cast<std::uint64_t*>(s.quotients.Reserve(rows * 8));
  auto* r = reinterpret_cast<std::uint64_t*>(s.remainders.Reserve(rows * 8));
  for (std::size_t row = 0; row < rows; ++row) {
    const auto v = Load<std::uint64_t>(values, row);
    const auto d = Load<std::uint64_t>(reference, row);
    std::uint64_t quotient = 0;
    if (d != 0) {
      // 32-bit division is several times faster, and bytes and packets usually fit.
      quotient = ((v | d) >> 32) == 0
                     ? static_cast<std::uint32_t>(v) / static_cast<std::uint32_t>(d)
                     : v / d;
    }
    q[row] = quotient;
    r[row] = v - quotient * d;
  }
  const std::pair<std::uint64_t, std::uint64_t> q_ends =
      MinMax<std::uint64_t>(rows, [q](std::size_t row) { return q[row]; });
  const std::pair<std::uint64_t, std::uint64_t> r_ends =
      MinMax<std::uint64_t>(rows, [r](std::size_t row) { return r[row]; });
  const std::uint64_t q_lo = q_ends.first;
  const std::uint64_t r_lo = r_ends.first;
  const unsigned k_q = ByteWidth(q_ends.second - q_lo);
  const unsigned k_r = ByteWidth(r_ends.second - r_lo);
  if (k_q + k_r > k) {
    return false;
  }
  PutFrame<std::uint64_t>(
      rows, k_q, q_lo, [q, q_lo](std::size_t row) { return q[row] - q_lo; }, out, &marks);
  PutFrame<std::uint64_t>(
      rows, k_r, r_lo, [r, r_lo](std::size_t row) { return r[row] - r_lo; }, out, &marks);
  return true;
}

// Distinct values among the first kSampleRows rows, counting at most to 257.
template <typename T>
std::size_t SampleDistinct(const std::uint8_t* values, std::size_t rows,
                           DictBuilder<std::uint64_t, IntHash, kMaxDictionarySize>& dict) {
  dict.Reset();
  const std::size_t sample = std::min(rows, kSampleRows);
  T prev = Load<T>(values, 0);
  (void)dict.Add(static_cast<std::uint64_t>(prev));
  for (std::size_t row = 1; row < sample; ++row) {
    const T v = Load<T>(values, row);
    if (v != prev) {
      prev = v;
      if (dict.Add(static_cast<std::uint64_t>(v)) < 0) {
        return kMaxDictionarySize + 1;
      }
    }
  }
  return dict.size();
}

// Builds a dictionary of every row into `dict` and the row's index into `indexes`
// (16-bit). Returns false if the column has more than the dictionary's capacity.
template <typename T, typename Dict>
bool BuildDictionary(const std::uint8_t* values, std::size_t rows, Dict& dict, Buffer& indexes) {
  dict.Reset();
  indexes.clear();
  auto* idx = reinterpret_cast<std::uint16_t*>(indexes.Reserve(rows * 2));
  T prev = Load<T>(values, 0);
  int prev_idx = dict.Add(static_cast<std::uint64_t>(prev));
  for (std::size_t row = 0; row < rows; ++row) {
    const T v = Load<T>(values, row);
    if (v != prev) {
      prev = v;
      prev_idx = dict.Add(static_cast<std::uint64_t>(v));
      if (prev_idx < 0) {
        return false;
      }
    }
    idx[row] = static_cast<std::uint16_t>(prev_idx);
  }
  return true;
}

// Appends a dictionary's values, each sizeof(T) bytes little-endian.
template <typename T, typename Dict>
void PutDictValues(const Dict& dict, Buffer& out) {
  out.PutVarint(dict.size());
  std::uint8_t* p = out.Reserve(dict.size() * sizeof(T));
  for (std::size_t entry = 0; entry < dict.size(); ++entry) {
    Store<T>(p, entry, static_cast<T>(dict.key(entry)));
  }
  out.Commit(dict.size() * sizeof(T));
}

// Appends a wide dictionary's values most used first (ties by value) and renumbers the
// rows' indexes to match. Two index planes then carry the skew of the values: the high
// plane is mostly 0 and the low one concentrated on few codes, which zstd's byte-wise
// entropy coder turns into fewer bits than first-seen order does (AS numbers of
// bench/store_segment_bench.cc: 0.62 -> 0.60 B/flow each). `order` and `keys` are
// scratch (kept to avoid allocating per block).
template <typename T, typename Dict>
void PutValuesByUse(const Dict& dict, std::uint16_t* idx, std::size_t rows,
                    std::vector<std::uint32_t>& order, std::vector<std::uint64_t>& keys,
                    Buffer& out) {
  const std::size_t n = dict.size();
  order.assign(n, 0);
  for (std::size_t row = 0; row < rows; ++row) {
    ++order[idx[row]];
  }
  // Sort keys: count (high 32 bits, descending via complement) and entry (low 16 bits).
  keys.resize(n);
  for (std::size_t entry = 0; entry < n; ++entry) {
    keys[entry] = (static_cast<std::uint64_t>(~order[entry]) << 32) | entry;
  }
  std::sort(keys.begin(), keys.end(), [&dict](std::uint64_t a, std::uint64_t b) {
    return (a >> 32) != (b >> 32) ? a < b : dict.key(a & 0xFFFF) < dict.key(b & 0xFFFF);
  });
  out.PutVarint(n);
  std::uint8_t* p = out.Reserve(n * sizeof(T));
  for (std::size_t rank = 0; rank < n; ++rank) {
    const std::size_t entry = keys[rank] & 0xFFFF;
    Store<T>(p, rank, static_cast<T>(dict.key(entry)));
    order[entry] = static_cast<std::uint32_t>(rank);
  }
  out.Commit(n * sizeof(T));
  for (std::size_t row = 0; row < rows; ++row) {
    idx[row] = static_cast<std::uint16_t>(order[idx[row]]);
  }
}

// Appends dictionary indexes (16-bit, each < n) in the layout the dictionary size calls
// for: kDictPacked codes (n <= 16), one byte each (kDictionary), or two planes.
void PutIndexes(const std::uint16_t* idx, std::size_t rows, std::size_t n, Encoding encoding,
                Buffer& scratch, Buffer& out, SectionMarks& marks) {
  if (encoding == Encoding::kDictPacked) {
    scratch.clear();
    std::uint8_t* codes = scratch.Reserve(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      codes[row] = static_cast<std::uint8_t>(idx[row]);
    }
    PackCodes(codes, rows, DictPackWidth(n), out);
    return;
  }
  const std::size_t planes = encoding == Encoding::kWideDictionary ? 2 : 1;
  PutPlanes(
      rows, static_cast<unsigned>(planes), [&](std::size_t row) { return idx[row]; }, out, &marks);
}

// One-byte integers: one pass marks the values present, which gives the range and the
// exact number of distinct values without hashing; then as EncodeInts.
std::optional<EncodedColumn> EncodeBytes(const std::uint8_t* values, std::size_t rows,
                                         IntScratch& s, Buffer& out) {
  std::array<std::uint8_t, 256> seen{};
  for (std::size_t row = 0; row < rows; ++row) {
    seen[values[row]] = 1;
  }
  unsigned lo = 0;
  while (seen[lo] == 0) {
    ++lo;
  }
  unsigned hi = 255;
  while (seen[hi] == 0) {
    --hi;
  }
  if (hi == 0) {
    return std::nullopt;
  }
  EncodedColumn result;
  result.stats.min = lo;
  result.stats.max = hi;
  if (lo == hi) {
    result.encoding = Encoding::kConstant;
    out.PutU8(static_cast<std::uint8_t>(lo));
    return result;
  }
  // Code of each value: value - lo (kBitPack), or its dictionary index (kDictPacked,
  // values in ascending order), written through one table lookup per row.
  std::array<std::uint8_t, 256> code{};
  std::size_t n = 0;
  for (unsigned v = lo; v <= hi; ++v) {
    if (seen[v] != 0) {
      code[v] = static_cast<std::uint8_t>(n++);
    }
  }
  unsigned width = 0;
  if (hi - lo < 16) {
    result.encoding = Encoding::kBitPack;
    width = PackWidth(static_cast<unsigned>(std::bit_width(hi - lo)));
    out.PutU8(static_cast<std::uint8_t>(width));
    out.PutU8(static_cast<std::uint8_t>(lo));
    for (unsigned v = lo; v <= hi; ++v) {
      code[v] = static_cast<std::uint8_t>(v - lo);
    }
  } else if (n <= kMaxPackedDictionarySize) {
    result.encoding = Encoding::kDictPacked;
    width = DictPackWidth(n);
    out.PutVarint(n);
    for (unsigned v = lo; v <= hi; ++v) {
      if (seen[v] != 0) {
        out.PutU8(static_cast<std::uint8_t>(v));
      }
    }
  } else {
    result.encoding = Encoding::kFrame;
    out.PutU8(1);
    out.PutU8(static_cast<std::uint8_t>(lo));
    std::uint8_t* p = out.Reserve(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      p[row] = static_cast<std::uint8_t>(values[row] - lo);
    }
    out.Commit(rows);
    return result;
  }
  if (result.encoding == Encoding::kBitPack && lo == 0) {
    PackCodes(values, rows, width, out);  // the values are their own codes
    return result;
  }
  s.indexes.clear();
  std::uint8_t* codes = s.indexes.Reserve(rows);
  for (std::size_t row = 0; row < rows; ++row) {
    codes[row] = code[values[row]];
  }
  PackCodes(codes, rows, width, out);
  return result;
}

// Unsigned integers. The choice follows from cheap statistics, without trial encodings:
// all default -> no chunk; all equal -> constant; a range below 16 -> kBitPack; few
// distinct values in a sample -> a dictionary (packed, byte or wide indexes); otherwise
// kFrame with as many byte planes as the range needs.
template <typename T>
std::optional<EncodedColumn> EncodeInts(const std::uint8_t* values, std::size_t rows,
                                        const std::uint8_t* reference, IntScratch& s, Buffer& out) {
  static_assert(std::is_unsigned_v<T>, "integer columns are unsigned");
  // Plain locals, not structured bindings: clang 14 cannot capture those in lambdas.
  const std::pair<T, T> range_ends =
      MinMax<T>(rows, [values](std::size_t row) { return Load<T>(values, row); });
  const T lo = range_ends.first;
  const T hi = range_ends.second;
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
  const auto range = static_cast<std::uint64_t>(static_cast<T>(hi - lo));
  if (range < 16) {
    result.encoding = Encoding::kBitPack;
    const unsigned width = PackWidth(static_cast<unsigned>(std::bit_width(range)));
    out.PutU8(static_cast<std::uint8_t>(width));
    out.Append(&lo, sizeof(T));
    s.indexes.clear();
    std::uint8_t* codes = s.indexes.Reserve(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      codes[row] = static_cast<std::uint8_t>(Load<T>(values, row) - lo);
    }
    PackCodes(codes, rows, width, out);
    return result;
  }
  const unsigned k = ByteWidth(range);
  const std::size_t sampled = std::min(rows, kSampleRows);
  const std::size_t distinct = SampleDistinct<T>(values, rows, s.int_dict);
  // A dictionary pays when values repeat: few distinct in the sample, and (for byte or
  // wide indexes) fewer index bytes than value bytes, or values that repeat a lot.
  if (distinct <= kMaxPackedDictionarySize ||
      (k >= 2 && distinct <= kMaxDictionarySize && distinct * 4 <= sampled)) {
    const std::size_t capacity = std::min(kWideDictCapacity, std::max<std::size_t>(rows / 4, 16));
    if (BuildDictionary<T>(values, rows, s.wide_dict, s.wide_indexes) &&
        s.wide_dict.size() <= capacity) {
      const std::size_t n = s.wide_dict.size();
      const Encoding encoding = n <= kMaxPackedDictionarySize ? Encoding::kDictPacked
                                : n <= kMaxDictionarySize     ? Encoding::kDictionary
                                                              : Encoding::kWideDictionary;
      result.encoding = encoding;
      auto* idx = reinterpret_cast<std::uint16_t*>(s.wide_indexes.data());
      if (encoding == Encoding::kWideDictionary) {
        PutValuesByUse<T>(s.wide_dict, idx, rows, s.entry_order, s.order_keys, out);
      } else {
        PutDictValues<T>(s.wide_dict, out);
      }
      PutIndexes(idx, rows, n, encoding, s.indexes, out, result.sections);
      return result;
    }
  }
  if constexpr (std::is_same_v<T, std::uint16_t>) {
    if (k == 2 && EncodePatched(values, rows, s, out, result.sections)) {
      result.encoding = Encoding::kPatchedDictionary;
      return result;
    }
  }
  if constexpr (std::is_same_v<T, std::uint64_t>) {
    if (reference != nullptr && k >= 2 &&
        EncodeRatio(values, rows, reference, k, s, out, result.sections)) {
      result.encoding = Encoding::kRatio;
      return result;
    }
  }
  result.encoding = Encoding::kFrame;
  PutFrame<T>(
      rows, k, lo, [&](std::size_t row) { return static_cast<T>(Load<T>(values, row) - lo); }, out,
      &result.sections);
  return result;
}

// Times: constant; with a reference column, kRelativeFrame (or kFrame when the values
// themselves span fewer bytes); without, delta varints (row to row).
// The base of a kRelativeFrame chunk: the format allows any base at or below the smallest
// value whose deltas fit the planes. The smallest value (deltas from 0) suits times that
// crowd the low end; when more rows lie within 256 of the largest value than of the
// smallest (short flows: `first` a few ms before `last`), the base is lowered so that
// the largest value's delta ends in 0xff, and those rows share one high byte instead of
// straddling a 256 boundary (bench/store_segment_bench.cc: `first` 1.49 -> 1.42 B/flow).
template <typename Relative>
std::int64_t RelativeFrameBase(std::int64_t lo, std::int64_t hi, unsigned k, std::size_t rows,
                               Relative relative) {
  const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (k < 2) {
    return lo;  // one plane: no high byte to share
  }
  const std::uint64_t lower_by = (255 - span % 256) % 256;
  if (lower_by == 0 || ByteWidth(span + lower_by) != k) {
    return lo;
  }
  std::size_t near_lo = 0;
  std::size_t near_hi = 0;
  for (std::size_t row = 0; row < rows; ++row) {
    const auto v = static_cast<std::uint64_t>(relative(row));
    near_lo += v - static_cast<std::uint64_t>(lo) < 256 ? 1 : 0;
    near_hi += static_cast<std::uint64_t>(hi) - v < 256 ? 1 : 0;
  }
  if (near_hi <= near_lo) {
    return lo;
  }
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) - lower_by);
}

std::optional<EncodedColumn> EncodeTimes(const std::uint8_t* values, std::size_t rows,
                                         const std::uint8_t* reference, Buffer& out) {
  const auto [lo, hi] = MinMax<std::int64_t>(
      rows, [values](std::size_t row) { return Load<std::int64_t>(values, row); });
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
  if (reference != nullptr) {
    // s = value - reference (mod 2^64), viewed as int64 for its range.
    auto relative = [&](std::size_t row) {
      return static_cast<std::uint64_t>(Load<std::int64_t>(values, row)) -
             static_cast<std::uint64_t>(Load<std::int64_t>(reference, row));
    };
    const auto [rel_lo, rel_hi] = MinMax<std::int64_t>(
        rows, [&](std::size_t row) { return static_cast<std::int64_t>(relative(row)); });
    const unsigned k_rel =
        ByteWidth(static_cast<std::uint64_t>(rel_hi) - static_cast<std::uint64_t>(rel_lo));
    const unsigned k_abs =
        ByteWidth(static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo));
    if (k_rel <= k_abs) {
      result.encoding = Encoding::kRelativeFrame;
      const auto base = static_cast<std::uint64_t>(RelativeFrameBase(
          rel_lo, rel_hi, k_rel, rows, [&](std::size_t row) { return static_cast<std::int64_t>(relative(row)); }));
      PutFrame<std::int64_t>(
          rows, k_rel, static_cast<std::int64_t>(base), [&](std::size_t row) { return relative(row) - base; },
          out, &result.sections);
    } else {
      result.encoding = Encoding::kFrame;
      const auto base = static_cast<std::uint64_t>(lo);
      PutFrame<std::int64_t>(
          rows, k_abs, lo,
          [&](std::size_t row) {
            return static_cast<std::uint64_t>(Load<std::int64_t>(values, row)) - base;
          },
          out, &result.sections);
    }
    return result;
  }
  result.encoding = Encoding::kDelta;
  std::uint8_t* p = out.Reserve(rows * kMaxVarintBytes);
  std::uint8_t* const start = p;
  std::uint64_t prev = 0;
  for (std::size_t row = 0; row < rows; ++row) {
    const auto v = static_cast<std::uint64_t>(Load<std::int64_t>(values, row));
    p += EncodeVarint(p, ZigZag(static_cast<std::int64_t>(v - prev)));
    prev = v;
  }
  out.Commit(static_cast<std::size_t>(p - start));
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

// Distinct addresses of a column in first-seen order, up to a capacity chosen per block:
// open addressing over a power-of-two table at most half full. The storage only grows
// (to the largest block seen), so a block allocates nothing once the writer warmed up.
//
// A slot is one 64-bit word: the entry's index + 1 in the low kIndexBits bits, a
// fingerprint above. An IPv4 address's fingerprint is the address itself (with a tag
// bit), so an IPv4 lookup reads one word and never the key array; other addresses keep
// a hash fingerprint and are compared with the stored key on a fingerprint match.
class AddressTable {
 public:
  // What Add() needs of an address, computed once (and early, for Prefetch()).
  struct Probe {
    std::uint64_t hash;
    std::uint64_t fingerprint;  // already shifted above the index bits
    bool exact;                 // the fingerprint is the address (IPv4)
  };

  // Both forms are computed and one is selected without a branch: a column mixing IPv4
  // and IPv6 rows would mispredict a branch on the kind often.
  static Probe ProbeOf(const AddressWords& w) {
    const bool v4 = (w.hi | ((w.lo & 0xffffffffULL) ^ 0xffff0000ULL)) == 0;
    const std::uint64_t v4_value = w.lo >> 32;
    const std::uint64_t hash =
        (v4 ? v4_value : w.hi * 0xC2B2AE3D27D4EB4FULL ^ w.lo) * 0x9E3779B97F4A7C15ULL;
    const std::uint64_t fingerprint =
        v4 ? (kV4Tag | v4_value) << kIndexBits : ((hash >> kIndexBits) & ~kV4Tag) << kIndexBits;
    return {hash, fingerprint, v4};
  }

  void Reset(std::size_t capacity) {
    capacity_ = capacity;
    if (keys_.size() < capacity) {
      keys_.resize(capacity);
    }
    size_ = 0;
    Rehash(kMinSlots);
  }

  // Whether the slots outgrew L1 (Prefetch() pays only then).
  bool Large() const { return mask_ + 1 > kL1Slots; }

  // Hints that `probe` is looked up soon.
  void Prefetch(const Probe& probe) const {
    __builtin_prefetch(&slots_[static_cast<std::size_t>(probe.hash >> shift_)]);
  }

  // Returns the address's index (setting `added` if it is new), or -1 if it would be one
  // value too many.
  std::int64_t Add(const AddressWords& w, const Probe& probe, bool& added) {
    std::size_t slot = static_cast<std::size_t>(probe.hash >> shift_);
    while (true) {
      const std::uint64_t word = slots_[slot];
      if (word == 0) {
        if (size_ == capacity_) {
          return -1;
        }
        keys_[size_] = w;
        slots_[slot] = probe.fingerprint | ++size_;
        added = true;
        if (size_ * 2 > mask_ + 1) {  // keep the table at most half full
          Rehash((mask_ + 1) * 2);
        }
        return static_cast<std::int64_t>(size_ - 1);
      }
      if ((word & ~kIndexMask) == probe.fingerprint) {
        const std::size_t entry = static_cast<std::size_t>(word & kIndexMask) - 1;
        if (probe.exact || keys_[entry] == w) {
          return static_cast<std::int64_t>(entry);
        }
      }
      slot = (slot + 1) & mask_;
    }
  }

  std::size_t size() const { return size_; }

  const AddressWords& key(std::size_t idx) const { return keys_[idx]; }

  // Puts the entries in the order `order` (a permutation of 0..size()-1) gives: entry k
  // becomes the old entry order[k]. Only key() may be called after it, until Reset().
  void Reorder(const std::vector<std::uint32_t>& order, std::vector<AddressWords>& scratch) {
    scratch.resize(size_);
    for (std::size_t entry = 0; entry < size_; ++entry) {
      scratch[entry] = keys_[order[entry]];
    }
    std::copy(scratch.begin(), scratch.end(), keys_.begin());
  }

 private:
  // Starts small (a column of few addresses stays in L1) and doubles as it fills.
  static constexpr std::size_t kMinSlots = 256;
  static constexpr std::size_t kL1Slots = 2048;  // 16 KiB of slots
  static constexpr int kIndexBits = 17;  // entry + 1 <= kMaxWideDictionarySize
  static constexpr std::uint64_t kIndexMask = (std::uint64_t{1} << kIndexBits) - 1;
  static constexpr std::uint64_t kV4Tag = std::uint64_t{1} << 40;  // above any IPv4 value
  static_assert(kMaxWideDictionarySize < (std::uint64_t{1} << kIndexBits));

  // Makes the table `slots` (a power of two) long and puts the keys back in.
  void Rehash(std::size_t slots) {
    if (slots_.size() < slots) {
      slots_.resize(slots);
    }
    std::fill(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(slots), 0u);
    mask_ = slots - 1;
    shift_ = 64 - std::countr_zero(slots);
    for (std::size_t entry = 0; entry < size_; ++entry) {
      const Probe probe = ProbeOf(keys_[entry]);
      std::size_t slot = static_cast<std::size_t>(probe.hash >> shift_);
      while (slots_[slot] != 0) {
        slot = (slot + 1) & mask_;
      }
      slots_[slot] = probe.fingerprint | (entry + 1);
    }
  }

  std::vector<std::uint64_t> slots_;
  std::vector<AddressWords> keys_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
  std::size_t mask_ = 0;
  int shift_ = 64;
};

// (key, entry) pairs sorted by key with a least-significant-digit radix sort of
// kRadixBits-bit digits over the low kKeyBits bits; stable, no comparisons.
struct SortItem {
  std::uint64_t key;
  std::uint32_t entry;
};

template <unsigned kKeyBits>
void RadixSort(std::vector<SortItem>& items, std::vector<SortItem>& tmp) {
  constexpr unsigned kRadixBits = 11;
  constexpr std::size_t kBuckets = std::size_t{1} << kRadixBits;
  constexpr std::size_t digits = (kKeyBits + kRadixBits - 1) / kRadixBits;
  // Every digit's histogram in one pass over the items.
  std::array<std::array<std::uint32_t, kBuckets>, digits> counts{};
  const auto count_digits =
      [&counts]<std::size_t... kDigit>(std::uint64_t key, std::index_sequence<kDigit...>) {
    ((++counts[kDigit][(key >> (kDigit * kRadixBits)) & (kBuckets - 1)]), ...);
  };
  for (const SortItem& item : items) {
    count_digits(item.key, std::make_index_sequence<digits>{});
  }
  tmp.resize(items.size());
  for (std::size_t digit = 0; digit < digits; ++digit) {
    std::array<std::uint32_t, kBuckets>& digit_counts = counts[digit];
    const unsigned shift = static_cast<unsigned>(digit * kRadixBits);
    // A digit that every item shares leaves the order as it is.
    if (digit_counts[(items.empty() ? 0 : items[0].key >> shift) & (kBuckets - 1)] ==
        items.size()) {
      continue;
    }
    std::uint32_t sum = 0;
    for (std::uint32_t& count : digit_counts) {
      const std::uint32_t here = count;
      count = sum;
      sum += here;
    }
    for (const SortItem& item : items) {
      tmp[digit_counts[(item.key >> shift) & (kBuckets - 1)]++] = item;
    }
    items.swap(tmp);
  }
}

struct AddressScratch {
  AddressTable table;
  Buffer indexes;  // u32 per row
  Buffer codes;    // u8 per row (kDictPacked)
  // SortDictionary()'s:
  std::vector<SortItem> items;
  std::vector<SortItem> sort_tmp;
  std::vector<std::uint32_t> order;
  std::vector<std::uint32_t> rank;
  std::vector<AddressWords> keys_tmp;
};

// Reorders the dictionary and leaves in s.rank the new index of each old one, by which
// the caller renumbers the rows' indexes as it writes them (the format lets the
// dictionary be in any order). Entries go by how often the block uses them, in classes
// of powers of two (most used first), and within a class by kind (`::`, IPv4, others)
// and value (IPv4 ascending, the others by their first 8 bytes). Both halves of a row's
// cost shrink: the frequent addresses get small indexes, so the plane of the indexes'
// high bytes is skewed towards zero, as in first-seen order; and the values' byte planes
// hold a few sorted runs (shared network prefixes, neighbouring hosts), which the
// compressor stores in far fewer bytes than values in first-seen order.
// REQUIRES: s.rank holds each entry's use count.
void SortDictionary(AddressScratch& s) {
  const std::size_t n = s.table.size();
  s.items.clear();
  for (std::size_t entry = 0; entry < n; ++entry) {
    const AddressWords& w = s.table.key(entry);
    const AddressKind kind = KindOf(w);
    // 15 for an address used once, 0 for one used 2^15 times or more.
    const auto rarity = static_cast<std::uint64_t>(
        16 - std::min(16u, static_cast<unsigned>(std::bit_width(s.rank[entry]))));
    std::uint64_t key = rarity << 60;
    if (kind == kKindV4) {
      key |= std::uint64_t{1} << 58 |
             std::uint64_t{__builtin_bswap32(static_cast<std::uint32_t>(w.lo >> 32))} << 26;
    } else if (kind == kKindOther) {
      key |= std::uint64_t{2} << 58 | __builtin_bswap64(w.hi) >> 6;
    }
    s.items.push_back({key, static_cast<std::uint32_t>(entry)});
  }
  RadixSort<64>(s.items, s.sort_tmp);
  s.order.clear();
  for (const SortItem& item : s.items) {
    s.order.push_back(item.entry);
  }
  for (std::size_t pos = 0; pos < n; ++pos) {
    s.rank[s.order[pos]] = static_cast<std::uint32_t>(pos);
  }
  s.table.Reorder(s.order, s.keys_tmp);
}

// Stores the kBytes low bytes of `v` (memory order) `stride` apart from `dst`, one in each
// byte plane; unrolled, so every shift is a constant.
template <unsigned kBytes>
void ScatterBytes(std::uint64_t v, std::uint8_t* dst, std::size_t stride) {
  const auto store = [&]<unsigned... kByte>(std::integer_sequence<unsigned, kByte...>) {
    ((dst[kByte * stride] = static_cast<std::uint8_t>(v >> (8 * kByte))), ...);
  };
  store(std::make_integer_sequence<unsigned, kBytes>{});
}

// Appends kAddressDictionary: n, the kind of each value, the IPv4 values as 4 byte planes,
// the other values as 16 byte planes, then 1 (n <= 256) or 2 planes of row indexes
// (rank[idx[row]]: each row's entry renumbered to the dictionary's order).
void PutAddressDictionary(const AddressTable& table, std::size_t v4_count, std::size_t other_count,
                          const std::uint32_t* idx, const std::uint32_t* rank, std::size_t rows,
                          Buffer& out, SectionMarks& marks) {
  const std::size_t n = table.size();
  out.PutVarint(n);
  // Kinds, then the IPv4 values' 4 planes, then the other values' 16 planes, written
  // through one pass over the dictionary (each value lands in every plane at once).
  const std::size_t bytes = n + v4_count * 4 + other_count * 16;
  for (std::size_t plane = 0; plane < 4; ++plane) {
    marks.Add(out.size() + n + plane * v4_count);
  }
  for (std::size_t plane = 0; plane < 16; plane += 4) {  // prefix bytes, then the rest
    marks.Add(out.size() + n + v4_count * 4 + plane * other_count);
  }
  std::uint8_t* kinds = out.Reserve(bytes);
  std::uint8_t* v4 = kinds + n;
  std::uint8_t* other = v4 + v4_count * 4;
  std::size_t v4_idx = 0;
  std::size_t other_idx = 0;
  for (std::size_t entry = 0; entry < n; ++entry) {
    const AddressWords& w = table.key(entry);
    const AddressKind kind = KindOf(w);
    kinds[entry] = kind;
    if (kind == kKindV4) {
      ScatterBytes<4>(w.lo >> 32, v4 + v4_idx, v4_count);
      ++v4_idx;
    } else if (kind == kKindOther) {
      ScatterBytes<8>(w.hi, other + other_idx, other_count);
      ScatterBytes<8>(w.lo, other + 8 * other_count + other_idx, other_count);
      ++other_idx;
    }
  }
  out.Commit(bytes);
  const unsigned planes = n <= 256 ? 1 : 2;
  PutPlanes(
      rows, planes, [idx, rank](std::size_t row) { return rank[idx[row]]; }, out, &marks);
}

// Addresses: constant, a dictionary (packed indexes for up to 16 values, else
// kAddressDictionary), IPv4 (every row IPv4) or mixed, whichever is smallest. One pass
// builds the dictionary and the statistics (computed once per distinct value); the
// IPv4/mixed layouts are written by a second pass only when they win.
std::optional<EncodedColumn> EncodeAddressColumn(const std::uint8_t* values, std::size_t rows,
                                                 AddressScratch& s, Buffer& out) {
  // How far ahead the dictionary's slot is fetched (a table of large blocks outgrows L1).
  constexpr std::size_t kPrefetchRows = 8;

  struct AheadProbe {
    AddressTable::Probe probe;
    std::size_t row;  // the row `probe` was computed for
  };

  std::array<AheadProbe, kPrefetchRows> probes;
  for (AheadProbe& ahead : probes) {
    ahead.row = std::numeric_limits<std::size_t>::max();
  }
  EncodedColumn result;
  ColumnStats& stats = result.stats;
  std::uint32_t v4_min = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t v4_max = 0;
  // The other addresses' range as big-endian words, whose order is the bytes' memcmp order.
  constexpr std::uint64_t kAllOnes = std::numeric_limits<std::uint64_t>::max();
  std::pair<std::uint64_t, std::uint64_t> v6_min{kAllOnes, kAllOnes};
  std::pair<std::uint64_t, std::uint64_t> v6_max{0, 0};
  bool constant = true;
  bool dict_ok = true;
  s.table.Reset(std::min<std::size_t>(rows, kMaxWideDictionarySize));
  s.indexes.clear();
  auto* idx = reinterpret_cast<std::uint32_t*>(s.indexes.Reserve(rows * 4));
  std::size_t v4_rows = 0;
  std::size_t other_rows = 0;
  // Entries of each kind in the dictionary (statistics are taken once per entry).
  std::size_t v4_entries = 0;
  std::size_t other_entries = 0;

  // Adds a value seen for the first time (or, once the dictionary gave up, any changed
  // row's value) to the statistics.
  auto account = [&](const AddressWords& w, AddressKind kind) {
    if (kind == kKindUnset) {
      stats.has_unset = true;
      return;
    }
    if (kind == kKindV4) {
      ++v4_entries;
      stats.has_v4 = true;
      const std::uint32_t v4 = __builtin_bswap32(static_cast<std::uint32_t>(w.lo >> 32));
      v4_min = std::min(v4_min, v4);
      v4_max = std::max(v4_max, v4);
    } else {
      ++other_entries;
      stats.has_v6 = true;
      const std::pair<std::uint64_t, std::uint64_t> v6{__builtin_bswap64(w.hi),
                                                       __builtin_bswap64(w.lo)};
      v6_min = std::min(v6_min, v6);
      v6_max = std::max(v6_max, v6);
    }
    const std::uint64_t hash = Mix64(w.hi * 0x9E3779B97F4A7C15ULL ^ w.lo);
    stats.bloom[(hash & 0xff) >> 6] |= std::uint64_t{1} << (hash & 63);
    stats.bloom[((hash >> 8) & 0xff) >> 6] |= std::uint64_t{1} << ((hash >> 8) & 63);
  };
  bool prefetch = false;  // whether the table outgrew L1 (checked as it grows)
  AddressWords prev = LoadWords(values);
  std::uint32_t prev_idx = 0;
  {
    bool added = false;
    (void)s.table.Add(prev, AddressTable::ProbeOf(prev), added);
    account(prev, KindOf(prev));
  }
  for (std::size_t row = 0; row < rows; ++row) {
    const AddressWords w = LoadWords(values + row * 16);
    if (prefetch && row + kPrefetchRows < rows) {
      // The probe is kept for when its row comes (computed once per row, not twice).
      const std::size_t ahead_row = row + kPrefetchRows;
      AheadProbe& ahead = probes[ahead_row % kPrefetchRows];
      ahead.probe = AddressTable::ProbeOf(LoadWords(values + ahead_row * 16));
      ahead.row = ahead_row;
      s.table.Prefetch(ahead.probe);
    }
    if (!(w == prev)) {
      constant = false;
      prev = w;
      bool added = false;
      if (dict_ok) {
        const AheadProbe& ahead = probes[row % kPrefetchRows];
        const std::int64_t at =
            s.table.Add(w, ahead.row == row ? ahead.probe : AddressTable::ProbeOf(w), added);
        dict_ok = at >= 0;
        prev_idx = static_cast<std::uint32_t>(at);
        if (!dict_ok) {
          prefetch = false;
        } else if (added) {  // only an addition grows the table
          prefetch = s.table.Large();
        }
      }
      if (added || !dict_ok) {
        account(w, KindOf(w));
      }
    }
    idx[row] = prev_idx;
  }
  if (!stats.has_v4 && !stats.has_v6) {
    return std::nullopt;
  }
  if (stats.has_v4) {
    stats.v4_min = v4_min;
    stats.v4_max = v4_max;
  }
  if (stats.has_v6) {
    auto store = [](const std::pair<std::uint64_t, std::uint64_t>& words,
                    std::array<std::uint8_t, 16>& bytes) {
      const std::uint64_t hi = __builtin_bswap64(words.first);
      const std::uint64_t lo = __builtin_bswap64(words.second);
      std::memcpy(bytes.data(), &hi, 8);
      std::memcpy(bytes.data() + 8, &lo, 8);
    };
    stats.has_v6_range = true;
    store(v6_min, stats.v6_min);
    store(v6_max, stats.v6_max);
  }
  if (constant) {
    result.encoding = Encoding::kConstant;
    out.Append(values, 16);
    return result;
  }
  // Rows of each kind: from the entries' use counts (which SortDictionary() needs too)
  // while the dictionary holds every row, else row by row.
  if (dict_ok) {
    s.rank.assign(s.table.size(), 0);
    for (std::size_t row = 0; row < rows; ++row) {
      ++s.rank[idx[row]];
    }
    for (std::size_t entry = 0; entry < s.table.size(); ++entry) {
      const AddressKind kind = KindOf(s.table.key(entry));
      v4_rows += kind == kKindV4 ? s.rank[entry] : 0;
      other_rows += kind == kKindOther ? s.rank[entry] : 0;
    }
  } else {
    for (std::size_t row = 0; row < rows; ++row) {
      const AddressKind kind = KindOf(LoadWords(values + row * 16));
      v4_rows += kind == kKindV4 ? 1 : 0;
      other_rows += kind == kKindOther ? 1 : 0;
    }
  }
  const bool all_v4 = v4_rows == rows;
  const std::size_t alt_size = all_v4 ? rows * 4 : rows + v4_rows * 4 + other_rows * 16;
  if (dict_ok) {
    const std::size_t n = s.table.size();
    const bool packed = n <= kMaxPackedDictionarySize;
    std::size_t dict_size = VarintLength(n);
    if (packed) {
      dict_size += n * 16 + PackedBytes(rows, DictPackWidth(n));
    } else {
      dict_size += n + rows * (n <= 256 ? 1 : 2) + v4_entries * 4 + other_entries * 16;
    }
    if (dict_size < alt_size) {
      if (packed) {
        result.encoding = Encoding::kDictPacked;
        out.PutVarint(n);
        for (std::size_t entry = 0; entry < n; ++entry) {
          const AddressWords& w = s.table.key(entry);
          out.Append(&w.hi, 8);
          out.Append(&w.lo, 8);
        }
        s.codes.clear();
        std::uint8_t* codes = s.codes.Reserve(rows);
        for (std::size_t row = 0; row < rows; ++row) {
          codes[row] = static_cast<std::uint8_t>(idx[row]);
        }
        PackCodes(codes, rows, DictPackWidth(n), out);
      } else {
        result.encoding = Encoding::kAddressDictionary;
        SortDictionary(s);
        PutAddressDictionary(s.table, v4_entries, other_entries, idx, s.rank.data(), rows, out,
                             result.sections);
      }
      return result;
    }
  }
  if (all_v4) {
    result.encoding = Encoding::kIpv4;
    std::uint8_t* p = out.Reserve(rows * 4);
    for (std::size_t row = 0; row < rows; ++row) {
      std::memcpy(p + row * 4, values + row * 16 + 12, 4);
    }
    out.Commit(rows * 4);
    return result;
  }
  result.encoding = Encoding::kIpMixed;
  const std::size_t mixed_size = rows + v4_rows * 4 + other_rows * 16;
  std::uint8_t* kinds = out.Reserve(mixed_size);
  for (std::size_t row = 0; row < rows; ++row) {
    kinds[row] = KindOf(LoadWords(values + row * 16));
  }
  std::uint8_t* p = kinds + rows;
  for (std::size_t row = 0; row < rows; ++row) {
    if (kinds[row] == kKindV4) {
      std::memcpy(p, values + row * 16 + 12, 4);
      p += 4;
    }
  }
  for (std::size_t row = 0; row < rows; ++row) {
    if (kinds[row] == kKindOther) {
      std::memcpy(p, values + row * 16, 16);
      p += 16;
    }
  }
  out.Commit(mixed_size);
  return result;
}

}  // namespace

struct ColumnEncoder::Scratch {
  IntScratch ints;
  AddressScratch addresses;
};

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
  const std::size_t start = out.size();
  std::optional<EncodedColumn> encoded = EncodeAny(type, values, rows, arena, reference, out);
  if (encoded) {
    SectionMarks& marks = encoded->sections;
    for (std::size_t mark = 0; mark < marks.count; ++mark) {
      marks.at[mark] -= static_cast<std::uint32_t>(start);
    }
  }
  return encoded;
}

std::optional<EncodedColumn> ColumnEncoder::EncodeAny(FieldType type, const std::uint8_t* values,
                                                      std::size_t rows, std::string_view arena,
                                                      const std::uint8_t* reference, Buffer& out) {
  Scratch& s = *scratch_;
  switch (type) {
    case FieldType::kTimeMillis:
      return EncodeTimes(values, rows, reference, out);
    case FieldType::kUint8:
      return EncodeBytes(values, rows, s.ints, out);
    case FieldType::kUint16:
    case FieldType::kCountry:
      return EncodeInts<std::uint16_t>(values, rows, nullptr, s.ints, out);
    case FieldType::kUint32:
      return EncodeInts<std::uint32_t>(values, rows, nullptr, s.ints, out);
    case FieldType::kUint64:
      return EncodeInts<std::uint64_t>(values, rows, reference, s.ints, out);
    case FieldType::kMacAddress:
      return EncodeInts<std::uint64_t>(values, rows, nullptr, s.ints, out);
    case FieldType::kIpAddress:
      return EncodeAddressColumn(values, rows, s.addresses, out);
    case FieldType::kString:
      return EncodeStrings(values, rows, arena, out);
  }
  return std::nullopt;
}

namespace {

// Calls put(row, delta) for the `rows` deltas of K byte planes (kFrame). Returns true.
template <unsigned K, typename Put>
bool ForEachFrameDelta(const std::uint8_t* planes, std::size_t rows, Put& put) {
  for (std::size_t row = 0; row < rows; ++row) {
    std::uint64_t delta = 0;
    for (unsigned plane = 0; plane < K; ++plane) {
      delta |= std::uint64_t{planes[plane * rows + row]} << (8 * plane);
    }
    put(row, delta);
  }
  return true;
}

// Parses the kFrame layout of `rows` values with a base of B bytes: u8 k (0..B), base,
// k planes. Calls put(row, delta) with each row's value minus the base.
template <typename B, typename Put>
bool DecodeFrame(std::span<const std::uint8_t> raw, std::size_t rows, B& base, Put put) {
  Cursor in(raw);
  const std::uint8_t k = in.U8();
  const auto base_bytes = in.Bytes(sizeof(B));
  if (!in.ok() || k > sizeof(B) || in.remaining() != rows * k) {
    return false;
  }
  std::memcpy(&base, base_bytes.data(), sizeof(B));
  const std::uint8_t* planes = in.position();
  // One loop per plane count, so that the compiler unrolls the planes and vectorizes.
  switch (k) {
    case 0: return ForEachFrameDelta<0>(planes, rows, put);
    case 1: return ForEachFrameDelta<1>(planes, rows, put);
    case 2: return ForEachFrameDelta<2>(planes, rows, put);
    case 3: return ForEachFrameDelta<3>(planes, rows, put);
    case 4: return ForEachFrameDelta<4>(planes, rows, put);
    case 5: return ForEachFrameDelta<5>(planes, rows, put);
    case 6: return ForEachFrameDelta<6>(planes, rows, put);
    case 7: return ForEachFrameDelta<7>(planes, rows, put);
    default: return ForEachFrameDelta<8>(planes, rows, put);
  }
}

// Parses the dictionary size of kDictionary, kDictPacked and kWideDictionary (1..max, and
// never more values than rows) and returns the n values of `width` bytes after it.
std::span<const std::uint8_t> DictValues(Cursor& in, std::size_t rows, std::size_t max,
                                         std::size_t width, std::size_t& n) {
  const std::uint64_t size = in.Varint();
  if (!in.ok() || size == 0 || size > max || size > std::max<std::size_t>(rows, 1)) {
    in.Fail();
    return {};
  }
  n = static_cast<std::size_t>(size);
  return in.Bytes(n * width);
}

// Decodes the indexes after a dictionary's values (`in` is positioned there) and calls
// put(row, index). Returns false if they are malformed or an index is >= n.
template <typename Put>
bool DecodeIndexes(Encoding encoding, Cursor& in, std::size_t rows, std::size_t n, Put put) {
  if (encoding == Encoding::kDictPacked) {
    const unsigned width = DictPackWidth(n);
    const auto packed = in.Bytes(PackedBytes(rows, width));
    if (!in.ok() || !in.AtEnd() || !PaddingIsZero(packed, rows, width)) {
      return false;
    }
    for (std::size_t row = 0; row < rows; ++row) {
      const unsigned idx = PackedCode(packed.data(), row, width);
      if (idx >= n) {
        return false;
      }
      put(row, idx);
    }
    return true;
  }
  const bool wide = encoding == Encoding::kWideDictionary;
  const auto low = in.Bytes(rows);
  const auto high = in.Bytes(wide ? rows : 0);
  if (!in.ok() || !in.AtEnd()) {
    return false;
  }
  for (std::size_t row = 0; row < rows; ++row) {
    const std::size_t idx = low[row] | (wide ? std::size_t{high[row]} << 8 : 0);
    if (idx >= n) {
      return false;
    }
    put(row, idx);
  }
  return true;
}

// The rows of kPatchedDictionary: code < n is a dictionary value, code n the next
// exception (base + a delta of K byte planes of `count` values). Without a branch per
// row: every row reads both a dictionary value and an exception delta and keeps one.
template <unsigned K>
void PatchRows(const std::uint8_t* codes, std::size_t rows, std::size_t n, const std::uint8_t* dict,
               const std::uint8_t* planes, std::size_t count, std::uint16_t base, std::uint8_t* out) {
  const std::size_t last = count == 0 ? 0 : count - 1;
  std::size_t exception = 0;
  for (std::size_t row = 0; row < rows; ++row) {
    const std::size_t code = codes[row];
    const bool patched = code == n;
    const std::uint16_t from_dict = Load<std::uint16_t>(dict, patched ? 0 : code);
    unsigned delta = 0;
    if constexpr (K > 0) {
      const std::size_t at = std::min(exception, last);  // count > 0 whenever K > 0 matters
      for (unsigned plane = 0; plane < K; ++plane) {
        delta |= count == 0 ? 0u : unsigned{planes[plane * count + at]} << (8 * plane);
      }
    }
    // A mask, not a conditional: the compiler turned `patched ? a : b` into a branch,
    // mispredicted at every other row where replies go to ephemeral ports.
    const auto keep_patch = static_cast<std::uint16_t>(0u - static_cast<unsigned>(patched));
    const auto patch = static_cast<std::uint16_t>(base + delta);
    Store<std::uint16_t>(out, row,
                         static_cast<std::uint16_t>((patch & keep_patch) | (from_dict & ~keep_patch)));
    exception += static_cast<std::size_t>(patched);
  }
}

// kPatchedDictionary (u16): n values, a code byte per row, then the exceptions' frame.
bool DecodePatched(Cursor& in, std::size_t rows, std::uint8_t* out) {
  const std::uint64_t size = in.Varint();
  if (!in.ok() || size == 0 || size > 255) {
    return false;
  }
  const auto n = static_cast<std::size_t>(size);
  const auto dict = in.Bytes(n * 2);
  const auto codes = in.Bytes(rows);
  if (!in.ok()) {
    return false;
  }
  std::size_t count = 0;
  for (const std::uint8_t code : codes) {
    if (code > n) {
      return false;
    }
    count += code == n ? 1 : 0;
  }
  const std::uint8_t k = in.U8();
  const auto base_bytes = in.Bytes(2);
  if (!in.ok() || k > 2 || in.remaining() != count * k) {
    return false;
  }
  const auto base = Load<std::uint16_t>(base_bytes.data(), 0);
  const std::uint8_t* planes = in.position();
  if (count * 16 <= rows) {
    // Few exceptions (the dictionary holds nearly every port of the block): every row
    // from a table with one more entry for code n, then the exceptions in a second pass
    // whose branch is rarely taken. Neither loop carries a count from row to row.
    std::array<std::uint16_t, 256> table{};
    std::memcpy(table.data(), dict.data(), n * 2);
    const std::uint8_t* code = codes.data();
    for (std::size_t row = 0; row < rows; ++row) {
      Store<std::uint16_t>(out, row, table[code[row]]);
    }
    std::size_t exception = 0;
    for (std::size_t row = 0; row < rows && exception < count; ++row) {
      if (code[row] == n) {
        unsigned delta = 0;
        for (unsigned plane = 0; plane < k; ++plane) {
          delta |= unsigned{planes[plane * count + exception]} << (8 * plane);
        }
        Store<std::uint16_t>(out, row, static_cast<std::uint16_t>(base + delta));
        ++exception;
      }
    }
    return true;
  }
  switch (k) {
    case 0: PatchRows<0>(codes.data(), rows, n, dict.data(), planes, count, base, out); break;
    case 1: PatchRows<1>(codes.data(), rows, n, dict.data(), planes, count, base, out); break;
    default: PatchRows<2>(codes.data(), rows, n, dict.data(), planes, count, base, out); break;
  }
  return true;
}

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
    case Encoding::kFrame: {
      // Unsigned arithmetic wraps modulo 2^(8 * sizeof(T)), also for times.
      using U = std::make_unsigned_t<T>;
      U base = 0;
      return DecodeFrame(raw, rows, base, [&](std::size_t row, std::uint64_t delta) {
        Store<U>(out, row, static_cast<U>(base + static_cast<U>(delta)));
      });
    }
    case Encoding::kBitPack: {
      if constexpr (std::is_signed_v<T>) {
        return false;
      } else {
        const std::uint8_t width = in.U8();
        const auto base_bytes = in.Bytes(sizeof(T));
        if (!in.ok() || (width != 1 && width != 2 && width != 4)) {
          return false;
        }
        const auto packed = in.Bytes(PackedBytes(rows, width));
        if (!in.ok() || !in.AtEnd() || !PaddingIsZero(packed, rows, width)) {
          return false;
        }
        T base;
        std::memcpy(&base, base_bytes.data(), sizeof(T));
        for (std::size_t row = 0; row < rows; ++row) {
          Store<T>(out, row, static_cast<T>(base + PackedCode(packed.data(), row, width)));
        }
        return true;
      }
    }
    case Encoding::kDictionary:
    case Encoding::kDictPacked:
    case Encoding::kWideDictionary: {
      if constexpr (std::is_signed_v<T>) {
        if (encoding != Encoding::kDictionary) {
          return false;  // times use only the version 1 dictionary (never written)
        }
      }
      const std::size_t max = encoding == Encoding::kDictionary   ? kMaxDictionarySize
                              : encoding == Encoding::kDictPacked ? kMaxPackedDictionarySize
                                                                  : kMaxWideDictionarySize;
      std::size_t n = 0;
      const auto dict = DictValues(in, rows, max, sizeof(T), n);
      if (!in.ok()) {
        return false;
      }
      if (encoding == Encoding::kDictionary) {
        // Version 1 layout: exactly one index byte per row.
        if (in.remaining() != rows) {
          return false;
        }
      }
      return DecodeIndexes(encoding, in, rows, n, [&](std::size_t row, std::size_t idx) {
        std::memcpy(out + row * sizeof(T), dict.data() + idx * sizeof(T), sizeof(T));
      });
    }
    case Encoding::kPatchedDictionary:
      if constexpr (std::is_same_v<T, std::uint16_t>) {
        return DecodePatched(in, rows, out);
      } else {
        return false;
      }
    case Encoding::kIpv4:
    case Encoding::kIpMixed:
    case Encoding::kRelative:
    case Encoding::kRelativeFrame:
    case Encoding::kAddressDictionary:
    case Encoding::kRatio:
      return false;
  }
  return false;
}

// Sixteen values of 16 bytes from 16 byte planes: out[i * 16 + j] = planes[j * stride +
// first + i] (the "other" addresses of kAddressDictionary are stored a plane per byte).
void TransposeSixteen(const std::uint8_t* planes, std::size_t stride, std::size_t first,
                      std::uint8_t* out) {
#if defined(__SSE2__)
  // Four rounds of interleaving: bytes, then pairs, quads and halves of the rows.
  __m128i rows[16];
  for (std::size_t plane = 0; plane < 16; ++plane) {
    rows[plane] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(planes + plane * stride + first));
  }
  __m128i a[16];
  for (std::size_t k = 0; k < 8; ++k) {
    a[k] = _mm_unpacklo_epi8(rows[2 * k], rows[2 * k + 1]);      // values 0-7, planes 2k, 2k+1
    a[k + 8] = _mm_unpackhi_epi8(rows[2 * k], rows[2 * k + 1]);  // values 8-15
  }
  __m128i b[16];
  for (std::size_t half = 0; half < 2; ++half) {
    for (std::size_t k = 0; k < 4; ++k) {
      const __m128i lo = a[half * 8 + 2 * k];
      const __m128i hi = a[half * 8 + 2 * k + 1];
      b[half * 8 + k] = _mm_unpacklo_epi16(lo, hi);      // 4 values, planes 4k..4k+3
      b[half * 8 + k + 4] = _mm_unpackhi_epi16(lo, hi);  // the next 4 values
    }
  }
  __m128i c[16];
  for (std::size_t quarter = 0; quarter < 4; ++quarter) {
    for (std::size_t k = 0; k < 2; ++k) {
      const __m128i lo = b[quarter * 4 + 2 * k];
      const __m128i hi = b[quarter * 4 + 2 * k + 1];
      c[quarter * 4 + k] = _mm_unpacklo_epi32(lo, hi);      // 2 values, planes 8k..8k+7
      c[quarter * 4 + k + 2] = _mm_unpackhi_epi32(lo, hi);  // the next 2 values
    }
  }
  // c[quarter * 4 + pair * 2 + half]: values 4 * quarter + 2 * pair and the next one,
  // planes 0-7 (half 0) or 8-15 (half 1); the 64-bit halves put each value together.
  for (std::size_t group = 0; group < 8; ++group) {
    const std::size_t base = (group / 2) * 4 + (group % 2) * 2;
    const __m128i first_half = c[base];
    const __m128i second_half = c[base + 1];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + group * 32), _mm_unpacklo_epi64(first_half, second_half));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + group * 32 + 16),
                     _mm_unpackhi_epi64(first_half, second_half));
  }
#else
  for (std::size_t value = 0; value < 16; ++value) {
    for (std::size_t plane = 0; plane < 16; ++plane) {
      out[value * 16 + plane] = planes[plane * stride + first + value];
    }
  }
#endif
}

// Parses kAddressDictionary up to its row indexes: builds the n dictionary values (16
// bytes each, zeroed first) at place(n) and points `low` and `high` (empty for n <= 256)
// at the index planes. Returns false if the layout is malformed (the indexes themselves
// are not checked against n).
template <typename Place>
bool ParseAddressDictionary(std::span<const std::uint8_t> raw, std::size_t rows, Place place,
                            std::size_t& n, std::span<const std::uint8_t>& low,
                            std::span<const std::uint8_t>& high) {
  Cursor in(raw);
  const std::uint64_t size = in.Varint();
  if (!in.ok() || size == 0 || size > kMaxWideDictionarySize ||
      size > std::max<std::size_t>(rows, 1)) {
    return false;
  }
  n = static_cast<std::size_t>(size);
  const auto kinds = in.Bytes(n);
  if (!in.ok()) {
    return false;
  }
  // Without a branch per entry (the compiler vectorizes it).
  std::size_t v4_count = 0;
  std::size_t other_count = 0;
  bool bad_kind = false;
  for (const std::uint8_t kind : kinds) {
    v4_count += kind == kKindV4 ? 1 : 0;
    other_count += kind == kKindOther ? 1 : 0;
    bad_kind |= kind != kKindV4 && kind != kKindOther && kind != kKindUnset;
  }
  if (bad_kind) {
    return false;
  }
  const auto v4 = in.Bytes(v4_count * 4);
  const auto other = in.Bytes(other_count * 16);
  low = in.Bytes(rows);
  high = in.Bytes(n > 256 ? rows : 0);
  if (!in.ok() || !in.AtEnd()) {
    return false;
  }
  std::uint8_t* dict = place(n);
  std::size_t v4_idx = 0;
  std::size_t other_idx = 0;
  alignas(16) std::array<std::uint8_t, 256> sixteen;  // the other values being placed
  for (std::size_t entry = 0; entry < n; ++entry) {
    std::uint8_t* value = dict + entry * 16;
    if (kinds[entry] == kKindV4) {
      // ::ffff:a.b.c.d as two words (memory order): 8 zero bytes, then 00 00 ff ff a b c d.
      const std::uint64_t v4_bytes = std::uint64_t{v4[v4_idx]} | std::uint64_t{v4[v4_count + v4_idx]} << 8 |
                                     std::uint64_t{v4[2 * v4_count + v4_idx]} << 16 |
                                     std::uint64_t{v4[3 * v4_count + v4_idx]} << 24;
      Store<std::uint64_t>(value, 0, 0);
      Store<std::uint64_t>(value, 1, 0xffff0000ULL | v4_bytes << 32);
      ++v4_idx;
    } else if (kinds[entry] == kKindOther) {
      if (other_idx % 16 == 0 && other_count - other_idx >= 16) {
        TransposeSixteen(other.data(), other_count, other_idx, sixteen.data());
      }
      if (other_count - other_idx / 16 * 16 >= 16) {
        std::memcpy(value, sixteen.data() + other_idx % 16 * 16, 16);
      } else {
        for (std::size_t j = 0; j < 16; ++j) {
          value[j] = other[j * other_count + other_idx];
        }
      }
      ++other_idx;
    } else {
      std::memset(value, 0, 16);  // ::
    }
  }
  return true;
}

// kAddressDictionary: builds the n dictionary values after the rows' place in `values`
// (so decoding allocates nothing beyond `values`), then copies one into each row.
bool DecodeAddressDictionary(std::span<const std::uint8_t> raw, std::size_t rows, Buffer& values) {
  std::size_t n = 0;
  std::span<const std::uint8_t> low;
  std::span<const std::uint8_t> high;
  auto place = [&](std::size_t entries) {
    values.Resize((rows + entries) * 16);
    return values.data() + rows * 16;
  };
  if (!ParseAddressDictionary(raw, rows, place, n, low, high)) {
    return false;
  }
  std::uint8_t* out = values.data();
  const std::uint8_t* dict = out + rows * 16;
  for (std::size_t row = 0; row < rows; ++row) {
    const std::size_t idx = low[row] | (n > 256 ? std::size_t{high[row]} << 8 : 0);
    if (idx >= n) {
      values.Resize(rows * 16);
      return false;
    }
    std::memcpy(out + row * 16, dict + idx * 16, 16);
  }
  values.Resize(rows * 16);
  return true;
}

bool DecodeAddresses(Encoding encoding, std::span<const std::uint8_t> raw, std::size_t rows,
                     Buffer& values) {
  if (encoding == Encoding::kAddressDictionary) {
    return DecodeAddressDictionary(raw, rows, values);
  }
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
    case Encoding::kDictionary:
    case Encoding::kDictPacked: {
      const std::size_t max =
          encoding == Encoding::kDictionary ? kMaxDictionarySize : kMaxPackedDictionarySize;
      std::size_t n = 0;
      const auto dict = DictValues(in, rows, max, 16, n);
      if (!in.ok()) {
        return false;
      }
      return DecodeIndexes(encoding, in, rows, n, [&](std::size_t row, std::size_t idx) {
        std::memcpy(out + row * 16, dict.data() + idx * 16, 16);
      });
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
    case Encoding::kFrame:
    case Encoding::kRelativeFrame:
    case Encoding::kBitPack:
    case Encoding::kWideDictionary:
    case Encoding::kAddressDictionary:
    case Encoding::kRatio:
    case Encoding::kPatchedDictionary:
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
  auto put = [&](std::size_t row, StringRef ref) {
    std::memcpy(out + row * sizeof(StringRef), &ref, sizeof ref);
  };
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
    case Encoding::kFrame:
    case Encoding::kRelativeFrame:
    case Encoding::kBitPack:
    case Encoding::kDictPacked:
    case Encoding::kWideDictionary:
    case Encoding::kAddressDictionary:
    case Encoding::kRatio:
    case Encoding::kPatchedDictionary:
      return false;
  }
  return false;
}

// kRatio: two frames (quotients, remainders); value = quotient * reference + remainder.
bool DecodeRatio(std::span<const std::uint8_t> raw, std::size_t rows, const std::uint8_t* reference,
                 Buffer& values) {
  Cursor in(raw);
  std::array<std::uint64_t, 2> base{};
  std::array<unsigned, 2> k{};
  std::array<const std::uint8_t*, 2> planes{};
  for (std::size_t part = 0; part < 2; ++part) {
    k[part] = in.U8();
    base[part] = in.Fixed64();
    if (!in.ok() || k[part] > 8) {
      return false;
    }
    planes[part] = in.Bytes(rows * k[part]).data();
  }
  if (!in.ok() || !in.AtEnd()) {
    return false;
  }
  values.Resize(rows * 8);
  for (std::size_t row = 0; row < rows; ++row) {
    std::array<std::uint64_t, 2> part_value = base;
    for (std::size_t part = 0; part < 2; ++part) {
      for (unsigned plane = 0; plane < k[part]; ++plane) {
        part_value[part] += std::uint64_t{planes[part][plane * rows + row]} << (8 * plane);
      }
    }
    Store<std::uint64_t>(values.data(), row,
                         part_value[0] * Load<std::uint64_t>(reference, row) + part_value[1]);
  }
  return true;
}

}  // namespace

bool DecodeColumn(FieldType type, Encoding encoding, std::span<const std::uint8_t> raw,
                  std::size_t rows, const std::uint8_t* reference, Buffer& values,
                  Buffer& strings) {
  if (encoding == Encoding::kRatio) {
    return type == FieldType::kUint64 && reference != nullptr &&
           DecodeRatio(raw, rows, reference, values);
  }
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
      if (encoding == Encoding::kRelativeFrame) {
        if (reference == nullptr) {
          return false;
        }
        values.Resize(rows * sizeof(std::int64_t));
        std::uint64_t base = 0;
        return DecodeFrame(raw, rows, base, [&](std::size_t row, std::uint64_t delta) {
          const auto ref = static_cast<std::uint64_t>(Load<std::int64_t>(reference, row));
          Store<std::uint64_t>(values.data(), row, ref + base + delta);
        });
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

bool DecodeAddressIndexes(std::span<const std::uint8_t> raw, std::size_t rows, Buffer& dictionary,
                          Buffer& indexes) {
  std::size_t n = 0;
  std::span<const std::uint8_t> low;
  std::span<const std::uint8_t> high;
  auto place = [&](std::size_t entries) {
    dictionary.Resize(entries * 16);
    return dictionary.data();
  };
  if (!ParseAddressDictionary(raw, rows, place, n, low, high)) {
    return false;
  }
  indexes.Resize(rows * sizeof(std::uint16_t));
  std::uint8_t* out = indexes.data();
  // The largest index is checked once, after the loop.
  unsigned largest = 0;
  std::size_t done = 0;
#if defined(__SSE2__)
  // Sixteen rows at a time: the two byte planes interleaved into 16-bit indexes, the
  // largest kept as a signed 16-bit maximum of the indexes less 0x8000.
  const __m128i bias = _mm_set1_epi16(static_cast<short>(0x8000));
  const __m128i zero = _mm_setzero_si128();
  __m128i most = _mm_set1_epi16(static_cast<short>(0x8000));  // 0, biased
  for (; done + 16 <= rows; done += 16) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(low.data() + done));
    const __m128i hi =
        n > 256 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(high.data() + done)) : zero;
    const __m128i first = _mm_unpacklo_epi8(lo, hi);
    const __m128i second = _mm_unpackhi_epi8(lo, hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + done * 2), first);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + done * 2 + 16), second);
    most = _mm_max_epi16(most, _mm_max_epi16(_mm_xor_si128(first, bias), _mm_xor_si128(second, bias)));
  }
  alignas(16) std::array<std::uint16_t, 8> lanes;
  _mm_store_si128(reinterpret_cast<__m128i*>(lanes.data()), _mm_xor_si128(most, bias));
  for (const std::uint16_t lane : lanes) {
    largest = std::max<unsigned>(largest, lane);
  }
#endif
  if (n > 256) {
    for (std::size_t row = done; row < rows; ++row) {
      const auto idx = static_cast<std::uint16_t>(low[row] | high[row] << 8);
      largest = std::max<unsigned>(largest, idx);
      Store<std::uint16_t>(out, row, idx);
    }
  } else {
    for (std::size_t row = done; row < rows; ++row) {
      largest = std::max<unsigned>(largest, low[row]);
      Store<std::uint16_t>(out, row, low[row]);
    }
  }
  return rows == 0 || largest < n;
}

namespace {

// Calls put(row, delta) for the rows `selected` of a kFrame layout (see DecodeFrame()):
// `k` byte planes of `rows` values each.
template <typename Put>
void ForSelectedFrameDeltas(const std::uint8_t* planes, unsigned k, std::size_t rows,
                            std::span<const std::uint32_t> selected, Put put) {
  for (const std::uint32_t row : selected) {
    std::uint64_t delta = 0;
    for (unsigned plane = 0; plane < k; ++plane) {
      delta |= std::uint64_t{planes[plane * rows + row]} << (8 * plane);
    }
    put(row, delta);
  }
}

// Parses the kFrame header (k, base of B bytes) and points `planes` at the planes.
template <typename B>
bool ParseFrame(std::span<const std::uint8_t> raw, std::size_t rows, B& base, unsigned& k,
                const std::uint8_t*& planes) {
  Cursor in(raw);
  k = in.U8();
  const auto base_bytes = in.Bytes(sizeof(B));
  if (!in.ok() || k > sizeof(B) || in.remaining() != rows * k) {
    return false;
  }
  std::memcpy(&base, base_bytes.data(), sizeof(B));
  planes = in.position();
  return true;
}

template <typename T>
SparseDecode DecodeIntRows(Encoding encoding, std::span<const std::uint8_t> raw, std::size_t rows,
                           std::span<const std::uint32_t> selected, std::uint8_t* out) {
  Cursor in(raw);
  switch (encoding) {
    case Encoding::kConstant:
      if (raw.size() != sizeof(T)) {
        return SparseDecode::kMalformed;
      }
      for (const std::uint32_t row : selected) {
        std::memcpy(out + std::size_t{row} * sizeof(T), raw.data(), sizeof(T));
      }
      return SparseDecode::kDecoded;
    case Encoding::kPlain:
      if (raw.size() != rows * sizeof(T)) {
        return SparseDecode::kMalformed;
      }
      for (const std::uint32_t row : selected) {
        std::memcpy(out + std::size_t{row} * sizeof(T), raw.data() + std::size_t{row} * sizeof(T),
                    sizeof(T));
      }
      return SparseDecode::kDecoded;
    case Encoding::kFrame: {
      using U = std::make_unsigned_t<T>;
      U base = 0;
      unsigned k = 0;
      const std::uint8_t* planes = nullptr;
      if (!ParseFrame(raw, rows, base, k, planes)) {
        return SparseDecode::kMalformed;
      }
      ForSelectedFrameDeltas(planes, k, rows, selected, [&](std::size_t row, std::uint64_t delta) {
        Store<U>(out, row, static_cast<U>(base + static_cast<U>(delta)));
      });
      return SparseDecode::kDecoded;
    }
    case Encoding::kBitPack: {
      if constexpr (std::is_signed_v<T>) {
        return SparseDecode::kMalformed;
      } else {
        const std::uint8_t width = in.U8();
        const auto base_bytes = in.Bytes(sizeof(T));
        if (!in.ok() || (width != 1 && width != 2 && width != 4)) {
          return SparseDecode::kMalformed;
        }
        const auto packed = in.Bytes(PackedBytes(rows, width));
        if (!in.ok() || !in.AtEnd() || !PaddingIsZero(packed, rows, width)) {
          return SparseDecode::kMalformed;
        }
        T base;
        std::memcpy(&base, base_bytes.data(), sizeof(T));
        for (const std::uint32_t row : selected) {
          Store<T>(out, row, static_cast<T>(base + PackedCode(packed.data(), row, width)));
        }
        return SparseDecode::kDecoded;
      }
    }
    case Encoding::kDictionary:
    case Encoding::kDictPacked:
    case Encoding::kWideDictionary: {
      if constexpr (std::is_signed_v<T>) {
        if (encoding != Encoding::kDictionary) {
          return SparseDecode::kMalformed;
        }
      }
      const std::size_t max = encoding == Encoding::kDictionary   ? kMaxDictionarySize
                              : encoding == Encoding::kDictPacked ? kMaxPackedDictionarySize
                                                                  : kMaxWideDictionarySize;
      std::size_t n = 0;
      const auto dict = DictValues(in, rows, max, sizeof(T), n);
      if (!in.ok() || (encoding == Encoding::kDictionary && in.remaining() != rows)) {
        return SparseDecode::kMalformed;
      }
      auto put = [&](std::size_t row, std::size_t idx) {
        if (idx >= n) {
          return false;
        }
        std::memcpy(out + row * sizeof(T), dict.data() + idx * sizeof(T), sizeof(T));
        return true;
      };
      if (encoding == Encoding::kDictPacked) {
        const unsigned width = DictPackWidth(n);
        const auto packed = in.Bytes(PackedBytes(rows, width));
        if (!in.ok() || !in.AtEnd() || !PaddingIsZero(packed, rows, width)) {
          return SparseDecode::kMalformed;
        }
        for (const std::uint32_t row : selected) {
          if (!put(row, PackedCode(packed.data(), row, width))) {
            return SparseDecode::kMalformed;
          }
        }
        return SparseDecode::kDecoded;
      }
      const bool wide = encoding == Encoding::kWideDictionary;
      const auto low = in.Bytes(rows);
      const auto high = in.Bytes(wide ? rows : 0);
      if (!in.ok() || !in.AtEnd()) {
        return SparseDecode::kMalformed;
      }
      for (const std::uint32_t row : selected) {
        if (!put(row, low[row] | (wide ? std::size_t{high[row]} << 8 : 0))) {
          return SparseDecode::kMalformed;
        }
      }
      return SparseDecode::kDecoded;
    }
    case Encoding::kPatchedDictionary:
      if constexpr (std::is_same_v<T, std::uint16_t>) {
        const std::uint64_t size = in.Varint();
        if (!in.ok() || size == 0 || size > 255) {
          return SparseDecode::kMalformed;
        }
        const auto n = static_cast<std::size_t>(size);
        const auto dict = in.Bytes(n * 2);
        const auto codes = in.Bytes(rows);
        if (!in.ok()) {
          return SparseDecode::kMalformed;
        }
        // Every code is checked and the exceptions counted, as the whole decode does: the
        // layout after the codes depends on the count.
        std::size_t count = 0;
        bool bad = false;
        for (const std::uint8_t code : codes) {
          bad |= code > n;
          count += code == n ? 1 : 0;
        }
        const std::uint8_t k = in.U8();
        const auto base_bytes = in.Bytes(2);
        if (bad || !in.ok() || k > 2 || in.remaining() != count * k) {
          return SparseDecode::kMalformed;
        }
        const auto base = Load<std::uint16_t>(base_bytes.data(), 0);
        const std::uint8_t* planes = in.position();
        // A selected exception's delta is the one of its rank among the exceptions.
        std::size_t rank = 0;
        std::size_t counted_to = 0;
        for (const std::uint32_t row : selected) {
          for (; counted_to < row; ++counted_to) {
            rank += codes[counted_to] == n ? 1 : 0;
          }
          const std::size_t code = codes[row];
          if (code < n) {
            Store<std::uint16_t>(out, row, Load<std::uint16_t>(dict.data(), code));
            continue;
          }
          unsigned delta = 0;
          for (unsigned plane = 0; plane < k; ++plane) {
            delta |= unsigned{planes[plane * count + rank]} << (8 * plane);
          }
          Store<std::uint16_t>(out, row, static_cast<std::uint16_t>(base + delta));
        }
        return SparseDecode::kDecoded;
      } else {
        return SparseDecode::kMalformed;
      }
    case Encoding::kVarint:
    case Encoding::kDelta:
      return SparseDecode::kUnsupported;  // sequential: decoded whole
    case Encoding::kIpv4:
    case Encoding::kIpMixed:
    case Encoding::kRelative:
    case Encoding::kRelativeFrame:
    case Encoding::kAddressDictionary:
    case Encoding::kRatio:
      return SparseDecode::kMalformed;  // not integer encodings, as for DecodeColumn()
  }
  return SparseDecode::kMalformed;
}

}  // namespace

SparseDecode DecodeColumnRows(FieldType type, Encoding encoding, std::span<const std::uint8_t> raw,
                              std::size_t rows, const std::uint8_t* reference,
                              std::span<const std::uint32_t> selected, Buffer& values) {
  if (!selected.empty() && selected.back() >= rows) {
    return SparseDecode::kMalformed;  // a caller's error, never the file's
  }
  if (encoding == Encoding::kRatio) {
    if (type != FieldType::kUint64 || reference == nullptr) {
      return SparseDecode::kMalformed;
    }
    Cursor in(raw);
    std::array<std::uint64_t, 2> base{};
    std::array<unsigned, 2> k{};
    std::array<const std::uint8_t*, 2> planes{};
    for (std::size_t part = 0; part < 2; ++part) {
      k[part] = in.U8();
      base[part] = in.Fixed64();
      if (!in.ok() || k[part] > 8) {
        return SparseDecode::kMalformed;
      }
      planes[part] = in.Bytes(rows * k[part]).data();
    }
    if (!in.ok() || !in.AtEnd()) {
      return SparseDecode::kMalformed;
    }
    values.Resize(rows * 8);
    for (const std::uint32_t row : selected) {
      std::array<std::uint64_t, 2> part_value = base;
      for (std::size_t part = 0; part < 2; ++part) {
        for (unsigned plane = 0; plane < k[part]; ++plane) {
          part_value[part] += std::uint64_t{planes[part][plane * rows + row]} << (8 * plane);
        }
      }
      Store<std::uint64_t>(values.data(), row,
                           part_value[0] * Load<std::uint64_t>(reference, row) + part_value[1]);
    }
    return SparseDecode::kDecoded;
  }
  switch (type) {
    case FieldType::kTimeMillis:
      if (encoding == Encoding::kRelative) {
        return SparseDecode::kUnsupported;
      }
      values.Resize(rows * sizeof(std::int64_t));
      if (encoding == Encoding::kRelativeFrame) {
        if (reference == nullptr) {
          return SparseDecode::kMalformed;
        }
        std::uint64_t base = 0;
        unsigned k = 0;
        const std::uint8_t* planes = nullptr;
        if (!ParseFrame(raw, rows, base, k, planes)) {
          return SparseDecode::kMalformed;
        }
        ForSelectedFrameDeltas(planes, k, rows, selected, [&](std::size_t row, std::uint64_t delta) {
          const auto ref = static_cast<std::uint64_t>(Load<std::int64_t>(reference, row));
          Store<std::uint64_t>(values.data(), row, ref + base + delta);
        });
        return SparseDecode::kDecoded;
      }
      return DecodeIntRows<std::int64_t>(encoding, raw, rows, selected, values.data());
    case FieldType::kUint8:
      values.Resize(rows);
      return DecodeIntRows<std::uint8_t>(encoding, raw, rows, selected, values.data());
    case FieldType::kUint16:
    case FieldType::kCountry:
      values.Resize(rows * 2);
      return DecodeIntRows<std::uint16_t>(encoding, raw, rows, selected, values.data());
    case FieldType::kUint32:
      values.Resize(rows * 4);
      return DecodeIntRows<std::uint32_t>(encoding, raw, rows, selected, values.data());
    case FieldType::kUint64:
    case FieldType::kMacAddress:
      values.Resize(rows * 8);
      return DecodeIntRows<std::uint64_t>(encoding, raw, rows, selected, values.data());
    case FieldType::kIpAddress:
    case FieldType::kString:
      return SparseDecode::kUnsupported;
  }
  return SparseDecode::kMalformed;
}

bool DecodeAddressIndexRows(std::span<const std::uint8_t> raw, std::size_t rows,
                            std::span<const std::uint32_t> selected, Buffer& dictionary,
                            Buffer& indexes) {
  if (!selected.empty() && selected.back() >= rows) {
    return false;
  }
  std::size_t n = 0;
  std::span<const std::uint8_t> low;
  std::span<const std::uint8_t> high;
  auto place = [&](std::size_t entries) {
    dictionary.Resize(entries * 16);
    return dictionary.data();
  };
  if (!ParseAddressDictionary(raw, rows, place, n, low, high)) {
    return false;
  }
  indexes.Resize(rows * sizeof(std::uint16_t));
  std::uint8_t* out = indexes.data();
  for (const std::uint32_t row : selected) {
    const auto idx = static_cast<std::uint16_t>(low[row] | (n > 256 ? high[row] << 8 : 0));
    if (idx >= n) {
      return false;
    }
    Store<std::uint16_t>(out, row, idx);
  }
  return true;
}

void PutStats(FieldType type, const ColumnStats& stats, Buffer& out) {
  switch (type) {
    case FieldType::kTimeMillis:
      out.PutVarint(ZigZag(stats.time_min));
      out.PutVarint(ZigZag(stats.time_max));
      return;
    case FieldType::kIpAddress: {
      const std::uint8_t flags = (stats.has_unset ? 1 : 0) | (stats.has_v4 ? 2 : 0) |
                                 (stats.has_v6 ? 4 : 0) | (stats.has_v6_range ? 8 : 0);
      out.PutU8(flags);
      if (stats.has_v4) {
        out.PutFixed32(stats.v4_min);
        out.PutFixed32(stats.v4_max);
      }
      if (stats.has_v6_range) {
        out.Append(stats.v6_min.data(), 16);
        out.Append(stats.v6_max.data(), 16);
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
      // Bit 3 (a range of the other addresses, since version 4) needs bit 2.
      if (flags > 15 || (flags & 12) == 8) {
        in.Fail();
        break;
      }
      stats.has_unset = (flags & 1) != 0;
      stats.has_v4 = (flags & 2) != 0;
      stats.has_v6 = (flags & 4) != 0;
      stats.has_v6_range = (flags & 8) != 0;
      if (stats.has_v4) {
        stats.v4_min = in.Fixed32();
        stats.v4_max = in.Fixed32();
      }
      if (stats.has_v6_range) {
        const auto v6_min = in.Bytes(16);
        const auto v6_max = in.Bytes(16);
        if (!in.ok()) {
          break;
        }
        std::memcpy(stats.v6_min.data(), v6_min.data(), 16);
        std::memcpy(stats.v6_max.data(), v6_max.data(), 16);
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
    case flow::FieldId::kBytes:
      return flow::FieldId::kPackets;
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
  } else if (!has_v6 || (has_v6_range && (address.bytes < v6_min || address.bytes > v6_max))) {
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
    case Encoding::kFrame:
      return "frame";
    case Encoding::kRelativeFrame:
      return "relative_frame";
    case Encoding::kBitPack:
      return "bitpack";
    case Encoding::kDictPacked:
      return "dict_packed";
    case Encoding::kWideDictionary:
      return "wide_dictionary";
    case Encoding::kAddressDictionary:
      return "address_dictionary";
    case Encoding::kRatio:
      return "ratio";
    case Encoding::kPatchedDictionary:
      return "patched_dictionary";
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
