// SPDX-License-Identifier: Apache-2.0
// FaultyFileSystem: the real file system with faults a test switches on and off: a full
// disk (ENOSPC), short writes (part of the bytes land, then ENOSPC), failing fsyncs and
// renames. Safe to switch from the test thread while writer threads use it.

#pragma once

#include <cerrno>
#include <atomic>
#include <memory>
#include <span>
#include <string>

#include "store/file_system.h"

namespace sluice::test {

class FaultyFileSystem final : public store::FileSystem {
 public:
  std::atomic<bool> disk_full{false};    // Append/Create/CreateDirectories fail: ENOSPC
  std::atomic<bool> short_writes{false};  // Append writes half, then fails: ENOSPC
  std::atomic<bool> fail_sync{false};     // Sync and SyncDirectory fail: EIO
  std::atomic<bool> fail_rename{false};   // Rename fails: EIO
  std::atomic<int> append_failures{0};    // failed appends so far
  // When >= 0: so many more appends succeed, then the disk is full (disk_full is set).
  std::atomic<int> appends_before_full{-1};

  Result<std::unique_ptr<store::WritableFile>> Create(const std::string& path) override {
    if (disk_full) {
      return tl::unexpected(store::ErrnoError(ENOSPC, path, "open"));
    }
    Result<std::unique_ptr<store::WritableFile>> file = real_.Create(path);
    if (!file) {
      return file;
    }
    return std::unique_ptr<store::WritableFile>(new File(*this, path, std::move(*file)));
  }

  Status CreateDirectories(const std::string& dir) override {
    return real_.CreateDirectories(dir);
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (fail_rename) {
      return tl::unexpected(store::ErrnoError(EIO, from, "rename"));
    }
    return real_.Rename(from, to);
  }

  Status SyncDirectory(const std::string& dir) override {
    if (fail_sync) {
      return tl::unexpected(store::ErrnoError(EIO, dir, "fsync"));
    }
    return real_.SyncDirectory(dir);
  }

  Status Remove(const std::string& path) override { return real_.Remove(path); }

  Result<std::uint64_t> AvailableBytes(const std::string& path) override {
    if (disk_full) {
      return 0;
    }
    return real_.AvailableBytes(path);
  }

 private:
  class File final : public store::WritableFile {
   public:
    File(FaultyFileSystem& owner, std::string path, std::unique_ptr<store::WritableFile> real)
        : owner_(&owner), path_(std::move(path)), real_(std::move(real)) {}

    Status Append(std::span<const std::uint8_t> bytes) override {
      if (owner_->appends_before_full >= 0 && owner_->appends_before_full-- == 0) {
        owner_->disk_full = true;
      }
      if (owner_->disk_full) {
        ++owner_->append_failures;
        return tl::unexpected(store::ErrnoError(ENOSPC, path_, "write"));
      }
      if (owner_->short_writes && bytes.size() > 1) {
        ++owner_->append_failures;
        (void)real_->Append(bytes.first(bytes.size() / 2));
        return tl::unexpected(store::ErrnoError(ENOSPC, path_, "write"));
      }
      return real_->Append(bytes);
    }

    Status Truncate(std::uint64_t length) override { return real_->Truncate(length); }

    Status Sync() override {
      if (owner_->fail_sync) {
        return tl::unexpected(store::ErrnoError(EIO, path_, "fdatasync"));
      }
      return real_->Sync();
    }

    Status Close() override { return real_->Close(); }

   private:
    FaultyFileSystem* owner_;
    std::string path_;
    std::unique_ptr<store::WritableFile> real_;
  };

  store::PosixFileSystem real_;
};

}  // namespace sluice::test
