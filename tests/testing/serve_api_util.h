// SPDX-License-Identifier: Apache-2.0
// Helpers for tests that talk to the HTTP API of a real `sluice serve`.

#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sluice::test {

// The first address `sluice serve --ready-file PATH` wrote to PATH, waiting up to
// `timeout` for it; "" if none came.
std::string WaitForReadyAddress(const std::string& ready_file, std::chrono::seconds timeout);

// A loopback TCP port nothing listens on right now.
std::uint16_t FreeTcpPort();

// The first API token ("sluice_" + 8 hex + "_" + 64 hex) in `text`, or "".
std::string FindToken(const std::string& text);

// One NetFlow v5 packet, stamped now, with one TCP record
// 192.0.2.10:40000 -> 198.51.100.20:443 of 7 packets and 3000 bytes.
std::string OneRecordV5Packet();

}  // namespace sluice::test
