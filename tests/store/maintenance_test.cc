// SPDX-License-Identifier: Apache-2.0
// Maintainer: hourly roll-ups (sums, timing, once only, bounded memory, damaged input,
// failing file systems) and retention (age, size, open files, empty directories, stale
// temporaries), on real files in a temporary data directory with an injected `now`.

#include "store/maintenance.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "segment_test_util.h"
#include "store/address_filter.h"
#include "store/catalog.h"
#include "store/layout.h"
#include "store/rollup.h"

namespace sluice::store {
namespace {

namespace fs = std::filesystem;
using flow::FieldId;
using flow::FlowBatch;
using test::CollectingSink;
using test::TempDir;

// 2026-11-23 10:00:00 UTC.
constexpr UnixMillis kHour = 1'795'428'000'000;
constexpr UnixMillis kSlot = 5 * kMillisPerMinute;

// The first moment the roll-up of the hour starting at `hour` may be written (rotation 5).
constexpr UnixMillis RollupDue(UnixMillis hour) {
  return hour + kMillisPerHour + kSlot + kMillisPerMinute;
}

std::uint64_t Mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Deterministic traffic for the slot starting at `slot_start`: a few hundred distinct keys
// (20 clients x 5 servers x 3 services x 2 exporters, a few ephemeral ports), so that a
// roll-up collapses rows.
void TrafficRow(FlowBatch& batch, std::size_t row, std::uint64_t n, UnixMillis slot_start,
                std::uint64_t seed) {
  const std::uint64_t x = Mix(n * 0x9E3779B97F4A7C15ULL ^ seed);
  auto& c = batch.cols();
  c.time_received[row] = slot_start + static_cast<UnixMillis>(x % kSlot);
  c.last[row] = c.time_received[row] - static_cast<UnixMillis>((x >> 8) % 30'000);
  c.first[row] = c.last[row] - static_cast<UnixMillis>((x >> 16) % 120'000);
  c.exporter[row] = flow::IpAddress::FromV4(0xc0000201u + static_cast<std::uint32_t>(x >> 24) % 2);
  c.sampling_rate[row] = 1;
  c.src_addr[row] =
      flow::IpAddress::FromV4(0x0a000000u + static_cast<std::uint32_t>((x >> 28) % 20));
  c.dst_addr[row] =
      flow::IpAddress::FromV4(0xc6336400u + static_cast<std::uint32_t>((x >> 36) % 5));
  static constexpr std::uint16_t kPorts[] = {443, 53, 80};
  const std::size_t service = (x >> 40) % 3;
  c.dst_port[row] = kPorts[service];
  c.src_port[row] = static_cast<std::uint16_t>(50000 + (x >> 44) % 4);
  c.proto[row] = service == 1 ? 17 : 6;
  c.in_if[row] = 1;
  c.out_if[row] = 2;
  c.packets[row] = 1 + (x >> 48) % 100;
  c.bytes[row] = c.packets[row] * (40 + (x >> 52) % 1400);
  c.flows[row] = 1;
  c.tcp_flags[row] = 0x1b;
  c.src_country[row] = static_cast<std::uint16_t>('D' << 8 | 'E');
}

SegmentWriterOptions TestWriterOptions(std::uint32_t rows_per_block = 16384) {
  SegmentWriterOptions options;
  options.sync = false;
  options.rows_per_block = rows_per_block;
  return options;
}

// Writes a detail segment of `rows` traffic rows at `path` (creating its directory).
void WriteDetailAt(const std::string& path, UnixMillis slot_start, std::uint64_t rows,
                   std::uint32_t rows_per_block = 16384) {
  fs::create_directories(fs::path(path).parent_path());
  test::WriteSegment(
      path, rows,
      [slot_start](FlowBatch& batch, std::size_t row, std::uint64_t n) {
        TrafficRow(batch, row, n, slot_start, static_cast<std::uint64_t>(slot_start));
      },
      TestWriterOptions(rows_per_block));
}

CollectingSink ReadRows(const std::string& path) {
  CollectingSink sink;
  auto reader = SegmentReader::Open(path);
  EXPECT_TRUE(reader) << reader.error().Message();
  if (reader) {
    const Status read = (*reader)->ReadAll(AllFields(), sink);
    EXPECT_TRUE(read) << read.error().Message();
  }
  return sink;
}

struct Sums {
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  std::uint64_t packets = 0;
  std::uint64_t flows = 0;
  std::int64_t first = 0;
  std::int64_t last = 0;

  friend bool operator==(const Sums&, const Sums&) = default;
};

std::string KeyOf(const CollectingSink::Ref& ref) {
  std::string key;
  for (const FieldId field : kRollupKeyFields) {
    VisitColumn(static_cast<std::size_t>(field), [&](auto member) {
      const auto& value = (ref.cols().*member)[ref.row];
      key.append(reinterpret_cast<const char*>(&value), sizeof value);
    });
  }
  return key;
}

// Adds `rows` to per-key sums (`rows` counts the rows seen per key).
void AddSums(const CollectingSink& rows, std::map<std::string, Sums>& by_key) {
  for (std::size_t idx = 0; idx < rows.size(); ++idx) {
    const auto& c = rows[idx].cols();
    const std::size_t row = rows[idx].row;
    Sums& sums = by_key[KeyOf(rows[idx])];
    if (sums.rows == 0 || c.first[row] < sums.first) {
      sums.first = c.first[row];
    }
    sums.last = sums.rows == 0 ? c.last[row] : std::max(sums.last, c.last[row]);
    ++sums.rows;
    sums.bytes += c.bytes[row];
    sums.packets += c.packets[row];
    sums.flows += c.flows[row];
  }
}

// Expects equal sums per key (ignoring how many rows stood for each key).
void ExpectSameSums(std::map<std::string, Sums> expected, std::map<std::string, Sums> actual) {
  ASSERT_EQ(expected.size(), actual.size());
  Sums total_expected;
  Sums total_actual;
  for (auto& [key, sums] : expected) {
    ASSERT_TRUE(actual.contains(key));
    Sums& got = actual[key];
    EXPECT_EQ(sums.bytes, got.bytes);
    EXPECT_EQ(sums.packets, got.packets);
    EXPECT_EQ(sums.flows, got.flows);
    EXPECT_EQ(sums.first, got.first);
    EXPECT_EQ(sums.last, got.last);
    total_expected.bytes += sums.bytes;
    total_actual.bytes += got.bytes;
    total_expected.packets += sums.packets;
    total_actual.packets += got.packets;
    total_expected.flows += sums.flows;
    total_actual.flows += got.flows;
  }
  EXPECT_EQ(total_expected.bytes, total_actual.bytes);
  EXPECT_EQ(total_expected.packets, total_actual.packets);
  EXPECT_EQ(total_expected.flows, total_actual.flows);
}

std::string Messages(const MaintenanceReport& report) {
  std::string text;
  for (const std::string& message : report.messages) {
    text += message + "\n";
  }
  return text;
}

bool MessagesMention(const MaintenanceReport& report, const std::string& text) {
  return std::any_of(report.messages.begin(), report.messages.end(),
                     [&](const std::string& m) { return m.find(text) != std::string::npos; });
}

void SetModified(const std::string& path, UnixMillis at) {
  const auto system =
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(at));
  fs::last_write_time(path, std::chrono::file_clock::from_sys(system));
}

std::vector<std::string> StoreFiles(const std::string& data_dir) {
  std::vector<std::string> files;
  auto catalog = ScanCatalog(data_dir);
  EXPECT_TRUE(catalog);
  for (const CatalogEntry& entry : *catalog) {
    files.push_back(entry.relative_path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Fails chosen operations of the real file system.
class FaultyFileSystem final : public FileSystem {
 public:
  bool fail_rename = false;
  bool fail_sync_directory = false;
  std::string fail_remove_of;          // paths containing this cannot be removed
  std::optional<std::uint64_t> space;  // bytes all files may still take; then ENOSPC

  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override {
    auto file = real_.Create(path);
    if (!file) {
      return file;
    }
    return std::unique_ptr<WritableFile>(std::make_unique<File>(std::move(*file), this));
  }

  Status CreateDirectories(const std::string& dir) override { return real_.CreateDirectories(dir); }

  Status Rename(const std::string& from, const std::string& to) override {
    if (fail_rename) {
      return tl::unexpected(ErrnoError(EIO, from, "rename"));
    }
    return real_.Rename(from, to);
  }

  Status SyncDirectory(const std::string& dir) override {
    if (fail_sync_directory) {
      return tl::unexpected(ErrnoError(EIO, dir, "fsync"));
    }
    return real_.SyncDirectory(dir);
  }

  Status Remove(const std::string& path) override {
    if (!fail_remove_of.empty() && path.find(fail_remove_of) != std::string::npos) {
      return tl::unexpected(ErrnoError(EACCES, path, "unlink"));
    }
    return real_.Remove(path);
  }

  Result<std::uint64_t> AvailableBytes(const std::string& path) override {
    return real_.AvailableBytes(path);
  }

 private:
  class File final : public WritableFile {
   public:
    File(std::unique_ptr<WritableFile> real, FaultyFileSystem* owner)
        : real_(std::move(real)), owner_(owner) {}

    Status Append(std::span<const std::uint8_t> bytes) override {
      if (owner_->space) {
        if (bytes.size() > *owner_->space) {
          return tl::unexpected(ErrnoError(ENOSPC, "faulty", "write"));
        }
        *owner_->space -= bytes.size();
      }
      return real_->Append(bytes);
    }

    Status Truncate(std::uint64_t length) override { return real_->Truncate(length); }

    Status Sync() override { return real_->Sync(); }

    Status Close() override { return real_->Close(); }

   private:
    std::unique_ptr<WritableFile> real_;
    FaultyFileSystem* owner_;
  };

  PosixFileSystem real_;
};

class MaintenanceTest : public ::testing::Test {
 protected:
  MaintenanceTest() : data_dir_(dir_.File("data")) {
    options_.data_dir = data_dir_;
    options_.rotation_minutes = 5;
    options_.detail_retention_ms = 0;
    options_.rollup_retention_ms = 0;
    options_.segment.sync = false;
  }

  MaintenanceReport Run(UnixMillis now) {
    Maintainer maintainer(options_, file_system_);
    return maintainer.RunOnce(now);
  }

  std::string Detail(UnixMillis slot_start, std::uint32_t index = 0,
                     const std::string& source = "core") const {
    return DetailSegmentPath(data_dir_, source, slot_start, index);
  }

  std::string Rollup(UnixMillis hour_start, const std::string& source = "core") const {
    return RollupSegmentPath(data_dir_, source, hour_start);
  }

  // Writes detail segments for every slot of the hour; returns their paths.
  std::vector<std::string> WriteHour(UnixMillis hour_start, std::uint64_t rows_per_slot,
                                     const std::string& source = "core") {
    std::vector<std::string> paths;
    for (UnixMillis slot = hour_start; slot < hour_start + kMillisPerHour; slot += kSlot) {
      paths.push_back(Detail(slot, 0, source));
      WriteDetailAt(paths.back(), slot, rows_per_slot);
    }
    return paths;
  }

  std::map<std::string, Sums> SumsOf(const std::vector<std::string>& paths) {
    std::map<std::string, Sums> sums;
    for (const std::string& path : paths) {
      AddSums(ReadRows(path), sums);
    }
    return sums;
  }

  TempDir dir_;
  std::string data_dir_;
  MaintenanceOptions options_;
  FaultyFileSystem file_system_;
};

TEST_F(MaintenanceTest, RollupSumsEqualDetailSumsPerKeyAndOverall) {
  std::vector<std::string> hour_one = WriteHour(kHour, 2000);
  // A restart within a slot: a second segment of the 10:05 slot.
  hour_one.push_back(Detail(kHour + kSlot, 1));
  WriteDetailAt(hour_one.back(), kHour + kSlot, 777);
  const std::vector<std::string> hour_two = WriteHour(kHour + kMillisPerHour, 500);
  const std::vector<std::string> other_source = WriteHour(kHour, 300, "edge");

  const MaintenanceReport report = Run(RollupDue(kHour + kMillisPerHour));
  EXPECT_EQ(report.errors, 0u) << Messages(report);
  EXPECT_EQ(report.rollups_written, 3u) << Messages(report);
  EXPECT_EQ(report.rollup_input_rows, 12u * 2000 + 777 + 12 * 500 + 12 * 300);

  std::uint64_t rollup_rows = 0;
  for (const auto& [paths, rollup] :
       {std::pair{hour_one, Rollup(kHour)}, std::pair{hour_two, Rollup(kHour + kMillisPerHour)},
        std::pair{other_source, Rollup(kHour, "edge")}}) {
    ASSERT_TRUE(fs::exists(rollup)) << rollup;
    const CollectingSink rows = ReadRows(rollup);
    rollup_rows += rows.size();
    const UnixMillis hour =
        ParseSegmentPath(fs::path(rollup).lexically_relative(data_dir_).string())->start;
    std::map<std::string, Sums> rolled;
    AddSums(rows, rolled);
    EXPECT_EQ(rolled.size(), rows.size()) << "a key appears twice without a group bound";
    for (std::size_t idx = 0; idx < rows.size(); ++idx) {
      EXPECT_EQ(rows[idx].cols().time_received[rows[idx].row], hour);
      EXPECT_EQ(rows[idx].cols().tcp_flags[rows[idx].row], 0);  // not part of a roll-up
    }
    ExpectSameSums(SumsOf(paths), rolled);
  }
  EXPECT_EQ(report.rollup_rows, rollup_rows);
  EXPECT_LT(report.rollup_rows, report.rollup_input_rows);
  std::printf("roll-up: %llu rows from %llu detail rows\n",
              static_cast<unsigned long long>(report.rollup_rows),
              static_cast<unsigned long long>(report.rollup_input_rows));
  EXPECT_TRUE(MessagesMention(report, Rollup(kHour))) << Messages(report);
  // No temporary file is left behind.
  for (const std::string& file : StoreFiles(data_dir_)) {
    EXPECT_EQ(file.find(".tmp"), std::string::npos) << file;
  }
}

TEST_F(MaintenanceTest, NotWrittenBeforeTheHourIsComplete) {
  WriteHour(kHour, 50);
  MaintenanceReport report = Run(RollupDue(kHour) - 1);
  EXPECT_EQ(report.rollups_written, 0u);
  EXPECT_FALSE(fs::exists(Rollup(kHour)));
  report = Run(RollupDue(kHour));
  EXPECT_EQ(report.rollups_written, 1u) << Messages(report);
  EXPECT_TRUE(fs::exists(Rollup(kHour)));
}

TEST_F(MaintenanceTest, NotWrittenWhileASegmentOfTheHourIsOpenOrBeingSealed) {
  WriteHour(kHour, 50);
  const std::string open = OpenPathFor(Detail(kHour + 11 * kSlot, 1));
  WriteDetailAt(open, kHour + 11 * kSlot, 10);
  const UnixMillis now = RollupDue(kHour) + 3 * kMillisPerHour;
  MaintenanceReport report = Run(now);
  EXPECT_EQ(report.rollups_written, 0u);
  EXPECT_TRUE(fs::exists(open));  // never deleted

  // Sealing: the writer's temporary file, modified a few minutes ago, still holds it back.
  const std::string sealed = Detail(kHour + 11 * kSlot, 1);
  const std::string temp = TempPathFor(sealed);
  fs::rename(open, temp);
  SetModified(temp, now - 10 * kMillisPerMinute);
  report = Run(now);
  EXPECT_EQ(report.rollups_written, 0u);
  EXPECT_TRUE(fs::exists(temp));

  fs::rename(temp, sealed);
  report = Run(now);
  EXPECT_EQ(report.rollups_written, 1u) << Messages(report);
  EXPECT_EQ(report.rollup_input_rows, 12u * 50 + 10);
}

TEST_F(MaintenanceTest, WrittenExactlyOnce) {
  WriteHour(kHour, 100);
  const UnixMillis now = RollupDue(kHour);
  MaintenanceReport report = Run(now);
  ASSERT_EQ(report.rollups_written, 1u);
  const auto written = fs::last_write_time(Rollup(kHour));
  const std::vector<std::uint8_t> bytes = test::ReadBytes(Rollup(kHour));
  for (int run = 0; run < 3; ++run) {
    report = Run(now + run * kMillisPerHour);
    EXPECT_EQ(report.rollups_written, 0u);
    EXPECT_EQ(report.errors, 0u) << Messages(report);
  }
  EXPECT_EQ(fs::last_write_time(Rollup(kHour)), written);
  EXPECT_EQ(test::ReadBytes(Rollup(kHour)), bytes);
}

TEST_F(MaintenanceTest, AStopRequestLeavesNoPartialRollupAndTheNextRunWritesIt) {
  WriteHour(kHour, 100);
  const UnixMillis now = RollupDue(kHour);
  std::atomic<bool> stop{true};
  options_.stop = &stop;
  MaintenanceReport report = Run(now);
  EXPECT_EQ(report.rollups_written, 0u);
  EXPECT_FALSE(fs::exists(Rollup(kHour)));
  EXPECT_FALSE(fs::exists(Rollup(kHour) + ".tmp"));
  stop = false;
  report = Run(now);
  EXPECT_EQ(report.rollups_written, 1u) << Messages(report);
  EXPECT_TRUE(fs::exists(Rollup(kHour)));
}

TEST_F(MaintenanceTest, BoundedGroupsGiveTheSameSums) {
  const std::vector<std::string> paths = WriteHour(kHour, 400);
  options_.rollup_max_groups = 7;
  const MaintenanceReport report = Run(RollupDue(kHour));
  ASSERT_EQ(report.rollups_written, 1u) << Messages(report);
  const CollectingSink rows = ReadRows(Rollup(kHour));
  std::map<std::string, Sums> rolled;
  AddSums(rows, rolled);
  const std::map<std::string, Sums> expected = SumsOf(paths);
  EXPECT_GT(rows.size(), expected.size()) << "some group should have been cut";
  EXPECT_EQ(report.rollup_rows, rows.size());
  ExpectSameSums(expected, rolled);

  // The unbounded roll-up of the same data has one row per key.
  fs::remove(Rollup(kHour));
  options_.rollup_max_groups = 1 << 22;
  ASSERT_EQ(Run(RollupDue(kHour)).rollups_written, 1u);
  EXPECT_EQ(ReadRows(Rollup(kHour)).size(), expected.size());
}

TEST_F(MaintenanceTest, DamagedDetailSegmentsAreSkippedAndReported) {
  std::vector<std::string> paths;
  for (int slot = 0; slot < 4; ++slot) {
    paths.push_back(Detail(kHour + slot * kSlot));
    WriteDetailAt(paths.back(), kHour + slot * kSlot, 300, /*rows_per_block=*/64);
  }
  // Segment 1: a flipped byte in the `bytes` chunk of its last block (Open() succeeds; the
  // roll-up has already added its first blocks when the damage shows, and starts over).
  {
    auto reader = SegmentReader::Open(paths[1]);
    ASSERT_TRUE(reader);
    const ColumnChunk* chunk = (*reader)->blocks().back().Find(FieldId::kBytes);
    ASSERT_NE(chunk, nullptr);
    std::vector<std::uint8_t> bytes = test::ReadBytes(paths[1]);
    bytes[chunk->offset] ^= 0x40;
    test::WriteBytes(paths[1], bytes);
  }
  // Segment 3: not a segment at all.
  test::WriteBytes(paths[3], std::vector<std::uint8_t>(100, 0x42));

  const MaintenanceReport report = Run(RollupDue(kHour));
  EXPECT_EQ(report.rollups_written, 1u) << Messages(report);
  EXPECT_EQ(report.errors, 2u) << Messages(report);
  EXPECT_TRUE(MessagesMention(report, paths[1])) << Messages(report);
  EXPECT_TRUE(MessagesMention(report, paths[3])) << Messages(report);
  EXPECT_EQ(report.rollup_input_rows, 600u);
  std::map<std::string, Sums> rolled;
  AddSums(ReadRows(Rollup(kHour)), rolled);
  ExpectSameSums(SumsOf({paths[0], paths[2]}), rolled);
  // Damage is reported once: the roll-up is not written again.
  EXPECT_EQ(Run(RollupDue(kHour)).errors, 0u);
}

// Every sealed detail segment gets a minute summary (newest first, a bounded number per
// run); an open one does not; the rows sum per exporter, protocol and minute of `first` to
// the detail rows.
TEST_F(MaintenanceTest, SummariesSumTheirDetailSegmentPerKey) {
  options_.summaries_per_run = 2;
  std::vector<std::string> sealed;
  for (int slot = 0; slot < 3; ++slot) {
    sealed.push_back(Detail(kHour + slot * kSlot));
    WriteDetailAt(sealed.back(), kHour + slot * kSlot, 3000, 700);
  }
  const std::string open = OpenPathFor(Detail(kHour + 3 * kSlot));
  WriteDetailAt(open, kHour + 3 * kSlot, 100);
  auto summary = [&](int slot) {
    return SummaryPath(data_dir_, "core", kMinuteSummary, kHour + slot * kSlot, 0);
  };

  MaintenanceReport report = Run(kHour + 20 * kMillisPerMinute);
  EXPECT_EQ(report.errors, 0u) << Messages(report);
  EXPECT_EQ(report.summaries_written, 2 * kSummaryDirs.size());
  EXPECT_FALSE(fs::exists(summary(0)));  // the oldest waits for the next run
  EXPECT_TRUE(fs::exists(summary(1)));
  EXPECT_TRUE(fs::exists(summary(2)));
  report = Run(kHour + 25 * kMillisPerMinute);
  EXPECT_EQ(report.summaries_written, kSummaryDirs.size()) << Messages(report);
  EXPECT_FALSE(fs::exists(SummaryPath(data_dir_, "core", kMinuteSummary, kHour + 3 * kSlot, 0)));
  EXPECT_EQ(Run(kHour + 30 * kMillisPerMinute).summaries_written, 0u);

  // (exporter, proto, minute of first) -> bytes, packets, flows, min first, max last.
  using Key = std::tuple<std::string, int, UnixMillis>;
  auto sums = [](const CollectingSink& rows, bool detail) {
    std::map<Key, Sums> by_key;
    for (std::size_t idx = 0; idx < rows.size(); ++idx) {
      const auto& c = rows[idx].cols();
      const std::size_t row = rows[idx].row;
      EXPECT_TRUE(detail || c.src_addr[row] == flow::IpAddress{});  // not in the key
      EXPECT_TRUE(detail || c.dst_port[row] == 0);
      Sums& sum = by_key[{c.exporter[row].ToString(), c.proto[row],
                          c.first[row] / kMillisPerMinute}];
      sum.first = sum.rows == 0 ? c.first[row] : std::min(sum.first, c.first[row]);
      sum.last = std::max(sum.last, c.last[row]);
      ++sum.rows;
      sum.bytes += c.bytes[row];
      sum.packets += c.packets[row];
      sum.flows += c.flows[row];
    }
    for (auto& [key, sum] : by_key) {
      sum.rows = 0;  // how many rows stood for a key is free
    }
    return by_key;
  };
  for (int slot = 0; slot < 3; ++slot) {
    const CollectingSink rows = ReadRows(summary(slot));
    EXPECT_LT(rows.size(), 3000u / 10);
    EXPECT_EQ(sums(rows, false), sums(ReadRows(sealed[slot]), true)) << slot;
    for (std::size_t idx = 0; idx < rows.size(); ++idx) {
      EXPECT_EQ(rows[idx].cols().time_received[rows[idx].row], kHour + slot * kSlot);
    }
  }

  // Retention: the minute summary goes with the roll-ups (rollup_retention_ms), the
  // others with the detail.
  options_.detail_retention_ms = kMillisPerHour;
  options_.rollup_retention_ms = 10 * kMillisPerDay;
  const std::string src0 = SummaryPath(data_dir_, "core", 1, kHour, 0);
  EXPECT_TRUE(fs::exists(src0));
  Run(kHour + 3 * kMillisPerHour);
  EXPECT_FALSE(fs::exists(sealed[0]));
  EXPECT_TRUE(fs::exists(summary(0)));  // the minute summary stays with the roll-ups
  EXPECT_FALSE(fs::exists(src0));       // the address summaries go with the detail
  Run(kHour + 11 * kMillisPerDay);
  EXPECT_FALSE(fs::exists(summary(0)));
}

// Every sealed detail segment gets an address filter (newest first, a bounded number per
// run) with one filter per block that holds every source and destination address of the
// block's rows; an open segment gets none; a filter whose segment is gone is deleted, and
// filters go with the detail's retention.
TEST_F(MaintenanceTest, AddressFiltersHoldEveryAddressOfTheirBlock) {
  options_.summaries_per_run = 2;
  std::vector<std::string> sealed;
  for (int slot = 0; slot < 3; ++slot) {
    sealed.push_back(Detail(kHour + slot * kSlot));
    WriteDetailAt(sealed.back(), kHour + slot * kSlot, 3000, 700);
  }
  WriteDetailAt(OpenPathFor(Detail(kHour + 3 * kSlot)), kHour + 3 * kSlot, 100);
  auto filter = [&](int slot) { return AddressFilterPath(data_dir_, "core", kHour + slot * kSlot, 0); };

  MaintenanceReport report = Run(kHour + 20 * kMillisPerMinute);
  EXPECT_EQ(report.errors, 0u) << Messages(report);
  EXPECT_EQ(report.address_filters_written, 2u);
  EXPECT_FALSE(fs::exists(filter(0)));  // the oldest waits for the next run
  EXPECT_TRUE(fs::exists(filter(1)));
  EXPECT_TRUE(fs::exists(filter(2)));
  EXPECT_EQ(Run(kHour + 25 * kMillisPerMinute).address_filters_written, 1u);
  EXPECT_FALSE(fs::exists(filter(3)));  // open: not yet
  EXPECT_EQ(Run(kHour + 30 * kMillisPerMinute).address_filters_written, 0u);

  for (int slot = 0; slot < 3; ++slot) {
    auto segment = SegmentReader::Open(sealed[slot]);
    ASSERT_TRUE(segment);
    auto reader = AddressFilterReader::Open(filter(slot));
    ASSERT_TRUE(reader) << reader.error().Message();
    EXPECT_TRUE((*reader)->Verify());
    ASSERT_EQ((*reader)->block_count(), (*segment)->blocks().size());
    ASSERT_EQ((*reader)->total_rows(), 3000u);
    const CollectingSink rows = ReadRows(sealed[slot]);
    std::size_t row_idx = 0;
    for (std::size_t block_idx = 0; block_idx < (*reader)->block_count(); ++block_idx) {
      ASSERT_EQ((*reader)->block_rows(block_idx), (*segment)->blocks()[block_idx].row_count);
      for (std::uint32_t n = 0; n < (*reader)->block_rows(block_idx); ++n, ++row_idx) {
        const auto& c = rows[row_idx].cols();
        const std::size_t row = rows[row_idx].row;
        ASSERT_TRUE((*reader)->MayContain(block_idx, AddressFilterKey(c.src_addr[row])).value());
        ASSERT_TRUE((*reader)->MayContain(block_idx, AddressFilterKey(c.dst_addr[row])).value());
      }
      // An address the traffic never holds is (almost always) known to be absent.
      std::size_t maybe = 0;
      for (std::uint32_t other = 0; other < 1000; ++other) {
        maybe += (*reader)->MayContain(block_idx, AddressFilterKey(flow::IpAddress::FromV4(0x08000000u + other)))
                         .value()
                     ? 1
                     : 0;
      }
      EXPECT_LT(maybe, 50u) << block_idx;
    }
    EXPECT_EQ(row_idx, rows.size());
  }

  // The filter of a segment that is gone goes too.
  fs::remove(sealed[2]);
  Run(kHour + 35 * kMillisPerMinute);
  EXPECT_FALSE(fs::exists(filter(2)));
  EXPECT_TRUE(fs::exists(filter(0)));
  // Retention: filters go with the detail.
  options_.detail_retention_ms = kMillisPerHour;
  Run(kHour + 3 * kMillisPerHour);
  EXPECT_FALSE(fs::exists(sealed[0]));
  EXPECT_FALSE(fs::exists(filter(0)));
  EXPECT_FALSE(fs::exists(filter(1)));
}

// A segment whose addresses cannot be read gets no filter (queries read all of it) and
// no error: the summaries' step already reports the damage.
TEST_F(MaintenanceTest, ADamagedSegmentGetsNoAddressFilter) {
  const std::string path = Detail(kHour);
  WriteDetailAt(path, kHour, 300, 64);
  test::WriteBytes(path, std::vector<std::uint8_t>(100, 0x42));
  const std::string good = Detail(kHour + kSlot);
  WriteDetailAt(good, kHour + kSlot, 300, 64);
  const MaintenanceReport report = Run(kHour + 20 * kMillisPerMinute);
  EXPECT_EQ(report.address_filters_written, 1u) << Messages(report);
  EXPECT_FALSE(fs::exists(AddressFilterPath(data_dir_, "core", kHour, 0)));
  EXPECT_TRUE(fs::exists(AddressFilterPath(data_dir_, "core", kHour + kSlot, 0)));
}

// Per key, what the rows of `paths` sum to; how many rows stood for a key is free.
std::map<std::string, Sums> KeySums(const std::vector<std::string>& paths) {
  std::map<std::string, Sums> sums;
  for (const std::string& path : paths) {
    AddSums(ReadRows(path), sums);
  }
  for (auto& [key, sum] : sums) {
    sum.rows = 0;
  }
  return sums;
}

TEST_F(MaintenanceTest, HourSummariesMergeTheSlotSummariesOnceTheHourIsComplete) {
  const std::vector<std::string> details = WriteHour(kHour, 400);
  auto hour_summary = [&](std::size_t kind) { return HourSummaryPath(data_dir_, "core", kind, kHour); };
  MaintenanceReport report = Run(RollupDue(kHour) - 1);
  EXPECT_EQ(report.summaries_written, details.size() * kSummaryDirs.size()) << Messages(report);
  EXPECT_EQ(report.hour_summaries_written, 0u);  // the hour is not settled yet
  for (std::size_t kind = 0; kind < kSummaryDirs.size(); ++kind) {
    EXPECT_FALSE(fs::exists(hour_summary(kind)));
  }
  report = Run(RollupDue(kHour));
  EXPECT_EQ(report.errors, 0u) << Messages(report);
  EXPECT_EQ(report.hour_summaries_written, kHourSummaries.size());
  EXPECT_EQ(report.rollups_written, 1u);
  const std::uint64_t detail_bytes = [&] {
    std::uint64_t bytes = 0;
    for (const auto& [key, sum] : SumsOf(details)) {
      bytes += sum.bytes;
    }
    return bytes;
  }();
  for (std::size_t kind = 0; kind < kSummaryDirs.size(); ++kind) {
    const bool merged =
        std::find(kHourSummaries.begin(), kHourSummaries.end(), kind) != kHourSummaries.end();
    ASSERT_EQ(fs::exists(hour_summary(kind)), merged) << kSummaryDirs[kind];
    if (!merged) {
      continue;
    }
    std::vector<std::string> slots;
    for (UnixMillis slot = kHour; slot < kHour + kMillisPerHour; slot += kSlot) {
      slots.push_back(SummaryPath(data_dir_, "core", kind, slot, 0));
    }
    const std::map<std::string, Sums> merged_sums = KeySums({hour_summary(kind)});
    EXPECT_EQ(merged_sums, KeySums(slots)) << kSummaryDirs[kind];
    std::uint64_t bytes = 0;
    for (const auto& [key, sum] : merged_sums) {
      bytes += sum.bytes;
    }
    EXPECT_EQ(bytes, detail_bytes);
    const CollectingSink rows = ReadRows(hour_summary(kind));
    EXPECT_EQ(rows.size(), merged_sums.size());  // one row per key: the slots' rows merge
    for (std::size_t idx = 0; idx < rows.size(); ++idx) {
      EXPECT_EQ(rows[idx].cols().time_received[rows[idx].row], kHour);
    }
  }
  // Written once.
  EXPECT_EQ(Run(RollupDue(kHour) + kMillisPerHour).hour_summaries_written, 0u);

  // Retention: with their summaries (the address and port ones go with the detail).
  options_.detail_retention_ms = kMillisPerHour;
  Run(kHour + 3 * kMillisPerHour);
  for (const std::size_t kind : kHourSummaries) {
    EXPECT_FALSE(fs::exists(hour_summary(kind))) << kSummaryDirs[kind];
  }
}

// More addresses than one aggregation may hold: the src and dst hour summaries are written
// range by range, still one row per key (the footer says so), a head by bytes first and
// the rest in address order.
TEST_F(MaintenanceTest, HourSummariesOfManyAddressesKeepOneRowPerKeyAndAnAddressOrderedTail) {
  options_.rollup_max_groups = 8;       // 2 head candidates, 6 groups per range
  options_.segment.rows_per_block = 4;  // a head of 2 blocks: 8 rows
  WriteHour(kHour, 400);
  const MaintenanceReport report = Run(RollupDue(kHour));
  EXPECT_EQ(report.errors, 0u) << Messages(report);
  ASSERT_EQ(report.hour_summaries_written, kHourSummaries.size()) << Messages(report);
  for (const std::size_t kind : {std::size_t{1}, std::size_t{2}}) {
    const std::string path = HourSummaryPath(data_dir_, "core", kind, kHour);
    std::vector<std::string> slots;
    for (UnixMillis slot = kHour; slot < kHour + kMillisPerHour; slot += kSlot) {
      slots.push_back(SummaryPath(data_dir_, "core", kind, slot, 0));
    }
    const std::map<std::string, Sums> merged = KeySums({path});
    EXPECT_EQ(merged, KeySums(slots)) << kSummaryDirs[kind];
    const CollectingSink rows = ReadRows(path);
    ASSERT_EQ(rows.size(), merged.size()) << kSummaryDirs[kind];
    ASSERT_GT(rows.size(), 8u) << "more keys than one aggregation may hold";
    auto reader = SegmentReader::Open(path);
    ASSERT_TRUE(reader);
    EXPECT_TRUE((*reader)->summary().unique_keys) << kSummaryDirs[kind];
    auto address = [&](std::size_t idx) {
      const flow::FlowColumns& c = rows[idx].cols();
      return (kind == 1 ? c.src_addr : c.dst_addr)[rows[idx].row].bytes;
    };
    // The head is at most 8 rows, bytes descending; every row from the 8th on is tail.
    for (std::size_t idx = 9; idx < rows.size(); ++idx) {
      EXPECT_LE(address(idx - 1), address(idx)) << kSummaryDirs[kind] << " row " << idx;
    }
    EXPECT_GE(rows[0].cols().bytes[rows[0].row], rows[1].cols().bytes[rows[1].row]);
  }
}

TEST_F(MaintenanceTest, HourSummariesWaitForEverySlotAndSkipADamagedOne) {
  options_.summaries_per_run = 6;  // half the hour's slots per run
  WriteHour(kHour, 200);
  const UnixMillis now = RollupDue(kHour);
  MaintenanceReport report = Run(now);
  EXPECT_EQ(report.hour_summaries_written, 0u) << Messages(report);  // six slots to go
  report = Run(now);
  EXPECT_EQ(report.hour_summaries_written, kHourSummaries.size()) << Messages(report);

  // The next hour, with a damaged src summary: no src hour summary (reported), the others.
  const UnixMillis next = kHour + kMillisPerHour;
  options_.summaries_per_run = 288;
  WriteHour(next, 200);
  Run(next + 50 * kMillisPerMinute);
  const std::string src = SummaryPath(data_dir_, "core", 1, next + 2 * kSlot, 0);
  std::vector<std::uint8_t> bytes = test::ReadBytes(src);
  ASSERT_GT(bytes.size(), 200u);
  for (std::size_t idx = 40; idx < bytes.size() - 100; idx += 7) {
    bytes[idx] ^= 0x5a;
  }
  test::WriteBytes(src, bytes);
  report = Run(RollupDue(next));
  EXPECT_GT(report.errors, 0u);
  EXPECT_NE(Messages(report).find(src), std::string::npos) << Messages(report);
  EXPECT_EQ(report.hour_summaries_written, kHourSummaries.size() - 1);
  EXPECT_FALSE(fs::exists(HourSummaryPath(data_dir_, "core", 1, next)));
  EXPECT_TRUE(fs::exists(HourSummaryPath(data_dir_, "core", 2, next)));
}

TEST_F(MaintenanceTest, FailedRenameLeavesNoFileAndIsRetried) {
  options_.summaries_per_run = 0;  // the hourly roll-up alone
  WriteHour(kHour, 100);
  file_system_.fail_rename = true;
  MaintenanceReport report = Run(RollupDue(kHour));
  EXPECT_EQ(report.rollups_written, 0u);
  EXPECT_EQ(report.errors, 1u) << Messages(report);
  EXPECT_TRUE(MessagesMention(report, "rename")) << Messages(report);
  EXPECT_FALSE(fs::exists(Rollup(kHour)));
  EXPECT_FALSE(fs::exists(TempPathFor(Rollup(kHour))));

  file_system_.fail_rename = false;
  report = Run(RollupDue(kHour));
  EXPECT_EQ(report.rollups_written, 1u) << Messages(report);
  EXPECT_EQ(report.errors, 0u);
  EXPECT_TRUE(fs::exists(Rollup(kHour)));
}

TEST_F(MaintenanceTest, FullDiskLeavesNoFileStopsTheRollupsAndIsRetried) {
  WriteHour(kHour, 100);
  WriteHour(kHour + kMillisPerHour, 100);
  file_system_.space = 100;  // the file header fits, no block does
  MaintenanceReport report = Run(RollupDue(kHour + kMillisPerHour));
  EXPECT_EQ(report.rollups_written, 0u);
  EXPECT_EQ(report.errors, 1u) << Messages(report);  // the second hour is not tried
  EXPECT_TRUE(MessagesMention(report, "disk is full")) << Messages(report);
  EXPECT_FALSE(fs::exists(Rollup(kHour)));
  EXPECT_FALSE(fs::exists(TempPathFor(Rollup(kHour))));

  file_system_.space.reset();
  report = Run(RollupDue(kHour + kMillisPerHour));
  EXPECT_EQ(report.rollups_written, 2u) << Messages(report);
}

TEST_F(MaintenanceTest, FailedDirectorySyncIsReportedButTheRollupStands) {
  options_.summaries_per_run = 0;  // the hourly roll-up alone
  WriteHour(kHour, 10);
  file_system_.fail_sync_directory = true;
  const MaintenanceReport report = Run(RollupDue(kHour));
  EXPECT_EQ(report.rollups_written, 1u);
  EXPECT_EQ(report.errors, 1u);
  EXPECT_TRUE(fs::exists(Rollup(kHour)));
}

TEST_F(MaintenanceTest, RetentionByAgeDeletesDetailAndRollupsSeparately) {
  options_.detail_retention_ms = 2 * kMillisPerDay;
  options_.rollup_retention_ms = 10 * kMillisPerDay;
  const UnixMillis now = kHour;
  // Detail: the slot ending exactly at now - retention goes, the next one stays.
  const UnixMillis detail_cutoff = now - options_.detail_retention_ms;
  const std::string expired = Detail(detail_cutoff - kSlot);
  const std::string kept = Detail(detail_cutoff);
  const std::string old_open = OpenPathFor(Detail(detail_cutoff - kMillisPerDay));
  WriteDetailAt(expired, detail_cutoff - kSlot, 10);
  WriteDetailAt(kept, detail_cutoff, 10);
  WriteDetailAt(old_open, detail_cutoff - kMillisPerDay, 10);
  // Roll-ups: likewise by the end of their hour.
  const UnixMillis rollup_cutoff = now - options_.rollup_retention_ms;
  const std::string expired_rollup = Rollup(rollup_cutoff - kMillisPerHour);
  const std::string kept_rollup = Rollup(rollup_cutoff);
  WriteDetailAt(expired_rollup, rollup_cutoff - kMillisPerHour, 10);
  WriteDetailAt(kept_rollup, rollup_cutoff, 10);

  const MaintenanceReport report = Run(now);
  EXPECT_EQ(report.errors, 0u) << Messages(report);
  EXPECT_EQ(report.segments_deleted, 2u) << Messages(report);
  EXPECT_GT(report.bytes_deleted, 0u);
  EXPECT_FALSE(fs::exists(expired));
  EXPECT_TRUE(fs::exists(kept));
  EXPECT_TRUE(fs::exists(old_open));
  EXPECT_FALSE(fs::exists(expired_rollup));
  EXPECT_TRUE(fs::exists(kept_rollup));
  // The detail hours were rolled up before their segments went.
  EXPECT_TRUE(fs::exists(Rollup(HourStart(detail_cutoff - kSlot)))) << Messages(report);
}

TEST_F(MaintenanceTest, AShortRetentionWaitsForTheRollupOfTheHour) {
  options_.detail_retention_ms = kMillisPerHour;  // the shortest the configuration allows
  const std::vector<std::string> paths = WriteHour(kHour, 20);
  const std::map<std::string, Sums> expected = SumsOf(paths);
  // 10:00 is past its retention, but the hour's roll-up is not due yet.
  MaintenanceReport report = Run(RollupDue(kHour) - 1);
  EXPECT_EQ(report.segments_deleted, 0u) << Messages(report);
  report = Run(RollupDue(kHour));
  EXPECT_EQ(report.rollups_written, 1u);
  EXPECT_EQ(report.segments_deleted, 1u) << Messages(report);
  EXPECT_FALSE(fs::exists(paths[0]));
  EXPECT_TRUE(fs::exists(paths[1]));
  std::map<std::string, Sums> rolled;
  AddSums(ReadRows(Rollup(kHour)), rolled);
  ExpectSameSums(expected, rolled);

  // An hour that cannot be rolled up (a segment stays open) holds its segments back for
  // an hour at most.
  const UnixMillis next = kHour + kMillisPerHour;
  const std::vector<std::string> next_paths = WriteHour(next, 5);
  WriteDetailAt(OpenPathFor(Detail(next + kSlot, 1)), next + kSlot, 5);
  report = Run(RollupDue(next) + kMillisPerHour - 1);
  EXPECT_TRUE(fs::exists(next_paths[0]));
  report = Run(RollupDue(next) + kMillisPerHour);
  EXPECT_FALSE(fs::exists(next_paths[0]));
}

TEST_F(MaintenanceTest, HoursPastTheRollupRetentionAreNotRolledUp) {
  options_.rollup_retention_ms = 2 * kMillisPerDay;
  WriteDetailAt(Detail(kHour - 3 * kMillisPerDay), kHour - 3 * kMillisPerDay, 10);
  const MaintenanceReport report = Run(kHour);
  EXPECT_EQ(report.rollups_written, 0u);
  EXPECT_FALSE(fs::exists(Rollup(kHour - 3 * kMillisPerDay)));
}

TEST_F(MaintenanceTest, RetentionBySizeDeletesTheOldestSealedDetailFirstNeverOpenFiles) {
  // Slots 10:00..10:40 sealed, an old open file of 10:00 (a crashed writer's), all in an
  // hour that is not complete (so no roll-up changes the sizes), no minute summaries.
  options_.summaries_per_run = 0;
  std::vector<std::string> sealed;
  for (int slot = 0; slot < 9; ++slot) {
    sealed.push_back(Detail(kHour + slot * kSlot));
    WriteDetailAt(sealed.back(), kHour + slot * kSlot, 200);
  }
  const std::string open = OpenPathFor(Detail(kHour, 1));
  WriteDetailAt(open, kHour, 200);
  // A roll-up older than every detail segment: deleted only when no detail is left.
  const std::string rollup = Rollup(kHour - 5 * kMillisPerHour);
  WriteDetailAt(rollup, kHour - 5 * kMillisPerHour, 200);
  std::uint64_t total = fs::file_size(open) + fs::file_size(rollup);
  for (const std::string& path : sealed) {
    total += fs::file_size(path);
  }
  // The oldest cannot be removed (reported), so the next oldest go instead: three of them
  // (the cap is half-way through the third).
  options_.max_size_bytes =
      total - fs::file_size(sealed[1]) - fs::file_size(sealed[2]) - fs::file_size(sealed[3]) / 2;
  file_system_.fail_remove_of = "1000.seg";

  MaintenanceReport report = Run(kHour + 45 * kMillisPerMinute);
  EXPECT_EQ(report.errors, 1u) << Messages(report);
  EXPECT_TRUE(MessagesMention(report, sealed[0])) << Messages(report);
  EXPECT_TRUE(fs::exists(sealed[0]));
  EXPECT_FALSE(fs::exists(sealed[1]));
  EXPECT_FALSE(fs::exists(sealed[2]));
  EXPECT_FALSE(fs::exists(sealed[3]));
  EXPECT_TRUE(fs::exists(sealed[4]));
  EXPECT_TRUE(fs::exists(open));
  EXPECT_TRUE(fs::exists(rollup));
  EXPECT_EQ(report.segments_deleted, 3u);

  // A cap below what the open file takes: every sealed file goes, then the roll-up; the
  // open file stays.
  file_system_.fail_remove_of.clear();
  options_.max_size_bytes = 1;
  report = Run(kHour + 45 * kMillisPerMinute);
  EXPECT_EQ(report.errors, 0u) << Messages(report);
  EXPECT_EQ(StoreFiles(data_dir_),
            std::vector<std::string>{fs::path(open).lexically_relative(data_dir_).string()});
  EXPECT_TRUE(MessagesMention(report, "still over")) << Messages(report);
}

TEST_F(MaintenanceTest, RetentionBySizeDeletesTheOldestRollupsWhenOnlyRollupsRemain) {
  std::vector<std::string> rollups;
  for (int hour = 0; hour < 4; ++hour) {
    rollups.push_back(Rollup(kHour - (4 - hour) * kMillisPerHour));
    WriteDetailAt(rollups.back(), kHour - (4 - hour) * kMillisPerHour, 100);
  }
  options_.max_size_bytes = fs::file_size(rollups[2]) + fs::file_size(rollups[3]);
  const MaintenanceReport report = Run(kHour);
  EXPECT_EQ(report.segments_deleted, 2u) << Messages(report);
  EXPECT_FALSE(fs::exists(rollups[0]));
  EXPECT_FALSE(fs::exists(rollups[1]));
  EXPECT_TRUE(fs::exists(rollups[2]));
  EXPECT_TRUE(fs::exists(rollups[3]));
}

TEST_F(MaintenanceTest, EmptyDateDirectoriesAreRemoved) {
  options_.detail_retention_ms = kMillisPerDay;
  options_.rollup_retention_ms = kMillisPerDay;
  // 2025-12-31 (a year, month and day of their own) and 2026-11-20, all expired.
  const UnixMillis new_year_eve = kHour - 327 * kMillisPerDay;
  ASSERT_EQ(DayString(new_year_eve), "2025-12-31");
  WriteDetailAt(Detail(new_year_eve), new_year_eve, 10);
  WriteDetailAt(Rollup(new_year_eve), new_year_eve, 10);
  WriteDetailAt(Detail(kHour - 3 * kMillisPerDay), kHour - 3 * kMillisPerDay, 10);
  // Today's directory, empty: the writer may be about to create its file there.
  fs::create_directories(DetailDayDir(data_dir_, "core", kHour));
  // Not ours: left alone.
  fs::create_directories(data_dir_ + "/core/notes");

  const MaintenanceReport report = Run(kHour + 5 * kMillisPerMinute);
  EXPECT_EQ(report.errors, 0u) << Messages(report);
  EXPECT_FALSE(fs::exists(data_dir_ + "/core/2025"));
  EXPECT_FALSE(fs::exists(data_dir_ + "/core/rollup/2025"));
  EXPECT_FALSE(fs::exists(data_dir_ + "/core/2026/11/20"));
  EXPECT_TRUE(fs::exists(data_dir_ + "/core/2026/11/23"));
  EXPECT_TRUE(fs::exists(data_dir_ + "/core/notes"));
  EXPECT_TRUE(fs::exists(data_dir_ + "/core/rollup"));
}

TEST_F(MaintenanceTest, LeftoverTemporaryFilesOlderThanAnHourAreRemoved) {
  const UnixMillis now = kHour;
  const std::string stale = TempPathFor(Detail(kHour - 3 * kMillisPerHour));
  const std::string fresh = TempPathFor(Detail(kHour - kSlot));
  const std::string stale_rollup = TempPathFor(Rollup(kHour - 5 * kMillisPerHour));
  for (const std::string& path : {stale, fresh, stale_rollup}) {
    fs::create_directories(fs::path(path).parent_path());
    test::WriteBytes(path, std::vector<std::uint8_t>(1000, 1));
  }
  SetModified(stale, now - kMillisPerHour - 1);
  SetModified(stale_rollup, now - 2 * kMillisPerHour);
  SetModified(fresh, now - 30 * kMillisPerMinute);
  const MaintenanceReport report = Run(now);
  EXPECT_EQ(report.errors, 0u) << Messages(report);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_FALSE(fs::exists(stale_rollup));
  EXPECT_TRUE(fs::exists(fresh));
  EXPECT_EQ(report.bytes_deleted, 2000u);
}

TEST_F(MaintenanceTest, SegmentsWithoutAFlowsColumnCountOneFlowPerRow) {
  // The format-v1 fixture predates `flows`; its 40 rows were received from
  // 2025-11-23 12:13:20 UTC on.
  const std::string fixture = std::string(SLUICE_SOURCE_DIR) + "/tests/data/store/v1_small.segment";
  const UnixMillis received = 1'763'900'000'000;
  const std::string detail = Detail(SlotStart(received, 5));
  fs::create_directories(fs::path(detail).parent_path());
  fs::copy_file(fixture, detail);
  const MaintenanceReport report = Run(RollupDue(HourStart(received)));
  ASSERT_EQ(report.rollups_written, 1u) << Messages(report);
  EXPECT_EQ(report.rollup_input_rows, 40u);
  const CollectingSink rows = ReadRows(Rollup(HourStart(received)));
  std::uint64_t flows = 0;
  for (std::size_t idx = 0; idx < rows.size(); ++idx) {
    flows += rows[idx].cols().flows[rows[idx].row];
  }
  EXPECT_EQ(flows, 40u);

  // A roll-up of roll-ups would keep counting flows: the roll-up has the column.
  auto reader = SegmentReader::Open(Rollup(HourStart(received)));
  ASSERT_TRUE(reader);
  const auto& schema = (*reader)->summary().schema;
  EXPECT_TRUE(std::any_of(schema.begin(), schema.end(), [](const SchemaColumn& column) {
    return column.field_id == static_cast<std::uint8_t>(FieldId::kFlows);
  }));
}

TEST_F(MaintenanceTest, InvalidOptionsAndMissingDirectoryAreHarmless) {
  MaintenanceReport report = Run(kHour);  // no data directory yet
  EXPECT_EQ(report.errors, 0u) << Messages(report);
  options_.rotation_minutes = 0;
  report = Run(kHour);
  EXPECT_EQ(report.errors, 1u);
}

// The `flows` field itself (here because roll-ups are what it is for).
class CountingSink final : public flow::FlowSink {
 public:
  void Consume(FlowBatch& batch) override {
    for (std::size_t row = 0; row < batch.size(); ++row) {
      flows += batch.cols().flows[row];
    }
  }

  std::uint64_t flows = 0;
};

TEST(FlowsFieldTest, DecodedRowsCountOneFlowAndOldSegmentsDefaultToOne) {
  const flow::FieldInfo& info = flow::Info(FieldId::kFlows);
  EXPECT_EQ(info.name, "flows");
  EXPECT_EQ(info.nfdump_alias, "fl");
  EXPECT_EQ(info.default_value, 1u);
  for (const flow::FieldInfo& other : flow::FieldCatalogue()) {
    if (other.id != FieldId::kFlows) {
      EXPECT_EQ(other.default_value, 0u) << other.name;
    }
  }
  CountingSink sink;
  flow::BatchWriter writer(sink);
  for (std::size_t n = 0; n < FlowBatch::kCapacity + 3; ++n) {
    writer.NewRow();
  }
  writer.NewRow();
  writer.DiscardRow();
  writer.Flush();
  EXPECT_EQ(sink.flows, FlowBatch::kCapacity + 3);
}

}  // namespace
}  // namespace sluice::store
