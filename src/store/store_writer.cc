// SPDX-License-Identifier: Apache-2.0

#include "store/store_writer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include "common/log.h"
#include "common/thread_name.h"
#include "store/catalog.h"
#include "store/layout.h"
#include "store/segment_reader.h"

namespace sluice::store {
namespace {

constexpr UnixMillis kRetryIntervalMs = 1000;
constexpr UnixMillis kStallLogIntervalMs = 60'000;
// The writer thread is woken when this many batches wait (or a worker waits for a free
// one); otherwise it looks every kIdleWake. At low rates this keeps it from waking for
// every small batch a decode worker flushes; at high rates batches come full anyway.
constexpr std::size_t kWakeBatches = 8;
constexpr auto kIdleWake = std::chrono::milliseconds(50);
// Blocks are clustered by port (SegmentWriterOptions::cluster_rows) while fewer than one
// in kClusterQueueShare of the queue's batches wait for the writer threads.
constexpr std::size_t kClusterQueueShare = 8;

bool Exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

std::string DirOf(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

// Appends every batch it receives to a SegmentWriter (recovery's copy loop).
class AppendingSink final : public flow::FlowSink {
 public:
  explicit AppendingSink(SegmentWriter& writer) : writer_(&writer) {}

  void Consume(flow::FlowBatch& batch) override {
    if (status_) {
      status_ = writer_->Append(batch);
    }
  }

  const Status& status() const { return status_; }

 private:
  SegmentWriter* writer_;
  Status status_;
};

}  // namespace

struct StoreWriter::OpenSegment {
  std::string final_path;
  std::string open_path;
  std::unique_ptr<SegmentWriter> writer;
  std::uint64_t bytes_reported = 0;  // of writer->file_size(), already in the stats
};

struct StoreWriter::Source {
  std::string name;
  std::unique_ptr<OpenSegment> open;
};

// One writer thread's state: its open segment per source, its slot and its disk state.
struct StoreWriter::Lane {
  std::vector<Source> sources;  // same order as every other lane's
  UnixMillis slot_start = 0;
  UnixMillis next_flush = 0;
  UnixMillis disk_full_since = 0;  // 0 = not full
  UnixMillis next_retry = 0;
  UnixMillis last_full_log = 0;
  std::uint64_t not_written_at_last_log = 0;
  // Whether blocks are clustered (SegmentWriterOptions::cluster_rows), decided at each
  // batch taken from the queue (kClusterQueueShare).
  bool cluster = true;
  flow::FlowBatch split;               // rows of one source when a batch mixes sources
  std::vector<std::uint8_t> present;  // per source: in the batch being written
  std::thread thread;
};

class StoreWriter::QueueSink final : public flow::FlowSink {
 public:
  explicit QueueSink(StoreWriter& writer) : writer_(&writer) {}

  void Consume(flow::FlowBatch& batch) override { writer_->Enqueue(batch); }

 private:
  StoreWriter* writer_;
};

std::string StoreWriterStats::ToJson() const {
  char text[512];
  std::snprintf(text, sizeof text,
                "{\"flows_received\":%llu,\"flows_written\":%llu,\"flows_not_written\":%llu,"
                "\"segments_sealed\":%llu,\"seal_errors\":%llu,\"write_errors\":%llu,"
                "\"recovered_segments\":%llu,\"recovered_flows\":%llu,\"bytes_written\":%llu,"
                "\"open_segments\":%llu,\"disk_full\":%s,\"queue_waits\":%llu}",
                static_cast<unsigned long long>(flows_received),
                static_cast<unsigned long long>(flows_written),
                static_cast<unsigned long long>(flows_not_written),
                static_cast<unsigned long long>(segments_sealed),
                static_cast<unsigned long long>(seal_errors),
                static_cast<unsigned long long>(write_errors),
                static_cast<unsigned long long>(recovered_segments),
                static_cast<unsigned long long>(recovered_flows),
                static_cast<unsigned long long>(bytes_written),
                static_cast<unsigned long long>(open_segments), disk_full ? "true" : "false",
                static_cast<unsigned long long>(queue_waits));
  return text;
}

std::string StoreWriterStats::ToLogLine() const {
  char text[256];
  std::snprintf(text, sizeof text,
                "stored=%llu not_written=%llu sealed=%llu bytes=%llu write_errors=%llu%s",
                static_cast<unsigned long long>(flows_written),
                static_cast<unsigned long long>(flows_not_written),
                static_cast<unsigned long long>(segments_sealed),
                static_cast<unsigned long long>(bytes_written),
                static_cast<unsigned long long>(write_errors), disk_full ? " DISK-FULL" : "");
  return text;
}

StoreWriter::StoreWriter(StoreWriterOptions options, FileSystem& file_system, const Clock& clock)
    : options_(std::move(options)),
      file_system_(&file_system),
      clock_(&clock),
      // Each lane has a segment open per source and may have as many being sealed.
      workspaces_(2 * std::clamp<std::size_t>(options_.writer_threads, 1, 16) *
                  (options_.sources.size() + 1)) {
  options_.segment.file_system = file_system_;
  options_.segment.workspaces = &workspaces_;
  options_.segment.sync = true;            // Finish() syncs, in the sealer thread
  options_.segment.sync_on_flush = false;  // the writer thread never waits on the disk
  std::vector<std::string> names = {std::string(kDefaultSource)};
  for (const auto& [exporter, name] : options_.sources) {
    const auto known = std::find(names.begin(), names.end(), name);
    source_of_exporter_[exporter] = static_cast<std::size_t>(known - names.begin());
    if (known == names.end()) {
      names.push_back(name);
    }
  }
  options_.writer_threads = std::clamp<std::size_t>(options_.writer_threads, 1, 16);
  for (std::size_t lane_idx = 0; lane_idx < options_.writer_threads; ++lane_idx) {
    auto lane = std::make_unique<Lane>();
    for (const std::string& name : names) {
      lane->sources.push_back(Source{name, nullptr});
    }
    lanes_.push_back(std::move(lane));
  }
  free_.reserve(options_.queue_batches);
  for (std::size_t batch_idx = 0; batch_idx < options_.queue_batches; ++batch_idx) {
    free_.push_back(std::make_unique<flow::FlowBatch>());
    if (options_.touch_queue_pages) {
      free_.back()->TouchPages();
    }
  }
}

StoreWriter::~StoreWriter() { (void)Close(); }

Result<std::unique_ptr<StoreWriter>> StoreWriter::Open(StoreWriterOptions options,
                                                       FileSystem& file_system,
                                                       const Clock& clock) {
  if (options.data_dir.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "store: no data directory");
  }
  if (options.rotation_minutes < 1 || options.rotation_minutes > 60) {
    return MakeError(ErrorCode::kInvalidArgument, "store: rotation must be 1 to 60 minutes");
  }
  if (options.flush_interval_ms < 1) {
    return MakeError(ErrorCode::kInvalidArgument, "store: flush interval must be positive");
  }
  options.queue_batches = std::max<std::size_t>(options.queue_batches, 2);
  for (const auto& [exporter, name] : options.sources) {
    if (!IsValidSourceName(name)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "store: source name \"" + name +
                           "\": use 1 to 64 of A-Z a-z 0-9 _ . - (not \"rollup\")");
    }
  }
  if (Status made = file_system.CreateDirectories(options.data_dir); !made) {
    return tl::unexpected(made.error());
  }
  std::unique_ptr<StoreWriter> writer(new StoreWriter(std::move(options), file_system, clock));
  if (Status recovered = writer->RecoverLeftovers(); !recovered) {
    return tl::unexpected(recovered.error());
  }
  return writer;
}

Status StoreWriter::RecoverLeftovers() {
  Result<std::vector<CatalogEntry>> catalog = ScanCatalog(options_.data_dir);
  if (!catalog) {
    return tl::unexpected(catalog.error());
  }
  for (const CatalogEntry& entry : *catalog) {
    if (entry.name.state == SegmentState::kTemp) {
      (void)file_system_->Remove(entry.path);
      continue;
    }
    if (entry.name.state != SegmentState::kOpen || entry.name.kind != SegmentKind::kDetail) {
      continue;
    }
    const std::string final_path = entry.path.substr(0, entry.path.size() - kOpenSuffix.size());
    if (Status recovered = RecoverOne(entry.path, final_path); !recovered) {
      // Left as it is: reported, never fatal. `sluice store verify` will name it too.
      Log(LogLevel::kError, "store: cannot recover " + entry.path + ": " +
                                std::string(recovered.error().Message()));
    }
  }
  return OkStatus();
}

Status StoreWriter::RecoverOne(const std::string& open_path, const std::string& final_path) {
  if (Exists(final_path)) {
    // A crash after recovery's rename: the sealed copy is complete.
    return file_system_->Remove(open_path);
  }
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(open_path, ec);
  if (!ec && size <= kFileHeaderSize) {
    return file_system_->Remove(open_path);  // created, nothing flushed yet
  }
  Result<std::unique_ptr<SegmentReader>> reader = SegmentReader::Recover(open_path);
  if (!reader) {
    return tl::unexpected(reader.error());
  }
  const std::uint64_t rows = (*reader)->summary().row_count;
  if (rows == 0) {
    Log(LogLevel::kWarning, "store: " + open_path + " held no complete block; removed");
    return file_system_->Remove(open_path);
  }
  const std::string temp_path = TempPathFor(final_path);
  SegmentWriterOptions segment_options = options_.segment;
  segment_options.sync_on_flush = true;
  Result<std::unique_ptr<SegmentWriter>> writer = SegmentWriter::Create(temp_path, segment_options);
  if (!writer) {
    return tl::unexpected(writer.error());
  }
  AppendingSink sink(**writer);
  Status copied = (*reader)->ReadAll(AllFields(), sink);
  if (copied) {
    copied = sink.status();
  }
  if (copied) {
    copied = (*writer)->Finish();
  }
  if (copied) {
    copied = file_system_->Rename(temp_path, final_path);
  }
  if (!copied) {
    writer->reset();
    (void)file_system_->Remove(temp_path);
    return copied;
  }
  (void)file_system_->Remove(open_path);
  (void)file_system_->SyncDirectory(DirOf(final_path));
  Log(LogLevel::kInfo, "store: recovered " + std::to_string(rows) + " flows of " + open_path +
                           " left open by the last run, sealed as " + final_path);
  std::lock_guard lock(stats_mu_);
  ++stats_.recovered_segments;
  stats_.recovered_flows += rows;
  return OkStatus();
}

std::unique_ptr<flow::FlowSink> StoreWriter::MakeSink() { return std::make_unique<QueueSink>(*this); }

void StoreWriter::Start() {
  if (started_) {
    return;
  }
  started_ = true;
  const UnixMillis now = clock_->NowMillis();
  for (std::size_t lane_idx = 0; lane_idx < lanes_.size(); ++lane_idx) {
    Lane& lane = *lanes_[lane_idx];
    lane.slot_start = SlotStart(now, options_.rotation_minutes);
    lane.next_flush = now + options_.flush_interval_ms;
    lane.thread = std::thread([this, &lane, lane_idx] {
      SetCurrentThreadName("store-writer-" + std::to_string(lane_idx));
      WriterLoop(lane);
    });
  }
  sealer_thread_ = std::thread([this] {
    SetCurrentThreadName("store-sealer");
    SealerLoop();
  });
}

Status StoreWriter::Close() {
  if (closed_) {
    return OkStatus();
  }
  closed_ = true;
  if (!started_) {
    return OkStatus();
  }
  {
    std::lock_guard lock(queue_mu_);
    closing_ = true;
  }
  queue_has_work_.notify_all();
  for (const std::unique_ptr<Lane>& lane : lanes_) {
    lane->thread.join();
  }
  {
    std::lock_guard lock(sealer_mu_);
    sealer_stop_ = true;
  }
  sealer_has_work_.notify_all();
  sealer_thread_.join();
  std::lock_guard lock(sealer_mu_);
  return seal_status_;
}

StoreWriterStats StoreWriter::Stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

StoreWriteLatency StoreWriter::WriteLatency() const {
  return StoreWriteLatency{append_latency_.Snapshot(), flush_latency_.Snapshot(),
                           seal_latency_.Snapshot()};
}

namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void StoreWriter::Enqueue(flow::FlowBatch& batch) {
  if (batch.empty()) {
    return;
  }
  std::unique_lock lock(queue_mu_);
  if (free_.empty()) {
    {
      std::lock_guard stats_lock(stats_mu_);
      ++stats_.queue_waits;
    }
    queue_has_work_.notify_one();
    queue_has_free_.wait(lock, [this] { return !free_.empty(); });
  }
  std::unique_ptr<flow::FlowBatch> slot = std::move(free_.back());
  free_.pop_back();
  std::swap(*slot, batch);  // the worker goes on with the pool's empty batch
  full_.push_back(std::move(slot));
  const std::size_t wake_at = std::min(kWakeBatches, options_.queue_batches / 2);
  const std::size_t queued = full_.size();
  const bool starved = free_.empty();
  lock.unlock();
  if (starved || queued >= 2 * wake_at) {
    queue_has_work_.notify_all();  // every writer thread: they are falling behind
  } else if (queued >= wake_at) {
    queue_has_work_.notify_one();
  }
}

void StoreWriter::WriterLoop(Lane& lane) {
  for (;;) {
    std::unique_ptr<flow::FlowBatch> batch;
    bool stop = false;
    {
      std::unique_lock lock(queue_mu_);
      if (full_.empty() && !closing_) {
        queue_has_work_.wait_for(lock, kIdleWake, [this] { return !full_.empty() || closing_; });
      }
      if (!full_.empty()) {
        batch = std::move(full_.front());
        full_.pop_front();
        // Clustering takes a third more of the writer's CPU (docs/BENCHMARKS.md): only
        // while the writer keeps up; behind, blocks are written in arrival order.
        lane.cluster = full_.size() * kClusterQueueShare < options_.queue_batches;
      } else {
        stop = closing_;
      }
    }
    const UnixMillis now = clock_->NowMillis();
    if (SlotStart(now, options_.rotation_minutes) != lane.slot_start) {
      Rotate(lane, now);
    }
    if (lane.disk_full_since != 0 && now >= lane.next_retry) {
      RetryAfterDiskFull(lane, now);
    }
    if (batch != nullptr) {
      WriteBatch(lane, *batch);
      batch->Clear();
      {
        std::lock_guard lock(queue_mu_);
        free_.push_back(std::move(batch));
      }
      queue_has_free_.notify_one();
    }
    if (now >= lane.next_flush) {
      FlushAll(lane, now);
    }
    if (stop) {
      break;
    }
  }
  for (Source& source : lane.sources) {
    if (source.open != nullptr) {
      HandToSealer(std::move(source.open));
    }
  }
}

std::size_t StoreWriter::SourceIndexOf(const flow::IpAddress& exporter) {
  const auto found = source_of_exporter_.find(exporter);
  return found == source_of_exporter_.end() ? 0 : found->second;
}

void StoreWriter::WriteBatch(Lane& lane, flow::FlowBatch& batch) {
  const UnixMillis now = clock_->NowMillis();
  {
    std::lock_guard lock(stats_mu_);
    stats_.flows_received += batch.size();
  }
  if (lane.disk_full_since != 0) {
    std::lock_guard lock(stats_mu_);
    stats_.flows_not_written += batch.size();
    return;
  }
  if (source_of_exporter_.empty()) {
    AppendRows(lane, lane.sources[0], batch, now);
    return;
  }
  // Which sources the batch holds, one lookup per run of equal exporters.
  const flow::FlowColumns& cols = batch.cols();
  std::vector<std::uint8_t>& present = lane.present;
  present.assign(lane.sources.size(), 0);
  std::size_t single = SourceIndexOf(cols.exporter[0]);
  bool mixed = false;
  for (std::size_t row = 0; row < batch.size(); ++row) {
    if (row > 0 && cols.exporter[row] == cols.exporter[row - 1]) {
      continue;
    }
    const std::size_t source_idx = SourceIndexOf(cols.exporter[row]);
    present[source_idx] = 1;
    mixed |= source_idx != single;
  }
  if (!mixed) {
    AppendRows(lane, lane.sources[single], batch, now);
    return;
  }
  for (std::size_t source_idx = 0; source_idx < lane.sources.size(); ++source_idx) {
    if (present[source_idx] == 0) {
      continue;
    }
    lane.split.Clear();
    for (std::size_t row = 0; row < batch.size(); ++row) {
      if (SourceIndexOf(cols.exporter[row]) == source_idx) {
        lane.split.AppendCopyOf(batch, row);
      }
    }
    AppendRows(lane, lane.sources[source_idx], lane.split, now);
  }
  lane.split.Clear();
}

void StoreWriter::AppendRows(Lane& lane, Source& source, const flow::FlowBatch& batch,
                             UnixMillis now) {
  if (lane.disk_full_since != 0) {
    std::lock_guard lock(stats_mu_);
    stats_.flows_not_written += batch.size();
    return;
  }
  OpenSegment* segment = SegmentFor(lane, source, now);
  if (segment == nullptr) {
    std::lock_guard lock(stats_mu_);
    stats_.flows_not_written += batch.size();
    return;
  }
  SegmentWriter& writer = *segment->writer;
  writer.SetClustering(lane.cluster);
  const std::uint64_t before = writer.row_count();
  const auto started = std::chrono::steady_clock::now();
  const Status appended = writer.Append(batch);
  append_latency_.Observe(SecondsSince(started));
  const std::uint64_t taken = writer.row_count() - before;
  {
    std::lock_guard lock(stats_mu_);
    stats_.flows_written += taken;
    stats_.flows_not_written += batch.size() - taken;
    stats_.bytes_written += writer.file_size() - segment->bytes_reported;
  }
  segment->bytes_reported = writer.file_size();
  if (!appended) {
    EnterDiskFull(lane, appended.error(), now);
  }
}

StoreWriter::OpenSegment* StoreWriter::SegmentFor(Lane& lane, Source& source, UnixMillis now) {
  if (source.open != nullptr) {
    return source.open.get();
  }
  const std::string dir = DetailDayDir(options_.data_dir, source.name, lane.slot_start);
  if (Status made = file_system_->CreateDirectories(dir); !made) {
    EnterDiskFull(lane, made.error(), now);
    return nullptr;
  }
  // Lanes pick the first free index of the slot; choosing and creating under one lock
  // keeps two lanes off the same name.
  std::unique_lock create_lock(create_mu_);
  std::uint32_t index = 0;
  std::string final_path;
  for (;; ++index) {
    final_path = DetailSegmentPath(options_.data_dir, source.name, lane.slot_start, index);
    if (!Exists(final_path) && !Exists(OpenPathFor(final_path))) {
      break;
    }
  }
  auto segment = std::make_unique<OpenSegment>();
  segment->final_path = final_path;
  segment->open_path = OpenPathFor(final_path);
  Result<std::unique_ptr<SegmentWriter>> writer =
      SegmentWriter::Create(segment->open_path, options_.segment);
  create_lock.unlock();
  if (!writer) {
    (void)file_system_->Remove(segment->open_path);
    EnterDiskFull(lane, writer.error(), now);
    return nullptr;
  }
  segment->writer = std::move(*writer);
  source.open = std::move(segment);
  std::lock_guard lock(stats_mu_);
  ++stats_.open_segments;
  return source.open.get();
}

void StoreWriter::Rotate(Lane& lane, UnixMillis now) {
  for (Source& source : lane.sources) {
    if (source.open != nullptr) {
      HandToSealer(std::move(source.open));
    }
  }
  lane.slot_start = SlotStart(now, options_.rotation_minutes);
}

void StoreWriter::FlushAll(Lane& lane, UnixMillis now) {
  lane.next_flush = now + options_.flush_interval_ms;
  if (lane.disk_full_since != 0) {
    return;
  }
  for (Source& source : lane.sources) {
    if (source.open == nullptr) {
      continue;
    }
    OpenSegment& segment = *source.open;
    const auto started = std::chrono::steady_clock::now();
    const Status flushed = segment.writer->Flush();
    flush_latency_.Observe(SecondsSince(started));
    {
      std::lock_guard lock(stats_mu_);
      stats_.bytes_written += segment.writer->file_size() - segment.bytes_reported;
    }
    segment.bytes_reported = segment.writer->file_size();
    if (!flushed) {
      EnterDiskFull(lane, flushed.error(), now);
      return;
    }
  }
}

void StoreWriter::EnterDiskFull(Lane& lane, const Error& error, UnixMillis now) {
  const bool no_space = error.Code() == ErrorCode::kNoSpace;
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.write_errors;
    stats_.disk_full = no_space;
  }
  if (lane.disk_full_since == 0) {
    lane.disk_full_since = now;
  }
  lane.next_retry = now + kRetryIntervalMs;
  if (lane.last_full_log == 0 || now - lane.last_full_log >= kStallLogIntervalMs) {
    lane.last_full_log = now;
    Log(LogLevel::kError, std::string("store: ") +
                              (no_space ? "disk full, not writing flows (counted as "
                                          "not_written) until space returns: "
                                        : "write failed, not writing flows until it works "
                                          "again: ") +
                              std::string(error.Message()));
  }
  // A segment whose file can no longer be trusted (a failed sync or truncate) is left
  // open for recovery at the next start; writing goes on in a new one.
  for (Source& source : lane.sources) {
    if (source.open != nullptr && source.open->writer->failed()) {
      Log(LogLevel::kError, "store: abandoning " + source.open->open_path +
                                " (recovered at the next start)");
      source.open.reset();
      std::lock_guard lock(stats_mu_);
      ++stats_.seal_errors;
      --stats_.open_segments;
    }
  }
}

void StoreWriter::RetryAfterDiskFull(Lane& lane, UnixMillis now) {
  for (Source& source : lane.sources) {
    if (source.open == nullptr) {
      continue;
    }
    // Writes the block the full disk refused, if any.
    const Status flushed = source.open->writer->Flush();
    if (!flushed) {
      lane.next_retry = now + kRetryIntervalMs;
      if (source.open->writer->failed()) {
        EnterDiskFull(lane, flushed.error(), now);
      }
      return;
    }
  }
  std::uint64_t not_written = 0;
  {
    std::lock_guard lock(stats_mu_);
    stats_.disk_full = false;
    not_written = stats_.flows_not_written;
  }
  Log(LogLevel::kInfo, "store: writing again after " +
                           std::to_string((now - lane.disk_full_since) / 1000) + " s; " +
                           std::to_string(not_written - lane.not_written_at_last_log) +
                           " flows could not be written meanwhile");
  lane.not_written_at_last_log = not_written;
  lane.disk_full_since = 0;
  lane.last_full_log = 0;
}

void StoreWriter::HandToSealer(std::unique_ptr<OpenSegment> segment) {
  {
    std::lock_guard lock(sealer_mu_);
    to_seal_.push_back(std::move(segment));
  }
  sealer_has_work_.notify_one();
}

Status StoreWriter::Seal(OpenSegment& segment) {
  const auto started = std::chrono::steady_clock::now();
  if (Status finished = segment.writer->Finish(); !finished) {
    return finished;
  }
  if (Status renamed = file_system_->Rename(segment.open_path, segment.final_path); !renamed) {
    return renamed;
  }
  Status synced = file_system_->SyncDirectory(DirOf(segment.final_path));
  if (synced) {
    seal_latency_.Observe(SecondsSince(started));
  }
  return synced;
}

void StoreWriter::SealerLoop() {
  std::vector<std::unique_ptr<OpenSegment>> retry;  // refused by a full disk
  for (;;) {
    std::unique_ptr<OpenSegment> segment;
    bool stop = false;
    {
      std::unique_lock lock(sealer_mu_);
      sealer_has_work_.wait_for(lock, std::chrono::milliseconds(kRetryIntervalMs),
                                [this] { return !to_seal_.empty() || sealer_stop_; });
      if (!to_seal_.empty()) {
        segment = std::move(to_seal_.front());
        to_seal_.pop_front();
      } else {
        stop = sealer_stop_;
      }
    }
    if (segment != nullptr) {
      retry.push_back(std::move(segment));
    }
    for (auto it = retry.begin(); it != retry.end();) {
      OpenSegment& pending = **it;
      const Status sealed = Seal(pending);
      const bool give_up = stop || pending.writer->failed() || sealed;
      {
        std::lock_guard lock(stats_mu_);
        stats_.bytes_written += pending.writer->file_size() - pending.bytes_reported;
        pending.bytes_reported = pending.writer->file_size();
        if (sealed) {
          ++stats_.segments_sealed;
        } else if (give_up) {
          ++stats_.seal_errors;
        }
        if (give_up) {
          --stats_.open_segments;
        }
      }
      if (!sealed && give_up) {
        Log(LogLevel::kError, "store: cannot seal " + pending.open_path + ": " +
                                  std::string(sealed.error().Message()) +
                                  " (left open; recovered at the next start)");
        std::lock_guard lock(sealer_mu_);
        if (seal_status_) {
          seal_status_ = sealed;
        }
      }
      it = give_up ? retry.erase(it) : it + 1;
    }
    if (stop && retry.empty()) {
      std::lock_guard lock(sealer_mu_);
      if (to_seal_.empty()) {
        break;
      }
    }
  }
}

}  // namespace sluice::store
