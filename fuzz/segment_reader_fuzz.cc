// SPDX-License-Identifier: Apache-2.0
// Fuzzes SegmentReader on whole files: Open() (header, trailer, footer, block index) and,
// when it succeeds, reading every column of every block, whole, at every 16th row
// (ReadSelected()) and at the first few of those (its max_kept); then Recover() on the
// same bytes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_util.h"
#include "store/segment_reader.h"

namespace {

// Keeps every 16th row: the other columns are then decoded at the kept rows only.
class EverySixteenth final : public sluice::store::RowSelector {
 public:
  std::size_t Select(const sluice::flow::FlowBatch& batch, std::size_t start,
                     std::uint32_t* rows) override {
    std::size_t count = 0;
    for (std::size_t row = 0; row < batch.size(); ++row) {
      if ((start + row) % 16 == 0) {
        rows[count++] = static_cast<std::uint32_t>(row);
      }
    }
    return count;
  }
};

void ReadEverything(sluice::store::SegmentReader& reader) {
  sluice::fuzz::DiscardSink sink;
  (void)reader.ReadAll(sluice::store::AllFields(), sink);
  EverySixteenth selector;
  const sluice::flow::FieldId select[] = {sluice::flow::FieldId::kFirst};
  for (std::size_t block_idx = 0; block_idx < reader.blocks().size(); ++block_idx) {
    (void)reader.ReadSelected(block_idx, select, selector, sluice::store::AllFields(), sink);
    // And at most a few of those rows, as `sluice query -c N` reads them.
    (void)reader.ReadSelected(block_idx, select, selector, sluice::store::AllFields(), sink,
                              nullptr, block_idx % 4);
  }
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
