// SPDX-License-Identifier: Apache-2.0
// Column encodings on their own: every encoding round-trips for every type and row count
// (including the byte boundaries of the packed layouts), hand-written bytes decode as
// docs/storage_format.md says, and damaged bytes fail cleanly (never read out of bounds:
// run under ASan).

#include "store/column_codec.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "flow/ip_address.h"
#include "segment_test_util.h"
#include "store/coding.h"
#include "store/format.h"

namespace sluice::store {
namespace {

using flow::FieldType;
using flow::IpAddress;
using test::Neighbour;

// Rows of one column in FlowColumns layout.
template <typename T>
std::vector<std::uint8_t> Bytes(const std::vector<T>& values) {
  std::vector<std::uint8_t> bytes(values.size() * sizeof(T));
  if (!values.empty()) {
    std::memcpy(bytes.data(), values.data(), bytes.size());
  }
  return bytes;
}

struct Encoded {
  Encoding encoding = Encoding::kPlain;
  std::vector<std::uint8_t> raw;
};

// Subsets of the rows of a column: all, every third, the first, the last, none.
std::vector<std::vector<std::uint32_t>> RowSubsets(std::size_t rows) {
  std::vector<std::vector<std::uint32_t>> subsets(5);
  for (std::size_t row = 0; row < rows; ++row) {
    subsets[0].push_back(static_cast<std::uint32_t>(row));
    if (row % 3 == 1) {
      subsets[1].push_back(static_cast<std::uint32_t>(row));
    }
  }
  if (rows > 0) {
    subsets[2].push_back(0);
    subsets[3].push_back(static_cast<std::uint32_t>(rows - 1));
  }
  return subsets;
}

// DecodeColumnRows() (or DecodeAddressIndexRows()) at subsets of the rows gives the rows'
// values of `expected` (the column as FlowColumns lays it out), or is kUnsupported.
void ExpectSparseDecodeMatches(FieldType type, Encoding encoding, std::span<const std::uint8_t> raw,
                               std::size_t rows, const std::uint8_t* reference,
                               const std::vector<std::uint8_t>& expected) {
  const std::size_t width = rows == 0 ? 0 : expected.size() / rows;
  for (const std::vector<std::uint32_t>& selected : RowSubsets(rows)) {
    Buffer values;
    if (encoding == Encoding::kAddressDictionary) {
      Buffer indexes;
      ASSERT_TRUE(DecodeAddressIndexRows(raw, rows, selected, values, indexes));
      for (const std::uint32_t row : selected) {
        std::uint16_t idx = 0;
        std::memcpy(&idx, indexes.data() + std::size_t{row} * 2, 2);
        ASSERT_LT(std::size_t{idx} * 16, values.size());
        EXPECT_EQ(std::memcmp(values.data() + std::size_t{idx} * 16, expected.data() + row * width, 16), 0)
            << "address row " << row;
      }
      continue;
    }
    const SparseDecode decoded = DecodeColumnRows(type, encoding, raw, rows, reference, selected, values);
    if (decoded == SparseDecode::kUnsupported) {
      return;
    }
    ASSERT_EQ(decoded, SparseDecode::kDecoded) << EncodingName(encoding);
    ASSERT_EQ(values.size(), expected.size());
    for (const std::uint32_t row : selected) {
      EXPECT_EQ(std::memcmp(values.data() + row * width, expected.data() + row * width, width), 0)
          << EncodingName(encoding) << " row " << row << " of " << rows;
    }
  }
}

// Encodes and decodes `values`; expects the same bytes back and returns the encoding.
// `reference` holds the values of the field's ReferenceField() (times, or packets for
// bytes).
template <typename T, typename R = std::int64_t>
Encoded RoundTrip(FieldType type, const std::vector<T>& values,
                  const std::vector<R>* reference = nullptr) {
  ColumnEncoder encoder;
  Buffer out;
  const std::vector<std::uint8_t> in = Bytes(values);
  const std::vector<std::uint8_t> ref =
      reference != nullptr ? Bytes(*reference) : std::vector<std::uint8_t>{};
  const auto encoded = encoder.Encode(type, in.data(), values.size(), {},
                                      reference != nullptr ? ref.data() : nullptr, out);
  Encoded result;
  if (!encoded) {
    EXPECT_TRUE(std::all_of(in.begin(), in.end(), [](std::uint8_t b) { return b == 0; }));
    return result;
  }
  result.encoding = encoded->encoding;
  result.raw.assign(out.data(), out.data() + out.size());
  Buffer decoded;
  Buffer strings;
  EXPECT_TRUE(DecodeColumn(type, encoded->encoding, out.span(), values.size(),
                           reference != nullptr ? ref.data() : nullptr, decoded, strings))
      << EncodingName(encoded->encoding);
  EXPECT_EQ(decoded.size(), in.size());
  EXPECT_TRUE(decoded.size() == in.size() && std::memcmp(decoded.data(), in.data(), in.size()) == 0)
      << EncodingName(encoded->encoding) << " rows " << values.size();
  ExpectSparseDecodeMatches(type, encoded->encoding, out.span(), values.size(),
                            reference != nullptr ? ref.data() : nullptr, in);
  return result;
}

// Every prefix and every single-byte change of `raw` must decode to false or to some
// values, never crash or read outside `raw` (ASan checks the latter: each attempt gets
// its own exactly-sized heap copy).
void ExpectDamageIsSafe(FieldType type, Encoding encoding, const std::vector<std::uint8_t>& raw,
                        std::size_t rows, const std::uint8_t* reference = nullptr) {
  Buffer values;
  Buffer strings;
  for (std::size_t length = 0; length < raw.size(); ++length) {
    const std::vector<std::uint8_t> prefix(raw.begin(),
                                           raw.begin() + static_cast<std::ptrdiff_t>(length));
    EXPECT_FALSE(DecodeColumn(type, encoding, prefix, rows, reference, values, strings))
        << EncodingName(encoding) << " accepted a prefix of " << length << " bytes";
    for (const std::vector<std::uint32_t>& selected : RowSubsets(rows)) {
      EXPECT_NE(DecodeColumnRows(type, encoding, prefix, rows, reference, selected, values),
                SparseDecode::kDecoded)
          << EncodingName(encoding) << " accepted a prefix of " << length << " bytes, sparse";
    }
  }
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200 && !raw.empty(); ++trial) {
    std::vector<std::uint8_t> damaged = raw;
    damaged[rng() % damaged.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    (void)DecodeColumn(type, encoding, damaged, rows, reference, values, strings);
    for (const std::vector<std::uint32_t>& selected : RowSubsets(rows)) {
      (void)DecodeColumnRows(type, encoding, damaged, rows, reference, selected, values);
    }
  }
  std::vector<std::uint8_t> longer = raw;
  longer.push_back(0);
  EXPECT_FALSE(DecodeColumn(type, encoding, longer, rows, reference, values, strings))
      << EncodingName(encoding) << " accepted a trailing byte";
}

const std::vector<std::size_t> kRowCounts = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 1000, 16384};

TEST(ColumnCodecTest, BitPackForSmallRanges) {
  for (const std::size_t rows : kRowCounts) {
    for (const unsigned range : {1u, 3u, 15u}) {
      std::vector<std::uint8_t> u8(rows);
      std::vector<std::uint32_t> u32(rows);
      for (std::size_t row = 0; row < rows; ++row) {
        u8[row] = static_cast<std::uint8_t>(200 + (row * 7 + row / 3) % (range + 1));
        u32[row] = 4'000'000'000u + static_cast<std::uint32_t>((row * 5) % (range + 1));
      }
      u8[0] = 200;  // the range is reached only if rows allow; keep lo at the base
      u32[0] = 4'000'000'000u;
      if (rows > 1) {
        u8[1] = static_cast<std::uint8_t>(200 + range);
        u32[1] = 4'000'000'000u + range;
      }
      if (rows == 1) {
        continue;  // constant
      }
      const Encoded a = RoundTrip(FieldType::kUint8, u8);
      const Encoded b = RoundTrip(FieldType::kUint32, u32);
      EXPECT_EQ(a.encoding, Encoding::kBitPack) << rows << " " << range;
      EXPECT_EQ(b.encoding, Encoding::kBitPack) << rows << " " << range;
      const unsigned width = range == 1 ? 1 : range == 3 ? 2 : 4;
      EXPECT_EQ(a.raw.size(), 2 + (rows * width + 7) / 8);
      EXPECT_EQ(b.raw.size(), 5 + (rows * width + 7) / 8);
      if (rows <= 17) {
        ExpectDamageIsSafe(FieldType::kUint8, a.encoding, a.raw, rows);
        ExpectDamageIsSafe(FieldType::kUint32, b.encoding, b.raw, rows);
      }
    }
  }
}

TEST(ColumnCodecTest, DictionariesByCardinality) {
  for (const std::size_t rows : kRowCounts) {
    if (rows < 4) {
      continue;
    }
    std::vector<std::uint16_t> packed(rows);
    std::vector<std::uint64_t> bytewise(rows);
    std::vector<std::uint32_t> wide(rows);
    std::vector<std::uint8_t> u8(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      packed[row] = static_cast<std::uint16_t>(1000 * (row % 5));
      bytewise[row] = (row % 100) * 0x0123456789ULL;
      wide[row] = static_cast<std::uint32_t>(row < 1024 ? row % 200 : row % 3000) * 70'000;
      u8[row] = static_cast<std::uint8_t>(17 * (row % 9));
    }
    const Encoded a = RoundTrip(FieldType::kUint16, packed);
    EXPECT_EQ(a.encoding, Encoding::kDictPacked);
    const Encoded b = RoundTrip(FieldType::kUint64, bytewise);
    const Encoded c = RoundTrip(FieldType::kUint32, wide);
    const Encoded d = RoundTrip(FieldType::kUint8, u8);
    EXPECT_EQ(d.encoding, rows >= 9 ? Encoding::kDictPacked : Encoding::kDictPacked);
    if (rows == 16384) {
      EXPECT_EQ(b.encoding, Encoding::kDictionary);
      EXPECT_EQ(c.encoding, Encoding::kWideDictionary);
    }
    if (rows <= 17) {
      ExpectDamageIsSafe(FieldType::kUint16, a.encoding, a.raw, rows);
      ExpectDamageIsSafe(FieldType::kUint64, b.encoding, b.raw, rows);
      ExpectDamageIsSafe(FieldType::kUint8, d.encoding, d.raw, rows);
    }
  }
}

// A wide dictionary lists its values most used first (ties by value), whatever order the
// rows first show them in; the rows decode to the same values.
TEST(ColumnCodecTest, WideDictionaryListsMostUsedValuesFirst) {
  constexpr std::size_t kRows = 131072;
  std::vector<std::uint32_t> values(kRows);
  std::mt19937 rng(7);
  for (std::size_t row = 0; row < kRows; ++row) {
    // The sampled first 1024 rows hold 100 values, the rest 2000 more and, in half the
    // rows, 64512: the most used value, first seen only after the sample.
    values[row] = row < 1024     ? 50'000u + rng() % 100u
                  : row % 2 == 0 ? 64512u
                                 : 100'000u + rng() % 2000u * 37u;
  }
  const Encoded encoded = RoundTrip(FieldType::kUint32, values);
  ASSERT_EQ(encoded.encoding, Encoding::kWideDictionary);
  // varint n (2 bytes for n > 127), then the values, 4 bytes each, little-endian.
  ASSERT_GE(encoded.raw.size(), 2u + 8u);
  std::uint32_t first_value = 0;
  std::memcpy(&first_value, encoded.raw.data() + 2, sizeof(first_value));
  EXPECT_EQ(first_value, 64512u);
}

// Times relative to their reference that crowd the top of their range (short flows:
// `first` just before `last`) get a frame base below the smallest value, so that the
// crowded rows share one high byte; the rows decode to the same times.
TEST(ColumnCodecTest, RelativeFrameBaseKeepsShortDurationsInOneHighByte) {
  constexpr std::size_t kRows = 4096;
  std::mt19937 rng(11);
  std::vector<std::int64_t> last(kRows);
  std::vector<std::int64_t> first(kRows);
  for (std::size_t row = 0; row < kRows; ++row) {
    last[row] = 1'763'900'000'000 + static_cast<std::int64_t>(row);
    const std::int64_t duration = row % 4 == 0 ? rng() % 60000 : rng() % 200;
    first[row] = last[row] - duration;
  }
  first[0] = last[0] - 59999;  // the smallest relative value: -59999
  const Encoded encoded = RoundTrip(FieldType::kTimeMillis, first, &last);
  ASSERT_EQ(encoded.encoding, Encoding::kRelativeFrame);
  ASSERT_GE(encoded.raw.size(), 9u + 2 * kRows);
  EXPECT_EQ(encoded.raw[0], 2);  // two planes
  std::int64_t base = 0;
  std::memcpy(&base, encoded.raw.data() + 1, sizeof base);
  // -59999 - base + 199 .. -59999 - base: one high byte for durations below 200.
  EXPECT_LT(base, -59999);
  EXPECT_EQ((0 - base) % 256, 255);
  const std::uint8_t* high = encoded.raw.data() + 9 + kRows;
  std::size_t short_rows = 0;
  std::size_t in_top_byte = 0;
  for (std::size_t row = 0; row < kRows; ++row) {
    if (last[row] - first[row] < 200) {
      ++short_rows;
      in_top_byte += high[row] == high[1] ? 1 : 0;
    }
  }
  EXPECT_EQ(in_top_byte, short_rows);
}

TEST(ColumnCodecTest, FramesForWideRangesAndExtremes) {
  for (const std::size_t rows : kRowCounts) {
    if (rows < 2) {
      continue;
    }
    std::vector<std::uint64_t> u64(rows);
    std::vector<std::uint16_t> u16(rows);
    std::vector<std::uint8_t> u8(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      u64[row] =
          row % 3 == 0 ? std::numeric_limits<std::uint64_t>::max() : row * 0x9E3779B97F4A7C15ULL;
      u16[row] = static_cast<std::uint16_t>(row * 40503);
      u8[row] = static_cast<std::uint8_t>(row * 37);
    }
    u64[1] = 0;
    u16[0] = 0;
    u16[1] = 65535;
    u8[0] = 0;
    u8[1] = 255;
    for (std::size_t row = 2; row < rows && row < 300; ++row) {
      u8[row] = static_cast<std::uint8_t>(row);  // >16 distinct once rows > 17
    }
    const Encoded a = RoundTrip(FieldType::kUint64, u64);
    const Encoded b = RoundTrip(FieldType::kUint16, u16);
    const Encoded c = RoundTrip(FieldType::kMacAddress, u64);
    const Encoded d = RoundTrip(FieldType::kUint8, u8);
    if (rows >= 1000) {
      EXPECT_EQ(a.encoding, Encoding::kFrame);
      EXPECT_EQ(b.encoding, Encoding::kFrame);
      EXPECT_EQ(d.encoding, Encoding::kFrame);
      EXPECT_EQ(a.raw.size(), 1 + 8 + 8 * rows);
    }
    if (rows <= 17) {
      ExpectDamageIsSafe(FieldType::kUint64, a.encoding, a.raw, rows);
      ExpectDamageIsSafe(FieldType::kUint16, b.encoding, b.raw, rows);
      ExpectDamageIsSafe(FieldType::kUint8, d.encoding, d.raw, rows);
    }
  }
}

TEST(ColumnCodecTest, TimesRelativeToTheirReferenceAndAlone) {
  for (const std::size_t rows : kRowCounts) {
    if (rows < 2) {
      continue;
    }
    std::vector<std::int64_t> received(rows);
    std::vector<std::int64_t> last(rows);
    std::vector<std::int64_t> wild(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      received[row] = 1'763'900'000'000 + static_cast<std::int64_t>(row / 30);
      last[row] = received[row] - 100 - static_cast<std::int64_t>((row * 7919) % 2000);
      wild[row] = row % 2 == 0
                      ? std::numeric_limits<std::int64_t>::min()
                      : std::numeric_limits<std::int64_t>::max() - static_cast<std::int64_t>(row);
    }
    const Encoded a = RoundTrip(FieldType::kTimeMillis, last, &received);
    EXPECT_EQ(a.encoding, Encoding::kRelativeFrame);
    const Encoded b = RoundTrip(FieldType::kTimeMillis, wild, &received);
    const Encoded c = RoundTrip(FieldType::kTimeMillis, received);
    EXPECT_EQ(c.encoding, rows > 30 ? Encoding::kDelta : Encoding::kConstant);
    // Values that span fewer bytes than their difference to the reference: plain frame.
    std::vector<std::int64_t> near(rows);
    std::vector<std::int64_t> jumpy(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      near[row] = 5 + static_cast<std::int64_t>(row % 200);
      jumpy[row] = row % 2 == 0 ? 0 : 1'000'000'000'000'000;
    }
    const Encoded d = RoundTrip(FieldType::kTimeMillis, near, &jumpy);
    EXPECT_EQ(d.encoding, Encoding::kFrame);
    if (rows <= 17) {
      const std::vector<std::uint8_t> ref = Bytes(received);
      ExpectDamageIsSafe(FieldType::kTimeMillis, a.encoding, a.raw, rows, ref.data());
      ExpectDamageIsSafe(FieldType::kTimeMillis, b.encoding, b.raw, rows, ref.data());
      ExpectDamageIsSafe(FieldType::kTimeMillis, d.encoding, d.raw, rows);
    }
    // A relative chunk needs its reference.
    Buffer values;
    Buffer strings;
    EXPECT_FALSE(DecodeColumn(FieldType::kTimeMillis, Encoding::kRelativeFrame, a.raw, rows,
                              nullptr, values, strings));
  }
}

TEST(ColumnCodecTest, AddressesWithFewValuesUsePackedIndexes) {
  for (const std::size_t rows : kRowCounts) {
    if (rows < 2) {
      continue;
    }
    std::vector<IpAddress> addresses(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      addresses[row] = row % 3 == 0
                           ? IpAddress{}
                           : IpAddress::FromV4(0xc0000201u + static_cast<std::uint32_t>(row % 5));
    }
    const Encoded a = RoundTrip(FieldType::kIpAddress, addresses);
    if (rows >= 100) {
      EXPECT_EQ(a.encoding, Encoding::kDictPacked);
    }
    if (rows <= 17) {
      ExpectDamageIsSafe(FieldType::kIpAddress, a.encoding, a.raw, rows);
    }
  }
}

// The layouts byte by byte, as docs/storage_format.md gives them.
TEST(ColumnCodecTest, HandWrittenBytesDecodeAsSpecified) {
  Buffer values;
  Buffer strings;
  auto decode = [&](FieldType type, Encoding encoding, std::vector<std::uint8_t> raw,
                    std::size_t rows, const std::uint8_t* reference = nullptr) {
    return DecodeColumn(type, encoding, raw, rows, reference, values, strings);
  };
  auto u16_at = [&](std::size_t row) {
    std::uint16_t v;
    std::memcpy(&v, values.data() + 2 * row, 2);
    return v;
  };
  // bitpack: width 2, base 0x0100 (u16 LE), codes 0,1,2,3,1 -> 0b11'10'01'00, 0b01.
  ASSERT_TRUE(decode(FieldType::kUint16, Encoding::kBitPack, {2, 0x00, 0x01, 0xe4, 0x01}, 5));
  EXPECT_EQ(u16_at(0), 0x100);
  EXPECT_EQ(u16_at(3), 0x103);
  EXPECT_EQ(u16_at(4), 0x101);
  EXPECT_FALSE(decode(FieldType::kUint16, Encoding::kBitPack, {2, 0x00, 0x01, 0xe4, 0x05}, 5))
      << "padding bits must be 0";
  EXPECT_FALSE(decode(FieldType::kUint16, Encoding::kBitPack, {3, 0x00, 0x01, 0xe4, 0x01}, 5))
      << "width must be 1, 2 or 4";
  EXPECT_FALSE(
      decode(FieldType::kTimeMillis, Encoding::kBitPack, {1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1));

  // frame: k = 2, base 1000 (u32 LE), planes: low bytes 01 02, high bytes 00 01.
  ASSERT_TRUE(decode(FieldType::kUint32, Encoding::kFrame,
                     {2, 0xe8, 0x03, 0, 0, 0x01, 0x02, 0x00, 0x01}, 2));
  std::uint32_t v32[2];
  std::memcpy(v32, values.data(), 8);
  EXPECT_EQ(v32[0], 1001u);
  EXPECT_EQ(v32[1], 1000u + 0x0102u);
  EXPECT_FALSE(decode(FieldType::kUint32, Encoding::kFrame,
                      {5, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 2))
      << "k above the width";
  // k = 0: every row is the base.
  ASSERT_TRUE(decode(FieldType::kUint16, Encoding::kFrame, {0, 0x34, 0x12}, 3));
  EXPECT_EQ(u16_at(2), 0x1234);

  // relative_frame: value = reference + base + delta, base -100 (i64 LE), k = 1.
  const std::int64_t reference[2] = {5000, 6000};
  ASSERT_TRUE(decode(FieldType::kTimeMillis, Encoding::kRelativeFrame,
                     {1, 0x9c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 7}, 2,
                     reinterpret_cast<const std::uint8_t*>(reference)));
  std::int64_t times[2];
  std::memcpy(times, values.data(), 16);
  EXPECT_EQ(times[0], 4900);
  EXPECT_EQ(times[1], 5907);

  // dict_packed: 3 values (u8), so 2-bit indexes: 2,0,1,2 -> 0b10'01'00'10.
  ASSERT_TRUE(decode(FieldType::kUint8, Encoding::kDictPacked, {3, 6, 17, 1, 0x92}, 4));
  EXPECT_EQ(values.data()[0], 1);
  EXPECT_EQ(values.data()[1], 6);
  EXPECT_EQ(values.data()[2], 17);
  EXPECT_EQ(values.data()[3], 1);
  EXPECT_FALSE(decode(FieldType::kUint8, Encoding::kDictPacked, {3, 6, 17, 1, 0x93}, 4))
      << "index 3 >= 3";
  EXPECT_FALSE(decode(FieldType::kUint8, Encoding::kDictPacked, {0, 0x00}, 4))
      << "empty dictionary";
  EXPECT_FALSE(decode(
      FieldType::kUint8, Encoding::kDictPacked,
      {17, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      18))
      << "more than 16 values";

  // wide_dictionary: 2 values (u16), low plane then high plane of the indexes.
  ASSERT_TRUE(decode(FieldType::kUint16, Encoding::kWideDictionary,
                     {2, 0x11, 0x11, 0x22, 0x22, 1, 0, 0, 0}, 2));
  EXPECT_EQ(u16_at(0), 0x2222);
  EXPECT_EQ(u16_at(1), 0x1111);
  ExpectDamageIsSafe(FieldType::kUint16, Encoding::kWideDictionary,
                     {2, 0x11, 0x11, 0x22, 0x22, 1, 0, 0, 0}, 2);
  EXPECT_FALSE(decode(FieldType::kUint16, Encoding::kWideDictionary,
                      {2, 0x11, 0x11, 0x22, 0x22, 1, 0, 1, 0}, 2))
      << "index 257 >= 2";
  EXPECT_FALSE(
      decode(FieldType::kUint16, Encoding::kWideDictionary, {3, 1, 0, 2, 0, 3, 0, 0, 1, 0, 0}, 2))
      << "more values than rows";

  // address_dictionary: 3 values (kinds 4, 6, 0), the IPv4 value's 4 planes, the other
  // value's 16 planes, then one index plane (n <= 256).
  {
    std::vector<std::uint8_t> raw = {3, 4, 6, 0, 0xc0, 0x00, 0x02, 0x01, 0x20, 0x01, 0x0d, 0xb8,
                                     0, 0, 0, 0, 0,    0,    0,    0,    0,    0,    0,    1};
    for (const std::uint8_t idx : {1, 0, 2, 0}) {
      raw.push_back(idx);
    }
    ASSERT_TRUE(decode(FieldType::kIpAddress, Encoding::kAddressDictionary, raw, 4));
    IpAddress a[4];
    std::memcpy(a, values.data(), sizeof a);
    EXPECT_EQ(a[0], test::V6(0x20010db800000000ULL, 1));
    EXPECT_EQ(a[1], IpAddress::FromV4(0xc0000201));
    EXPECT_TRUE(a[2].IsUnset());
    EXPECT_EQ(a[3], IpAddress::FromV4(0xc0000201));
    ExpectDamageIsSafe(FieldType::kIpAddress, Encoding::kAddressDictionary, raw, 4);
    raw.back() = 3;
    EXPECT_FALSE(decode(FieldType::kIpAddress, Encoding::kAddressDictionary, raw, 4))
        << "index 3 >= 3";
    raw.back() = 0;
    raw[1] = 5;
    EXPECT_FALSE(decode(FieldType::kIpAddress, Encoding::kAddressDictionary, raw, 4)) << "kind 5";
  }

  // ratio: value = quotient * reference + remainder; quotients k = 1, base 100, plane
  // 00 05; remainders k = 0, base 7.
  {
    const std::uint64_t packets[2] = {2, 0};
    const auto* ref = reinterpret_cast<const std::uint8_t*>(packets);
    const std::vector<std::uint8_t> raw = {1, 100, 0, 0, 0, 0, 0, 0, 0, 0,
                                           5, 0,   7, 0, 0, 0, 0, 0, 0, 0};
    ASSERT_TRUE(decode(FieldType::kUint64, Encoding::kRatio, raw, 2, ref));
    std::uint64_t bytes[2];
    std::memcpy(bytes, values.data(), sizeof bytes);
    EXPECT_EQ(bytes[0], 207u);
    EXPECT_EQ(bytes[1], 7u);
    ExpectDamageIsSafe(FieldType::kUint64, Encoding::kRatio, raw, 2, ref);
    EXPECT_FALSE(decode(FieldType::kUint64, Encoding::kRatio, raw, 2)) << "needs its reference";
    EXPECT_FALSE(decode(FieldType::kUint32, Encoding::kRatio, raw, 2, ref)) << "u64 only";
  }

  // patched_dictionary: 2 values (443, 53), codes 0 2 1 2 (2 = exception), exceptions as
  // a frame: k = 2, base 40000, low plane 01 02, high plane 00 01.
  {
    const std::vector<std::uint8_t> raw = {2, 0xbb, 0x01, 0x35, 0x00, 0, 2, 1,
                                           2, 2,    0x40, 0x9c, 1,    2, 0, 1};
    ASSERT_TRUE(decode(FieldType::kUint16, Encoding::kPatchedDictionary, raw, 4));
    EXPECT_EQ(u16_at(0), 443);
    EXPECT_EQ(u16_at(1), 40001);
    EXPECT_EQ(u16_at(2), 53);
    EXPECT_EQ(u16_at(3), 40000 + 0x0102);
    ExpectDamageIsSafe(FieldType::kUint16, Encoding::kPatchedDictionary, raw, 4);
    std::vector<std::uint8_t> bad = raw;
    bad[8] = 3;
    EXPECT_FALSE(decode(FieldType::kUint16, Encoding::kPatchedDictionary, bad, 4)) << "code 3 > n";
    EXPECT_FALSE(decode(FieldType::kUint32, Encoding::kPatchedDictionary, raw, 4))
        << "16-bit integers only";
    // No exceptions: k = 0 and no planes.
    ASSERT_TRUE(decode(FieldType::kUint16, Encoding::kPatchedDictionary,
                       {1, 0x50, 0x00, 0, 0, 0, 0, 0}, 2));
    EXPECT_EQ(u16_at(1), 80);
  }

  // The new encodings are not defined for strings, and addresses take only dict_packed.
  EXPECT_FALSE(decode(FieldType::kString, Encoding::kFrame, {0, 0, 0, 0, 0, 0, 0, 0, 0}, 1));
  EXPECT_FALSE(decode(FieldType::kIpAddress, Encoding::kWideDictionary,
                      std::vector<std::uint8_t>(1 + 16 + 2, 1), 1));
}

// Addresses with many distinct values: a dictionary in byte planes, with one index plane
// up to 256 values and two above; unset, IPv4 and IPv6 values mixed, extremes included.
TEST(ColumnCodecTest, AddressDictionaryForManyDistinctAddresses) {
  for (const std::size_t rows : kRowCounts) {
    for (const std::size_t distinct : {std::size_t{40}, std::size_t{300}, std::size_t{5000}}) {
      std::vector<IpAddress> addresses(rows);
      for (std::size_t row = 0; row < rows; ++row) {
        const std::size_t value = (row * 7) % distinct;
        addresses[row] = value % 11 == 0 ? IpAddress{}
                         : value % 3 == 0
                             ? test::V6(0x2a00145000000000ULL + value, ~value)
                             : IpAddress::FromV4(0x0a000000u + static_cast<std::uint32_t>(value));
      }
      addresses[0] = IpAddress::FromV4(0xffffffffu);
      if (rows > 1) {
        addresses[1] = test::V6(~0ULL, ~0ULL);
      }
      if (rows > 2) {
        addresses[2] = IpAddress::FromV4(0);
      }
      const Encoded a = RoundTrip(FieldType::kIpAddress, addresses);
      if (rows >= 1000 && distinct * 2 <= rows) {
        EXPECT_EQ(a.encoding, Encoding::kAddressDictionary) << rows << " " << distinct;
      }
      if (rows <= 17) {
        ExpectDamageIsSafe(FieldType::kIpAddress, a.encoding, a.raw, rows);
      }
    }
  }
  // One row, and every row the same: a constant.
  EXPECT_EQ(RoundTrip(FieldType::kIpAddress, std::vector<IpAddress>{IpAddress::FromV4(1)}).encoding,
            Encoding::kConstant);
  EXPECT_EQ(RoundTrip(FieldType::kIpAddress,
                      std::vector<IpAddress>(1000, test::V6(0x20010db800000000ULL, 5)))
                .encoding,
            Encoding::kConstant);
}

// DecodeAddressIndexes() (vectorized: sixteen rows at a time, then the rest) gives, for
// every row, the index of its value in the dictionary it builds, for dictionaries of one
// index plane (n <= 256) and of two, with many IPv6 values (placed sixteen at a time) and
// row counts around a multiple of sixteen; an index past the dictionary is refused.
TEST(ColumnCodecTest, AddressIndexesNameEachRowsValue) {
  std::mt19937_64 rng(11);
  for (const std::size_t rows : {std::size_t{1000}, std::size_t{4096}, std::size_t{4111}, std::size_t{16384}}) {
    for (const std::size_t distinct : {std::size_t{200}, std::size_t{1500}}) {
      std::vector<IpAddress> pool;
      for (std::size_t idx = 0; idx < distinct; ++idx) {
        pool.push_back(idx % 3 == 0 ? IpAddress::FromV4(static_cast<std::uint32_t>(rng()))
                                    : test::V6(rng(), rng()));
      }
      std::vector<IpAddress> addresses(rows);
      for (IpAddress& address : addresses) {
        address = pool[rng() % pool.size()];
      }
      const Encoded a = RoundTrip(FieldType::kIpAddress, addresses);
      ASSERT_EQ(a.encoding, Encoding::kAddressDictionary) << rows << " " << distinct;
      Buffer dictionary;
      Buffer indexes;
      ASSERT_TRUE(DecodeAddressIndexes(a.raw, rows, dictionary, indexes));
      ASSERT_EQ(indexes.size(), rows * 2);
      for (std::size_t row = 0; row < rows; ++row) {
        std::uint16_t idx = 0;
        std::memcpy(&idx, indexes.data() + row * 2, 2);
        ASSERT_LT(std::size_t{idx} * 16, dictionary.size());
        ASSERT_EQ(std::memcmp(dictionary.data() + std::size_t{idx} * 16, addresses[row].bytes.data(), 16), 0)
            << rows << " rows, " << distinct << " values, row " << row;
      }
      // The index planes end the chunk: the low byte of a row's index, and the high one
      // after them when there are two. Every row in the vectorized part and in the tail
      // gets, in turn, an index past the dictionary.
      const std::size_t n = dictionary.size() / 16;
      const std::size_t planes = n > 256 ? 2 : 1;
      for (const std::size_t row : {std::size_t{0}, std::size_t{17}, rows / 16 * 16 - 1, rows - 1}) {
        std::vector<std::uint8_t> bad = a.raw;
        const std::size_t low_at = bad.size() - planes * rows + row;
        bad[low_at] = 0xFF;
        if (planes == 2) {
          bad[low_at + rows] = 0xFF;
        }
        EXPECT_FALSE(DecodeAddressIndexes(bad, rows, dictionary, indexes)) << rows << " row " << row;
      }
    }
  }
}

// The writer sorts an address dictionary by value and renumbers the rows (the format
// leaves the order free): random addresses in random order, IPv6 ones sharing their
// first 8 bytes (equal sort keys), the unset address and IPv4 extremes, in a block as
// large as the writer's default, come back row for row.
TEST(ColumnCodecTest, SortedAddressDictionaryKeepsEveryRow) {
  std::mt19937_64 rng(7);
  for (const std::size_t rows : {std::size_t{1000}, std::size_t{131072}}) {
    std::vector<IpAddress> pool;
    for (std::size_t idx = 0; idx < rows / 4; ++idx) {
      const std::uint64_t r = rng();
      switch (r % 4) {
        case 0:
          pool.push_back(test::V6(0x2a00145000000000ULL | (r >> 48), rng()));
          break;
        case 1:
          pool.push_back(test::V6(0x20010db800000001ULL, rng() % 64));  // one /64
          break;
        default:
          pool.push_back(IpAddress::FromV4(static_cast<std::uint32_t>(r >> 17)));
          break;
      }
    }
    pool.push_back(IpAddress{});
    pool.push_back(IpAddress::FromV4(0));
    pool.push_back(IpAddress::FromV4(0xffffffffu));
    std::vector<IpAddress> addresses(rows);
    for (IpAddress& address : addresses) {
      address = pool[rng() % pool.size()];
    }
    const Encoded a = RoundTrip(FieldType::kIpAddress, addresses);
    EXPECT_EQ(a.encoding, Encoding::kAddressDictionary) << rows;
  }
}

// bytes by packets: the bytes per packet (and the rest) instead of the bytes.
TEST(ColumnCodecTest, RatioStoresBytesPerPacket) {
  for (const std::size_t rows : kRowCounts) {
    std::vector<std::uint64_t> packets(rows);
    std::vector<std::uint64_t> bytes(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      packets[row] = 1 + (row * 7919) % 3000;
      // The rest below 200: in one byte, as is the rest of most flows (few packets).
      bytes[row] = packets[row] * (40 + (row * 104729) % 1460) +
                   row % std::min<std::uint64_t>(packets[row], 200);
    }
    if (rows > 5) {
      packets[3] = 0;  // no packets: quotient 0, the rest is the bytes
      bytes[3] = 123;
    }
    const Encoded a = RoundTrip(FieldType::kUint64, bytes, &packets);
    if (rows >= 1000) {
      EXPECT_EQ(a.encoding, Encoding::kRatio);
    }
    if (rows <= 17) {
      const std::vector<std::uint8_t> ref = Bytes(packets);
      ExpectDamageIsSafe(FieldType::kUint64, a.encoding, a.raw, rows, ref.data());
    }
    // Extremes round-trip too (values above 32 bits, the largest value).
    if (rows > 5) {
      packets[4] = 5'000'000'000ULL;
      bytes[4] = 6'000'000'123ULL;
      bytes[5] = std::numeric_limits<std::uint64_t>::max();
      packets[5] = 1;
      RoundTrip(FieldType::kUint64, bytes, &packets);
      packets[5] = std::numeric_limits<std::uint64_t>::max();
      RoundTrip(FieldType::kUint64, bytes, &packets);
    }
  }
}

// Service ports next to ephemeral ones: a dictionary of the frequent values, a code byte
// per row and the other values as exceptions.
TEST(ColumnCodecTest, PatchedDictionaryForServicePorts) {
  constexpr std::uint16_t kServices[] = {443, 80, 53, 123, 22};
  for (const std::size_t rows : kRowCounts) {
    std::vector<std::uint16_t> ports(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      ports[row] = row % 2 == 0 ? kServices[(row / 2) % 5]
                                : static_cast<std::uint16_t>(32768 + (row * 7919) % 28232);
    }
    if (rows > 3) {
      ports[1] = 65535;
      ports[3] = 0;
    }
    const Encoded a = RoundTrip(FieldType::kUint16, ports);
    if (rows >= 1000) {
      EXPECT_EQ(a.encoding, Encoding::kPatchedDictionary);
    }
    if (rows <= 17) {
      ExpectDamageIsSafe(FieldType::kUint16, a.encoding, a.raw, rows);
    }
  }
  // Exceptions only after the sample (rows past the first 1024).
  std::vector<std::uint16_t> late(4000);
  for (std::size_t row = 0; row < late.size(); ++row) {
    late[row] =
        row < 2000 || row % 2 == 0 ? kServices[row % 5] : static_cast<std::uint16_t>(1024 + row);
  }
  for (std::size_t row = 0; row < 1024; ++row) {
    late[row] = row % 3 == 0 ? static_cast<std::uint16_t>(2000 + row * 31) : kServices[row % 5];
  }
  EXPECT_EQ(RoundTrip(FieldType::kUint16, late).encoding, Encoding::kPatchedDictionary);

  // A chunk written by hand with few exceptions (one row in 40: the decoder's two-pass
  // path), their deltas of one byte and of two, the first and last rows among them.
  std::mt19937_64 rng(5);
  for (const unsigned k : {1u, 2u}) {
    for (const std::size_t rows : {std::size_t{4000}, std::size_t{16385}}) {
      std::vector<std::uint8_t> raw = {5};  // n, then the dictionary
      for (const std::uint16_t port : kServices) {
        raw.push_back(static_cast<std::uint8_t>(port & 0xff));
        raw.push_back(static_cast<std::uint8_t>(port >> 8));
      }
      std::vector<std::uint16_t> expected(rows);
      std::vector<unsigned> deltas;
      for (std::size_t row = 0; row < rows; ++row) {
        if (row % 40 == 0 || row + 1 == rows) {
          deltas.push_back(static_cast<unsigned>(rng() % (k == 1 ? 256 : 65536 - 5000)));
          expected[row] = static_cast<std::uint16_t>(5000 + deltas.back());
          raw.push_back(5);
        } else {
          const std::size_t code = rng() % 5;
          expected[row] = kServices[code];
          raw.push_back(static_cast<std::uint8_t>(code));
        }
      }
      raw.push_back(static_cast<std::uint8_t>(k));
      raw.push_back(5000 & 0xff);
      raw.push_back(5000 >> 8);
      for (unsigned plane = 0; plane < k; ++plane) {
        for (const unsigned delta : deltas) {
          raw.push_back(static_cast<std::uint8_t>(delta >> (8 * plane)));
        }
      }
      Buffer values;
      Buffer strings;
      ASSERT_TRUE(DecodeColumn(FieldType::kUint16, Encoding::kPatchedDictionary, raw, rows, nullptr, values,
                               strings))
          << k << " " << rows;
      ASSERT_EQ(values.size(), rows * 2);
      EXPECT_EQ(std::memcmp(values.data(), expected.data(), rows * 2), 0) << k << " " << rows;
      ExpectSparseDecodeMatches(FieldType::kUint16, Encoding::kPatchedDictionary, raw, rows, nullptr,
                                Bytes(expected));
    }
  }
}


// Version 4: the statistics of an address column hold the range of its IPv6 rows, in
// every layout the writer picks (constant, packed, address dictionary, mixed after the
// dictionary gave up), and round-trip through PutStats()/GetStats().
TEST(ColumnCodecTest, AddressStatisticsHoldTheIpv6Range) {
  std::mt19937_64 rng(4);
  auto v6 = [&](std::uint64_t spread) {
    return test::V6(0x20010db800000000ULL | (rng() % spread) << 16, rng());
  };
  // Each case: rows of IPv6, IPv4 and unset addresses, and the number of distinct ones.
  for (const std::size_t distinct : {1, 5, 3000, 70000}) {
    std::vector<IpAddress> rows;
    std::vector<IpAddress> values;
    for (std::size_t value_idx = 0; value_idx < distinct; ++value_idx) {
      values.push_back(distinct > 1 && value_idx % 4 == 1
                           ? IpAddress::FromV4(static_cast<std::uint32_t>(rng()))
                       : distinct > 1 && value_idx % 4 == 3 ? IpAddress{}
                                                            : v6(1000));
    }
    for (std::size_t row = 0; row < std::max<std::size_t>(distinct, 200); ++row) {
      rows.push_back(values[row < distinct ? row : rng() % distinct]);
    }
    ColumnEncoder encoder;
    Buffer out;
    const auto encoded = encoder.Encode(FieldType::kIpAddress, rows.front().bytes.data(),
                                        rows.size(), {}, nullptr, out);
    ASSERT_TRUE(encoded);
    IpAddress v6_min;
    v6_min.bytes.fill(0xff);
    IpAddress v6_max;
    for (const IpAddress& a : rows) {
      if (!a.IsV4() && !a.IsUnset()) {
        v6_min = std::min(v6_min, a);
        v6_max = std::max(v6_max, a);
      }
    }
    Buffer stored;
    PutStats(FieldType::kIpAddress, encoded->stats, stored);
    Cursor in(stored.span());
    const ColumnStats stats = GetStats(FieldType::kIpAddress, in);
    ASSERT_TRUE(in.ok() && in.AtEnd()) << distinct;
    for (const ColumnStats* s : {&encoded->stats, &stats}) {
      SCOPED_TRACE(std::to_string(distinct) + " distinct, " +
                   std::string(EncodingName(encoded->encoding)));
      EXPECT_TRUE(s->has_v6);
      EXPECT_TRUE(s->has_v6_range);
      EXPECT_EQ(s->v6_min, v6_min.bytes);
      EXPECT_EQ(s->v6_max, v6_max.bytes);
      EXPECT_EQ(s->bloom, encoded->stats.bloom);
      EXPECT_EQ(s->has_v4, distinct > 1);
      EXPECT_EQ(s->v4_min, encoded->stats.v4_min);
      EXPECT_EQ(s->v4_max, encoded->stats.v4_max);
      for (const IpAddress& a : rows) {
        ASSERT_TRUE(s->MayContain(a)) << a.ToString();
      }
      // Outside the range: skipped whatever the bloom filter says.
      EXPECT_FALSE(s->MayContain(Neighbour(v6_min, -1)));
      EXPECT_FALSE(s->MayContain(Neighbour(v6_max, +1)));
      EXPECT_FALSE(s->MayContain(test::V6(0x20010db900000000ULL, 0)));
      EXPECT_FALSE(s->MayContain(test::V6(0x20010db7ffffffffULL, ~0ULL)));
    }
  }
  // An IPv4 column has no IPv6 range (and writes no bytes for one).
  const std::vector<IpAddress> v4_rows = {IpAddress::FromV4(10), IpAddress::FromV4(20)};
  ColumnEncoder encoder;
  Buffer out;
  const auto encoded = encoder.Encode(FieldType::kIpAddress, v4_rows.front().bytes.data(),
                                      v4_rows.size(), {}, nullptr, out);
  ASSERT_TRUE(encoded);
  EXPECT_FALSE(encoded->stats.has_v6_range);
  Buffer stored;
  PutStats(FieldType::kIpAddress, encoded->stats, stored);
  EXPECT_EQ(stored.size(), 1u + 8u + 32u);  // flags, IPv4 range, bloom filter
  EXPECT_EQ(stored.data()[0], 2);
  EXPECT_TRUE(encoded->stats.MayContain(IpAddress::FromV4(20)));
  EXPECT_FALSE(encoded->stats.MayContain(IpAddress::FromV4(21)));
}

TEST(ColumnCodecTest, AddressStatisticsFlagsAreChecked) {
  auto parse = [](std::vector<std::uint8_t> bytes, ColumnStats* stats = nullptr) {
    Cursor in(bytes);
    const ColumnStats parsed = GetStats(FieldType::kIpAddress, in);
    if (stats != nullptr) {
      *stats = parsed;
    }
    return in.ok() && in.AtEnd();
  };
  const std::vector<std::uint8_t> bloom(32, 0xff);
  std::vector<std::uint8_t> v6_range(32, 0x20);
  v6_range[31] = 0x21;  // v6_max = 2020:...:2021
  auto with = [](std::uint8_t flags, std::initializer_list<std::vector<std::uint8_t>> parts) {
    std::vector<std::uint8_t> bytes = {flags};
    for (const std::vector<std::uint8_t>& part : parts) {
      bytes.insert(bytes.end(), part.begin(), part.end());
    }
    return bytes;
  };
  // Without bit 3 (every file before version 4): no range, any IPv6 address may be there.
  ColumnStats stats;
  ASSERT_TRUE(parse(with(4, {bloom}), &stats));
  EXPECT_FALSE(stats.has_v6_range);
  EXPECT_TRUE(stats.MayContain(test::V6(0x20010db800000000ULL, 1)));
  // Bits 2 and 3, after the IPv4 range: [v6_min, v6_max] bounds the IPv6 addresses.
  ASSERT_TRUE(parse(with(14, {std::vector<std::uint8_t>(8, 0), v6_range, bloom}), &stats));
  EXPECT_TRUE(stats.has_v6_range);
  EXPECT_EQ(stats.v6_min[15], 0x20);
  EXPECT_EQ(stats.v6_max[15], 0x21);
  IpAddress inside;
  inside.bytes.fill(0x20);
  EXPECT_TRUE(stats.MayContain(inside));
  EXPECT_FALSE(stats.MayContain(test::V6(0x20010db800000000ULL, 1)));
  // Bit 3 without bit 2, bits above 3, a truncated range: malformed.
  EXPECT_FALSE(parse(with(8, {v6_range, bloom})));
  EXPECT_FALSE(parse(with(10, {std::vector<std::uint8_t>(8, 0), v6_range, bloom})));
  EXPECT_FALSE(parse(with(16, {bloom})));
  EXPECT_FALSE(parse(with(12, {std::vector<std::uint8_t>(20, 0x20)})));
}

}  // namespace
}  // namespace sluice::store
