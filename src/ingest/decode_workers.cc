// SPDX-License-Identifier: Apache-2.0

#include "ingest/decode_workers.h"

#include <chrono>
#include <string>
#include <utility>

#include "common/check.h"
#include "common/futex.h"
#include "common/thread_name.h"
#include "decode/decoder_state.h"
#include "decode/exporter_json.h"

namespace sluice::ingest {
namespace {

// Datagrams a worker takes from one ring before looking at the next (fairness).
constexpr std::size_t kDrainChunk = 256;
// How often a busy worker expires old templates and publishes a snapshot of its state.
constexpr UnixMillis kExpireEveryMs = 10'000;
// How long a worker whose rings ran empty keeps a partial batch (napping meanwhile)
// before handing it to its sink.
constexpr auto kBatchHoldMs = std::chrono::milliseconds(20);
// While a worker naps, a producer wakes it only once a ring holds this share of its bytes.
constexpr std::uint64_t kNapWakeShare = 4;  // a quarter

// Whether `ring` holds enough to end a worker's nap early.
bool EndsANap(const DatagramRing& ring) {
  return ring.PublishedBytes() >= ring.capacity_bytes() / kNapWakeShare;
}

// Wakes `worker` whatever it is doing (a stop, a snapshot request).
void Ring(std::atomic<std::uint32_t>& doorbell) {
  doorbell.fetch_add(1, std::memory_order_release);
  FutexWake(doorbell);
}

}  // namespace

DecodeWorkers::DecodeWorkers(DecodeWorkersOptions options, const SinkFactory& make_sink,
                             const Clock& clock)
    : options_(std::move(options)), clock_(&clock) {
  if (options_.workers == 0) {
    options_.workers = 1;
  }
  if (options_.producers == 0) {
    options_.producers = 1;
  }
  for (std::size_t worker_idx = 0; worker_idx < options_.workers; ++worker_idx) {
    auto sink = make_sink ? make_sink(worker_idx) : nullptr;
    if (!sink) {
      sink = std::make_unique<CountingSink>();
    }
    auto worker = std::make_unique<Worker>(options_.decoder, std::move(sink));
    for (std::size_t producer_idx = 0; producer_idx < options_.producers; ++producer_idx) {
      worker->rings.push_back(std::make_unique<DatagramRing>(options_.queue_bytes));
    }
    workers_.push_back(std::move(worker));
  }
  for (std::size_t producer_idx = 0; producer_idx < options_.producers; ++producer_idx) {
    producers_.push_back(std::make_unique<Producer>());
  }
}

DecodeWorkers::~DecodeWorkers() {
  Stop();
}

void DecodeWorkers::Start() {
  if (started_) {
    return;
  }
  started_ = true;
  for (std::size_t worker_idx = 0; worker_idx < workers_.size(); ++worker_idx) {
    Worker* raw = workers_[worker_idx].get();
    raw->thread = std::thread([this, raw, worker_idx] {
      SetCurrentThreadName("decode-" + std::to_string(worker_idx));
      Run(*raw);
    });
  }
}

void DecodeWorkers::Stop() {
  if (!started_) {
    // Never started: decode what is queued on this thread so nothing is lost silently.
    stopping_.store(true, std::memory_order_release);
    for (auto& worker : workers_) {
      Run(*worker);
    }
    started_ = true;
    return;
  }
  if (stopping_.exchange(true, std::memory_order_acq_rel)) {
    for (auto& worker : workers_) {
      if (worker->thread.joinable()) {
        worker->thread.join();
      }
    }
    return;
  }
  for (auto& worker : workers_) {
    Ring(worker->doorbell);
  }
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) {
      worker->thread.join();
    }
  }
}

std::size_t DecodeWorkers::WorkerFor(const flow::IpAddress& exporter) const {
  const std::uint64_t hash = flow::IpAddressHash{}(exporter);
  // Multiply-shift spreads the hash over the workers without a division's bias.
  return static_cast<std::size_t>(((hash >> 32) * workers_.size()) >> 32);
}

bool DecodeWorkers::Push(std::size_t producer_idx, const flow::Datagram& datagram) {
  if (!TryPush(producer_idx, datagram)) {
    CountRefused(producer_idx, 1);
    return false;
  }
  return true;
}

bool DecodeWorkers::TryPush(std::size_t producer_idx, const flow::Datagram& datagram) {
  SLUICE_DCHECK(producer_idx < producers_.size(), "producer index out of range");
  Producer& producer = *producers_[producer_idx];
  const std::size_t worker_idx = WorkerFor(datagram.exporter);
  if (!workers_[worker_idx]->rings[producer_idx]->TryPush(datagram)) {
    return false;
  }
  producer.queued.Add(1);
  producer.dirty_workers |= std::uint64_t{1} << (worker_idx % 64);
  return true;
}

void DecodeWorkers::CountRefused(std::size_t producer_idx, std::uint64_t count) {
  SLUICE_DCHECK(producer_idx < producers_.size(), "producer index out of range");
  producers_[producer_idx]->queue_full.Add(count);
}

void DecodeWorkers::Publish(std::size_t producer_idx) {
  Producer& producer = *producers_[producer_idx];
  if (producer.dirty_workers == 0) {
    return;
  }
  for (std::size_t worker_idx = 0; worker_idx < workers_.size(); ++worker_idx) {
    if ((producer.dirty_workers & (std::uint64_t{1} << (worker_idx % 64))) == 0) {
      continue;
    }
    Worker& worker = *workers_[worker_idx];
    DatagramRing& ring = *worker.rings[producer_idx];
    ring.Publish();
    // Pairs with the fence in Sleep(): either the worker sees what was published, or this
    // sees the state it set before it looked (so a sleeping worker is always woken).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::uint32_t state = worker.sleep_state.load(std::memory_order_relaxed);
    if (state == Worker::kAsleep || (state == Worker::kNapping && EndsANap(ring))) {
      Ring(worker.doorbell);
    }
  }
  producer.dirty_workers = 0;
}

void DecodeWorkers::TakeSnapshot(Worker& worker) {
  std::string body;
  std::uint32_t count = 0;
  decode::AppendExporterStates(worker.decoder, body, count);
  std::vector<std::string> reports;
  std::vector<decode::ExporterReport> structured;
  worker.decoder.exporters().ForEach([&](const decode::ExporterState& exporter) {
    reports.emplace_back();
    decode::AppendExporterJson(exporter, reports.back());
    structured.push_back(decode::MakeExporterReport(exporter));
  });
  const std::lock_guard<std::mutex> lock(worker.snapshot_mu);
  worker.state_body = std::move(body);
  worker.state_exporters = count;
  worker.exporter_json = std::move(reports);
  worker.exporter_reports = std::move(structured);
}

void DecodeWorkers::RequestSnapshots() {
  snapshot_requests_.fetch_add(1, std::memory_order_release);
  for (auto& worker : workers_) {
    Ring(worker->doorbell);
  }
}

Status DecodeWorkers::RestoreDecoderState(std::span<const std::uint8_t> state_file) {
  SLUICE_CHECK(!started_, "decoder state is restored before the workers start");
  return decode::RestoreDecoderState(state_file, [this](const flow::IpAddress& exporter) -> decode::Decoder& {
    return workers_[WorkerFor(exporter)]->decoder;
  });
}

std::string DecodeWorkers::DecoderStateFile() const {
  std::string body;
  std::uint32_t count = 0;
  const bool running = started_ && !stopping_.load(std::memory_order_acquire);
  for (const auto& worker : workers_) {
    if (running) {
      const std::lock_guard<std::mutex> lock(worker->snapshot_mu);
      body += worker->state_body;
      count += worker->state_exporters;
    } else {
      decode::AppendExporterStates(worker->decoder, body, count);
    }
  }
  return decode::MakeStateFile(body, count);
}

std::vector<std::string> DecodeWorkers::ExporterReports() const {
  std::vector<std::string> reports;
  const bool running = started_ && !stopping_.load(std::memory_order_acquire);
  for (const auto& worker : workers_) {
    if (running) {
      const std::lock_guard<std::mutex> lock(worker->snapshot_mu);
      reports.insert(reports.end(), worker->exporter_json.begin(), worker->exporter_json.end());
    } else {
      worker->decoder.exporters().ForEach([&reports](const decode::ExporterState& exporter) {
        reports.emplace_back();
        decode::AppendExporterJson(exporter, reports.back());
      });
    }
  }
  return reports;
}

std::vector<decode::ExporterReport> DecodeWorkers::ExporterSnapshots() const {
  std::vector<decode::ExporterReport> reports;
  const bool running = started_ && !stopping_.load(std::memory_order_acquire);
  for (const auto& worker : workers_) {
    if (running) {
      const std::lock_guard<std::mutex> lock(worker->snapshot_mu);
      reports.insert(reports.end(), worker->exporter_reports.begin(),
                     worker->exporter_reports.end());
    } else {
      worker->decoder.exporters().ForEach([&reports](const decode::ExporterState& exporter) {
        reports.push_back(decode::MakeExporterReport(exporter));
      });
    }
  }
  return reports;
}

void DecodeWorkers::Run(Worker& worker) {
  UnixMillis last_expiry = clock_->NowMillis();
  std::uint32_t snapshot_requests_seen = 0;
  // Starts non-zero so that the first request publishes state restored from a file.
  std::uint64_t decoded_since_snapshot = 1;
  std::uint64_t datagrams = 0;
  std::uint64_t records = 0;
  std::uint64_t errors = 0;
  bool holding = false;  // a partial batch waits for more rows until hold_until
  std::chrono::steady_clock::time_point hold_until{};
  auto decode_one = [&](const flow::Datagram& datagram) {
    const decode::DecodeOutcome outcome = worker.decoder.Decode(datagram, worker.writer);
    ++datagrams;
    records += outcome.records;
    if (outcome.error) {
      ++errors;
    }
  };
  for (;;) {
    const std::uint32_t bell = worker.doorbell.load(std::memory_order_acquire);
    const bool stopping = stopping_.load(std::memory_order_acquire);
    std::size_t drained = 0;
    for (auto& ring : worker.rings) {
      drained += ring->Drain(decode_one, kDrainChunk);
    }
    const UnixMillis now = clock_->NowMillis();
    decoded_since_snapshot += drained;
    if (now - last_expiry >= kExpireEveryMs) {
      worker.decoder.ExpireTemplates(now);
      last_expiry = now;
      TakeSnapshot(worker);
      decoded_since_snapshot = 0;
    }
    const std::uint32_t requests = snapshot_requests_.load(std::memory_order_acquire);
    if (requests != snapshot_requests_seen) {
      snapshot_requests_seen = requests;
      if (decoded_since_snapshot != 0) {
        TakeSnapshot(worker);
        decoded_since_snapshot = 0;
      }
    }
    if (drained != 0) {
      worker.datagrams.Add(datagrams);
      worker.records.Add(records);
      worker.errors.Add(errors);
      datagrams = records = errors = 0;
      if (!holding && !worker.writer.batch().empty()) {
        holding = true;
        hold_until = std::chrono::steady_clock::now() + kBatchHoldMs;
      }
      continue;
    }
    // The rings are empty. A partial batch is kept while the hold lasts, so that a slow
    // trickle of datagrams is decoded a few times a second, not once each.
    if (holding && !stopping) {
      const auto left = hold_until - std::chrono::steady_clock::now();
      if (left > std::chrono::nanoseconds::zero()) {
        Sleep(worker, Worker::kNapping, bell, left);
        continue;
      }
    }
    holding = false;
    worker.writer.Flush();
    if (stopping) {
      // `stopping` was read before draining, so everything published before Stop() is done.
      return;
    }
    Sleep(worker, Worker::kAsleep, bell, std::chrono::nanoseconds(-1));
  }
}

bool DecodeWorkers::WakeWanted(const Worker& worker, std::uint32_t state) {
  for (const auto& ring : worker.rings) {
    if (state == Worker::kAsleep ? ring->PublishedBytes() != 0 : EndsANap(*ring)) {
      return true;
    }
  }
  return false;
}

void DecodeWorkers::Sleep(Worker& worker, std::uint32_t state, std::uint32_t bell,
                          std::chrono::nanoseconds timeout) {
  worker.sleep_state.store(state, std::memory_order_relaxed);
  // Pairs with the fence in Publish() (see there).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!WakeWanted(worker, state)) {
    FutexWait(worker.doorbell, bell, timeout);
  }
  worker.sleep_state.store(Worker::kAwake, std::memory_order_relaxed);
}

DecodeStats DecodeWorkers::Stats() const {
  DecodeStats stats;
  for (const auto& producer : producers_) {
    stats.datagrams_queued += producer->queued.Get();
    stats.dropped_queue_full += producer->queue_full.Get();
  }
  for (const auto& worker : workers_) {
    stats.datagrams_decoded += worker->datagrams.Get();
    stats.records += worker->records.Get();
    stats.decode_errors += worker->errors.Get();
  }
  return stats;
}

}  // namespace sluice::ingest
