// SPDX-License-Identifier: Apache-2.0

#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice {

Status WriteFileAtomically(const std::string& path, std::span<const std::uint8_t> bytes) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return MakeError(ErrorCode::kIoError, temp + ": " + std::strerror(errno));
  }
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t result = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (result < 0) {
      if (errno == EINTR) {
        continue;
      }
      const std::string message = temp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(temp.c_str());
      return MakeError(ErrorCode::kIoError, message);
    }
    written += static_cast<std::size_t>(result);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string message = temp + ": " + std::strerror(errno);
    ::unlink(temp.c_str());
    return MakeError(ErrorCode::kIoError, message);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string message = path + ": " + std::strerror(errno);
    ::unlink(temp.c_str());
    return MakeError(ErrorCode::kIoError, message);
  }
  return OkStatus();
}

}  // namespace sluice
