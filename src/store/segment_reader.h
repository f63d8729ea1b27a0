// SPDX-License-Identifier: Apache-2.0
// SegmentReader: opens a segment file (docs/storage_format.md), lists its blocks and their
// statistics, and reads chosen columns of chosen blocks back into FlowBatches.

#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "flow/field.h"
#include "flow/flow_sink.h"
#include "store/format.h"

namespace sluice::store {

// Every catalogue field, in FieldId order (a convenient `fields` argument).
std::span<const flow::FieldId> AllFields();

// Chooses the rows of a block that SegmentReader::ReadSelected() reads in full.
class RowSelector {
 public:
  virtual ~RowSelector() = default;

  // `batch` holds rows [start, start + batch.size()) of the block with only the selection
  // fields read (every other field is zero). Writes the batch indexes of the rows to keep,
  // ascending, to rows[0..n) (room for FlowBatch::kCapacity) and returns n.
  virtual std::size_t Select(const flow::FlowBatch& batch, std::size_t start,
                             std::uint32_t* rows) = 0;

  // Called once per block whose selection fields include a dictionary-coded one, after
  // they are read and before any Select(): dictionaries[field] (kFieldCount spans) holds
  // the block's distinct values of each such field (16 bytes each, as flow::IpAddress;
  // every row holds one of them), empty for the others. False: no row of the block can
  // be kept (Select() is then not called and nothing more is read).
  virtual bool MayKeep(const BlockInfo& block,
                       std::span<const std::span<const std::uint8_t>> dictionaries) {
    (void)block;
    (void)dictionaries;
    return true;
  }
};

// A column that SegmentReader::ReadSelected() may hand out as dictionary indexes instead
// of values (an aggregation by it then works once per distinct value of a block, not
// once per row). Ownership: the caller's; `dictionary` points into the reader, valid
// until its next read.
struct DictionaryColumn {
  flow::FieldId field = flow::FieldId::kSrcAddr;  // an address field
  // Set by ReadSelected() for the block it read: true if the field's chunk is a
  // dictionary (kAddressDictionary) handed out as such; the batches then do not hold the
  // field's values (the column is left as it was). False: the batches hold the values.
  bool coded = false;
  // While coded: the block's distinct values, 16 bytes each (as flow::IpAddress).
  std::span<const std::uint8_t> dictionary;
  // While coded, before each sink.Consume(): for each row of the batch, the index of its
  // value in `dictionary`.
  std::vector<std::uint16_t> indexes;
};

// A read-only view of one segment file.
//
// Every byte read from the file is checked (magic, version, CRC-32s, bounds) before it
// is used: a damaged file yields an Error with code kCorruption whose message names the
// path, never a crash or an out-of-bounds read.
//
// Ownership: owns the file descriptor and the parsed footer (blocks(), summary()),
// valid for the reader's lifetime; owns scratch buffers and one FlowBatch reused by
// every ReadBlock().
// Thread-safety: const methods may be called concurrently; ReadBlock() may not (it uses
// the scratch), so give each thread its own reader.
class SegmentReader {
 public:
  // Opens a finished segment: checks the file header, trailer and footer.
  static Result<std::unique_ptr<SegmentReader>> Open(const std::string& path);

  // Opens a segment whose footer may be missing or damaged (a writer that crashed): scans
  // the blocks from the start and keeps every complete block whose header, directory and
  // column checksums hold, stopping at the first that does not. The summary is rebuilt
  // from those blocks (summary().recovered is true).
  static Result<std::unique_ptr<SegmentReader>> Recover(const std::string& path);

  // Opens a segment that a running writer is still appending to (`*.seg.open`), for a
  // query: like Recover(), but it checks only each block's header and directory while
  // scanning, and leaves the column checksums to ReadBlock(), which checks every chunk it
  // reads anyway, and it leaves summary().exporters empty (counting them reads a column).
  // A query then reads the file once instead of twice.
  static Result<std::unique_ptr<SegmentReader>> OpenGrowing(const std::string& path);

  ~SegmentReader();
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  const std::string& path() const;
  const SegmentSummary& summary() const;
  const std::vector<BlockInfo>& blocks() const;

  // Reads `fields` of block `block_idx` and hands its rows to `sink` in order, in batches
  // of up to FlowBatch::kCapacity rows. Only the chunks of those fields are read and
  // decompressed; every other field of the batch (and a field the segment does not have)
  // holds its default. The batch is cleared after each Consume().
  Status ReadBlock(std::size_t block_idx, std::span<const flow::FieldId> fields,
                   flow::FlowSink& sink);

  // Late materialization. Reads only `select_fields` of block `block_idx` and asks
  // `selector` which rows to keep, batch by batch; then, if it kept any, reads `fields`
  // as well and hands the kept rows alone, in order, packed into batches of up to
  // FlowBatch::kCapacity rows, to `sink` (each batch holds both `select_fields` and
  // `fields`). A block with no kept row has none of `fields` read or decompressed.
  // Returns the number of rows kept. The sink must leave the batch as it got it (the
  // reader reuses it without clearing every column), or keep its rows without copying
  // them by swapping it with an empty, cleared batch (std::swap), which the reader then
  // uses. With `dictionary` (not null; its field may be among `fields`), that field is
  // handed out as dictionary indexes when its chunk in this block is a dictionary and it
  // is not among `select_fields` (see DictionaryColumn). At most `max_kept` rows are kept
  // (the first ones the selector keeps; the selector is not asked about later rows), so a
  // caller that needs only a few rows has only those decoded.
  Result<std::size_t> ReadSelected(std::size_t block_idx,
                                   std::span<const flow::FieldId> select_fields,
                                   RowSelector& selector, std::span<const flow::FieldId> fields,
                                   flow::FlowSink& sink, DictionaryColumn* dictionary = nullptr,
                                   std::size_t max_kept = SIZE_MAX);

  // ReadBlock() for every block in order.
  Status ReadAll(std::span<const flow::FieldId> fields, flow::FlowSink& sink);

 private:
  class Impl;
  enum class OpenMode : std::uint8_t { kSealed, kRecover, kGrowing };
  static Result<std::unique_ptr<SegmentReader>> OpenAs(const std::string& path, OpenMode mode);
  explicit SegmentReader(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::store
