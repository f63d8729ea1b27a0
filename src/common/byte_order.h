// SPDX-License-Identifier: Apache-2.0
// Unaligned big-endian loads for wire formats. The caller checks bounds first.

#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sluice {

inline std::uint16_t LoadBe16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap16(v);
}

inline std::uint32_t LoadBe32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap32(v);
}

inline std::uint64_t LoadBe64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap64(v);
}

// Reads an unsigned big-endian integer of 1 to 8 bytes (reduced-size encoding,
// RFC 7011 section 6.2). REQUIRES: 1 <= length <= 8.
inline std::uint64_t LoadBeN(const std::uint8_t* p, std::size_t length) {
  switch (length) {
    case 1:
      return p[0];
    case 2:
      return LoadBe16(p);
    case 4:
      return LoadBe32(p);
    case 8:
      return LoadBe64(p);
    default: {
      std::uint64_t v = 0;
      for (std::size_t byte_idx = 0; byte_idx < length; ++byte_idx) {
        v = (v << 8) | p[byte_idx];
      }
      return v;
    }
  }
}

inline void StoreBe16(std::uint8_t* p, std::uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, sizeof v);
}

inline void StoreBe32(std::uint8_t* p, std::uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof v);
}

inline void StoreBe64(std::uint8_t* p, std::uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof v);
}

}  // namespace sluice
