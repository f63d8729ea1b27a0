// SPDX-License-Identifier: Apache-2.0

#include "store/block_workspace.h"

#include <utility>

#include <zstd.h>

namespace sluice::store {

void ZstdCctxDeleter::operator()(ZSTD_CCtx_s* ctx) const { ZSTD_freeCCtx(ctx); }

void BlockWorkspace::Clear() {
  for (Buffer& column : columns) {
    column.clear();
  }
  for (std::string& arena : arenas) {
    arena.clear();
  }
  for (Buffer* buffer : {&raw, &compressed, &entries, &directory, &data, &block}) {
    buffer->clear();
  }
}

std::unique_ptr<BlockWorkspace> BlockWorkspacePool::Take() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<BlockWorkspace> workspace = std::move(idle_.back());
      idle_.pop_back();
      return workspace;
    }
  }
  return std::make_unique<BlockWorkspace>();
}

void BlockWorkspacePool::Give(std::unique_ptr<BlockWorkspace> workspace) {
  if (workspace == nullptr) {
    return;
  }
  workspace->Clear();
  std::unique_lock lock(mu_);
  if (idle_.size() < max_idle_) {
    idle_.push_back(std::move(workspace));
  }
  lock.unlock();
  // A workspace not kept is freed here, outside the lock.
}

std::size_t BlockWorkspacePool::idle() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

}  // namespace sluice::store
