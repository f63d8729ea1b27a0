// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the fuzz targets.

#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "decode/decoder.h"
#include "flow/flow_sink.h"

namespace sluice::fuzz {

// Drops every batch: the targets only look for crashes, leaks and undefined behaviour.
class DiscardSink final : public flow::FlowSink {
 public:
  void Consume(flow::FlowBatch& /*batch*/) override {}
};

// The fuzz input as an in-memory file (memfd) that code opening files by path can read
// at path(); closed when destroyed. ok() is false if it could not be made.
class MemoryFile {
 public:
  MemoryFile(const char* name, const std::uint8_t* data, std::size_t size)
      : fd_(memfd_create(name, MFD_CLOEXEC)) {
    std::size_t written = 0;
    while (fd_ >= 0 && written < size) {
      const ssize_t result = write(fd_, data + written, size - written);
      if (result <= 0) {
        close(fd_);
        fd_ = -1;
        break;
      }
      written += static_cast<std::size_t>(result);
    }
  }

  ~MemoryFile() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }

  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  bool ok() const { return fd_ >= 0; }

  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

// Feeds `data` with its version field forced to `version` (so every input reaches that
// decoder) twice to one decoder: the second pass meets the templates the first learnt.
inline void DecodeTwiceAsVersion(std::uint8_t version, const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> bytes(data, data + size);
  if (bytes.size() >= 2) {
    bytes[0] = 0;
    bytes[1] = version;
  }
  decode::Decoder decoder(decode::DecoderOptions{});
  DiscardSink sink;
  flow::BatchWriter writer(sink);
  flow::Datagram datagram;
  datagram.exporter = flow::IpAddress::FromV4(0xC0000201);
  datagram.time_received = 1'700'000'000'000;
  datagram.payload = bytes;
  (void)decoder.Decode(datagram, writer);
  (void)decoder.Decode(datagram, writer);
  writer.Flush();
}

}  // namespace sluice::fuzz
