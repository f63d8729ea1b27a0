// SPDX-License-Identifier: Apache-2.0
// Test helpers: bytes from readable hex, datagrams from bytes, files from the repo.

#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flow/datagram.h"

namespace sluice::test {

// "0005 0001 ab" -> {0x00, 0x05, 0x00, 0x01, 0xab}. Whitespace and '#' comments to the
// end of a line are ignored. Aborts the test binary on a stray character.
std::vector<std::uint8_t> Hex(std::string_view text);

// A datagram from 192.0.2.1:40000 received at `time_received`.
flow::Datagram MakeDatagram(std::span<const std::uint8_t> bytes,
                            std::int64_t time_received = 1'700'000'000'000);

// Reads a whole file; empty if it cannot be read.
std::vector<std::uint8_t> ReadFile(const std::string& path);

// Path of a file under the shared test data (../shared/testdata from the repo root).
std::string SharedTestData(std::string_view relative);

}  // namespace sluice::test
