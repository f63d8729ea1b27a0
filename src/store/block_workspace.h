// SPDX-License-Identifier: Apache-2.0
// BlockWorkspace: the memory a SegmentWriter fills and encodes its blocks in: one buffer
// of values per column, the string arenas, the encoder's scratch, the compressor's
// context and the block's output buffers. BlockWorkspacePool keeps workspaces from one
// segment to the next.
//
// Why a pool: a workspace grows to the size of a block (tens of MB at full rate) the
// first time it is filled, by doubling, and every fresh page is a page fault. A writer
// that started each segment with fresh buffers paid those faults and copies again at
// every rotation, at the moment it must also keep up with the traffic; with a pool they
// are paid for the service's first blocks only.
//
// Ownership: the pool owns the idle workspaces; Take() hands one over, Give() takes it
// back (its contents cleared, its capacity kept). Thread-safety: Take() and Give() may be
// called from any thread; a workspace is used by one thread at a time.

#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "flow/field.h"
#include "store/coding.h"
#include "store/column_codec.h"

struct ZSTD_CCtx_s;

namespace sluice::store {

struct ZstdCctxDeleter {
  void operator()(ZSTD_CCtx_s* ctx) const;
};

struct BlockWorkspace {
  // The block being filled: values laid out as in FlowColumns, one buffer per field, and
  // an arena per string field.
  std::array<Buffer, flow::kFieldCount> columns;
  std::array<std::string, flow::kFieldCount> arenas;
  ColumnEncoder encoder;
  std::unique_ptr<ZSTD_CCtx_s, ZstdCctxDeleter> zstd;  // made by the first zstd writer
  // Scratch of each block: a column's encoding, its compressed form, the directory's
  // entries, the directory, the chunks, the block header.
  Buffer raw;
  Buffer compressed;
  Buffer entries;
  Buffer directory;
  Buffer data;
  Buffer block;

  // Empties every buffer, keeping its capacity.
  void Clear();
};

class BlockWorkspacePool {
 public:
  // Keeps at most `max_idle` idle workspaces; the others are freed when given back.
  explicit BlockWorkspacePool(std::size_t max_idle) : max_idle_(max_idle) {}

  BlockWorkspacePool(const BlockWorkspacePool&) = delete;
  BlockWorkspacePool& operator=(const BlockWorkspacePool&) = delete;

  // An idle workspace (the one given back last), or a new one.
  std::unique_ptr<BlockWorkspace> Take();

  void Give(std::unique_ptr<BlockWorkspace> workspace);

  std::size_t idle() const;

 private:
  const std::size_t max_idle_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<BlockWorkspace>> idle_;  // guarded by mu_
};

}  // namespace sluice::store
