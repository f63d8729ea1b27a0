// SPDX-License-Identifier: Apache-2.0
// Damaged segments: a corrupt byte anywhere, a truncation at any length, a missing footer
// (recovery), and the format-v1 fixture that every later version must still read.

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/crc32.h"
#include "segment_test_util.h"
#include "store/format.h"

namespace sluice::store {
namespace {

using flow::FieldId;
using flow::FlowBatch;
using test::ExpectedRows;
using test::ExpectSameRows;
using test::FillEveryField;
using test::ReadBytes;
using test::TempDir;
using test::WriteBytes;
using test::WriteSegment;

// Opens `path` and reads every column of every block; returns the first error.
Status OpenAndReadAll(const std::string& path) {
  auto reader = SegmentReader::Open(path);
  if (!reader) {
    return tl::unexpected(reader.error());
  }
  test::CollectingSink sink;
  return (*reader)->ReadAll(AllFields(), sink);
}

// An in-memory file reachable by path (/proc/self/fd/N): thousands of damaged variants
// are written without touching the disk.
class MemFile {
 public:
  MemFile() : fd_(memfd_create("segment", MFD_CLOEXEC)), path_("/proc/self/fd/" + std::to_string(fd_)) {}
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  const std::string& path() const { return path_; }

  void Set(const std::uint8_t* data, std::size_t size) {
    ASSERT_GE(fd_, 0);
    ASSERT_EQ(::ftruncate(fd_, 0), 0);
    ASSERT_EQ(::pwrite(fd_, data, size, 0), static_cast<ssize_t>(size));
  }

 private:
  int fd_;
  std::string path_;
};

SegmentWriterOptions SmallBlocks(Compression compression) {
  SegmentWriterOptions options;
  options.compression = compression;
  options.rows_per_block = 7;
  options.sync = false;
  return options;
}

class SegmentDamageTest : public ::testing::TestWithParam<Compression> {};

TEST_P(SegmentDamageTest, CorruptByteAtEveryPositionIsAnErrorNamingThePath) {
  TempDir dir;
  const std::string good = dir.File("good.seg");
  WriteSegment(good, 9, FillEveryField, SmallBlocks(GetParam()));
  const std::vector<std::uint8_t> bytes = ReadBytes(good);
  ASSERT_GT(bytes.size(), 100u);
  ASSERT_TRUE(OpenAndReadAll(good));
  MemFile file;
  const std::string& bad = file.path();
  for (std::size_t pos = 0; pos < bytes.size(); ++pos) {
    for (const std::uint8_t flip : {0x01, 0x80}) {
      std::vector<std::uint8_t> damaged = bytes;
      damaged[pos] ^= flip;
      file.Set(damaged.data(), damaged.size());
      const Status status = OpenAndReadAll(bad);
      ASSERT_FALSE(status) << "byte " << pos << " ^ " << int{flip} << " went unnoticed";
      EXPECT_NE(status.error().Message().find(bad), std::string_view::npos) << status.error().Message();
      // Recovery may keep the blocks before the damage, but must not crash either.
      if (auto recovered = SegmentReader::Recover(bad)) {
        test::CollectingSink sink;
        (void)(*recovered)->ReadAll(AllFields(), sink);
      }
      // So may a query's reading of a growing segment, which meets damaged columns only
      // when it reads them: an error then, never a crash or bad rows.
      if (auto growing = SegmentReader::OpenGrowing(bad)) {
        test::CollectingSink sink;
        if (Status read = (*growing)->ReadAll(AllFields(), sink); !read) {
          EXPECT_EQ(read.error().Code(), ErrorCode::kCorruption);
        }
      }
    }
  }
}

TEST_P(SegmentDamageTest, TruncationAtEveryLengthIsAnErrorAndRecoveryKeepsWholeBlocks) {
  TempDir dir;
  const std::string good = dir.File("good.seg");
  constexpr std::uint64_t kRows = 9;
  WriteSegment(good, kRows, FillEveryField, SmallBlocks(GetParam()));
  const std::vector<std::uint8_t> bytes = ReadBytes(good);
  auto original = SegmentReader::Open(good);
  ASSERT_TRUE(original);
  const std::vector<BlockInfo>& blocks = (*original)->blocks();
  MemFile file;
  const std::string& cut = file.path();
  std::uint64_t last_checked_rows = ~std::uint64_t{0};
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    file.Set(bytes.data(), length);
    const Status status = OpenAndReadAll(cut);
    ASSERT_FALSE(status) << "truncated to " << length;
    EXPECT_EQ(status.error().Code(), ErrorCode::kCorruption) << status.error().Message();

    auto recovered = SegmentReader::Recover(cut);
    if (length < kFileHeaderSize) {
      EXPECT_FALSE(recovered) << length;
      continue;
    }
    ASSERT_TRUE(recovered) << recovered.error().Message();
    std::size_t whole_blocks = 0;
    std::uint64_t whole_rows = 0;
    while (whole_blocks < blocks.size() &&
           blocks[whole_blocks].offset + blocks[whole_blocks].length <= length) {
      whole_rows += blocks[whole_blocks].row_count;
      ++whole_blocks;
    }
    ASSERT_EQ((*recovered)->blocks().size(), whole_blocks) << "truncated to " << length;
    EXPECT_EQ((*recovered)->summary().row_count, whole_rows);
    EXPECT_TRUE((*recovered)->summary().recovered);
    // A writer's file cut anywhere: the growing view sees the same whole blocks.
    auto growing = SegmentReader::OpenGrowing(cut);
    ASSERT_TRUE(growing) << growing.error().Message();
    ASSERT_EQ((*growing)->blocks().size(), whole_blocks) << "truncated to " << length;
    EXPECT_EQ((*growing)->summary().row_count, whole_rows);
    if (whole_rows != last_checked_rows) {  // compare contents once per distinct outcome
      last_checked_rows = whole_rows;
      test::CollectingSink sink;
      ASSERT_TRUE((*recovered)->ReadAll(AllFields(), sink));
      ExpectSameRows(ExpectedRows(whole_rows, FillEveryField), sink);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Compressions, SegmentDamageTest,
                         ::testing::Values(Compression::kNone, Compression::kLz4, Compression::kZstd),
                         [](const auto& param_info) { return std::string(CompressionName(param_info.param)); });

TEST(SegmentRecoveryTest, RecoversEveryFlushedRowOfAWriterThatNeverFinished) {
  TempDir dir;
  const std::string path = dir.File("crashed.seg");
  {
    auto writer = SegmentWriter::Create(path, SmallBlocks(Compression::kZstd));
    ASSERT_TRUE(writer);
    FlowBatch batch;
    for (std::uint64_t n = 0; n < 10; ++n) {
      FillEveryField(batch, batch.AppendRow(), n);
      if (batch.full()) {
        ASSERT_TRUE((*writer)->Append(batch));
        batch.Clear();
      }
    }
    ASSERT_TRUE((*writer)->Append(batch));
    ASSERT_TRUE((*writer)->Flush());  // 7 rows sealed by size, 3 by the flush
    batch.Clear();
    FillEveryField(batch, batch.AppendRow(), 10);
    ASSERT_TRUE((*writer)->Append(batch));  // buffered, never sealed: lost in the "crash"
  }
  // A half-written block after the flushed ones.
  std::vector<std::uint8_t> bytes = ReadBytes(path);
  const std::size_t flushed_size = bytes.size();
  bytes.insert(bytes.end(), {0x53, 0x42, 0x4c, 0x4b, 0x05, 0x00});
  WriteBytes(path, bytes);

  const auto opened = SegmentReader::Open(path);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().Message().find("trailer"), std::string_view::npos) << opened.error().Message();

  auto reader = SegmentReader::Recover(path);
  ASSERT_TRUE(reader) << reader.error().Message();
  const SegmentSummary& summary = (*reader)->summary();
  EXPECT_TRUE(summary.recovered);
  EXPECT_EQ(summary.row_count, 10u);
  ASSERT_EQ((*reader)->blocks().size(), 2u);
  EXPECT_EQ((*reader)->blocks().back().offset + (*reader)->blocks().back().length, flushed_size);
  EXPECT_EQ(summary.time_received.min, 1'700'000'000'000);
  EXPECT_EQ(summary.time_received.max, 1'700'000'000'000 + 9 * 7);
  std::uint64_t exporter_rows = 0;
  for (const ExporterCount& count : summary.exporters) {
    exporter_rows += count.rows;
  }
  EXPECT_EQ(exporter_rows, 10u);
  test::CollectingSink sink;
  ASSERT_TRUE((*reader)->ReadAll(AllFields(), sink));
  ExpectSameRows(ExpectedRows(10, FillEveryField), sink);
}

TEST(SegmentRecoveryTest, RecoverOfAFinishedSegmentReturnsAllBlocks) {
  TempDir dir;
  const std::string path = dir.File("finished.seg");
  WriteSegment(path, 30, FillEveryField, SmallBlocks(Compression::kLz4));
  auto reader = SegmentReader::Recover(path);
  ASSERT_TRUE(reader);
  EXPECT_EQ((*reader)->summary().row_count, 30u);
  test::CollectingSink sink;
  ASSERT_TRUE((*reader)->ReadAll(AllFields(), sink));
  ExpectSameRows(ExpectedRows(30, FillEveryField), sink);
}

TEST(SegmentReaderTest, RejectsOtherFilesAndFutureVersions) {
  TempDir dir;
  const std::string path = dir.File("other.seg");
  WriteBytes(path, std::vector<std::uint8_t>(64, 0x42));
  auto reader = SegmentReader::Open(path);
  ASSERT_FALSE(reader);
  EXPECT_NE(reader.error().Message().find("bad magic"), std::string_view::npos);

  // The next version, with a valid header checksum: unsupported, not corrupt.
  const std::string v2 = dir.File("next.seg");
  WriteSegment(v2, 3, FillEveryField, {});
  std::vector<std::uint8_t> bytes = ReadBytes(v2);
  bytes[8] = static_cast<std::uint8_t>(kFormatVersion + 1);
  const std::uint32_t crc = Crc32({bytes.data(), 12});
  for (int byte_idx = 0; byte_idx < 4; ++byte_idx) {
    bytes[12 + byte_idx] = static_cast<std::uint8_t>(crc >> (8 * byte_idx));
  }
  WriteBytes(v2, bytes);
  auto future = SegmentReader::Open(v2);
  ASSERT_FALSE(future);
  EXPECT_EQ(future.error().Code(), ErrorCode::kUnsupported);
}

// A footer flag this version does not know (bits above 0 of the version-4 flags varint),
// under a valid checksum, is corruption; so are the flags in a file of version 3, whose
// footer has none (the varint is then read as the block count).
TEST(SegmentReaderTest, RejectsUnknownFooterFlags) {
  TempDir dir;
  const std::string plain = dir.File("plain.seg");
  const std::string unique = dir.File("unique.seg");
  SegmentWriterOptions options = SmallBlocks(Compression::kZstd);
  WriteSegment(plain, 9, FillEveryField, options);
  options.unique_keys = true;
  WriteSegment(unique, 9, FillEveryField, options);
  const std::vector<std::uint8_t> plain_bytes = ReadBytes(plain);
  const std::vector<std::uint8_t> unique_bytes = ReadBytes(unique);
  ASSERT_EQ(plain_bytes.size(), unique_bytes.size());
  // The files differ in the flags byte and the footer checksum after it, nowhere else.
  std::vector<std::size_t> differ;
  for (std::size_t pos = 0; pos < plain_bytes.size(); ++pos) {
    if (plain_bytes[pos] != unique_bytes[pos]) {
      differ.push_back(pos);
    }
  }
  ASSERT_FALSE(differ.empty());
  const std::size_t flags_at = differ.front();
  const std::size_t crc_at = plain_bytes.size() - kTrailerSize + 12;
  ASSERT_LT(flags_at, plain_bytes.size() - kTrailerSize);
  for (const std::size_t pos : differ) {
    EXPECT_TRUE(pos == flags_at || (pos >= crc_at && pos < crc_at + 4)) << pos;
  }
  EXPECT_EQ(plain_bytes[flags_at], 0);
  EXPECT_EQ(unique_bytes[flags_at], 1);

  // Rewrites `flags_at` and fixes the footer checksum (and the header's, for the version).
  auto patched = [&](std::uint8_t flags, std::uint8_t version) {
    std::vector<std::uint8_t> bytes = plain_bytes;
    bytes[flags_at] = flags;
    bytes[8] = version;
    const auto put_crc = [&](std::size_t at, std::uint32_t crc) {
      for (int byte_idx = 0; byte_idx < 4; ++byte_idx) {
        bytes[at + static_cast<std::size_t>(byte_idx)] =
            static_cast<std::uint8_t>(crc >> (8 * byte_idx));
      }
    };
    put_crc(12, Crc32({bytes.data(), 12}));
    std::uint64_t footer_offset = 0;
    for (int byte_idx = 0; byte_idx < 8; ++byte_idx) {
      footer_offset |=
          std::uint64_t{bytes[bytes.size() - kTrailerSize + static_cast<std::size_t>(byte_idx)]}
          << (8 * byte_idx);
    }
    // The footer's own version varint (one byte, after the magic).
    bytes[footer_offset + 4] = version;
    put_crc(crc_at,
            Crc32({bytes.data() + footer_offset, bytes.size() - kTrailerSize - footer_offset}));
    const std::string path = dir.File("patched.seg");
    WriteBytes(path, bytes);
    return SegmentReader::Open(path);
  };
  auto reader = patched(1, static_cast<std::uint8_t>(kFormatVersion));
  ASSERT_TRUE(reader) << reader.error().Message();
  EXPECT_TRUE((*reader)->summary().unique_keys);
  for (const std::uint8_t flags : {2, 3, 0x40}) {
    auto bad = patched(flags, static_cast<std::uint8_t>(kFormatVersion));
    ASSERT_FALSE(bad) << int{flags};
    EXPECT_EQ(bad.error().Code(), ErrorCode::kCorruption);
    EXPECT_NE(bad.error().Message().find("footer flags"), std::string_view::npos)
        << bad.error().Message();
  }
  // The same bytes as a version 3 file, whose footer has no flags: its block count reads
  // as 0, and the block index is left over.
  auto old_version = patched(0, 3);
  ASSERT_FALSE(old_version);
  EXPECT_EQ(old_version.error().Code(), ErrorCode::kCorruption);
}

// The fixture: written once by format version 1 (see DISABLED_WriteFixtures below) and
// kept as tests/data/store/v1_small.segment (not *.seg, which .gitignore reserves for data
// directories). Its rows are FixtureRow(0..kFixtureRows-1). Never change FixtureRow or
// the file: later versions must keep reading what v1 wrote.
constexpr std::uint64_t kFixtureRows = 40;

void FixtureRow(FlowBatch& batch, std::size_t row, std::uint64_t n) {
  auto& c = batch.cols();
  c.time_received[row] = 1'763'900'000'000 + static_cast<std::int64_t>(n * 10);
  c.first[row] = c.time_received[row] - 5000 - static_cast<std::int64_t>(n % 4);
  c.last[row] = c.time_received[row] - 100;
  c.exporter[row] = flow::IpAddress::FromV4(0xc0000201);
  c.src_addr[row] = n % 4 == 0 ? test::V6(0x20010db800000000ULL, n)
                               : flow::IpAddress::FromV4(0x0a000000u + static_cast<std::uint32_t>(n));
  c.dst_addr[row] = flow::IpAddress::FromV4(0xc6336401u + static_cast<std::uint32_t>(n % 3));
  c.src_port[row] = static_cast<std::uint16_t>(40000 + n);
  c.dst_port[row] = n % 2 == 0 ? 443 : 53;
  c.proto[row] = n % 2 == 0 ? 6 : 17;
  c.bytes[row] = n == 7 ? UINT64_MAX : 1000 + n * 13;
  c.packets[row] = 1 + n % 5;
  c.in_if[row] = 3;
  c.app[row] = batch.AddString(n % 2 == 0 ? "https" : "dns");
}

std::string FixturePath() {
  return std::string(SLUICE_SOURCE_DIR) + "/tests/data/store/v1_small.segment";
}

TEST(SegmentFixtureTest, ReadsTheFormatV1Fixture) {
  auto reader = SegmentReader::Open(FixturePath());
  ASSERT_TRUE(reader) << reader.error().Message();
  EXPECT_EQ((*reader)->summary().version, 1u);
  EXPECT_FALSE((*reader)->summary().unique_keys);
  EXPECT_EQ((*reader)->summary().row_count, kFixtureRows);
  EXPECT_EQ((*reader)->blocks().size(), 3u);
  test::CollectingSink sink;
  ASSERT_TRUE((*reader)->ReadAll(AllFields(), sink));
  // The fixture predates the `flows` field: each of its rows reads as one flow.
  ExpectSameRows(ExpectedRows(kFixtureRows,
                              [](FlowBatch& batch, std::size_t row, std::uint64_t n) {
                                FixtureRow(batch, row, n);
                                batch.cols().flows[row] = 1;
                              }),
                 sink);
}

std::string FixturePath(std::uint32_t version) {
  return std::string(SLUICE_SOURCE_DIR) + "/tests/data/store/v" + std::to_string(version) +
         "_small.segment";
}

TEST(SegmentFixtureTest, ReadsTheFormatV2Fixture) {
  auto reader = SegmentReader::Open(FixturePath(2));
  ASSERT_TRUE(reader) << reader.error().Message();
  EXPECT_EQ((*reader)->summary().version, 2u);
  EXPECT_FALSE((*reader)->summary().unique_keys);
  EXPECT_EQ((*reader)->summary().row_count, kFixtureRows);
  EXPECT_EQ((*reader)->blocks().size(), 3u);
  test::CollectingSink sink;
  ASSERT_TRUE((*reader)->ReadAll(AllFields(), sink));
  ExpectSameRows(ExpectedRows(kFixtureRows, FixtureRow), sink);
}

// Writes the fixture and the fuzz seeds of the current format version, named after it
// (v1_small.segment and the unprefixed seeds are version 1's and stay as they are). Run
// by hand when the format version changes, then add a test that reads the new fixture:
//   sluice_store_tests --gtest_also_run_disabled_tests --gtest_filter='*WriteFixtures*'
TEST(SegmentFixtureTest, DISABLED_WriteFixtures) {
  const std::string root = SLUICE_SOURCE_DIR;
  const std::string version = "v" + std::to_string(kFormatVersion) + "_";
  SegmentWriterOptions options;
  options.rows_per_block = 16;
  options.sync = false;
  WriteSegment(FixturePath(kFormatVersion), kFixtureRows, FixtureRow, options);
  const std::string corpus = root + "/fuzz/corpus/segment_reader/" + version;
  for (const Compression compression : {Compression::kNone, Compression::kLz4, Compression::kZstd}) {
    options.compression = compression;
    options.rows_per_block = 5;
    WriteSegment(corpus + "every_field_" + std::string(CompressionName(compression)), 12,
                 FillEveryField, options);
  }
  options.compression = Compression::kZstd;
  WriteSegment(corpus + "no_footer", 12, FixtureRow, options, /*finish=*/false);
}

}  // namespace
}  // namespace sluice::store
