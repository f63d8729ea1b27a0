// SPDX-License-Identifier: Apache-2.0
// DecodeWorkers: the decode stage of the ingest pipeline. N worker threads, each with its
// own decode::Decoder, BatchWriter and FlowSink, fed by bounded DatagramRings.
//
// Every exporter is pinned to one worker (a hash of its address), so a Decoder owns its
// exporters' templates and sequence state without locks, and one exporter's datagrams
// are decoded in the order they were received. Each producer (receive thread) has its
// own ring to each worker, so every ring has one producer and one consumer.
//
// Producers never wait here: a datagram whose ring is full is refused, and dropped and
// counted (dropped_queue_full) unless the producer tries again.
//
// Wake-ups are few, because each costs a context switch (dear on a virtual machine). A
// worker whose rings run empty keeps its partial FlowBatch and naps for up to
// kBatchHoldMs (decode_workers.cc) while datagrams gather; a producer's Publish() wakes
// it early only when a ring is a quarter full. Once the hold is over the partial batch
// goes to the sink, and a worker with nothing at all to do sleeps until the next
// Publish(). So at a low rate a worker wakes a few dozen times a second, not once per
// datagram, and hands its sink a few batches a second; a flow reaches the sink at most
// kBatchHoldMs after it was taken off the ring.

#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "decode/decoder.h"
#include "decode/exporter_report.h"
#include "flow/datagram.h"
#include "flow/flow_sink.h"
#include "ingest/datagram_ring.h"
#include "net/udp_receiver.h"

namespace sluice::ingest {

// Makes the sink of worker `worker_idx`; called once per worker, on the constructing
// thread. The sink is then used by that worker's thread only. This is where a store
// writer (or anything else that consumes FlowBatches) attaches to the pipeline.
using SinkFactory = std::function<std::unique_ptr<flow::FlowSink>(std::size_t worker_idx)>;

struct DecodeWorkersOptions {
  std::size_t workers = 1;                          // decode threads
  std::size_t producers = 1;                        // threads that call Push()/Publish()
  std::size_t queue_bytes = std::size_t{16} << 20;  // per (producer, worker) ring
  decode::DecoderOptions decoder;
};

// Totals over all workers and producers; monotonic.
struct DecodeStats {
  std::uint64_t datagrams_queued = 0;    // accepted by Push()
  std::uint64_t dropped_queue_full = 0;  // refused by Push(): the worker's ring was full
  std::uint64_t datagrams_decoded = 0;   // taken off the rings and decoded
  std::uint64_t records = 0;             // flow records decoded and handed to the sinks
  std::uint64_t decode_errors = 0;       // datagrams that stopped with a decode error
};

// Ownership: owns the threads, rings, decoders and sinks. Thread-safety: Push() and
// Publish() for producer p from one thread at a time; Start/Stop from one control thread;
// Stats() from any thread.
class DecodeWorkers {
 public:
  DecodeWorkers(DecodeWorkersOptions options, const SinkFactory& make_sink, const Clock& clock);
  ~DecodeWorkers();

  DecodeWorkers(const DecodeWorkers&) = delete;
  DecodeWorkers& operator=(const DecodeWorkers&) = delete;

  void Start();

  // Decodes whatever is queued, flushes every sink and joins the threads. The producers
  // must have stopped pushing. Idempotent.
  void Stop();

  std::size_t worker_count() const { return workers_.size(); }

  // The worker that owns `exporter`.
  std::size_t WorkerFor(const flow::IpAddress& exporter) const;

  // Copies `datagram` into the ring from `producer_idx` to its exporter's worker.
  // Returns false (and counts it) if that ring is full. Never blocks.
  bool Push(std::size_t producer_idx, const flow::Datagram& datagram);

  // Push() that does not count a refusal: the caller may try again, or give up and
  // CountRefused().
  bool TryPush(std::size_t producer_idx, const flow::Datagram& datagram);

  // Counts `count` datagrams of `producer_idx` that were refused for good.
  void CountRefused(std::size_t producer_idx, std::uint64_t count);

  // Makes the datagrams pushed by `producer_idx` visible and wakes their workers.
  void Publish(std::size_t producer_idx);

  DecodeStats Stats() const;

  // After Stop(): the decoder of worker `worker_idx` (exporter tables for reports).
  const decode::Decoder& decoder(std::size_t worker_idx) const;

  // Restores saved decoder state (decode/decoder_state.h), each exporter into the worker
  // it is pinned to. REQUIRES: Start() has not been called.
  Status RestoreDecoderState(std::span<const std::uint8_t> state_file);

  // Asks every worker to publish a snapshot of its decoder (state and exporter reports)
  // if it changed since the last one. Workers also publish one every 10 s while busy.
  void RequestSnapshots();

  // The decoder state file of every worker: while running, from the last snapshots the
  // workers published; after Stop(), from the decoders themselves.
  std::string DecoderStateFile() const;

  // Per-exporter JSON reports (decode/exporter_json.h), from the same snapshots.
  std::vector<std::string> ExporterReports() const;

  // The same reports as plain structs (decode/exporter_report.h), for /metrics and the API.
  std::vector<decode::ExporterReport> ExporterSnapshots() const;

 private:
  struct Worker;

  struct alignas(64) Producer {
    std::uint64_t dirty_workers = 0;  // bit per worker (mod 64) pushed to since Publish()
    net::RelaxedCounter queued;
    net::RelaxedCounter queue_full;
  };

  void Run(Worker& worker);
  // Whether a worker about to sleep in `state` should look at its rings again instead.
  static bool WakeWanted(const Worker& worker, std::uint32_t state);
  // Sleeps in `state` until rung (the doorbell moved on from `bell`) or `timeout`.
  static void Sleep(Worker& worker, std::uint32_t state, std::uint32_t bell,
                    std::chrono::nanoseconds timeout);
  static void TakeSnapshot(Worker& worker);

  DecodeWorkersOptions options_;
  const Clock* clock_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Producer>> producers_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint32_t> snapshot_requests_{0};
  bool started_ = false;
};

// The per-worker state; defined here so decoder() can be inline.
struct DecodeWorkers::Worker {
  Worker(const decode::DecoderOptions& decoder_options, std::unique_ptr<flow::FlowSink> worker_sink)
      : decoder(decoder_options), sink(std::move(worker_sink)), writer(*sink) {}

  decode::Decoder decoder;
  std::unique_ptr<flow::FlowSink> sink;
  flow::BatchWriter writer;
  std::vector<std::unique_ptr<DatagramRing>> rings;  // one per producer
  // What the worker is doing, for producers to decide whether to ring (decode_workers.cc).
  enum : std::uint32_t { kAwake = 0, kNapping = 1, kAsleep = 2 };
  alignas(64) std::atomic<std::uint32_t> doorbell{0};  // a futex word: changed, then woken
  std::atomic<std::uint32_t> sleep_state{kAwake};
  alignas(64) net::RelaxedCounter datagrams;
  net::RelaxedCounter records;
  net::RelaxedCounter errors;
  std::thread thread;

  // What the worker publishes of its decoder for other threads: written by the worker
  // thread now and then (TakeSnapshot), read by DecoderStateFile()/ExporterReports().
  mutable std::mutex snapshot_mu;
  std::string state_body;                                // guarded by snapshot_mu
  std::uint32_t state_exporters = 0;                     // guarded by snapshot_mu
  std::vector<std::string> exporter_json;                // guarded by snapshot_mu
  std::vector<decode::ExporterReport> exporter_reports;  // guarded by snapshot_mu
};

inline const decode::Decoder& DecodeWorkers::decoder(std::size_t worker_idx) const {
  return workers_[worker_idx]->decoder;
}

// A FlowSink that only counts (the default until a store is attached).
class CountingSink final : public flow::FlowSink {
 public:
  void Consume(flow::FlowBatch& batch) override { records_.Add(batch.size()); }

  std::uint64_t records() const { return records_.Get(); }

 private:
  net::RelaxedCounter records_;
};

}  // namespace sluice::ingest
