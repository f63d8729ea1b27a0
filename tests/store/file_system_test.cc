// SPDX-License-Identifier: Apache-2.0

#include "store/file_system.h"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/process.h"

namespace sluice::store {
namespace {

std::vector<std::uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Pseudo-random bytes, different for each seed.
std::vector<std::uint8_t> Chunk(std::size_t bytes, std::uint32_t seed) {
  std::vector<std::uint8_t> chunk(bytes);
  std::uint32_t state = seed * 2654435761u + 1;
  for (std::uint8_t& byte : chunk) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<std::uint8_t>(state >> 24);
  }
  return chunk;
}

// The write-behind (writeback started and the page cache dropped every few MiB) must not
// change a byte: appends of odd sizes across many steps, a truncation back into a range
// already dropped from the cache, and appends after it.
TEST(PosixFileSystemTest, StreamedAppendsAndATruncationReadBackExactly) {
  test::TempDir dir;
  const std::string path = dir.File("stream.seg");
  PosixFileSystem file_system;
  auto file = file_system.Create(path);
  ASSERT_TRUE(file.has_value());

  std::vector<std::uint8_t> expected;
  for (std::uint32_t chunk_idx = 0; chunk_idx < 40; ++chunk_idx) {
    const std::vector<std::uint8_t> chunk = Chunk(300'001 + chunk_idx * 7919, chunk_idx);
    ASSERT_TRUE((*file)->Append(chunk).has_value());
    expected.insert(expected.end(), chunk.begin(), chunk.end());
  }
  ASSERT_GT(expected.size(), std::size_t{12} << 20);  // several write-behind steps

  const std::size_t cut = (std::size_t{3} << 20) + 12'345;  // inside a dropped range
  ASSERT_TRUE((*file)->Truncate(cut).has_value());
  expected.resize(cut);
  for (std::uint32_t chunk_idx = 40; chunk_idx < 70; ++chunk_idx) {
    const std::vector<std::uint8_t> chunk = Chunk(250'003, chunk_idx);
    ASSERT_TRUE((*file)->Append(chunk).has_value());
    expected.insert(expected.end(), chunk.begin(), chunk.end());
  }
  ASSERT_TRUE((*file)->Sync().has_value());
  ASSERT_TRUE((*file)->Close().has_value());

  const std::vector<std::uint8_t> actual = ReadBytes(path);
  ASSERT_EQ(actual.size(), expected.size());
  EXPECT_TRUE(actual == expected);
}

}  // namespace
}  // namespace sluice::store
