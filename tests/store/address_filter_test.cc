// SPDX-License-Identifier: Apache-2.0
// store/address_filter.h: every address added to a block is found in it (no false
// negatives), few others are (false positives near the design's 1 %), blocks without keys
// answer "maybe", and a damaged file (truncated anywhere, any byte flipped) is an error at
// Open() or Verify(), never a crash or a wrong "no" from a file that passed both.

#include "store/address_filter.h"

#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "flow/ip_address.h"
#include "store/file_system.h"
#include "testing/process.h"

namespace sluice::store {
namespace {

std::uint64_t V4Key(std::uint32_t address) { return AddressFilterKey(flow::IpAddress::FromV4(address)); }

void WriteBytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Three blocks: 0x0a000000 + [0, 2000), a block with no keys, 0x0b000000 + [0, 50).
AddressFilterBuilder ThreeBlocks() {
  AddressFilterBuilder builder;
  for (std::uint32_t i = 0; i < 2000; ++i) {
    builder.Add(V4Key(0x0a000000U + i));
  }
  builder.FinishBlock(4096);
  builder.FinishBlock(10);
  for (std::uint32_t i = 0; i < 50; ++i) {
    builder.Add(V4Key(0x0b000000U + i));
    builder.Add(V4Key(0x0b000000U + i));  // a repeat changes nothing
  }
  builder.FinishBlock(100);
  return builder;
}

TEST(AddressFilterTest, FindsEveryAddedAddressAndFewOthers) {
  test::TempDir dir;
  const std::string path = dir.File("filter.flt");
  PosixFileSystem file_system;
  ASSERT_TRUE(ThreeBlocks().WriteTo(path, file_system));

  auto reader = AddressFilterReader::Open(path);
  ASSERT_TRUE(reader) << reader.error().Message();
  ASSERT_EQ((*reader)->block_count(), 3u);
  EXPECT_EQ((*reader)->block_rows(0), 4096u);
  EXPECT_EQ((*reader)->block_rows(1), 10u);
  EXPECT_EQ((*reader)->block_rows(2), 100u);
  EXPECT_EQ((*reader)->total_rows(), 4206u);
  EXPECT_TRUE((*reader)->Verify());

  for (std::uint32_t i = 0; i < 2000; ++i) {
    ASSERT_TRUE((*reader)->MayContain(0, V4Key(0x0a000000U + i)).value()) << i;
  }
  for (std::uint32_t i = 0; i < 50; ++i) {
    ASSERT_TRUE((*reader)->MayContain(2, V4Key(0x0b000000U + i)).value()) << i;
  }
  // A block without keys has no filter: anything may be in it.
  EXPECT_TRUE((*reader)->MayContain(1, V4Key(0x01020304U)).value());

  std::size_t false_positives = 0;
  constexpr std::uint32_t kProbes = 100'000;
  for (std::uint32_t i = 0; i < kProbes; ++i) {
    false_positives += (*reader)->MayContain(0, V4Key(0xc0000000U + i)).value() ? 1 : 0;
  }
  EXPECT_LT(false_positives, kProbes * 3 / 100) << "more than 3 % false positives";
  // IPv6 addresses and IPv4-mapped ones are different keys.
  std::uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
  EXPECT_NE(AddressFilterKey(flow::IpAddress::FromV6(v6)), V4Key(0x20010db8U));
}

TEST(AddressFilterTest, RandomBlocksHaveNoFalseNegatives) {
  std::mt19937_64 random(20261205);
  AddressFilterBuilder builder;
  std::vector<std::vector<std::uint64_t>> blocks(40);
  for (auto& keys : blocks) {
    const std::size_t count = random() % 3000;
    for (std::size_t i = 0; i < count; ++i) {
      std::uint8_t bytes[16];
      for (auto& byte : bytes) {
        byte = static_cast<std::uint8_t>(random());
      }
      keys.push_back(AddressFilterKey(flow::IpAddress::FromV6(bytes)));
    }
    builder.Add(keys);
    builder.FinishBlock(static_cast<std::uint32_t>(count));
  }
  test::TempDir dir;
  const std::string path = dir.File("random.flt");
  WriteBytes(path, builder.Serialize());
  auto reader = AddressFilterReader::Open(path);
  ASSERT_TRUE(reader) << reader.error().Message();
  ASSERT_EQ((*reader)->block_count(), blocks.size());
  for (std::size_t block_idx = 0; block_idx < blocks.size(); ++block_idx) {
    for (const std::uint64_t key : blocks[block_idx]) {
      ASSERT_TRUE((*reader)->MayContain(block_idx, key).value()) << block_idx;
    }
  }
}

TEST(AddressFilterTest, AnEmptyFileOfNoBlocksReadsBack) {
  test::TempDir dir;
  const std::string path = dir.File("none.flt");
  WriteBytes(path, AddressFilterBuilder().Serialize());
  auto reader = AddressFilterReader::Open(path);
  ASSERT_TRUE(reader) << reader.error().Message();
  EXPECT_EQ((*reader)->block_count(), 0u);
  EXPECT_TRUE((*reader)->Verify());
}

TEST(AddressFilterTest, MissingFileIsNotFound) {
  test::TempDir dir;
  auto reader = AddressFilterReader::Open(dir.File("absent.flt"));
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().Code(), ErrorCode::kNotFound);
}

TEST(AddressFilterTest, EveryTruncationIsAnError) {
  const std::vector<std::uint8_t> good = ThreeBlocks().Serialize();
  test::TempDir dir;
  const std::string path = dir.File("cut.flt");
  for (std::size_t size = 0; size < good.size(); ++size) {
    WriteBytes(path, std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size)));
    auto reader = AddressFilterReader::Open(path);
    if (reader) {
      EXPECT_FALSE((*reader)->Verify()) << "a file cut to " << size << " bytes passed";
    } else {
      EXPECT_EQ(reader.error().Code(), ErrorCode::kCorruption) << size;
      EXPECT_NE(reader.error().Message().find(path), std::string::npos);
    }
  }
}

TEST(AddressFilterTest, EveryFlippedByteIsCaught) {
  const std::vector<std::uint8_t> good = ThreeBlocks().Serialize();
  test::TempDir dir;
  const std::string path = dir.File("flip.flt");
  for (std::size_t at = 0; at < good.size(); ++at) {
    std::vector<std::uint8_t> bad = good;
    bad[at] ^= 0x5a;
    WriteBytes(path, bad);
    auto reader = AddressFilterReader::Open(path);
    if (!reader) {
      EXPECT_EQ(reader.error().Code(), ErrorCode::kCorruption) << at;
      continue;
    }
    EXPECT_FALSE((*reader)->Verify()) << "a byte flipped at " << at << " passed";
    // Probing a damaged-but-opened file stays in bounds (ASan would say otherwise).
    for (std::size_t block_idx = 0; block_idx < (*reader)->block_count(); ++block_idx) {
      (void)(*reader)->MayContain(block_idx, V4Key(0x0a000001U));
    }
  }
}

}  // namespace
}  // namespace sluice::store
