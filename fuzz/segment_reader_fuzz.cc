// SPDX-License-Identifier: Apache-2.0
// Fuzzes SegmentReader on whole files: Open() (header, trailer, footer, block index) and,
// when it succeeds, reading every column of every block; then Recover() on the same bytes.

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
  const sluice::fuzz::MemoryFile file("segment", data, size);
  if (!file.ok()) {
    return 0;
  }
  const std::string path = file.path();
  // Any input may fail; none may crash, leak, read out of bounds or trip UBSan.
  if (auto reader = sluice::store::SegmentReader::Open(path)) {
    ReadEverything(**reader);
  }
  if (auto reader = sluice::store::SegmentReader::Recover(path)) {
    ReadEverything(**reader);
  }
  return 0;
}
