// SPDX-License-Identifier: Apache-2.0

#include "common/crc32.h"

#include <array>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace sluice {
namespace {

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

// kTables[0] is the classic byte-at-a-time table; kTables[k][b] is the CRC of byte b
// followed by k zero bytes, which lets the loop below fold 8 bytes per step
// ("slicing-by-8"). The result is bit-for-bit the same CRC.
constexpr Tables MakeTables() {
  Tables tables{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t value = byte;
    for (int bit = 0; bit < 8; ++bit) {
      value = (value & 1) != 0 ? 0xEDB88320U ^ (value >> 1) : value >> 1;
    }
    tables[0][byte] = value;
  }
  for (std::size_t slice = 1; slice < tables.size(); ++slice) {
    for (std::uint32_t byte = 0; byte < 256; ++byte) {
      const std::uint32_t prev = tables[slice - 1][byte];
      tables[slice][byte] = tables[0][prev & 0xFF] ^ (prev >> 8);
    }
  }
  return tables;
}

constexpr Tables kTables = MakeTables();

// Continues the register `crc` (already inverted: the raw state) over n bytes.
std::uint32_t SliceBy8(const std::uint8_t* p, std::size_t n, std::uint32_t crc) {
  while (n >= 8) {
    const std::uint32_t lo = crc ^ (std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) |
                                    (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24));
    crc = kTables[7][lo & 0xFF] ^ kTables[6][(lo >> 8) & 0xFF] ^ kTables[5][(lo >> 16) & 0xFF] ^
          kTables[4][lo >> 24] ^ kTables[3][p[4]] ^ kTables[2][p[5]] ^ kTables[1][p[6]] ^
          kTables[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) {
    crc = kTables[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  }
  return crc;
}

#if defined(__x86_64__)

// Folding with carry-less multiplication (the method of Gopal et al., "Fast CRC
// Computation for Generic Polynomials Using PCLMULQDQ Instruction", Intel, 2009). In the
// bit-reflected domain a 128-bit register R followed by D bits of data is replaced, with
// the same remainder modulo P, by R.low * (x^(D+32) mod P) xor R.high * (x^(D-32) mod P),
// each constant reflected and shifted left by one (the carry-less product of reflected
// operands lands one bit low). The last 128-bit register is then reduced by the tables.
constexpr std::uint32_t kPolynomial = 0x04C11DB7U;  // P without its x^32 term

// x^degree mod P, reflected and shifted as the folding needs it.
constexpr std::uint64_t FoldConstant(unsigned degree) {
  std::uint32_t rem = 1;
  for (unsigned step = 0; step < degree; ++step) {
    const bool carry = (rem & 0x80000000U) != 0;
    rem <<= 1;
    if (carry) {
      rem ^= kPolynomial;
    }
  }
  std::uint32_t reflected = 0;
  for (unsigned bit = 0; bit < 32; ++bit) {
    if (((rem >> bit) & 1U) != 0) {
      reflected |= 1U << (31 - bit);
    }
  }
  return std::uint64_t{reflected} << 1;
}

constexpr std::uint64_t kFold512Low = FoldConstant(4 * 128 + 32);
constexpr std::uint64_t kFold512High = FoldConstant(4 * 128 - 32);
constexpr std::uint64_t kFold128Low = FoldConstant(128 + 32);
constexpr std::uint64_t kFold128High = FoldConstant(128 - 32);
static_assert(kFold512Low == 0x154442bd4ULL && kFold128High == 0x0ccaa009eULL);

__attribute__((target("pclmul,sse2"))) inline __m128i Fold(__m128i reg, __m128i constants,
                                                           __m128i data) {
  const __m128i low = _mm_clmulepi64_si128(reg, constants, 0x00);
  const __m128i high = _mm_clmulepi64_si128(reg, constants, 0x11);
  return _mm_xor_si128(_mm_xor_si128(low, high), data);
}

__attribute__((target("pclmul,sse2"))) inline __m128i Load(const std::uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// REQUIRES: n >= 64.
__attribute__((target("pclmul,sse2"))) std::uint32_t Fold64(const std::uint8_t* p, std::size_t n,
                                                             std::uint32_t crc) {
  __m128i x0 = _mm_xor_si128(Load(p), _mm_cvtsi32_si128(static_cast<int>(crc)));
  __m128i x1 = Load(p + 16);
  __m128i x2 = Load(p + 32);
  __m128i x3 = Load(p + 48);
  p += 64;
  n -= 64;
  const __m128i by512 = _mm_set_epi64x(static_cast<long long>(kFold512High),
                                       static_cast<long long>(kFold512Low));
  while (n >= 64) {
    x0 = Fold(x0, by512, Load(p));
    x1 = Fold(x1, by512, Load(p + 16));
    x2 = Fold(x2, by512, Load(p + 32));
    x3 = Fold(x3, by512, Load(p + 48));
    p += 64;
    n -= 64;
  }
  const __m128i by128 = _mm_set_epi64x(static_cast<long long>(kFold128High),
                                       static_cast<long long>(kFold128Low));
  __m128i x = Fold(x0, by128, x1);
  x = Fold(x, by128, x2);
  x = Fold(x, by128, x3);
  while (n >= 16) {
    x = Fold(x, by128, Load(p));
    p += 16;
    n -= 16;
  }
  // x has the remainder of everything so far: its 16 bytes, from a zero register.
  std::uint8_t last[16];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(last), x);
  return SliceBy8(p, n, SliceBy8(last, sizeof last, 0));
}

bool HasPclmul() {
  static const bool has = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse2");
  return has;
}

#endif

}  // namespace

std::uint32_t Crc32(std::span<const std::uint8_t> bytes, std::uint32_t crc) {
#if defined(__x86_64__)
  if (bytes.size() >= 64 && HasPclmul()) {
    return ~Fold64(bytes.data(), bytes.size(), ~crc);
  }
#endif
  return ~SliceBy8(bytes.data(), bytes.size(), ~crc);
}

}  // namespace sluice
