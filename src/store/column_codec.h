// SPDX-License-Identifier: Apache-2.0
// Column encodings: turns the values of one column of a block into encoded bytes (and
// chooses the encoding), and back. Compression is applied afterwards, separately.
// Internal to store/; layouts in docs/storage_format.md.

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "flow/field.h"
#include "store/coding.h"
#include "store/format.h"

namespace sluice::store {

// Bytes one value of `type` takes in a FlowColumns array (StringRef for strings).
std::size_t ValueSize(flow::FieldType type);

// Where the parts of an encoded column begin whose bytes are distributed differently
// (each byte plane, the codes and the exceptions, ...), as offsets from the start of the
// column's bytes. A hint for the compressor, which may start a new block (with its own
// entropy tables) there; not part of the format.
struct SectionMarks {
  static constexpr std::size_t kMax = 32;
  std::array<std::uint32_t, kMax> at{};
  std::size_t count = 0;

  void Add(std::size_t offset) {
    if (count < kMax) {
      at[count++] = static_cast<std::uint32_t>(offset);
    }
  }
};

struct EncodedColumn {
  Encoding encoding = Encoding::kPlain;
  ColumnStats stats;
  SectionMarks sections;  // ascending
};

// Encodes columns; reuses its scratch space from one call to the next.
// Ownership: owns its scratch. Thread-safety: none (one per writer).
class ColumnEncoder {
 public:
  ColumnEncoder();
  ~ColumnEncoder();
  ColumnEncoder(const ColumnEncoder&) = delete;
  ColumnEncoder& operator=(const ColumnEncoder&) = delete;

  // Encodes `rows` values laid out as in FlowColumns (`values`; strings are StringRefs
  // into `arena`) and appends the bytes to `out`. `reference` is the values of the
  // field's ReferenceField() in the same rows, or nullptr (then kRelative is not tried).
  // Returns nullopt, appending nothing, when every value is the default (0, ::, empty):
  // such a column gets no chunk.
  std::optional<EncodedColumn> Encode(flow::FieldType type, const std::uint8_t* values,
                                      std::size_t rows, std::string_view arena,
                                      const std::uint8_t* reference, Buffer& out);

 private:
  std::optional<EncodedColumn> EncodeAny(flow::FieldType type, const std::uint8_t* values,
                                         std::size_t rows, std::string_view arena,
                                         const std::uint8_t* reference, Buffer& out);

  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

// Decodes `raw` into `rows` values laid out as in FlowColumns, replacing the contents of
// `values`; strings become StringRefs into `strings`. Returns false if `raw` is not a
// valid encoding of exactly `rows` values of `type` (never reads outside `raw`).
// `reference` holds the `rows` decoded values of the field's ReferenceField(); it is
// needed (non-null) only for kRelative.
bool DecodeColumn(flow::FieldType type, Encoding encoding, std::span<const std::uint8_t> raw,
                  std::size_t rows, const std::uint8_t* reference, Buffer& values,
                  Buffer& strings);

// kAddressDictionary without expanding it to the rows: writes the n distinct values (16
// bytes each, as in FlowColumns, in the chunk's order) to `dictionary` and each row's
// index into them (16-bit, little-endian) to `indexes`. Returns false if `raw` is not a
// valid kAddressDictionary of exactly `rows` values (as DecodeColumn() would).
bool DecodeAddressIndexes(std::span<const std::uint8_t> raw, std::size_t rows, Buffer& dictionary,
                          Buffer& indexes);

// DecodeColumn() for the rows `selected` only (ascending, each < `rows`), for a query
// that keeps few rows of a block: their values are written at their own places in
// `values` (sized for `rows`; the other rows' bytes are left as they are). The layout and
// the selected rows' indexes are checked as DecodeColumn() checks them (kMalformed).
// Encodings that decode only in sequence (varint, delta, relative times, addresses other
// than kAddressDictionary, strings) are kUnsupported: decode those with DecodeColumn().
enum class SparseDecode { kDecoded, kMalformed, kUnsupported };
SparseDecode DecodeColumnRows(flow::FieldType type, Encoding encoding,
                              std::span<const std::uint8_t> raw, std::size_t rows,
                              const std::uint8_t* reference, std::span<const std::uint32_t> selected,
                              Buffer& values);

// DecodeAddressIndexes() for the rows `selected` only (as DecodeColumnRows()): the whole
// dictionary, and the indexes of the selected rows at their places in `indexes`.
bool DecodeAddressIndexRows(std::span<const std::uint8_t> raw, std::size_t rows,
                            std::span<const std::uint32_t> selected, Buffer& dictionary,
                            Buffer& indexes);

// Writes / parses the statistics of a column chunk (part of the block directory).
void PutStats(flow::FieldType type, const ColumnStats& stats, Buffer& out);
ColumnStats GetStats(flow::FieldType type, Cursor& in);

}  // namespace sluice::store
