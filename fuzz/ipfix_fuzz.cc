// SPDX-License-Identifier: Apache-2.0
// Fuzzes the IPFIX decoder with single datagrams (the version is forced to 10).

#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::fuzz::DecodeTwiceAsVersion(10, data, size);
  return 0;
}
