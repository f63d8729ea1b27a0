// SPDX-License-Identifier: Apache-2.0
// CRC-32 (IEEE 802.3 polynomial, as zlib computes it) for checksums of our own files.

#pragma once

#include <cstdint>
#include <span>

namespace sluice {

// Continues a CRC over `bytes`; start with crc = 0.
std::uint32_t Crc32(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0);

}  // namespace sluice
