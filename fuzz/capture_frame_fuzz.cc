// SPDX-License-Identifier: Apache-2.0
// Fuzzes the link-layer/IP/UDP frame parser of the capture reader. The first byte picks
// the link type.

#include <array>
#include <cstddef>
#include <cstdint>

#include "net/capture_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static constexpr std::array<int, 7> kLinkTypes{0, 1, 101, 108, 113, 276, 229};
  if (size < 1) {
    return 0;
  }
  const int link_type = kLinkTypes[data[0] % kLinkTypes.size()];
  sluice::flow::Datagram datagram;
  std::uint16_t dst_port = 0;
  sluice::net::CaptureStats stats;
  if (sluice::net::ParseFrame(link_type, data + 1, size - 1, datagram, dst_port, stats)) {
    // Touch every payload byte so a bad span is caught by ASan.
    volatile std::uint8_t sum = 0;
    for (const std::uint8_t byte : datagram.payload) {
      sum = static_cast<std::uint8_t>(sum + byte);
    }
  }
  return 0;
}
