// SPDX-License-Identifier: Apache-2.0

#include "common/crc32.h"

#include <cstdint>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace sluice {
namespace {

std::uint32_t BytewiseCrc32(const std::vector<std::uint8_t>& bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const std::uint8_t byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
  }
  return ~crc;
}

TEST(Crc32Test, MatchesTheStandardCheckValue) {
  constexpr std::string_view kCheck = "123456789";
  EXPECT_EQ(Crc32({reinterpret_cast<const std::uint8_t*>(kCheck.data()), kCheck.size()}), 0xCBF43926u);
  EXPECT_EQ(Crc32({}), 0u);
}

TEST(Crc32Test, MatchesBitwiseReferenceAtEveryLengthAndSplit) {
  std::vector<std::uint8_t> bytes;
  for (std::size_t length = 0; length < 100; ++length) {
    const std::uint32_t want = BytewiseCrc32(bytes);
    EXPECT_EQ(Crc32(bytes), want) << length;
    for (std::size_t split = 0; split <= length; split += 7) {
      const std::span<const std::uint8_t> all(bytes);
      EXPECT_EQ(Crc32(all.subspan(split), Crc32(all.first(split))), want) << length << " " << split;
    }
    bytes.push_back(static_cast<std::uint8_t>(length * 37 + 11));
  }
}

// Lengths past 64 bytes take the carry-less multiplication path where the CPU has it.
TEST(Crc32Test, MatchesBitwiseReferenceOnLongInputs) {
  std::vector<std::uint8_t> bytes;
  std::uint32_t state = 12345;
  for (std::size_t length = 0; length < 1500; ++length) {
    if (length % 13 == 0 || (length >= 60 && length <= 260)) {
      const std::uint32_t want = BytewiseCrc32(bytes);
      EXPECT_EQ(Crc32(bytes), want) << length;
      const std::span<const std::uint8_t> all(bytes);
      for (const std::size_t split : {std::size_t{1}, length / 3, length / 2, length - length / 5}) {
        if (split <= length) {
          EXPECT_EQ(Crc32(all.subspan(split), Crc32(all.first(split))), want) << length << " " << split;
        }
      }
    }
    state = state * 1103515245u + 12345u;
    bytes.push_back(static_cast<std::uint8_t>(state >> 16));
  }
}

}  // namespace
}  // namespace sluice
