// SPDX-License-Identifier: Apache-2.0
// SegmentWriter: writes FlowBatches to one segment file in the columnar format of
// docs/storage_format.md (sealed, self-describing blocks, then a footer).

#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "flow/flow_batch.h"
#include "store/file_system.h"
#include "store/format.h"

namespace sluice::store {

class BlockWorkspacePool;

// zstd levels a writer accepts: kMinZstdLevel..22.
inline constexpr int kMinZstdLevel = -32;

// zstd's fast strategy looking at one position in 8 of unmatched input (level -8), with
// its entropy coder on (negative levels normally store literals raw): chunks are mostly
// byte planes whose saving comes from the entropy coder, not from matches, so this stores
// the same bytes as level 1 with a quarter fewer compressor instructions
// (docs/BENCHMARKS.md, "zstd level -8 with compressed literals").
inline constexpr int kDefaultZstdLevel = -8;

// The rows of a clustered run (SegmentWriterOptions::cluster_rows) that `[store]
// cluster_by_port` asks for (docs/BENCHMARKS.md, "Blocks clustered by port").
inline constexpr std::uint32_t kClusterRows = 16384;

struct SegmentWriterOptions {
  Compression compression = Compression::kZstd;
  int zstd_level = kDefaultZstdLevel;     // kMinZstdLevel..22
  std::uint32_t rows_per_block = 131072;  // 1..kMaxRowsPerBlock
  // When > 0, a full block's rows are cut into runs by (protocol, destination port), each
  // a range of that key of about this many rows (fewer where the protocol changes or the
  // port range would widen), and each run is written as a block, its rows in the order
  // appended: block statistics then skip most blocks for a port or protocol filter
  // (kClusterRows: the service's `[store] cluster_by_port`).
  std::uint32_t cluster_rows = 0;
  // The caller promises that no two rows of the file hold the same values in every column
  // other than the counters and times (bytes, packets, flows, first, last, time_received);
  // recorded in the footer (SegmentSummary::unique_keys) and not checked. Set by summaries
  // written from one drain of a hash table: a reader may then bound how many rows one key
  // has per file by the number of exporters.
  bool unique_keys = false;
  bool sync = true;                       // fdatasync() in Finish() ...
  bool sync_on_flush = true;              // ... and in Flush() (if sync)
  FileSystem* file_system = nullptr;      // nullptr: the real one (PosixFileSystem)
  // Where the writer takes its block buffers from and gives them back to when destroyed
  // (store/block_workspace.h); nullptr: its own. Must outlive the writer.
  BlockWorkspacePool* workspaces = nullptr;
};

// Accumulates rows into a block of `rows_per_block` rows; a full block is encoded,
// compressed and written at once (a sealed block). Flush() seals a partial block early,
// so that a crash loses only the rows appended since; SegmentReader::Recover() reads
// back every sealed block of a file that has no footer. Finish() writes the footer.
//
// The writer writes the file in place at `path`; publishing it atomically (temporary
// name, rename) is the caller's business.
//
// Errors: a block (or footer) that cannot be written (a full disk: ErrorCode::kNoSpace)
// is cut back off the file, so the file stays recoverable; its rows stay buffered and the
// next Append()/Flush()/Finish() tries again. While the buffered block is full, Append()
// takes no more rows (row_count() tells how many it took). Any other failure (sync,
// truncate, close) fails the writer for good: every later call returns that error.
//
// Ownership: owns the file (closed by Finish() or the destructor; a writer destroyed
// before Finish() leaves a footer-less but recoverable file) and one block of buffered
// rows, in a workspace of its own or lent by `options.workspaces`;
// `options.file_system` must outlive Create().
// Thread-safety: none; one thread appends.
class SegmentWriter {
 public:
  // Creates (truncates) `path` and writes the file header.
  static Result<std::unique_ptr<SegmentWriter>> Create(const std::string& path,
                                                       const SegmentWriterOptions& options = {});

  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Copies the batch's rows (strings included); writes each block that fills up.
  Status Append(const flow::FlowBatch& batch);

  // Seals the buffered rows as a block (if any) and syncs the file (options.sync).
  Status Flush();

  // Seals the buffered rows, writes the footer and trailer, syncs and closes the file.
  // REQUIRES: not called before. Append()/Flush() after it fail.
  Status Finish();

  // Whether the blocks sealed from now on are clustered (options.cluster_rows > 0; on
  // until told otherwise): the store's writer turns it off while it is behind, so that
  // clustering never costs a flow. A block whose runs are being written stays clustered.
  void SetClustering(bool on);

  // Rows appended so far (sealed or buffered).
  std::uint64_t row_count() const;

  // True after a failure that no retry can mend (see Errors above).
  bool failed() const;

  // Bytes written to the file so far.
  std::uint64_t file_size() const;

  const std::string& path() const;

  // The rows no longer keep options.unique_keys' promise: the footer will not claim it.
  void DropUniqueKeys();

 private:
  class Impl;
  explicit SegmentWriter(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::store
