// SPDX-License-Identifier: Apache-2.0
// StoreWriter: keeps every flow the decode workers produce, in rotation-slot segments
// under the data directory (store/layout.h).
//
//   decode worker --(FlowBatch, swapped, not copied)--> bounded queue --> writer thread
//   writer thread: appends to the open segment of each source, seals a block whenever
//                  one fills, flushes partial blocks every flush interval, and at each
//                  slot boundary hands the open segments to the sealer
//   sealer thread: writes each footer, fsyncs, renames *.seg.open to *.seg and fsyncs
//                  the directory, so the writer never waits on a sync
//
// Receiving never waits on writing: a decode worker waits for a free batch only while
// the writer is behind, and the receive threads keep filling the workers' rings (a full
// ring is counted, never blocks). A full disk stops appending: flows are counted as not
// written and the writer retries every second, resuming by itself when space returns;
// a block that could not be written is cut back off the file, so no segment is ever
// left corrupt. At start, segments left open by a crash are recovered: every complete
// block is kept and the segment sealed.

#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/latency_histogram.h"
#include "common/result.h"
#include "flow/flow_batch.h"
#include "flow/flow_sink.h"
#include "flow/ip_address.h"
#include "store/block_workspace.h"
#include "store/file_system.h"
#include "store/segment_writer.h"

namespace sluice::store {

struct StoreWriterOptions {
  std::string data_dir = "data";
  int rotation_minutes = 5;         // 1..60
  UnixMillis flush_interval_ms = 5000;
  SegmentWriterOptions segment;     // compression, block size (sync is managed here)
  std::size_t queue_batches = 512;  // FlowBatches in flight to the writer threads (>= 2)
  // Whether the queue's batches are written once at start (FlowBatch::TouchPages()), so
  // that the first backlog under load does not also pay a page fault per page of every
  // batch it reaches (queue_batches x ~290 KiB resident from the start).
  bool touch_queue_pages = false;
  // Writer threads ("lanes"), 1..16. Each writes its own segment of every slot (HHMM.seg,
  // HHMM-1.seg, ...), so encoding and compression can use more than one core.
  std::size_t writer_threads = 1;
  // Exporter -> source name; exporters not listed go to the "default" source.
  std::vector<std::pair<flow::IpAddress, std::string>> sources;
};

// Counters since Open(); monotonic except where noted.
struct StoreWriterStats {
  std::uint64_t flows_received = 0;      // handed to the writer by the decode workers
  std::uint64_t flows_written = 0;       // appended to a segment
  std::uint64_t flows_not_written = 0;   // dropped: disk full or a write error
  std::uint64_t segments_sealed = 0;
  std::uint64_t seal_errors = 0;         // segments left open (recovered at next start)
  std::uint64_t write_errors = 0;        // failed appends, flushes, creates
  std::uint64_t recovered_segments = 0;  // open segments of a crash, sealed at start
  std::uint64_t recovered_flows = 0;
  std::uint64_t bytes_written = 0;       // file bytes of the segments (sealed + open)
  std::uint64_t open_segments = 0;       // now (not monotonic)
  bool disk_full = false;                // now (not monotonic)
  std::uint64_t queue_waits = 0;         // times a decode worker waited for the writer

  // {"flows_received":...,...} on one line, without a newline.
  std::string ToJson() const;
  // "stored=... not_written=... ..." for the log.
  std::string ToLogLine() const;
};

// How long the writer's disk work takes: appending a batch (encoding and writing the
// blocks it completes), flushing the open segments, sealing one (footer, fsync, rename).
struct StoreWriteLatency {
  HistogramSnapshot append;
  HistogramSnapshot flush;
  HistogramSnapshot seal;
};

// Ownership: owns its threads, the queue and the open segments; `file_system` and `clock`
// must outlive it. Thread-safety: sinks from MakeSink() may be used from any one thread
// each; Start/Close from one control thread; Stats() from any thread.
class StoreWriter {
 public:
  // Validates the options, creates the data directory, removes leftover temporary files
  // and recovers segments left open by an earlier run.
  static Result<std::unique_ptr<StoreWriter>> Open(StoreWriterOptions options,
                                                   FileSystem& file_system, const Clock& clock);

  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // A sink that hands batches to the writer thread. Make one per decode worker.
  std::unique_ptr<flow::FlowSink> MakeSink();

  void Start();

  // Writes everything queued, seals every open segment and joins the threads. The sinks
  // must no longer be fed. Idempotent. Returns the first error of sealing, if any (the
  // segments concerned stay *.seg.open and are recovered at the next start).
  Status Close();

  StoreWriteLatency WriteLatency() const;

  StoreWriterStats Stats() const;

 private:
  class QueueSink;
  struct OpenSegment;
  struct Source;
  struct Lane;

  StoreWriter(StoreWriterOptions options, FileSystem& file_system, const Clock& clock);

  Status RecoverLeftovers();
  Status RecoverOne(const std::string& open_path, const std::string& final_path);

  // Called by QueueSink on a decode worker's thread.
  void Enqueue(flow::FlowBatch& batch);

  void WriterLoop(Lane& lane);
  void SealerLoop();
  void WriteBatch(Lane& lane, flow::FlowBatch& batch);
  void AppendRows(Lane& lane, Source& source, const flow::FlowBatch& batch, UnixMillis now);
  OpenSegment* SegmentFor(Lane& lane, Source& source, UnixMillis now);
  void Rotate(Lane& lane, UnixMillis now);
  void FlushAll(Lane& lane, UnixMillis now);
  void RetryAfterDiskFull(Lane& lane, UnixMillis now);
  void EnterDiskFull(Lane& lane, const Error& error, UnixMillis now);
  void HandToSealer(std::unique_ptr<OpenSegment> segment);
  Status Seal(OpenSegment& segment);
  std::size_t SourceIndexOf(const flow::IpAddress& exporter);

  StoreWriterOptions options_;
  FileSystem* file_system_;
  const Clock* clock_;
  // Block buffers lent to every segment writer (declared before everything that holds a
  // writer, so that it outlives them).
  BlockWorkspacePool workspaces_;

  // Decode workers -> writer thread.
  mutable std::mutex queue_mu_;
  std::condition_variable queue_has_work_;
  std::condition_variable queue_has_free_;
  std::deque<std::unique_ptr<flow::FlowBatch>> full_;   // guarded by queue_mu_
  std::vector<std::unique_ptr<flow::FlowBatch>> free_;  // guarded by queue_mu_
  bool closing_ = false;                               // guarded by queue_mu_

  // Writer thread -> sealer thread.
  std::mutex sealer_mu_;
  std::condition_variable sealer_has_work_;
  std::deque<std::unique_ptr<OpenSegment>> to_seal_;  // guarded by sealer_mu_
  bool sealer_stop_ = false;                          // guarded by sealer_mu_
  Status seal_status_;                                // guarded by sealer_mu_

  // Exporter -> index into every lane's sources (0: the default source). Read-only once
  // constructed.
  std::unordered_map<flow::IpAddress, std::size_t, flow::IpAddressHash> source_of_exporter_;
  std::vector<std::unique_ptr<Lane>> lanes_;  // each used by its own thread only
  std::mutex create_mu_;                       // choosing a new segment's name

  mutable std::mutex stats_mu_;
  StoreWriterStats stats_;  // guarded by stats_mu_
  LatencyHistogram append_latency_;
  LatencyHistogram flush_latency_;
  LatencyHistogram seal_latency_;

  std::thread sealer_thread_;
  bool started_ = false;
  bool closed_ = false;
};

}  // namespace sluice::store
