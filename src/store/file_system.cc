// SPDX-License-Identifier: Apache-2.0

#include "store/file_system.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace sluice::store {
namespace {

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  ~PosixWritableFile() override {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }

  Status Append(std::span<const std::uint8_t> bytes) override {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return tl::unexpected(ErrnoError(errno, path_, "write"));
      }
      if (n == 0) {
        return tl::unexpected(ErrnoError(ENOSPC, path_, "write"));
      }
      done += static_cast<std::size_t>(n);
    }
    end_ += bytes.size();
    WriteBehind();
    return OkStatus();
  }

  Status Truncate(std::uint64_t length) override {
    if (::ftruncate(fd_, static_cast<off_t>(length)) != 0) {
      return tl::unexpected(ErrnoError(errno, path_, "ftruncate"));
    }
    if (::lseek(fd_, static_cast<off_t>(length), SEEK_SET) < 0) {
      return tl::unexpected(ErrnoError(errno, path_, "lseek"));
    }
    end_ = length;
    started_ = std::min(started_, length);
    released_ = std::min(released_, length);
    return OkStatus();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) {
      return tl::unexpected(ErrnoError(errno, path_, "fdatasync"));
    }
    return OkStatus();
  }

  Status Close() override {
    if (fd_ < 0) {
      return OkStatus();
    }
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) {
      return tl::unexpected(ErrnoError(errno, path_, "close"));
    }
    return OkStatus();
  }

 private:
  // Write-behind: once kWriteBehindBytes more are appended, starts their writeback
  // (sync_file_range without waiting) and drops from the page cache what the previous
  // step started, which has usually reached the disk by then (pages still dirty or under
  // writeback are skipped by the kernel, never waited for). A writer that streams
  // gigabytes then reuses the same few megabytes of page cache instead of filling the
  // machine's memory with data nobody reads soon; on a virtual machine whose free pages go
  // back to the host, a page it never touched costs a host fault at first use, which made
  // write() a seventh of the store writer's time. Best effort: errors are ignored (Sync()
  // reports real write errors).
  void WriteBehind() {
    if (end_ - started_ < kWriteBehindBytes) {
      return;
    }
    const std::uint64_t start = started_ & ~kPageMask;
    (void)::sync_file_range(fd_, static_cast<off_t>(start), static_cast<off_t>(end_ - start),
                            SYNC_FILE_RANGE_WRITE);
    const std::uint64_t drop_end = start;
    if (drop_end > released_) {
      (void)::posix_fadvise(fd_, static_cast<off_t>(released_),
                            static_cast<off_t>(drop_end - released_), POSIX_FADV_DONTNEED);
      released_ = drop_end;
    }
    started_ = end_;
  }

  static constexpr std::uint64_t kWriteBehindBytes = std::uint64_t{4} << 20;
  static constexpr std::uint64_t kPageMask = 4095;

  std::string path_;
  int fd_;
  std::uint64_t end_ = 0;       // bytes in the file
  std::uint64_t started_ = 0;   // writeback started for the bytes before
  std::uint64_t released_ = 0;  // dropped from the page cache before
};

}  // namespace

Error ErrnoError(int error_number, const std::string& path, const char* what) {
  const ErrorCode code =
      (error_number == ENOSPC || error_number == EDQUOT) ? ErrorCode::kNoSpace : ErrorCode::kIoError;
  return Error(code, path + ": " + what + ": " + std::strerror(error_number));
}

Result<std::unique_ptr<WritableFile>> PosixFileSystem::Create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return tl::unexpected(ErrnoError(errno, path, "open"));
  }
  return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
}

Status PosixFileSystem::CreateDirectories(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return tl::unexpected(ErrnoError(ec.value(), dir, "mkdir"));
  }
  return OkStatus();
}

Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return tl::unexpected(ErrnoError(errno, from, "rename"));
  }
  return OkStatus();
}

Status PosixFileSystem::SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return tl::unexpected(ErrnoError(errno, dir, "open"));
  }
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) {
    return tl::unexpected(ErrnoError(saved, dir, "fsync"));
  }
  return OkStatus();
}

Status PosixFileSystem::Remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return tl::unexpected(ErrnoError(errno, path, "unlink"));
  }
  return OkStatus();
}

Result<std::uint64_t> PosixFileSystem::AvailableBytes(const std::string& path) {
  struct statvfs info {};
  if (::statvfs(path.c_str(), &info) != 0) {
    return tl::unexpected(ErrnoError(errno, path, "statvfs"));
  }
  return static_cast<std::uint64_t>(info.f_bavail) * info.f_frsize;
}

}  // namespace sluice::store
