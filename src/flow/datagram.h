// SPDX-License-Identifier: Apache-2.0
// Datagram: one export packet as received (from a socket or a capture file).

#pragma once

#include <cstdint>
#include <span>

#include "common/clock.h"
#include "flow/ip_address.h"

namespace sluice::flow {

// A view of one UDP payload and where it came from. Does not own the bytes.
struct Datagram {
  IpAddress exporter;               // the UDP source address
  std::uint16_t exporter_port = 0;  // the UDP source port
  UnixMillis time_received = 0;     // when the collector received it
  std::span<const std::uint8_t> payload;
};

}  // namespace sluice::flow
