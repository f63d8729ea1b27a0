// SPDX-License-Identifier: Apache-2.0

#include "store/segment_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <type_traits>
#include <utility>
#include <vector>

#include <lz4.h>
#include <zstd.h>

#include "common/crc32.h"
#include "store/coding.h"
#include "store/column_codec.h"
#include "store/columns.h"

namespace sluice::store {
namespace {

constexpr std::array<flow::FieldId, flow::kFieldCount> MakeAllFields() {
  std::array<flow::FieldId, flow::kFieldCount> fields{};
  for (std::size_t idx = 0; idx < fields.size(); ++idx) {
    fields[idx] = static_cast<flow::FieldId>(idx);
  }
  return fields;
}

constexpr std::array<flow::FieldId, flow::kFieldCount> kAllFields = MakeAllFields();

struct ZstdDctxDeleter {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};

constexpr std::uint8_t kMaxFieldType = static_cast<std::uint8_t>(flow::FieldType::kString);

// ReadSelected() decodes the fields it hands out at the kept rows only when a block has at
// least this many rows per kept row (a row decoded alone costs a few times one decoded in
// a run of all of them).
constexpr std::size_t kSparseRowsPerKept = 8;

// The largest encoded size a column of `rows` values of `type` can have.
std::uint64_t MaxRawLength(flow::FieldType type, std::uint64_t rows) {
  switch (type) {
    case flow::FieldType::kIpAddress:  // kAddressDictionary: n <= rows kinds and values
      return rows * 19 + kMaxDictionarySize * 16 + kMaxVarintBytes;
    case flow::FieldType::kString:
      return rows * (2 + flow::FlowBatch::kMaxStringLength) + kMaxVarintBytes;
    default:  // kRatio: two frames of up to 8 planes
      return rows * 16 + kMaxDictionarySize * 8 + kMaxVarintBytes + 18;
  }
}

// Counts rows per exporter while recovering a file.
class ExporterCounter final : public flow::FlowSink {
 public:
  void Consume(flow::FlowBatch& batch) override {
    // Runs of one exporter are the rule (each datagram's records come together).
    const flow::Column<flow::IpAddress>& exporters = batch.cols().exporter;
    std::size_t row = 0;
    while (row < batch.size()) {
      std::size_t end = row + 1;
      while (end < batch.size() && exporters[end] == exporters[row]) {
        ++end;
      }
      counts[exporters[row]] += end - row;
      row = end;
    }
  }

  std::map<flow::IpAddress, std::uint64_t> counts;
};

// Fuzzing builds (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, the libFuzzer convention; set
// for sluice_store when SLUICE_FUZZ is on) accept every checksum, so that the fuzzer
// reaches the parsers and decoders behind them.
bool ChecksumMatches(std::span<const std::uint8_t> bytes, std::uint32_t expected) {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  (void)bytes;
  (void)expected;
  return true;
#else
  return Crc32(bytes) == expected;
#endif
}

}  // namespace

std::span<const flow::FieldId> AllFields() { return kAllFields; }

class SegmentReader::Impl {
 public:
  Impl(std::string path, int fd) : path_(std::move(path)), fd_(fd), zstd_(ZSTD_createDCtx()) {}

  ~Impl() { ::close(fd_); }

  Status Open(OpenMode mode) {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      return MakeError(ErrorCode::kIoError, path_ + ": fstat: " + std::strerror(errno));
    }
    file_size_ = static_cast<std::uint64_t>(st.st_size);
    if (Status header = ReadFileHeader(); !header) {
      return header;
    }
    Status opened = mode == OpenMode::kSealed ? ReadFooter() : ScanBlocks(mode == OpenMode::kRecover);
    if (opened) {
      FindFieldsWithDefaults();
    }
    return opened;
  }

  Status ReadBlock(std::size_t block_idx, std::span<const flow::FieldId> fields,
                   flow::FlowSink& sink) {
    if (Status checked = StartBlock(block_idx); !checked) {
      return checked;
    }
    const BlockInfo& block = blocks_[block_idx];
    FieldSet wanted;
    FieldSet defaulted;
    if (Status loaded = LoadFields(block_idx, fields, wanted, defaulted); !loaded) {
      return loaded;
    }
    for (std::size_t start = 0; start < block.row_count; start += flow::FlowBatch::kCapacity) {
      batch_.Clear();
      const std::size_t n = std::min<std::size_t>(flow::FlowBatch::kCapacity, block.row_count - start);
      for (std::size_t row = 0; row < n; ++row) {
        batch_.AppendRow();
      }
      for (std::size_t field_idx = 0; field_idx < flow::kFieldCount; ++field_idx) {
        if (defaulted[field_idx]) {
          FillDefault(batch_, field_idx, n);
        }
        if (wanted[field_idx]) {
          CopyRange(batch_, field_idx, start, n);
        }
      }
      sink.Consume(batch_);
    }
    batch_.Clear();
    return OkStatus();
  }

  Result<std::size_t> ReadSelected(std::size_t block_idx,
                                   std::span<const flow::FieldId> select_fields,
                                   RowSelector& selector, std::span<const flow::FieldId> fields,
                                   flow::FlowSink& sink, DictionaryColumn* dictionary,
                                   std::size_t max_kept) {
    if (max_kept == 0) {
      return std::size_t{0};
    }
    if (dictionary != nullptr) {
      dictionary->coded = false;
      dictionary->dictionary = {};
    }
    if (Status checked = StartBlock(block_idx); !checked) {
      return tl::unexpected(checked.error());
    }
    const BlockInfo& block = blocks_[block_idx];
    FieldSet select_wanted;
    FieldSet select_defaulted;
    if (Status loaded = LoadFields(block_idx, select_fields, select_wanted, select_defaulted);
        !loaded) {
      return tl::unexpected(loaded.error());
    }
    // The selection fields, named once each (a field without a chunk is zeroed).
    FieldSet select_all;
    bool select_strings = false;
    for (const flow::FieldId field : select_fields) {
      const auto field_idx = static_cast<std::size_t>(field);
      if (field_idx < flow::kFieldCount) {
        select_all.set(field_idx);
        select_strings |= flow::Info(field).type == flow::FieldType::kString;
      }
    }
    if (!select_batch_) {
      select_batch_ = std::make_unique<flow::FlowBatch>();
    }
    flow::FlowBatch& selecting = *select_batch_;
    if (select_all != select_written_) {
      selecting.Clear();  // drops the columns of other selection fields
      select_written_ = select_all;
    }
    kept_.resize(block.row_count);
    std::size_t kept = 0;
    if ((select_wanted & coded_).any()) {
      std::array<std::span<const std::uint8_t>, flow::kFieldCount> dictionaries{};
      for (std::size_t field_idx = 0; field_idx < flow::kFieldCount; ++field_idx) {
        if (select_wanted[field_idx] && coded_[field_idx]) {
          dictionaries[field_idx] = values_[field_idx].span();
        }
      }
      if (!selector.MayKeep(block, dictionaries)) {
        return std::size_t{0};
      }
    }
    for (std::size_t start = 0; start < block.row_count && kept < max_kept;
         start += flow::FlowBatch::kCapacity) {
      const std::size_t n = std::min<std::size_t>(flow::FlowBatch::kCapacity, block.row_count - start);
      // Only the selection fields are ever written to this batch, and all of their rows
      // [0, n) each time, so it need not be cleared (which would zero every column) unless
      // strings fill its arena.
      if (select_strings) {
        selecting.Clear();
      }
      selecting.ShrinkTo(n);
      while (selecting.size() < n) {
        selecting.AppendRow();
      }
      for (std::size_t field_idx = 0; field_idx < flow::kFieldCount; ++field_idx) {
        if (!select_all[field_idx]) {
          continue;
        }
        if (select_wanted[field_idx]) {
          CopyRange(selecting, field_idx, start, n);
        } else if (select_defaulted[field_idx]) {
          FillDefault(selecting, field_idx, n);
        } else if (!select_strings) {
          ZeroRange(selecting, field_idx, n);
        }
      }
      const std::size_t count =
          std::min(selector.Select(selecting, start, selection_.data()), max_kept - kept);
      for (std::size_t i = 0; i < count; ++i) {
        kept_[kept + i] = static_cast<std::uint32_t>(start + selection_[i]);
      }
      kept += count;
    }
    if (select_strings) {
      selecting.Clear();
    }
    if (kept == 0) {
      return std::size_t{0};
    }
    FieldSet wanted;
    FieldSet defaulted;
    // Few rows kept: the other fields are decoded at those rows only.
    const std::span<const std::uint32_t> sparse_rows =
        kept * kSparseRowsPerKept <= block.row_count ? std::span<const std::uint32_t>(kept_.data(), kept)
                                                     : std::span<const std::uint32_t>();
    if (Status loaded = LoadFields(block_idx, fields, wanted, defaulted, sparse_rows); !loaded) {
      return tl::unexpected(loaded.error());
    }
    // The dictionary column, as indexes, when its chunk is a dictionary and the selection
    // did not need its values.
    FieldSet coded;
    std::size_t coded_idx = flow::kFieldCount;
    if (dictionary != nullptr) {
      coded_idx = static_cast<std::size_t>(dictionary->field);
      if (coded_idx < flow::kFieldCount && wanted[coded_idx] && coded_[coded_idx] &&
          !select_all[coded_idx]) {
        coded.set(coded_idx);
        dictionary->coded = true;
        dictionary->dictionary = values_[coded_idx].span();
        dictionary->indexes.resize(flow::FlowBatch::kCapacity);
      }
    }
    wanted |= select_wanted;
    defaulted |= select_defaulted;
    // Every row of the batch is written in each of these fields (a field without a chunk
    // in this block is zeroed), so, as for the selection batch, the batch need not be
    // cleared (zeroing every column) unless other fields or strings may be in it.
    FieldSet out_all = select_all;
    bool out_strings = select_strings;
    for (const flow::FieldId field : fields) {
      const auto field_idx = static_cast<std::size_t>(field);
      if (field_idx < flow::kFieldCount) {
        out_all.set(field_idx);
        out_strings |= flow::Info(field).type == flow::FieldType::kString;
      }
    }
    out_all &= ~coded;
    for (std::size_t from = 0; from < kept; from += flow::FlowBatch::kCapacity) {
      const std::size_t n = std::min<std::size_t>(flow::FlowBatch::kCapacity, kept - from);
      if (out_strings || out_all != batch_written_) {
        batch_.Clear();
        batch_written_ = out_all;
      }
      batch_.ShrinkTo(n);
      while (batch_.size() < n) {
        batch_.AppendRow();
      }
      const std::uint32_t* rows = kept_.data() + from;
      const bool contiguous = rows[n - 1] - rows[0] == n - 1;
      if (coded.any()) {
        const std::uint8_t* indexes = indexes_[coded_idx].data();
        std::uint16_t* out = dictionary->indexes.data();
        if (contiguous) {
          std::memcpy(out, indexes + std::size_t{rows[0]} * 2, n * 2);
        } else {
          for (std::size_t i = 0; i < n; ++i) {
            std::memcpy(out + i, indexes + std::size_t{rows[i]} * 2, 2);
          }
        }
      }
      for (std::size_t field_idx = 0; field_idx < flow::kFieldCount; ++field_idx) {
        if (!out_all[field_idx]) {
          continue;
        }
        if (wanted[field_idx]) {
          if (contiguous) {
            CopyRange(batch_, field_idx, rows[0], n);
          } else {
            Gather(batch_, field_idx, rows, n);
          }
        } else if (defaulted[field_idx]) {
          FillDefault(batch_, field_idx, n);
        } else if (!out_strings) {
          ZeroRange(batch_, field_idx, n);
        }
      }
      sink.Consume(batch_);  // may swap in an empty batch: all zero, fit for any fields
    }
    if (out_strings) {
      batch_.Clear();
    }
    return kept;
  }

  const std::string& path() const { return path_; }
  const SegmentSummary& summary() const { return summary_; }
  const std::vector<BlockInfo>& blocks() const { return blocks_; }

 private:
  Error Corrupt(const std::string& what) const {
    return Error(ErrorCode::kCorruption, path_ + ": " + what);
  }

  Error CorruptBlock(std::size_t block_idx, const std::string& what) const {
    return Corrupt("block " + std::to_string(block_idx) + ": " + what);
  }

  // Reads `length` bytes at `offset` into `out`.
  Status ReadAt(std::uint64_t offset, std::uint64_t length, Buffer& out) {
    if (offset > file_size_ || length > file_size_ - offset) {
      return tl::unexpected(Corrupt("offset " + std::to_string(offset) + " + " +
                                    std::to_string(length) + " is past the end of the file"));
    }
    out.Resize(static_cast<std::size_t>(length));
    std::size_t done = 0;
    while (done < length) {
      const ssize_t n = ::pread(fd_, out.data() + done, length - done,
                                static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return MakeError(ErrorCode::kIoError, path_ + ": read: " + std::strerror(errno));
      }
      if (n == 0) {
        return tl::unexpected(Corrupt("file shrank while reading"));
      }
      done += static_cast<std::size_t>(n);
    }
    return OkStatus();
  }

  Status ReadFileHeader() {
    if (file_size_ < kFileHeaderSize) {
      return tl::unexpected(Corrupt("too short for a segment header"));
    }
    if (Status read = ReadAt(0, kFileHeaderSize, scratch_); !read) {
      return read;
    }
    if (std::memcmp(scratch_.data(), kFileMagic.data(), kFileMagic.size()) != 0) {
      return tl::unexpected(Corrupt("not a segment file (bad magic)"));
    }
    Cursor in({scratch_.data() + 8, 8});
    const std::uint32_t version = in.Fixed32();
    const std::uint32_t crc = in.Fixed32();
    if (!ChecksumMatches({scratch_.data(), 12}, crc)) {
      return tl::unexpected(Corrupt("file header checksum mismatch"));
    }
    if (version == 0 || version > kFormatVersion) {
      return MakeError(ErrorCode::kUnsupported,
                       path_ + ": segment format version " + std::to_string(version) +
                           " is not supported (this build reads 1.." +
                           std::to_string(kFormatVersion) + ")");
    }
    summary_.version = version;
    return OkStatus();
  }

  Status ReadFooter() {
    if (file_size_ < kFileHeaderSize + kTrailerSize) {
      return tl::unexpected(Corrupt("too short for a segment trailer (no footer)"));
    }
    const std::uint64_t trailer_offset = file_size_ - kTrailerSize;
    if (Status read = ReadAt(trailer_offset, kTrailerSize, scratch_); !read) {
      return read;
    }
    if (std::memcmp(scratch_.data() + 16, kTrailerMagic.data(), kTrailerMagic.size()) != 0) {
      return tl::unexpected(Corrupt("no segment trailer (unfinished segment?)"));
    }
    Cursor trailer(scratch_.span());
    const std::uint64_t footer_offset = trailer.Fixed64();
    const std::uint32_t footer_length = trailer.Fixed32();
    const std::uint32_t footer_crc = trailer.Fixed32();
    if (footer_offset < kFileHeaderSize || footer_offset > trailer_offset ||
        footer_length != trailer_offset - footer_offset) {
      return tl::unexpected(Corrupt("footer offset/length out of bounds"));
    }
    Buffer footer;
    if (Status read = ReadAt(footer_offset, footer_length, footer); !read) {
      return read;
    }
    if (!ChecksumMatches(footer.span(), footer_crc)) {
      return tl::unexpected(Corrupt("footer checksum mismatch"));
    }
    Cursor in(footer.span());
    if (in.Fixed32() != kFooterMagic) {
      return tl::unexpected(Corrupt("bad footer magic"));
    }
    const std::uint64_t version = in.Varint();
    if (version != summary_.version) {
      return tl::unexpected(Corrupt("footer version differs from the file header's"));
    }
    const std::uint8_t compression = in.U8();
    if (compression > static_cast<std::uint8_t>(Compression::kZstd)) {
      return tl::unexpected(Corrupt("unknown compression " + std::to_string(compression)));
    }
    summary_.compression = static_cast<Compression>(compression);
    const std::uint64_t rows_per_block = in.Varint();
    summary_.row_count = in.Varint();
    if (rows_per_block > kMaxRowsPerBlock) {
      return tl::unexpected(Corrupt("rows per block out of range"));
    }
    summary_.rows_per_block = static_cast<std::uint32_t>(rows_per_block);
    for (TimeRange* range : {&summary_.first, &summary_.last, &summary_.time_received}) {
      range->min = in.ZigZagVarint();
      range->max = in.ZigZagVarint();
    }
    const std::uint64_t columns = in.Varint();
    if (!in.ok() || columns > 256) {
      return tl::unexpected(Corrupt("footer schema is malformed"));
    }
    for (std::uint64_t column_idx = 0; column_idx < columns; ++column_idx) {
      SchemaColumn column;
      column.field_id = in.U8();
      const std::uint8_t type = in.U8();
      column.encodings = in.Fixed16();
      const std::uint64_t name_length = in.Varint();
      const auto name = in.Bytes(std::min<std::uint64_t>(name_length, in.remaining() + 1));
      if (!in.ok() || type > kMaxFieldType) {
        return tl::unexpected(Corrupt("footer schema is malformed"));
      }
      column.type = static_cast<flow::FieldType>(type);
      column.name.assign(reinterpret_cast<const char*>(name.data()), name.size());
      if (column.field_id < flow::kFieldCount &&
          flow::Info(static_cast<flow::FieldId>(column.field_id)).type != column.type) {
        return tl::unexpected(Corrupt("column " + column.name + " has type " +
                                      std::to_string(type) + ", not the catalogue's"));
      }
      summary_.schema.push_back(std::move(column));
    }
    const std::uint64_t exporters = in.Varint();
    if (!in.ok() || exporters > in.remaining() / 17) {
      return tl::unexpected(Corrupt("footer exporter list is malformed"));
    }
    for (std::uint64_t exporter_idx = 0; exporter_idx < exporters; ++exporter_idx) {
      ExporterCount count;
      const auto address = in.Bytes(16);
      count.rows = in.Varint();
      if (!in.ok()) {
        return tl::unexpected(Corrupt("footer exporter list is malformed"));
      }
      std::memcpy(count.exporter.bytes.data(), address.data(), 16);
      summary_.exporters.push_back(count);
    }
    if (summary_.version >= 4) {
      const std::uint64_t flags = in.Varint();
      if (!in.ok() || (flags & ~kFooterUniqueKeys) != 0) {
        return tl::unexpected(Corrupt("footer flags are malformed"));
      }
      summary_.unique_keys = (flags & kFooterUniqueKeys) != 0;
    }
    const std::uint64_t block_count = in.Varint();
    if (!in.ok() || block_count > in.remaining() / 8) {
      return tl::unexpected(Corrupt("footer block index is malformed"));
    }
    std::uint64_t rows = 0;
    std::uint64_t next_offset = kFileHeaderSize;
    for (std::uint64_t block_idx = 0; block_idx < block_count; ++block_idx) {
      BlockInfo block;
      block.offset = in.Varint();
      const std::uint64_t row_count = in.Varint();
      const std::uint64_t directory_length = in.Varint();
      const std::uint64_t data_length = in.Varint();
      block.directory_crc = in.Fixed32();
      const auto directory = in.Bytes(std::min<std::uint64_t>(directory_length, in.remaining() + 1));
      if (!in.ok()) {
        return tl::unexpected(CorruptBlock(block_idx, "footer index entry is truncated"));
      }
      if (block.offset != next_offset || row_count == 0 || row_count > kMaxRowsPerBlock ||
          data_length > footer_offset ||
          kBlockHeaderSize + directory_length + data_length > footer_offset - block.offset) {
        return tl::unexpected(CorruptBlock(block_idx, "index entry out of bounds"));
      }
      if (!ChecksumMatches(directory, block.directory_crc)) {
        return tl::unexpected(CorruptBlock(block_idx, "directory checksum mismatch (footer)"));
      }
      block.row_count = static_cast<std::uint32_t>(row_count);
      block.directory_length = static_cast<std::uint32_t>(directory_length);
      block.length = kBlockHeaderSize + directory_length + data_length;
      if (Status parsed = ParseDirectory(block_idx, directory, data_length, block); !parsed) {
        return parsed;
      }
      next_offset = block.offset + block.length;
      rows += row_count;
      blocks_.push_back(std::move(block));
    }
    if (!in.AtEnd()) {
      return tl::unexpected(Corrupt("footer has trailing bytes"));
    }
    if (next_offset != footer_offset || rows != summary_.row_count) {
      return tl::unexpected(Corrupt("footer block index does not cover the file"));
    }
    return OkStatus();
  }

  // Parses a block directory into `block` (whose offset and row_count are set).
  Status ParseDirectory(std::size_t block_idx, std::span<const std::uint8_t> directory,
                        std::uint64_t data_length, BlockInfo& block) {
    block.chunk_of_field.fill(-1);
    Cursor in(directory);
    const std::uint64_t count = in.Varint();
    if (!in.ok() || count > 256) {
      return tl::unexpected(CorruptBlock(block_idx, "malformed directory"));
    }
    std::uint64_t data_offset = 0;
    const std::uint64_t data_start = block.offset + kBlockHeaderSize + directory.size();
    // Grown one chunk at a time, the vectors of a large footer were a third of a
    // pruned query's page faults.
    block.chunks.reserve(std::min<std::uint64_t>(count, flow::kFieldCount));
    for (std::uint64_t entry = 0; entry < count; ++entry) {
      const std::uint8_t field_id = in.U8();
      const std::uint8_t type = in.U8();
      const std::uint8_t encoding = in.U8();
      const std::uint8_t compression = in.U8();
      const std::uint64_t raw_length = in.Varint();
      const std::uint64_t stored_length = in.Varint();
      const std::uint32_t crc = in.Fixed32();
      if (!in.ok() || type > kMaxFieldType || encoding > kMaxEncoding ||
          compression > static_cast<std::uint8_t>(Compression::kZstd)) {
        return tl::unexpected(CorruptBlock(block_idx, "malformed directory entry"));
      }
      const auto field_type = static_cast<flow::FieldType>(type);
      const ColumnStats stats = GetStats(field_type, in);
      if (stats.has_v6_range && summary_.version < 4) {
        return tl::unexpected(CorruptBlock(block_idx, "IPv6 range statistics before version 4"));
      }
      if (!in.ok() || stored_length > data_length - data_offset ||
          raw_length > MaxRawLength(field_type, block.row_count) ||
          (compression == 0 && raw_length != stored_length)) {
        return tl::unexpected(CorruptBlock(block_idx, "directory entry out of bounds"));
      }
      if (field_id < flow::kFieldCount) {
        const auto field = static_cast<flow::FieldId>(field_id);
        if (flow::Info(field).type != field_type || block.chunk_of_field[field_id] >= 0) {
          return tl::unexpected(CorruptBlock(block_idx, "directory lists column " +
                                                            std::string(flow::Info(field).name) +
                                                            " twice or with a wrong type"));
        }
        ColumnChunk chunk;
        chunk.field = field;
        chunk.encoding = static_cast<Encoding>(encoding);
        chunk.compression = static_cast<Compression>(compression);
        chunk.offset = data_start + data_offset;
        chunk.stored_length = static_cast<std::uint32_t>(stored_length);
        chunk.raw_length = static_cast<std::uint32_t>(raw_length);
        chunk.crc = crc;
        chunk.stats = stats;
        block.chunk_of_field[field_id] = static_cast<std::int16_t>(block.chunks.size());
        block.chunks.push_back(chunk);
      }
      // A column unknown to this version (a newer writer) is skipped.
      data_offset += stored_length;
    }
    if (!in.AtEnd() || data_offset != data_length) {
      return tl::unexpected(CorruptBlock(block_idx, "directory does not match the block's data"));
    }
    return OkStatus();
  }

  // Checks the block's own header and directory against the block index (Open() reads
  // the footer's copy of the directory), so that every byte of a block is verified
  // before its rows are returned.
  Status CheckBlockHeader(std::size_t block_idx) {
    const BlockInfo& block = blocks_[block_idx];
    const std::uint64_t head_length = kBlockHeaderSize + std::uint64_t{block.directory_length};
    if (Status read = ReadAt(block.offset, head_length, scratch_); !read) {
      return read;
    }
    if (scratch_.size() < kBlockHeaderSize) {
      return tl::unexpected(CorruptBlock(block_idx, "block header out of bounds"));
    }
    Cursor in(scratch_.span());
    const std::uint32_t magic = in.Fixed32();
    const std::uint32_t row_count = in.Fixed32();
    const std::uint32_t directory_length = in.Fixed32();
    const std::uint32_t data_len = in.Fixed32();
    const std::uint32_t directory_crc = in.Fixed32();
    const std::uint32_t header_crc = in.Fixed32();
    if (magic != kBlockMagic || !ChecksumMatches({scratch_.data(), 20}, header_crc) ||
        row_count != block.row_count || directory_crc != block.directory_crc ||
        kBlockHeaderSize + std::uint64_t{directory_length} + data_len != block.length) {
      return tl::unexpected(CorruptBlock(block_idx, "block header does not match the footer"));
    }
    if (directory_length != block.directory_length ||
        !ChecksumMatches({scratch_.data() + kBlockHeaderSize, directory_length}, directory_crc)) {
      return tl::unexpected(CorruptBlock(block_idx, "directory checksum mismatch"));
    }
    return OkStatus();
  }

  // Reads, checks, decompresses and decodes one chunk into values_/strings_.
  // A chunk that UsesReference() (kRelative, kRelativeFrame, kRatio) first loads the chunk
  // of its reference column (`depth` counts those steps; the chain is at most two long).
  // A kAddressDictionary is kept as its dictionary (in values_) and the rows' indexes (in
  // indexes_, marked in coded_): the rows' values are copied from the dictionary straight
  // into the batches, and only for the rows handed over.
  // Decodes a chunk of the block: every row, or with `selected` (ascending rows of the
  // block, not empty) at least those rows (DecodeColumnRows()). Within one block the
  // selected rows are always the same ones (ReadSelected()'s kept rows).
  Status LoadChunk(std::size_t block_idx, const ColumnChunk& chunk, int depth,
                   std::span<const std::uint32_t> selected = {}) {
    const auto field_idx = static_cast<std::size_t>(chunk.field);
    if (loaded_[field_idx] && (!sparse_[field_idx] || !selected.empty())) {
      return OkStatus();
    }
    const flow::FieldInfo& info = flow::Info(chunk.field);
    auto fail = [&](const std::string& what) {
      return tl::unexpected(CorruptBlock(block_idx, "column " + std::string(info.name) + ": " + what));
    };
    const std::uint8_t* reference = nullptr;
    bool reference_sparse = false;  // then this chunk too is right at the selected rows only
    if (UsesReference(chunk.encoding)) {
      const std::optional<flow::FieldId> ref = ReferenceField(chunk.field);
      const ColumnChunk* ref_chunk = ref ? blocks_[block_idx].Find(*ref) : nullptr;
      if (ref_chunk == nullptr || depth >= 2) {
        return fail("relative encoding without its reference column");
      }
      if (Status loaded = LoadChunk(block_idx, *ref_chunk, depth + 1, selected); !loaded) {
        return loaded;
      }
      reference = values_[static_cast<std::size_t>(*ref)].data();
      reference_sparse = sparse_[static_cast<std::size_t>(*ref)];
    }
    if (Status read = ReadAt(chunk.offset, chunk.stored_length, scratch_); !read) {
      return read;
    }
    if (!ChecksumMatches(scratch_.span(), chunk.crc)) {
      return fail("checksum mismatch");
    }
    std::span<const std::uint8_t> raw = scratch_.span();
    switch (chunk.compression) {
      case Compression::kNone:
        break;
      case Compression::kZstd: {
        const unsigned long long content =
            ZSTD_getFrameContentSize(scratch_.data(), scratch_.size());
        if (content != chunk.raw_length) {
          return fail("zstd frame size mismatch");
        }
        raw_.Resize(chunk.raw_length);
        const std::size_t n = ZSTD_decompressDCtx(zstd_.get(), raw_.data(), raw_.size(),
                                                  scratch_.data(), scratch_.size());
        if (ZSTD_isError(n) || n != chunk.raw_length) {
          return fail("zstd data is corrupt");
        }
        raw = raw_.span();
        break;
      }
      case Compression::kLz4: {
        if (chunk.raw_length > std::uint64_t{chunk.stored_length} * 255 + 16 ||
            chunk.raw_length > static_cast<std::uint32_t>(std::numeric_limits<int>::max()) ||
            chunk.stored_length > static_cast<std::uint32_t>(std::numeric_limits<int>::max())) {
          return fail("lz4 sizes out of range");
        }
        raw_.Resize(chunk.raw_length);
        const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(scratch_.data()),
                                          reinterpret_cast<char*>(raw_.data()),
                                          static_cast<int>(scratch_.size()),
                                          static_cast<int>(raw_.size()));
        if (n < 0 || static_cast<std::uint32_t>(n) != chunk.raw_length) {
          return fail("lz4 data is corrupt");
        }
        raw = raw_.span();
        break;
      }
    }
    const bool coded = info.type == flow::FieldType::kIpAddress &&
                       chunk.encoding == Encoding::kAddressDictionary;
    coded_[field_idx] = coded;
    const std::size_t rows = blocks_[block_idx].row_count;
    bool ok = false;
    bool sparse = false;
    if (!selected.empty()) {
      if (coded) {
        ok = DecodeAddressIndexRows(raw, rows, selected, values_[field_idx], indexes_[field_idx]);
        sparse = true;
      } else {
        const SparseDecode decoded = DecodeColumnRows(info.type, chunk.encoding, raw, rows, reference,
                                                      selected, values_[field_idx]);
        ok = decoded == SparseDecode::kDecoded;
        sparse = decoded != SparseDecode::kUnsupported;
      }
    }
    if (!sparse) {
      ok = coded ? DecodeAddressIndexes(raw, rows, values_[field_idx], indexes_[field_idx])
                 : DecodeColumn(info.type, chunk.encoding, raw, rows, reference, values_[field_idx],
                                strings_[field_idx]);
    }
    if (!ok) {
      coded_[field_idx] = false;
      return fail(std::string(EncodingName(chunk.encoding)) + " encoding is malformed");
    }
    loaded_.set(field_idx);
    sparse_[field_idx] = sparse || reference_sparse;
    return OkStatus();
  }

  using FieldSet = std::bitset<flow::kFieldCount>;

  // Checks block `block_idx` before any of its chunks is read.
  Status StartBlock(std::size_t block_idx) {
    if (block_idx >= blocks_.size()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       path_ + ": no block " + std::to_string(block_idx));
    }
    loaded_.reset();
    sparse_.reset();
    return CheckBlockHeader(block_idx);
  }

  // Loads the chunks of `fields` of the block (those not loaded yet); sets `wanted` for
  // the fields that have a chunk and `defaulted` for those read as a non-zero default.
  Status LoadFields(std::size_t block_idx, std::span<const flow::FieldId> fields,
                    FieldSet& wanted, FieldSet& defaulted,
                    std::span<const std::uint32_t> selected = {}) {
    const BlockInfo& block = blocks_[block_idx];
    for (const flow::FieldId field : fields) {
      const auto field_idx = static_cast<std::size_t>(field);
      if (field_idx >= flow::kFieldCount || wanted[field_idx]) {
        continue;
      }
      const ColumnChunk* chunk = block.Find(field);
      if (chunk == nullptr) {
        defaulted[field_idx] = fields_with_defaults_[field_idx];
        continue;
      }
      if (Status loaded = LoadChunk(block_idx, *chunk, 0, selected); !loaded) {
        return loaded;
      }
      wanted.set(field_idx);
    }
    return OkStatus();
  }

  // Copies decoded rows [start, start + n) of field `field_idx` to rows [0, n) of `batch`.
  void CopyRange(flow::FlowBatch& batch, std::size_t field_idx, std::size_t start, std::size_t n) {
    VisitColumn(field_idx, [&](auto member) {
      auto& column = batch.cols().*member;
      using T = std::decay_t<decltype(column[0])>;
      if constexpr (std::is_same_v<T, flow::IpAddress>) {
        if (coded_[field_idx]) {
          const std::uint8_t* dict = values_[field_idx].data();
          const std::uint8_t* indexes = indexes_[field_idx].data() + start * 2;
          for (std::size_t row = 0; row < n; ++row) {
            std::uint16_t idx;
            std::memcpy(&idx, indexes + row * 2, 2);
            std::memcpy(column[row].bytes.data(), dict + std::size_t{idx} * 16, 16);
          }
          return;
        }
      }
      const std::uint8_t* values = values_[field_idx].data() + start * sizeof(T);
      if constexpr (std::is_same_v<T, flow::StringRef>) {
        const Buffer& strings = strings_[field_idx];
        for (std::size_t row = 0; row < n; ++row) {
          flow::StringRef ref;
          std::memcpy(&ref, values + row * sizeof ref, sizeof ref);
          column[row] = batch.AddString(std::string_view(
              reinterpret_cast<const char*>(strings.data()) + ref.offset, ref.length));
        }
      } else {
        std::memcpy(static_cast<void*>(column.data()), values, n * sizeof(T));
      }
    });
  }

  // Copies decoded rows rows[0..n) of field `field_idx` to rows [0, n) of `batch`.
  void Gather(flow::FlowBatch& batch, std::size_t field_idx, const std::uint32_t* rows,
              std::size_t n) {
    VisitColumn(field_idx, [&](auto member) {
      auto& column = batch.cols().*member;
      using T = std::decay_t<decltype(column[0])>;
      if constexpr (std::is_same_v<T, flow::IpAddress>) {
        if (coded_[field_idx]) {
          const std::uint8_t* dict = values_[field_idx].data();
          const std::uint8_t* indexes = indexes_[field_idx].data();
          for (std::size_t i = 0; i < n; ++i) {
            std::uint16_t idx;
            std::memcpy(&idx, indexes + std::size_t{rows[i]} * 2, 2);
            std::memcpy(column[i].bytes.data(), dict + std::size_t{idx} * 16, 16);
          }
          return;
        }
      }
      const std::uint8_t* values = values_[field_idx].data();
      if constexpr (std::is_same_v<T, flow::StringRef>) {
        const Buffer& strings = strings_[field_idx];
        for (std::size_t i = 0; i < n; ++i) {
          flow::StringRef ref;
          std::memcpy(&ref, values + std::size_t{rows[i]} * sizeof ref, sizeof ref);
          column[i] = batch.AddString(std::string_view(
              reinterpret_cast<const char*>(strings.data()) + ref.offset, ref.length));
        }
      } else {
        for (std::size_t i = 0; i < n; ++i) {
          std::memcpy(static_cast<void*>(&column[i]), values + std::size_t{rows[i]} * sizeof(T),
                      sizeof(T));
        }
      }
    });
  }

  // Zeroes rows [0, n) of field `field_idx` of `batch` (not for strings).
  static void ZeroRange(flow::FlowBatch& batch, std::size_t field_idx, std::size_t n) {
    VisitColumn(field_idx, [&](auto member) {
      auto& column = batch.cols().*member;
      std::memset(static_cast<void*>(column.data()), 0, n * sizeof(column[0]));
    });
  }

  // A field the segment was written without (not in the footer's schema; for a recovered
  // segment, in no block) reads as its catalogue default when that is not 0.
  void FindFieldsWithDefaults() {
    std::bitset<flow::kFieldCount> present;
    if (summary_.recovered) {
      for (const BlockInfo& block : blocks_) {
        for (const ColumnChunk& chunk : block.chunks) {
          present.set(static_cast<std::size_t>(chunk.field));
        }
      }
    } else {
      for (const SchemaColumn& column : summary_.schema) {
        if (column.field_id < flow::kFieldCount) {
          present.set(column.field_id);
        }
      }
    }
    for (const flow::FieldInfo& info : flow::FieldCatalogue()) {
      const auto field_idx = static_cast<std::size_t>(info.id);
      fields_with_defaults_[field_idx] = !present[field_idx] && info.default_value != 0;
    }
  }

  // Sets rows 0..n-1 of field `field_idx` of `batch` to the catalogue default.
  static void FillDefault(flow::FlowBatch& batch, std::size_t field_idx, std::size_t n) {
    VisitColumn(field_idx, [&](auto member) {
      auto& column = batch.cols().*member;
      using T = std::decay_t<decltype(column[0])>;
      if constexpr (std::is_integral_v<T>) {
        const auto value = static_cast<T>(flow::FieldCatalogue()[field_idx].default_value);
        std::fill_n(column.begin(), n, value);
      }
    });
  }

  // Recovery: walks the blocks from the file header on, keeping each complete one.
  // `verify_chunks`: also read every column chunk and check its CRC (crash recovery).
  Status ScanBlocks(bool verify_chunks) {
    summary_.recovered = true;
    summary_.compression = Compression::kNone;
    std::uint64_t offset = kFileHeaderSize;
    Buffer directory;
    std::array<bool, 3> time_seen{};
    while (file_size_ - offset >= kBlockHeaderSize) {
      if (!ReadAt(offset, kBlockHeaderSize, scratch_)) {
        break;
      }
      Cursor header(scratch_.span());
      const std::uint32_t magic = header.Fixed32();
      const std::uint32_t row_count = header.Fixed32();
      const std::uint32_t directory_length = header.Fixed32();
      const std::uint32_t data_length = header.Fixed32();
      const std::uint32_t directory_crc = header.Fixed32();
      const std::uint32_t header_crc = header.Fixed32();
      if (magic != kBlockMagic || !ChecksumMatches({scratch_.data(), 20}, header_crc) || row_count == 0 ||
          row_count > kMaxRowsPerBlock ||
          std::uint64_t{directory_length} + data_length > file_size_ - offset - kBlockHeaderSize) {
        break;
      }
      if (!ReadAt(offset + kBlockHeaderSize, directory_length, directory) ||
          !ChecksumMatches(directory.span(), directory_crc)) {
        break;
      }
      BlockInfo block;
      block.offset = offset;
      block.row_count = row_count;
      block.directory_crc = directory_crc;
      block.directory_length = directory_length;
      block.length = kBlockHeaderSize + std::uint64_t{directory_length} + data_length;
      if (!ParseDirectory(blocks_.size(), directory.span(), data_length, block)) {
        break;
      }
      bool chunks_ok = true;
      for (const ColumnChunk& chunk : block.chunks) {
        if (!verify_chunks) {
          if (chunk.compression != Compression::kNone) {
            summary_.compression = chunk.compression;
          }
          continue;
        }
        if (!ReadAt(chunk.offset, chunk.stored_length, scratch_) ||
            !ChecksumMatches(scratch_.span(), chunk.crc)) {
          chunks_ok = false;
          break;
        }
        if (chunk.compression != Compression::kNone) {
          summary_.compression = chunk.compression;
        }
      }
      if (!chunks_ok) {
        break;
      }
      summary_.row_count += row_count;
      summary_.rows_per_block = std::max(summary_.rows_per_block, row_count);
      for (std::size_t field_idx = 0; field_idx < 3; ++field_idx) {
        const ColumnChunk* chunk = block.Find(static_cast<flow::FieldId>(field_idx));
        const std::int64_t lo = chunk ? chunk->stats.time_min : 0;
        const std::int64_t hi = chunk ? chunk->stats.time_max : 0;
        TimeRange& range = field_idx == 0 ? summary_.time_received
                           : field_idx == 1 ? summary_.first
                                            : summary_.last;
        range = time_seen[field_idx] ? TimeRange{std::min(range.min, lo), std::max(range.max, hi)}
                                     : TimeRange{lo, hi};
        time_seen[field_idx] = true;
      }
      offset += block.length;
      blocks_.push_back(std::move(block));
    }
    std::array<std::uint16_t, flow::kFieldCount> encodings{};
    for (const BlockInfo& block : blocks_) {
      for (const ColumnChunk& chunk : block.chunks) {
        encodings[static_cast<std::size_t>(chunk.field)] |=
            static_cast<std::uint16_t>(1u << static_cast<unsigned>(chunk.encoding));
      }
    }
    for (const flow::FieldInfo& info : flow::FieldCatalogue()) {
      summary_.schema.push_back({static_cast<std::uint8_t>(info.id), info.type,
                                 encodings[static_cast<std::size_t>(info.id)], std::string(info.name)});
    }
    if (!verify_chunks) {
      return OkStatus();  // a growing segment: per-exporter counts are left out (queries need none)
    }
    ExporterCounter counter;
    const std::array<flow::FieldId, 1> exporter{flow::FieldId::kExporter};
    for (std::size_t block_idx = 0; block_idx < blocks_.size(); ++block_idx) {
      if (Status read = ReadBlock(block_idx, exporter, counter); !read) {
        // Checksums held but the contents do not decode: keep the blocks before it.
        blocks_.resize(block_idx);
        break;
      }
    }
    for (const auto& [address, rows] : counter.counts) {
      summary_.exporters.push_back({address, rows});
    }
    return OkStatus();
  }

  std::string path_;
  int fd_;
  std::uint64_t file_size_ = 0;
  std::unique_ptr<ZSTD_DCtx, ZstdDctxDeleter> zstd_;
  SegmentSummary summary_;
  std::vector<BlockInfo> blocks_;

  Buffer scratch_;  // stored bytes of one chunk
  Buffer raw_;      // its decompressed bytes
  std::array<Buffer, flow::kFieldCount> values_;
  std::array<Buffer, flow::kFieldCount> strings_;
  // The fields whose values_ hold a dictionary and indexes_ each row's index (16-bit).
  std::array<Buffer, flow::kFieldCount> indexes_;
  std::bitset<flow::kFieldCount> coded_;
  std::bitset<flow::kFieldCount> loaded_;  // chunks decoded by the current ReadBlock()
  std::bitset<flow::kFieldCount> sparse_;  // ... of which only at ReadSelected()'s kept rows
  std::bitset<flow::kFieldCount> fields_with_defaults_;  // see FindFieldsWithDefaults()
  flow::FlowBatch batch_;
  // ReadSelected(): the selection fields of one batch of rows (made on first use), the
  // rows the selector kept of that batch, and of the whole block.
  std::unique_ptr<flow::FlowBatch> select_batch_;
  FieldSet select_written_;  // the fields select_batch_ may hold
  // The fields batch_ may hold after ReadSelected() (ReadBlock() clears it first).
  FieldSet batch_written_;
  std::vector<std::uint32_t> selection_ = std::vector<std::uint32_t>(flow::FlowBatch::kCapacity);
  std::vector<std::uint32_t> kept_;
};

SegmentReader::SegmentReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SegmentReader::~SegmentReader() = default;

namespace {

Result<int> OpenForReading(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return MakeError(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIoError,
                     path + ": open: " + std::strerror(errno));
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<SegmentReader>> SegmentReader::OpenAs(const std::string& path, OpenMode mode) {
  auto fd = OpenForReading(path);
  if (!fd) {
    return tl::unexpected(fd.error());
  }
  auto impl = std::make_unique<Impl>(path, *fd);
  if (Status opened = impl->Open(mode); !opened) {
    return tl::unexpected(opened.error());
  }
  return std::unique_ptr<SegmentReader>(new SegmentReader(std::move(impl)));
}

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(const std::string& path) {
  return OpenAs(path, OpenMode::kSealed);
}

Result<std::unique_ptr<SegmentReader>> SegmentReader::Recover(const std::string& path) {
  return OpenAs(path, OpenMode::kRecover);
}

Result<std::unique_ptr<SegmentReader>> SegmentReader::OpenGrowing(const std::string& path) {
  return OpenAs(path, OpenMode::kGrowing);
}

const std::string& SegmentReader::path() const { return impl_->path(); }

const SegmentSummary& SegmentReader::summary() const { return impl_->summary(); }

const std::vector<BlockInfo>& SegmentReader::blocks() const { return impl_->blocks(); }

Status SegmentReader::ReadBlock(std::size_t block_idx, std::span<const flow::FieldId> fields,
                                flow::FlowSink& sink) {
  return impl_->ReadBlock(block_idx, fields, sink);
}

Result<std::size_t> SegmentReader::ReadSelected(std::size_t block_idx,
                                                std::span<const flow::FieldId> select_fields,
                                                RowSelector& selector,
                                                std::span<const flow::FieldId> fields,
                                                flow::FlowSink& sink, DictionaryColumn* dictionary,
                                                std::size_t max_kept) {
  return impl_->ReadSelected(block_idx, select_fields, selector, fields, sink, dictionary,
                             max_kept);
}

Status SegmentReader::ReadAll(std::span<const flow::FieldId> fields, flow::FlowSink& sink) {
  for (std::size_t block_idx = 0; block_idx < impl_->blocks().size(); ++block_idx) {
    if (Status read = ReadBlock(block_idx, fields, sink); !read) {
      return read;
    }
  }
  return OkStatus();
}

}  // namespace sluice::store
