// SPDX-License-Identifier: Apache-2.0

#include "store/segment_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <lz4.h>
// For ZSTD_c_literalCompressionMode, an experimental parameter of the stable
// ZSTD_CCtx_setParameter(); no experimental function is called.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "common/crc32.h"
#include "flow/field.h"
#include "store/block_workspace.h"
#include "store/coding.h"
#include "store/column_codec.h"
#include "store/columns.h"

namespace sluice::store {
namespace {

// Chunks smaller than this are not worth a compressor's frame overhead.
constexpr std::size_t kMinCompressBytes = 32;

// The shortest match zstd's fast levels (1 and 2) look for. Chunks are mostly byte planes
// of near-random low bytes, where a short match costs more than the literals it replaces:
// 7 (the most zstd allows) instead of the level's own 6 stored 0.24 % fewer bytes on
// bench/store_segment_bench.cc and 0.15 % fewer on the flows of `sluice-blast`, at the
// same speed (docs/BENCHMARKS.md, 2026-12-04).
constexpr int kFastLevelMinMatch = 7;

bool AllZero(const void* bytes, std::size_t length) {
  const auto* p = static_cast<const std::uint8_t*>(bytes);
  std::uint64_t any = 0;
  std::size_t pos = 0;
  for (; pos + 8 <= length; pos += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + pos, 8);
    any |= word;
  }
  for (; pos < length; ++pos) {
    any |= p[pos];
  }
  return any == 0;
}

void UpdateRange(TimeRange& range, bool& empty, std::int64_t lo, std::int64_t hi) {
  if (empty) {
    range = {lo, hi};
    empty = false;
    return;
  }
  range.min = std::min(range.min, lo);
  range.max = std::max(range.max, hi);
}

}  // namespace

class SegmentWriter::Impl {
 public:
  Impl(std::string path, std::unique_ptr<WritableFile> file, const SegmentWriterOptions& options)
      : path_(std::move(path)),
        file_(std::move(file)),
        options_(options),
        ws_(options_.workspaces != nullptr ? options_.workspaces->Take()
                                           : std::make_unique<BlockWorkspace>()) {
    ws_->Clear();
    if (options_.compression == Compression::kZstd && ws_->zstd == nullptr) {
      ws_->zstd.reset(ZSTD_createCCtx());
    }
  }

  ~Impl() {
    if (options_.workspaces != nullptr) {
      options_.workspaces->Give(std::move(ws_));
    }
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Status WriteFileHeader() {
    Buffer header;
    header.Append(kFileMagic.data(), kFileMagic.size());
    header.PutFixed32(kFormatVersion);
    header.PutFixed32(Crc32(header.span()));
    return Write(header.span());
  }

  Status Append(const flow::FlowBatch& batch) {
    if (!status_) {
      return status_;
    }
    if (clustered_) {
      // A clustered block whose runs were not all written (disk full): its rows are
      // reordered already, so it is finished before any row joins it.
      if (Status sealed = SealBlock(); !sealed) {
        return sealed;
      }
    }
    const flow::FlowColumns& cols = batch.cols();
    std::size_t row = 0;
    while (row < batch.size()) {
      if (block_rows_ == options_.rows_per_block) {
        // A block that could not be written earlier (disk full): write it first.
        if (Status sealed = SealBlock(); !sealed) {
          return sealed;
        }
      }
      const std::size_t n =
          std::min<std::size_t>(batch.size() - row, options_.rows_per_block - block_rows_);
      for (std::size_t field_idx = 0; field_idx < flow::kFieldCount; ++field_idx) {
        VisitColumn(field_idx, [&](auto member) {
          const auto& column = cols.*member;
          using T = std::decay_t<decltype(column[0])>;
          Buffer& out = ws_->columns[field_idx];
          if (out.empty()) {
            // Columns that are all default so far in this block stay empty (no chunk).
            if (AllZero(&column[row], n * sizeof(T))) {
              return;
            }
            // Room for the whole block at once: growing by doubling would copy the
            // column and fault in twice its pages.
            (void)out.Reserve(options_.rows_per_block * sizeof(T));
            if (block_rows_ > 0) {
              std::memset(out.Reserve(block_rows_ * sizeof(T)), 0, block_rows_ * sizeof(T));
              out.Commit(block_rows_ * sizeof(T));
            }
          }
          if constexpr (std::is_same_v<T, flow::StringRef>) {
            std::string& arena = ws_->arenas[field_idx];
            std::uint8_t* refs = out.Reserve(n * sizeof(T));
            std::uint32_t any_length = 0;
            for (std::size_t idx = 0; idx < n; ++idx) {
              any_length |= column[row + idx].length;
            }
            if (any_length == 0) {  // the usual case: no strings at all
              std::memset(refs, 0, n * sizeof(T));
              out.Commit(n * sizeof(T));
              return;
            }
            for (std::size_t idx = 0; idx < n; ++idx) {
              const std::string_view text = batch.String(column[row + idx]);
              const flow::StringRef ref{static_cast<std::uint32_t>(arena.size()),
                                        static_cast<std::uint32_t>(text.size())};
              std::memcpy(refs + idx * sizeof(T), &ref, sizeof ref);
              arena.append(text);
            }
            out.Commit(n * sizeof(T));
          } else {
            out.Append(&column[row], n * sizeof(T));
          }
        });
      }
      CountExporters(cols, row, n);
      block_rows_ += n;
      row += n;
      appended_rows_ += n;
      if (block_rows_ == options_.rows_per_block) {
        if (Status sealed = SealBlock(); !sealed) {
          return sealed;
        }
      }
    }
    return OkStatus();
  }

  Status Flush() {
    if (Status sealed = SealBlock(); !sealed) {
      return sealed;
    }
    if (options_.sync && options_.sync_on_flush) {
      return Poison(file_->Sync());
    }
    return OkStatus();
  }

  Status Finish() {
    if (!status_) {
      return status_;
    }
    if (Status sealed = SealBlock(); !sealed) {
      return sealed;
    }
    Buffer footer;
    footer.PutFixed32(kFooterMagic);
    footer.PutVarint(kFormatVersion);
    footer.PutU8(static_cast<std::uint8_t>(options_.compression));
    footer.PutVarint(options_.rows_per_block);
    footer.PutVarint(sealed_rows_);
    for (const TimeRange* range : {&first_, &last_, &time_received_}) {
      footer.PutVarint(ZigZag(range->min));
      footer.PutVarint(ZigZag(range->max));
    }
    footer.PutVarint(flow::kFieldCount);
    for (const flow::FieldInfo& info : flow::FieldCatalogue()) {
      const auto field_idx = static_cast<std::size_t>(info.id);
      footer.PutU8(static_cast<std::uint8_t>(info.id));
      footer.PutU8(static_cast<std::uint8_t>(info.type));
      footer.PutFixed16(encodings_used_[field_idx]);
      footer.PutString(info.name);
    }
    footer.PutVarint(exporters_.size());
    std::vector<std::pair<flow::IpAddress, std::uint64_t>> exporters(exporters_.begin(),
                                                                     exporters_.end());
    std::sort(exporters.begin(), exporters.end());
    for (const auto& [exporter, rows] : exporters) {
      footer.Append(exporter.bytes.data(), 16);
      footer.PutVarint(rows);
    }
    footer.PutVarint(options_.unique_keys ? kFooterUniqueKeys : 0);  // flags
    footer.PutVarint(block_count_);
    footer.Append(index_.span());

    const std::uint64_t footer_offset = offset_;
    Buffer trailer;
    trailer.PutFixed64(footer_offset);
    trailer.PutFixed32(static_cast<std::uint32_t>(footer.size()));
    trailer.PutFixed32(Crc32(footer.span()));
    trailer.Append(kTrailerMagic.data(), kTrailerMagic.size());
    footer.Append(trailer.span());
    if (Status written = WriteOrRollBack(footer.span(), {}); !written) {
      return written;
    }
    if (options_.sync) {
      if (Status synced = Poison(file_->Sync()); !synced) {
        return synced;
      }
    }
    if (Status closed = Poison(file_->Close()); !closed) {
      return closed;
    }
    status_ = MakeError(ErrorCode::kInvalidArgument, path_ + ": segment already finished");
    return OkStatus();
  }

  std::uint64_t row_count() const { return appended_rows_; }
  void SetClustering(bool on) { clustering_ = on; }
  std::uint64_t file_size() const { return offset_; }
  bool failed() const { return !status_; }
  const std::string& path() const { return path_; }

  void DropUniqueKeys() { options_.unique_keys = false; }

 private:
  // Counts rows per exporter, one hash lookup per run of equal exporters.
  void CountExporters(const flow::FlowColumns& cols, std::size_t row, std::size_t n) {
    std::size_t run_start = row;
    for (std::size_t idx = row + 1; idx <= row + n; ++idx) {
      if (idx == row + n || cols.exporter[idx] != cols.exporter[run_start]) {
        exporters_[cols.exporter[run_start]] += idx - run_start;
        run_start = idx;
      }
    }
  }

  // Encodes, compresses and writes the buffered rows: as one block, or (clustering) as
  // runs of rows of nearby destination ports, one block each.
  Status SealBlock() {
    if (!status_) {
      return status_;
    }
    if (block_rows_ == 0) {
      return OkStatus();
    }
    if (clustered_ || (clustering_ && options_.cluster_rows > 0 &&
                       block_rows_ >= 2 * std::size_t{options_.cluster_rows})) {
      if (!clustered_) {
        ClusterRows();
        clustered_ = true;
      }
      while (cluster_next_ < cluster_cuts_.size()) {
        const std::size_t begin = cluster_next_ == 0 ? 0 : cluster_cuts_[cluster_next_ - 1];
        if (Status sealed = SealRows(begin, cluster_cuts_[cluster_next_] - begin); !sealed) {
          return sealed;  // the runs written stay written; the next call goes on from here
        }
        ++cluster_next_;
      }
    } else if (Status sealed = SealRows(0, block_rows_); !sealed) {
      return sealed;
    }
    clustered_ = false;
    cluster_next_ = 0;
    block_rows_ = 0;
    for (Buffer& column : ws_->columns) {
      column.clear();
    }
    for (std::string& arena : ws_->arenas) {
      arena.clear();
    }
    return OkStatus();
  }

  // Cuts the buffered rows, in (protocol, destination port) order, into runs of about
  // options_.cluster_rows rows that end where the key changes, and moves every row to its
  // run, keeping the order received within each run.
  //
  // The order is found from histograms, never by sorting rows: first of 256-port ranges
  // of each protocol present, then, for the ranges heavy enough to matter to a cut (a
  // quarter run or more), of their single ports. Cuts fall between ranges, or between
  // ports inside a heavy range, so a key never spans two runs. Each column is then
  // scattered once, reading it forwards, into a spare buffer of its width that takes
  // its place.
  void ClusterRows() {
    const std::size_t rows = block_rows_;
    const Buffer& proto_column = ws_->columns[static_cast<std::size_t>(flow::FieldId::kProto)];
    const Buffer& port_column = ws_->columns[static_cast<std::size_t>(flow::FieldId::kDstPort)];
    const std::uint8_t* protos = proto_column.empty() ? nullptr : proto_column.data();
    const std::uint8_t* ports = port_column.empty() ? nullptr : port_column.data();
    // Protocols present, numbered in order.
    std::array<std::uint32_t, 256> proto_rows{};
    if (protos != nullptr) {
      for (std::size_t row = 0; row < rows; ++row) {
        ++proto_rows[protos[row]];
      }
    } else {
      proto_rows[0] = static_cast<std::uint32_t>(rows);
    }
    std::array<std::uint8_t, 256> proto_index{};
    std::size_t protocols = 0;
    for (std::size_t proto = 0; proto < 256; ++proto) {
      if (proto_rows[proto] != 0) {
        proto_index[proto] = static_cast<std::uint8_t>(protocols++);
      }
    }
    // key = protocol index << 16 | port; range = key >> 8.
    std::vector<std::uint32_t>& keys = cluster_keys_;
    keys.resize(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      std::uint16_t port = 0;
      if (ports != nullptr) {
        std::memcpy(&port, ports + row * 2, 2);
      }
      keys[row] = (protos != nullptr ? std::uint32_t{proto_index[protos[row]]} << 16 : 0) | port;
    }
    std::vector<std::uint32_t>& ranges = cluster_ranges_;
    ranges.assign(protocols << 8, 0);
    for (std::size_t row = 0; row < rows; ++row) {
      ++ranges[keys[row] >> 8];
    }
    const std::size_t full = options_.cluster_rows;
    const std::size_t least = std::max<std::size_t>(1, full / 4);
    constexpr std::uint32_t kLight = 0xFFFFFFFF;
    std::vector<std::uint32_t>& heavy_of = cluster_heavy_of_;
    heavy_of.assign(ranges.size(), kLight);
    std::size_t heavy = 0;
    for (std::size_t range = 0; range < ranges.size(); ++range) {
      if (ranges[range] >= least) {
        heavy_of[range] = static_cast<std::uint32_t>(heavy++);
      }
    }
    std::vector<std::uint32_t>& singles = cluster_singles_;
    singles.assign(heavy << 8, 0);
    if (heavy != 0) {
      for (std::size_t row = 0; row < rows; ++row) {
        const std::uint32_t id = heavy_of[keys[row] >> 8];
        if (id != kLight) {
          ++singles[(std::size_t{id} << 8) | (keys[row] & 0xFF)];
        }
      }
    }
    // Walks the keys in order, one unit (a light range or a port of a heavy one) at a
    // time. A run ends before a unit once it has `full` rows, or `least` rows where the
    // protocol changes or the unit's first port passes twice the run's first one (so
    // that a run's statistics keep a narrow range of each); no run is shorter than
    // `least`, the last one included. Each unit's count is replaced by its run.
    cluster_cuts_.clear();
    std::size_t placed = 0;
    std::size_t run_begin = 0;
    std::uint32_t first = 0;
    bool open = false;
    const auto take = [&](std::uint32_t& count, std::uint32_t key) {
      if (count == 0) {
        return;
      }
      if (!open) {
        first = key;
        open = true;
      } else if (rows - placed >= least) {
        const std::size_t length = placed - run_begin;
        const bool other_protocol = (key >> 16) != (first >> 16);
        const bool far_port = (key & 0xFFFF) > 2 * (first & 0xFFFF);
        if (length >= full || (length >= least && (other_protocol || far_port))) {
          cluster_cuts_.push_back(static_cast<std::uint32_t>(placed));
          run_begin = placed;
          first = key;
        }
      }
      placed += count;
      count = static_cast<std::uint32_t>(cluster_cuts_.size());
    };
    for (std::size_t range = 0; range < ranges.size(); ++range) {
      const auto key = static_cast<std::uint32_t>(range << 8);
      if (heavy_of[range] == kLight) {
        take(ranges[range], key);
        continue;
      }
      std::uint32_t* ports_of_range = &singles[std::size_t{heavy_of[range]} << 8];
      for (std::uint32_t low = 0; low < 256; ++low) {
        take(ports_of_range[low], key | low);
      }
    }
    cluster_cuts_.push_back(static_cast<std::uint32_t>(rows));
    // Where each row goes: the next place of its run, so each run keeps the order received.
    std::vector<std::uint32_t>& next = cluster_offsets_;
    next.assign(cluster_cuts_.size(), 0);
    for (std::size_t run = 1; run < cluster_cuts_.size(); ++run) {
      next[run] = cluster_cuts_[run - 1];
    }
    std::vector<std::uint32_t>& dest = cluster_dest_;
    dest.resize(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      const std::uint32_t key = keys[row];
      const std::uint32_t id = heavy_of[key >> 8];
      const std::uint32_t run =
          id == kLight ? ranges[key >> 8] : singles[(std::size_t{id} << 8) | (key & 0xFF)];
      dest[row] = next[run]++;
    }
    // Every column in that order.
    for (std::size_t field_idx = 0; field_idx < flow::kFieldCount; ++field_idx) {
      Buffer& column = ws_->columns[field_idx];
      if (column.empty()) {
        continue;
      }
      VisitColumn(field_idx, [&](auto member) {
        using T = std::decay_t<decltype((std::declval<flow::FlowColumns>().*member)[0])>;
        Buffer& spare = SpareOfWidth(sizeof(T));
        spare.Resize(rows * sizeof(T));
        const std::uint8_t* from = column.data();
        std::uint8_t* to = spare.data();
        for (std::size_t row = 0; row < rows; ++row) {
          std::memcpy(to + std::size_t{dest[row]} * sizeof(T), from + row * sizeof(T), sizeof(T));
        }
        std::swap(column, spare);
      });
    }
  }

  // A scratch column of `width`-byte values: every column of one width trades places
  // with the same one, so their capacities stay those of that width.
  Buffer& SpareOfWidth(std::size_t width) {
    for (auto& [spare_width, spare] : cluster_spares_) {
      if (spare_width == width) {
        return spare;
      }
    }
    return cluster_spares_.emplace_back(width, Buffer()).second;
  }

  // Encodes, compresses and writes buffered rows [begin, begin + rows) as one block.
  Status SealRows(std::size_t begin, std::size_t rows) {
    ws_->entries.clear();
    ws_->data.clear();
    std::uint64_t column_count = 0;
    bool time_present[3] = {false, false, false};
    for (std::size_t field_idx = 0; field_idx < flow::kFieldCount; ++field_idx) {
      const auto field = static_cast<flow::FieldId>(field_idx);
      const flow::FieldType type = flow::Info(field).type;
      if (ws_->columns[field_idx].empty()) {
        continue;  // all default
      }
      const std::size_t width = ws_->columns[field_idx].size() / block_rows_;
      const std::uint8_t* values = ws_->columns[field_idx].data() + begin * width;
      if (rows != block_rows_ && AllZero(values, rows * width)) {
        continue;  // all default in this run
      }
      ws_->raw.clear();
      const std::uint8_t* reference = nullptr;
      if (const std::optional<flow::FieldId> ref = ReferenceField(field)) {
        const Buffer& ref_values = ws_->columns[static_cast<std::size_t>(*ref)];
        reference = ref_values.empty() ? nullptr : ref_values.data() + begin * (ref_values.size() / block_rows_);
      }
      const std::optional<EncodedColumn> encoded =
          ws_->encoder.Encode(type, values, rows, ws_->arenas[field_idx], reference, ws_->raw);
      if (!encoded) {
        continue;
      }
      ++column_count;
      encodings_used_[field_idx] |= static_cast<std::uint16_t>(1u << static_cast<unsigned>(encoded->encoding));
      const auto [compression, stored] = Compress(ws_->raw.span(), encoded->sections);
      ws_->entries.PutU8(static_cast<std::uint8_t>(field_idx));
      ws_->entries.PutU8(static_cast<std::uint8_t>(type));
      ws_->entries.PutU8(static_cast<std::uint8_t>(encoded->encoding));
      ws_->entries.PutU8(static_cast<std::uint8_t>(compression));
      ws_->entries.PutVarint(ws_->raw.size());
      ws_->entries.PutVarint(stored.size());
      ws_->entries.PutFixed32(Crc32(stored));
      PutStats(type, encoded->stats, ws_->entries);
      ws_->data.Append(stored);
      if (field_idx <= static_cast<std::size_t>(flow::FieldId::kLast)) {
        time_present[field_idx] = true;
        TimeRange* range = field_idx == 0 ? &time_received_ : field_idx == 1 ? &first_ : &last_;
        UpdateRange(*range, time_empty_[field_idx], encoded->stats.time_min, encoded->stats.time_max);
      }
    }
    // A time column with no chunk is all zero in this block.
    for (std::size_t field_idx = 0; field_idx < 3; ++field_idx) {
      if (!time_present[field_idx]) {
        TimeRange* range = field_idx == 0 ? &time_received_ : field_idx == 1 ? &first_ : &last_;
        UpdateRange(*range, time_empty_[field_idx], 0, 0);
      }
    }
    ws_->directory.clear();
    ws_->directory.PutVarint(column_count);
    ws_->directory.Append(ws_->entries.span());
    const std::uint32_t directory_crc = Crc32(ws_->directory.span());

    ws_->block.clear();
    ws_->block.PutFixed32(kBlockMagic);
    ws_->block.PutFixed32(static_cast<std::uint32_t>(rows));
    ws_->block.PutFixed32(static_cast<std::uint32_t>(ws_->directory.size()));
    ws_->block.PutFixed32(static_cast<std::uint32_t>(ws_->data.size()));
    ws_->block.PutFixed32(directory_crc);
    ws_->block.PutFixed32(Crc32(ws_->block.span()));
    ws_->block.Append(ws_->directory.span());

    const std::uint64_t block_offset = offset_;
    if (Status written = WriteOrRollBack(ws_->block.span(), ws_->data.span()); !written) {
      return written;
    }
    index_.PutVarint(block_offset);
    index_.PutVarint(rows);
    index_.PutVarint(ws_->directory.size());
    index_.PutVarint(ws_->data.size());
    index_.PutFixed32(directory_crc);
    index_.Append(ws_->directory.span());
    ++block_count_;
    sealed_rows_ += rows;
    return OkStatus();
  }

  // Returns the compression used and the bytes to store (ws_->raw or ws_->compressed).
  std::pair<Compression, std::span<const std::uint8_t>> Compress(std::span<const std::uint8_t> raw,
                                                                 const SectionMarks& sections) {
    if (raw.size() >= kMinCompressBytes) {
      if (options_.compression == Compression::kZstd) {
        if (!zstd_level_set_) {
          // Sticky: the context keeps the parameters from frame to frame (and from the
          // last writer that used this workspace: hence the reset).
          (void)ZSTD_CCtx_reset(ws_->zstd.get(), ZSTD_reset_session_and_parameters);
          (void)ZSTD_CCtx_setParameter(ws_->zstd.get(), ZSTD_c_compressionLevel,
                                       options_.zstd_level);
          if (options_.zstd_level <= 2) {
            (void)ZSTD_CCtx_setParameter(ws_->zstd.get(), ZSTD_c_minMatch, kFastLevelMinMatch);
          }
          if (options_.zstd_level < 1) {
            // Negative levels store literals raw unless told otherwise; here the entropy
            // coder is where nearly all the saving comes from. A library that does not
            // know the parameter refuses it, and the frames stay valid, only larger.
            (void)ZSTD_CCtx_setParameter(ws_->zstd.get(), ZSTD_c_literalCompressionMode,
                                         ZSTD_ps_enable);
          }
          zstd_level_set_ = true;
        }
        const std::size_t n = CompressZstd(raw, sections);
        if (n > 0 && n < raw.size()) {
          return {Compression::kZstd, {ws_->compressed.data(), n}};
        }
      } else if (options_.compression == Compression::kLz4) {
        const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
        ws_->compressed.Resize(static_cast<std::size_t>(bound));
        const int n = LZ4_compress_default(reinterpret_cast<const char*>(raw.data()),
                                           reinterpret_cast<char*>(ws_->compressed.data()),
                                           static_cast<int>(raw.size()), bound);
        if (n > 0 && static_cast<std::size_t>(n) < raw.size()) {
          return {Compression::kLz4, {ws_->compressed.data(), static_cast<std::size_t>(n)}};
        }
      }
    }
    return {Compression::kNone, raw};
  }

  // Compresses `raw` into ws_->compressed as one zstd frame (with its content size); returns
  // its length, or 0 on failure. The frame's blocks end at the encoder's section marks
  // (each byte plane, say), so that every section gets entropy tables of its own: a plane
  // of near-random low bytes then no longer dilutes the tables of a plane of skewed high
  // bytes. Sections shorter than kMinSectionBytes join the next one.
  std::size_t CompressZstd(std::span<const std::uint8_t> raw, const SectionMarks& sections) {
    constexpr std::size_t kMinSectionBytes = 1024;
    std::array<std::size_t, SectionMarks::kMax + 1> ends{};
    std::size_t end_count = 0;
    std::size_t last = 0;
    for (std::size_t mark = 0; mark < sections.count; ++mark) {
      const std::size_t at = sections.at[mark];
      if (at >= last + kMinSectionBytes && at + kMinSectionBytes <= raw.size()) {
        ends[end_count++] = at;
        last = at;
      }
    }
    ends[end_count++] = raw.size();
    // Each flushed block may add a block header to the one-shot bound.
    const std::size_t bound = ZSTD_compressBound(raw.size()) + 8 * end_count;
    ws_->compressed.Resize(bound);
    if (end_count == 1) {
      const std::size_t n =
          ZSTD_compress2(ws_->zstd.get(), ws_->compressed.data(), bound, raw.data(), raw.size());
      return ZSTD_isError(n) ? 0 : n;
    }
    (void)ZSTD_CCtx_reset(ws_->zstd.get(), ZSTD_reset_session_only);
    if (ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(ws_->zstd.get(), raw.size()))) {
      return 0;
    }
    ZSTD_outBuffer output{ws_->compressed.data(), bound, 0};
    std::size_t begin = 0;
    for (std::size_t section = 0; section < end_count; ++section) {
      ZSTD_inBuffer input{raw.data() + begin, ends[section] - begin, 0};
      const ZSTD_EndDirective directive = section + 1 == end_count ? ZSTD_e_end : ZSTD_e_flush;
      const std::size_t left = ZSTD_compressStream2(ws_->zstd.get(), &output, &input, directive);
      if (ZSTD_isError(left) || left != 0 || input.pos != input.size) {
        (void)ZSTD_CCtx_reset(ws_->zstd.get(), ZSTD_reset_session_only);
        return 0;  // out of room (incompressible data): store it as it is
      }
      begin = ends[section];
    }
    return output.pos;
  }

  Status Write(std::span<const std::uint8_t> bytes) {
    if (Status written = Poison(file_->Append(bytes)); !written) {
      return written;
    }
    offset_ += bytes.size();
    return OkStatus();
  }

  // Appends `first` then `second`; if that fails, cuts the file back to where it was, so
  // that the file stays a valid (footer-less) segment and the caller may retry later. If
  // even that fails, the writer is failed for good.
  Status WriteOrRollBack(std::span<const std::uint8_t> first, std::span<const std::uint8_t> second) {
    Status written = file_->Append(first);
    if (written && !second.empty()) {
      written = file_->Append(second);
    }
    if (written) {
      offset_ += first.size() + second.size();
      return OkStatus();
    }
    if (Status cut = Poison(file_->Truncate(offset_)); !cut) {
      return cut;
    }
    return written;
  }

  // Records a failure as the writer's final status.
  Status Poison(Status status) {
    if (!status && status_) {
      status_ = status;
    }
    return status;
  }

  std::string path_;
  std::unique_ptr<WritableFile> file_;
  SegmentWriterOptions options_;
  Status status_;
  bool zstd_level_set_ = false;
  // The block being filled and the scratch of every block, from options_.workspaces
  // (given back by the destructor) or the writer's own.
  std::unique_ptr<BlockWorkspace> ws_;
  std::size_t block_rows_ = 0;
  // Clustering (options_.cluster_rows): the buffered rows once ordered, where their runs
  // end, and how many runs are written.
  bool clustering_ = true;  // SetClustering()
  bool clustered_ = false;
  std::size_t cluster_next_ = 0;
  std::vector<std::uint32_t> cluster_cuts_;      // where each run ends
  std::vector<std::uint32_t> cluster_keys_;      // per row: protocol index << 16 | port
  std::vector<std::uint32_t> cluster_ranges_;    // per 256-port range: rows, then run
  std::vector<std::uint32_t> cluster_heavy_of_;  // per range: its index among the heavy
  std::vector<std::uint32_t> cluster_singles_;   // per port of a heavy range: rows, then run
  std::vector<std::uint32_t> cluster_offsets_;   // per run: the next place
  std::vector<std::uint32_t> cluster_dest_;      // per row: its place
  std::vector<std::pair<std::size_t, Buffer>> cluster_spares_;  // by width

  // For the footer.
  Buffer index_;
  std::uint64_t block_count_ = 0;
  std::uint64_t sealed_rows_ = 0;
  std::uint64_t appended_rows_ = 0;
  std::uint64_t offset_ = 0;
  TimeRange time_received_;
  TimeRange first_;
  TimeRange last_;
  bool time_empty_[3] = {true, true, true};
  std::array<std::uint16_t, flow::kFieldCount> encodings_used_{};
  std::unordered_map<flow::IpAddress, std::uint64_t, flow::IpAddressHash> exporters_;
};

SegmentWriter::SegmentWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SegmentWriter::~SegmentWriter() = default;

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(const std::string& path,
                                                             const SegmentWriterOptions& options) {
  if (options.rows_per_block == 0 || options.rows_per_block > kMaxRowsPerBlock) {
    return MakeError(ErrorCode::kInvalidArgument,
                     path + ": rows_per_block must be 1.." + std::to_string(kMaxRowsPerBlock));
  }
  if (options.zstd_level < kMinZstdLevel || options.zstd_level > 22) {
    return MakeError(ErrorCode::kInvalidArgument,
                     path + ": zstd level must be " + std::to_string(kMinZstdLevel) + "..22");
  }
  PosixFileSystem posix;
  FileSystem& file_system = options.file_system != nullptr ? *options.file_system : posix;
  Result<std::unique_ptr<WritableFile>> file = file_system.Create(path);
  if (!file) {
    return tl::unexpected(file.error());
  }
  auto impl = std::make_unique<Impl>(path, std::move(*file), options);
  if (Status header = impl->WriteFileHeader(); !header) {
    return tl::unexpected(header.error());
  }
  return std::unique_ptr<SegmentWriter>(new SegmentWriter(std::move(impl)));
}

Status SegmentWriter::Append(const flow::FlowBatch& batch) { return impl_->Append(batch); }

Status SegmentWriter::Flush() { return impl_->Flush(); }

Status SegmentWriter::Finish() { return impl_->Finish(); }

void SegmentWriter::SetClustering(bool on) { impl_->SetClustering(on); }

std::uint64_t SegmentWriter::row_count() const { return impl_->row_count(); }

std::uint64_t SegmentWriter::file_size() const { return impl_->file_size(); }

bool SegmentWriter::failed() const { return impl_->failed(); }

const std::string& SegmentWriter::path() const { return impl_->path(); }

void SegmentWriter::DropUniqueKeys() { impl_->DropUniqueKeys(); }

}  // namespace sluice::store
