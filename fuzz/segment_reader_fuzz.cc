// SPDX-License-Identifier: Apache-2.0
// Fuzzes SegmentReader on whole files: Open() (header, trailer, footer, block index) and,
// when it succeeds, reading every column of every block; then Recover() on the same bytes.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_util.h"
#include "store/segment_reader.h"

namespace {

void ReadEverything(sluice::store::SegmentReader& reader) {
  sluice::fuzz::DiscardSink sink;
  (void)reader.ReadAll(sluice::store::AllFields(), sink);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An in-memory file that the reader can open by path.
  const int fd = memfd_create("segment", MFD_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  std::size_t written = 0;
  while (written < size) {
    const ssize_t result = write(fd, data + written, size - written);
    if (result <= 0) {
      close(fd);
      return 0;
    }
    written += static_cast<std::size_t>(result);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  // Any input may fail; none may crash, leak, read out of bounds or trip UBSan.
  if (auto reader = sluice::store::SegmentReader::Open(path)) {
    ReadEverything(**reader);
  }
  if (auto reader = sluice::store::SegmentReader::Recover(path)) {
    ReadEverything(**reader);
  }
  close(fd);
  return 0;
}
