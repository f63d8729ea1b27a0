// SPDX-License-Identifier: Apache-2.0
// FileSystem: the file operations the store's writers use, behind an interface so that
// tests can inject faults (short writes, ENOSPC, fsync failures). Called per block or per
// file, never per record. Readers use plain files (they only read).

#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace sluice::store {

// A file open for appending. Errors name the path and carry ErrorCode::kIoError, or
// kNoSpace when the device (or a quota) is full.
class WritableFile {
 public:
  virtual ~WritableFile() = default;

  // Appends all of `bytes` at the end, or fails; after a failure the file's length is
  // whatever the device took (the caller truncates back).
  virtual Status Append(std::span<const std::uint8_t> bytes) = 0;

  // Cuts the file to `length` bytes; later appends continue there.
  virtual Status Truncate(std::uint64_t length) = 0;

  // fdatasync(): the data appended so far survives a power loss.
  virtual Status Sync() = 0;

  // Closes the file (idempotent). The destructor closes it too, ignoring errors.
  virtual Status Close() = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates `path` (truncating any file there) for appending.
  virtual Result<std::unique_ptr<WritableFile>> Create(const std::string& path) = 0;

  // Creates `dir` and its missing parents.
  virtual Status CreateDirectories(const std::string& dir) = 0;

  // rename(2): atomically replaces `to`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;

  // fsync() of a directory, so that a rename or a new file in it is durable.
  virtual Status SyncDirectory(const std::string& dir) = 0;

  // Removes a file (not an error if it is already gone).
  virtual Status Remove(const std::string& path) = 0;

  // Bytes available to this process on the file system holding `path`.
  virtual Result<std::uint64_t> AvailableBytes(const std::string& path) = 0;
};

// The real file system (POSIX calls). Stateless; cheap to construct.
class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override;
  Status CreateDirectories(const std::string& dir) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDirectory(const std::string& dir) override;
  Status Remove(const std::string& path) override;
  Result<std::uint64_t> AvailableBytes(const std::string& path) override;
};

// ErrorCode::kNoSpace for ENOSPC/EDQUOT, kIoError otherwise; the message is
// "<path>: <what>: <strerror>".
Error ErrnoError(int error_number, const std::string& path, const char* what);

}  // namespace sluice::store
