// SPDX-License-Identifier: Apache-2.0
// The vocabulary of the segment format shared by SegmentWriter and SegmentReader:
// version, compressions, column encodings, per-block statistics and the segment summary.
// The bytes themselves are specified in docs/storage_format.md.

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flow/field.h"
#include "flow/ip_address.h"

namespace sluice::store {

// Format version written by this code; readers accept 1..kFormatVersion. Version 2 added
// the encodings kFrame..kWideDictionary, version 3 kAddressDictionary..kPatchedDictionary,
// version 4 the IPv6 range of address statistics and the footer's flags (unique_keys).
inline constexpr std::uint32_t kFormatVersion = 4;

// The first 8 bytes of every segment file, and the last 8 of a finished one.
inline constexpr std::string_view kFileMagic = "SLUICSEG";
inline constexpr std::string_view kTrailerMagic = "SLSEGEND";
inline constexpr std::size_t kFileHeaderSize = 16;
inline constexpr std::size_t kBlockHeaderSize = 24;
inline constexpr std::size_t kTrailerSize = 24;
inline constexpr std::uint32_t kBlockMagic = 0x4b4c4253;   // "SBLK" little-endian
inline constexpr std::uint32_t kFooterMagic = 0x52544653;  // "SFTR" little-endian
// The footer's flags (version 4 and later); any other bit set is corruption.
inline constexpr std::uint64_t kFooterUniqueKeys = 1;  // SegmentSummary::unique_keys

// Limits a reader enforces before allocating (a writer never exceeds them).
inline constexpr std::uint32_t kMaxRowsPerBlock = 1u << 20;
inline constexpr std::uint32_t kMaxDictionarySize = 256;        // kDictionary
inline constexpr std::uint32_t kMaxPackedDictionarySize = 16;   // kDictPacked
inline constexpr std::uint32_t kMaxWideDictionarySize = 65536;  // kWideDictionary, kAddress...

// How a column chunk's bytes are compressed. Chosen per segment; a chunk that does
// not shrink is stored kNone.
enum class Compression : std::uint8_t {
  kNone = 0,  // stored as encoded
  kLz4 = 1,   // LZ4 block format (LZ4_compress_default), no frame
  kZstd = 2,  // one zstd frame
};

// How a column chunk's values are laid out before compression. Chosen per block and
// column by the writer; see docs/storage_format.md for each layout.
enum class Encoding : std::uint8_t {
  kConstant = 0,    // every row holds the same value, stored once
  kPlain = 1,       // integers: fixed-width little-endian; strings: lengths, then bytes
  kVarint = 2,      // one LEB128 varint per row (unsigned integers)
  kDelta = 3,       // first value, then row-to-row differences, zigzag varints (times)
  kDictionary = 4,  // up to 256 distinct values, then one index byte per row
  kIpv4 = 5,        // addresses, all IPv4: 4 bytes per row in network order
  kIpMixed = 6,     // addresses: one kind byte per row, then IPv4 values, then others
  kRelative = 7,    // times: per row, zigzag varint of value minus ReferenceField()'s value
  // Since version 2:
  kFrame = 8,            // integers, times: base, then value - base in k byte planes
  kRelativeFrame = 9,    // times: kFrame over value minus ReferenceField()'s value
  kBitPack = 10,         // integers: base, then value - base in 1, 2 or 4 bits per row
  kDictPacked = 11,      // integers, addresses: up to 16 values, then 1-, 2- or 4-bit indexes
  kWideDictionary = 12,  // integers: up to 65536 values, then 2 planes of index bytes
  // Since version 3:
  kAddressDictionary = 13,  // addresses: up to 65536 values in byte planes, 1-2 index planes
  kRatio = 14,              // integers: quotient and remainder by ReferenceField()'s value
  kPatchedDictionary = 15,  // 16-bit integers: up to 255 values, 1 code byte, exceptions
};

// The last encoding a u16 bit mask (SchemaColumn::encodings) can name.
inline constexpr std::uint8_t kMaxEncoding = 15;

// The column a kRelative time column is stored relative to: `first` to `last`, `last` to
// `time_received` (a flow ends shortly before it is exported); and the column a kRatio
// column is divided by: `bytes` by `packets`. Fixed by the format.
std::optional<flow::FieldId> ReferenceField(flow::FieldId field);

// Whether a chunk of this encoding needs the block's chunk of ReferenceField() to decode.
inline bool UsesReference(Encoding encoding) {
  return encoding == Encoding::kRelative || encoding == Encoding::kRelativeFrame ||
         encoding == Encoding::kRatio;
}

std::string_view EncodingName(Encoding encoding);
std::string_view CompressionName(Compression compression);

// Per-block statistics of one column, for skipping blocks. Which members are meaningful
// depends on the field's type: integers (incl. MAC, country) use min/max, times
// time_min/time_max, addresses the address members; strings have none.
struct ColumnStats {
  std::uint64_t min = 0;
  std::uint64_t max = 0;
  std::int64_t time_min = 0;
  std::int64_t time_max = 0;
  bool has_unset = false;  // some row holds :: (no address)
  bool has_v4 = false;     // some row holds an IPv4-mapped address
  bool has_v6 = false;     // some row holds another address
  std::uint32_t v4_min = 0;  // range of the IPv4 rows (host order), if has_v4
  std::uint32_t v4_max = 0;
  // Range of the other rows (16 bytes in network order, compared as memcmp does), if
  // has_v6_range: written since version 4 whenever has_v6; an older file has none.
  bool has_v6_range = false;
  std::array<std::uint8_t, 16> v6_min{};
  std::array<std::uint8_t, 16> v6_max{};
  std::array<std::uint64_t, 4> bloom{};  // 256-bit filter over the set addresses

  // False only if no row of the block holds `address` (:: is never in the filter).
  bool MayContain(const flow::IpAddress& address) const;
};

// The bloom filter's two bit positions for an address (0..255 each); part of the format.
std::array<std::uint8_t, 2> BloomBits(const flow::IpAddress& address);

// Where one column of one block lives in the file, and its statistics.
struct ColumnChunk {
  flow::FieldId field{};
  Encoding encoding = Encoding::kPlain;
  Compression compression = Compression::kNone;
  std::uint64_t offset = 0;         // absolute file offset of the stored bytes
  std::uint32_t stored_length = 0;  // bytes on disk
  std::uint32_t raw_length = 0;     // bytes after decompression
  std::uint32_t crc = 0;            // CRC-32 of the stored bytes
  ColumnStats stats;
};

// One sealed block: a run of rows, each column stored separately. A column with no
// chunk holds its default (0, ::, empty) in every row of the block.
struct BlockInfo {
  std::uint64_t offset = 0;  // file offset of the block header
  std::uint64_t length = 0;  // header + directory + data
  std::uint32_t row_count = 0;
  std::uint32_t directory_length = 0;
  std::uint32_t directory_crc = 0;
  std::vector<ColumnChunk> chunks;
  std::array<std::int16_t, flow::kFieldCount> chunk_of_field{};  // -1 = no chunk

  // Returns nullptr if the column is all default in this block.
  const ColumnChunk* Find(flow::FieldId field) const {
    const std::int16_t idx = chunk_of_field[static_cast<std::size_t>(field)];
    return idx < 0 ? nullptr : &chunks[static_cast<std::size_t>(idx)];
  }
};

// A closed range of milliseconds since the epoch; empty when the segment has no rows.
struct TimeRange {
  std::int64_t min = 0;
  std::int64_t max = 0;
};

// One column of the footer's schema.
struct SchemaColumn {
  std::uint8_t field_id = 0;     // flow::FieldId as stored; may be unknown to this version
  flow::FieldType type{};
  std::uint16_t encodings = 0;   // bit (1 << Encoding) for every encoding a block used
  std::string name;              // catalogue name when written
};

// Rows per exporter (the exporter column's values).
struct ExporterCount {
  flow::IpAddress exporter;
  std::uint64_t rows = 0;
};

// What a footer says about the whole segment.
struct SegmentSummary {
  std::uint32_t version = kFormatVersion;
  Compression compression = Compression::kZstd;
  std::uint32_t rows_per_block = 0;
  std::uint64_t row_count = 0;
  TimeRange first;          // range of the flows' `first` times
  TimeRange last;           // range of the flows' `last` times
  TimeRange time_received;  // range of the times the collector received them
  std::vector<SchemaColumn> schema;
  std::vector<ExporterCount> exporters;
  // The writer's promise (SegmentWriterOptions::unique_keys, footer flag of version 4):
  // no two rows hold the same key. False for older versions and recovered segments.
  bool unique_keys = false;
  bool recovered = false;  // true when built by SegmentReader::Recover (no footer read)
};

}  // namespace sluice::store
