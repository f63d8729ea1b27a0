// SPDX-License-Identifier: Apache-2.0
// Fuzzes the NetFlow v9 decoder with single datagrams (the version is forced to 9).

#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::fuzz::DecodeTwiceAsVersion(9, data, size);
  return 0;
}
