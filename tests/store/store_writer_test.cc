// SPDX-License-Identifier: Apache-2.0
// StoreWriter: rotation by receive time, flushes, sources, sealing, recovery of segments
// left open, and a full disk / short writes / failing syncs through FaultyFileSystem.

#include "store/store_writer.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "store/catalog.h"
#include "store/layout.h"
#include "store/segment_reader.h"
#include "store/segment_test_util.h"
#include "testing/faulty_file_system.h"

namespace sluice::store {
namespace {

using test::TempDir;

// 2026-11-23 16:21:30 UTC.
constexpr UnixMillis kStart = 1'795'450'890'000;

flow::IpAddress Exporter(std::uint8_t last) {
  return flow::IpAddress::FromV4(0xC0000200u | last);
}

// Feeds `count` rows from `exporter` through `sink`, a batch at a time.
void Feed(flow::FlowSink& sink, std::size_t count, flow::IpAddress exporter, std::uint64_t seed = 1) {
  flow::FlowBatch batch;
  for (std::size_t n = 0; n < count; ++n) {
    if (batch.full()) {
      sink.Consume(batch);
      batch.Clear();
    }
    const std::size_t row = batch.AppendRow();
    test::FillEveryField(batch, row, seed * 1'000'003 + n);
    batch.cols().exporter[row] = exporter;
  }
  if (!batch.empty()) {
    sink.Consume(batch);
    batch.Clear();
  }
}

// Waits (up to 10 s) until `done` holds for the writer's stats.
bool WaitFor(const StoreWriter& writer, const std::function<bool(const StoreWriterStats&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done(writer.Stats())) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

std::vector<CatalogEntry> Files(const std::string& data_dir) {
  Result<std::vector<CatalogEntry>> catalog = ScanCatalog(data_dir);
  EXPECT_TRUE(catalog.has_value());
  return catalog ? *catalog : std::vector<CatalogEntry>{};
}

std::uint64_t RowsOf(const std::string& path) {
  Result<std::unique_ptr<SegmentReader>> reader = SegmentReader::Open(path);
  EXPECT_TRUE(reader.has_value()) << (reader ? "" : std::string(reader.error().Message()));
  return reader ? (*reader)->summary().row_count : 0;
}

StoreWriterOptions Options(const TempDir& dir) {
  StoreWriterOptions options;
  options.data_dir = dir.File("data");
  options.rotation_minutes = 5;
  options.flush_interval_ms = 1000;
  options.segment.rows_per_block = 1000;
  options.queue_batches = 4;
  return options;
}

TEST(StoreWriterTest, WritesOneSealedSegmentPerSlotByReceiveTime) {
  TempDir dir;
  PosixFileSystem file_system;
  ManualClock clock(kStart);
  auto writer = StoreWriter::Open(Options(dir), file_system, clock);
  ASSERT_TRUE(writer.has_value()) << writer.error().Message();
  (*writer)->Start();
  auto sink = (*writer)->MakeSink();
  Feed(*sink, 2500, Exporter(1));
  ASSERT_TRUE(WaitFor(**writer, [](const StoreWriterStats& s) { return s.flows_written == 2500; }));
  clock.Set(kStart + 4 * kMillisPerMinute);  // 16:25:30: the next slot
  ASSERT_TRUE(WaitFor(**writer, [](const StoreWriterStats& s) { return s.segments_sealed == 1; }));
  Feed(*sink, 700, Exporter(1), 2);
  ASSERT_TRUE((*writer)->Close().has_value());

  const std::vector<CatalogEntry> files = Files(dir.File("data"));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].relative_path, "default/2026/11/23/1620.seg");
  EXPECT_EQ(files[1].relative_path, "default/2026/11/23/1625.seg");
  EXPECT_EQ(RowsOf(files[0].path), 2500u);
  EXPECT_EQ(RowsOf(files[1].path), 700u);
  const StoreWriterStats stats = (*writer)->Stats();
  EXPECT_EQ(stats.flows_received, 3200u);
  EXPECT_EQ(stats.flows_written, 3200u);
  EXPECT_EQ(stats.flows_not_written, 0u);
  EXPECT_EQ(stats.segments_sealed, 2u);
  EXPECT_EQ(stats.open_segments, 0u);
  // Every append and both seals were timed (for /metrics).
  const StoreWriteLatency latency = (*writer)->WriteLatency();
  EXPECT_GE(latency.append.count, 3u);  // 2500 + 700 rows come in batches
  EXPECT_EQ(latency.seal.count, 2u);
  EXPECT_GT(latency.append.sum_s, 0.0);
  std::uint64_t on_disk = 0;
  for (const CatalogEntry& file : files) {
    on_disk += file.size_bytes;
  }
  EXPECT_EQ(stats.bytes_written, on_disk);
}

TEST(StoreWriterTest, RowsComeBackFieldForField) {
  TempDir dir;
  PosixFileSystem file_system;
  ManualClock clock(kStart);
  auto writer = StoreWriter::Open(Options(dir), file_system, clock);
  ASSERT_TRUE(writer.has_value());
  (*writer)->Start();
  auto sink = (*writer)->MakeSink();
  Feed(*sink, 1234, Exporter(7), 3);
  ASSERT_TRUE((*writer)->Close().has_value());

  flow::FlowBatch expected;
  test::CollectingSink collected;
  const std::vector<CatalogEntry> files = Files(dir.File("data"));
  ASSERT_EQ(files.size(), 1u);
  auto reader = SegmentReader::Open(files[0].path);
  ASSERT_TRUE(reader.has_value());
  ASSERT_TRUE((*reader)->ReadAll(AllFields(), collected).has_value());
  ASSERT_EQ(collected.size(), 1234u);
  for (std::size_t n = 0; n < 1234; ++n) {
    expected.Clear();
    const std::size_t row = expected.AppendRow();
    test::FillEveryField(expected, row, 3 * 1'000'003 + n);
    expected.cols().exporter[row] = Exporter(7);
    const test::CollectingSink::Ref got = collected[n];
    EXPECT_EQ(got.cols().src_addr[got.row], expected.cols().src_addr[row]) << n;
    EXPECT_EQ(got.cols().bytes[got.row], expected.cols().bytes[row]) << n;
    EXPECT_EQ(got.cols().first[got.row], expected.cols().first[row]) << n;
    EXPECT_EQ(got.cols().exporter[got.row], Exporter(7)) << n;
  }
}

TEST(StoreWriterTest, SourcesGetTheirOwnDirectories) {
  TempDir dir;
  PosixFileSystem file_system;
  ManualClock clock(kStart);
  StoreWriterOptions options = Options(dir);
  options.sources = {{Exporter(1), "core"}, {Exporter(2), "edge"}, {Exporter(3), "core"}};
  auto writer = StoreWriter::Open(options, file_system, clock);
  ASSERT_TRUE(writer.has_value());
  (*writer)->Start();
  auto sink = (*writer)->MakeSink();
  // One batch mixing all four exporters (4 = unlisted: the default source).
  flow::FlowBatch batch;
  for (std::size_t n = 0; n < flow::FlowBatch::kCapacity; ++n) {
    const std::size_t row = batch.AppendRow();
    test::FillEveryField(batch, row, n);
    batch.cols().exporter[row] = Exporter(static_cast<std::uint8_t>(1 + n % 4));
  }
  sink->Consume(batch);
  ASSERT_TRUE((*writer)->Close().has_value());

  std::uint64_t total = 0;
  std::vector<std::string> names;
  for (const CatalogEntry& file : Files(dir.File("data"))) {
    names.push_back(file.name.source);
    total += RowsOf(file.path);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(total, flow::FlowBatch::kCapacity);
  if (flow::FlowBatch::kCapacity >= 4) {
    EXPECT_EQ(names, (std::vector<std::string>{"core", "default", "edge"}));
  }
}

TEST(StoreWriterTest, FlushedRowsOfASegmentLeftOpenAreRecoveredAtTheNextOpen) {
  TempDir dir;
  PosixFileSystem file_system;
  ManualClock clock(kStart);
  const StoreWriterOptions options = Options(dir);
  auto writer = StoreWriter::Open(options, file_system, clock);
  ASSERT_TRUE(writer.has_value());
  (*writer)->Start();
  auto sink = (*writer)->MakeSink();
  Feed(*sink, 1500, Exporter(1));
  ASSERT_TRUE(WaitFor(**writer, [](const StoreWriterStats& s) { return s.flows_written == 1500; }));
  clock.Set(kStart + 1000);  // the flush interval: the partial block is written too
  const std::string open_path =
      dir.File("data") + "/default/2026/11/23/1620.seg.open";
  ASSERT_TRUE(WaitFor(**writer, [&](const StoreWriterStats&) {
    auto reader = SegmentReader::Recover(open_path);
    return reader && (*reader)->summary().row_count == 1500;
  }));
  // A crash now: copy the open file aside as a killed process would leave it.
  const std::string crashed = dir.File("crashed");
  std::filesystem::create_directories(crashed + "/default/2026/11/23");
  std::filesystem::copy_file(open_path, crashed + "/default/2026/11/23/1620.seg.open");
  test::WriteBytes(crashed + "/default/2026/11/23/1620.seg.tmp", {1, 2, 3});
  ASSERT_TRUE((*writer)->Close().has_value());

  StoreWriterOptions after = options;
  after.data_dir = crashed;
  auto restarted = StoreWriter::Open(after, file_system, clock);
  ASSERT_TRUE(restarted.has_value());
  EXPECT_EQ((*restarted)->Stats().recovered_segments, 1u);
  EXPECT_EQ((*restarted)->Stats().recovered_flows, 1500u);
  (*restarted)->Start();
  auto new_sink = (*restarted)->MakeSink();
  Feed(*new_sink, 10, Exporter(1), 9);  // same slot: a second segment of it
  ASSERT_TRUE((*restarted)->Close().has_value());
  const std::vector<CatalogEntry> files = Files(after.data_dir);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].relative_path, "default/2026/11/23/1620.seg");
  EXPECT_EQ(RowsOf(files[0].path), 1500u);
  EXPECT_EQ(files[1].relative_path, "default/2026/11/23/1620-1.seg");
  EXPECT_EQ(RowsOf(files[1].path), 10u);
}

TEST(StoreWriterTest, AFullDiskStopsWritingCountsAndResumesByItself) {
  TempDir dir;
  test::FaultyFileSystem file_system;
  ManualClock clock(kStart);
  auto writer = StoreWriter::Open(Options(dir), file_system, clock);
  ASSERT_TRUE(writer.has_value());
  (*writer)->Start();
  auto sink = (*writer)->MakeSink();
  Feed(*sink, 2000, Exporter(1));
  ASSERT_TRUE(WaitFor(**writer, [](const StoreWriterStats& s) { return s.flows_written == 2000; }));

  file_system.disk_full = true;
  Feed(*sink, 3000, Exporter(1), 2);
  ASSERT_TRUE(WaitFor(**writer, [](const StoreWriterStats& s) { return s.flows_received == 5000; }));
  StoreWriterStats stats = (*writer)->Stats();
  EXPECT_TRUE(stats.disk_full);
  EXPECT_GT(stats.flows_not_written, 0u);
  EXPECT_GE(stats.write_errors, 1u);

  file_system.disk_full = false;
  clock.Set(kStart + 2000);  // past the retry interval
  ASSERT_TRUE(WaitFor(**writer, [](const StoreWriterStats& s) { return !s.disk_full; }));
  Feed(*sink, 500, Exporter(1), 3);
  ASSERT_TRUE((*writer)->Close().has_value());

  stats = (*writer)->Stats();
  EXPECT_EQ(stats.flows_received, 5500u);
  EXPECT_EQ(stats.flows_written + stats.flows_not_written, 5500u);
  const std::vector<CatalogEntry> files = Files(dir.File("data"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].name.state, SegmentState::kSealed);
  EXPECT_EQ(RowsOf(files[0].path), stats.flows_written);
}

TEST(StoreWriterTest, ShortWritesAreCutBackAndTheSegmentStaysReadable) {
  TempDir dir;
  test::FaultyFileSystem file_system;
  ManualClock clock(kStart);
  auto writer = StoreWriter::Open(Options(dir), file_system, clock);
  ASSERT_TRUE(writer.has_value());
  (*writer)->Start();
  auto sink = (*writer)->MakeSink();
  Feed(*sink, 1000, Exporter(1));
  ASSERT_TRUE(WaitFor(**writer, [](const StoreWriterStats& s) { return s.flows_written == 1000; }));
  file_system.short_writes = true;
  Feed(*sink, 2000, Exporter(1), 2);
  ASSERT_TRUE(WaitFor(**writer, [](const StoreWriterStats& s) { return s.flows_received == 3000; }));
  EXPECT_GT(file_system.append_failures.load(), 0);
  // Whatever the file holds now is a valid prefix of sealed blocks.
  const std::string open_path = dir.File("data") + "/default/2026/11/23/1620.seg.open";
  auto recovered = SegmentReader::Recover(open_path);
  ASSERT_TRUE(recovered.has_value());
  EXPECT_EQ((*recovered)->summary().row_count % 1000, 0u);
  file_system.short_writes = false;
  clock.Set(kStart + 2000);
  ASSERT_TRUE(WaitFor(**writer, [](const StoreWriterStats& s) { return !s.disk_full; }));
  ASSERT_TRUE((*writer)->Close().has_value());
  const StoreWriterStats stats = (*writer)->Stats();
  const std::vector<CatalogEntry> files = Files(dir.File("data"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(RowsOf(files[0].path), stats.flows_written);
  EXPECT_EQ(stats.flows_written + stats.flows_not_written, 3000u);
}

TEST(StoreWriterTest, ASyncFailureAtSealingLeavesTheSegmentOpenForTheNextStart) {
  TempDir dir;
  test::FaultyFileSystem file_system;
  ManualClock clock(kStart);
  const StoreWriterOptions options = Options(dir);
  {
    auto writer = StoreWriter::Open(options, file_system, clock);
    ASSERT_TRUE(writer.has_value());
    (*writer)->Start();
    auto sink = (*writer)->MakeSink();
    Feed(*sink, 1200, Exporter(1));
    ASSERT_TRUE(WaitFor(**writer, [](const StoreWriterStats& s) { return s.flows_written == 1200; }));
    file_system.fail_sync = true;
    const Status closed = (*writer)->Close();
    EXPECT_FALSE(closed.has_value());
    EXPECT_EQ((*writer)->Stats().seal_errors, 1u);
  }
  std::vector<CatalogEntry> files = Files(dir.File("data"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].name.state, SegmentState::kOpen);

  file_system.fail_sync = false;
  auto restarted = StoreWriter::Open(options, file_system, clock);
  ASSERT_TRUE(restarted.has_value());
  EXPECT_EQ((*restarted)->Stats().recovered_flows, 1200u);
  files = Files(dir.File("data"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].name.state, SegmentState::kSealed);
  EXPECT_EQ(RowsOf(files[0].path), 1200u);
}

TEST(StoreWriterTest, TwoWriterThreadsWriteTwoSegmentsOfTheSlotAndLoseNothing) {
  TempDir dir;
  PosixFileSystem file_system;
  ManualClock clock(kStart);
  StoreWriterOptions options = Options(dir);
  options.writer_threads = 2;
  auto writer = StoreWriter::Open(options, file_system, clock);
  ASSERT_TRUE(writer.has_value());
  (*writer)->Start();
  auto sink_a = (*writer)->MakeSink();
  auto sink_b = (*writer)->MakeSink();
  std::thread other([&sink_b] { Feed(*sink_b, 30'000, Exporter(2), 5); });
  Feed(*sink_a, 30'000, Exporter(1), 4);
  other.join();
  ASSERT_TRUE((*writer)->Close().has_value());

  std::uint64_t total = 0;
  std::vector<std::string> names;
  for (const CatalogEntry& file : Files(dir.File("data"))) {
    EXPECT_EQ(file.name.state, SegmentState::kSealed);
    names.push_back(file.relative_path);
    total += RowsOf(file.path);
  }
  EXPECT_EQ(total, 60'000u);
  EXPECT_EQ((*writer)->Stats().flows_written, 60'000u);
  // One segment per writer thread that got rows (both, unless one thread took them all).
  ASSERT_GE(names.size(), 1u);
  ASSERT_LE(names.size(), 2u);
  EXPECT_EQ(names[0], "default/2026/11/23/1620.seg");
  if (names.size() == 2) {
    EXPECT_EQ(names[1], "default/2026/11/23/1620-1.seg");
  }
}

TEST(StoreWriterTest, RejectsBadOptions) {
  TempDir dir;
  PosixFileSystem file_system;
  ManualClock clock(kStart);
  StoreWriterOptions options = Options(dir);
  options.rotation_minutes = 61;
  EXPECT_FALSE(StoreWriter::Open(options, file_system, clock).has_value());
  options = Options(dir);
  options.sources = {{Exporter(1), "../etc"}};
  EXPECT_FALSE(StoreWriter::Open(options, file_system, clock).has_value());
  options = Options(dir);
  options.data_dir = "";
  EXPECT_FALSE(StoreWriter::Open(options, file_system, clock).has_value());
}

}  // namespace
}  // namespace sluice::store
