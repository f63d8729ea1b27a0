// SPDX-License-Identifier: Apache-2.0
// Fuzzes AddressFilterReader on whole files: Open() (header, table, bounds), a probe of
// every block with a key taken from the input, and Verify().

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz_util.h"
#include "store/address_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sluice::fuzz::MemoryFile file("address-filter", data, size);
  if (!file.ok()) {
    return 0;
  }
  // Any input may fail; none may crash, leak, read out of bounds or trip UBSan.
  auto reader = sluice::store::AddressFilterReader::Open(file.path());
  if (!reader) {
    return 0;
  }
  std::uint64_t key = 0;
  std::memcpy(&key, data + size - std::min<std::size_t>(size, 8), std::min<std::size_t>(size, 8));
  const std::size_t probed = std::min<std::size_t>((*reader)->block_count(), 4096);
  for (std::size_t block_idx = 0; block_idx < probed; ++block_idx) {
    (void)(*reader)->MayContain(block_idx, key);
    (void)(*reader)->block_rows(block_idx);
  }
  (void)(*reader)->Verify();
  return 0;
}
