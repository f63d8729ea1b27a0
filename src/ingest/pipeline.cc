// SPDX-License-Identifier: Apache-2.0

#include "ingest/pipeline.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include "common/thread_name.h"

namespace sluice::ingest {
namespace {

// How long a receive thread sleeps in poll() before looking at the stop flag.
constexpr int kReceivePollMs = 100;

// Between two tries of a datagram whose ring was full.
constexpr auto kRingRetry = std::chrono::microseconds(100);

// The longest wait after a batch that did not fill, and the rate its socket buffers must
// be able to absorb for that long, twice over: 10 Gbit/s, in bytes per microsecond.
constexpr std::uint64_t kMaxCoalesceUs = 4000;
constexpr std::uint64_t kBurstBytesPerUs = 1250;

// The wait after a batch that did not fill: `configured` (0: none), lengthened up to
// kMaxCoalesceUs as far as the smallest socket buffer of the receiver holds half of a
// 10 Gbit/s burst over it. A longer wait means fewer wake-ups at a low rate (each a
// context switch); a batch that fills is never followed by a wait.
std::chrono::microseconds CoalesceWait(std::uint32_t configured, const net::UdpReceiver& receiver) {
  if (configured == 0) {
    return std::chrono::microseconds(0);
  }
  std::size_t smallest = 0;
  for (const net::UdpSocket& socket : receiver.sockets()) {
    smallest = smallest == 0 ? socket.rcvbuf_effective() : std::min(smallest, socket.rcvbuf_effective());
  }
  const std::uint64_t held_us = smallest / 2 / kBurstBytesPerUs;
  return std::chrono::microseconds(
      std::max<std::uint64_t>(configured, std::min(kMaxCoalesceUs, held_us)));
}

}  // namespace

std::string PipelineStats::ToJson() const {
  std::string out = "{";
  auto add = [&out](const char* name, std::uint64_t value) {
    if (out.size() > 1) {
      out += ',';
    }
    out += '"';
    out += name;
    out += "\":";
    out += std::to_string(value);
  };
  add("datagrams", datagrams);
  add("bytes", bytes);
  add("truncated", truncated);
  add("not_allowed", not_allowed);
  add("kernel_drops", kernel_drops);
  add("receive_errors", receive_errors);
  add("coalesced", coalesced);
  add("dropped_queue_full", dropped_queue_full);
  add("datagrams_decoded", datagrams_decoded);
  add("records", records);
  add("decode_errors", decode_errors);
  out += '}';
  return out;
}

std::string PipelineStats::ToLogLine() const {
  return "datagrams=" + std::to_string(datagrams) + " bytes=" + std::to_string(bytes) +
         " records=" + std::to_string(records) + " decode_errors=" + std::to_string(decode_errors) +
         " kernel_drops=" + std::to_string(kernel_drops) +
         " dropped_queue_full=" + std::to_string(dropped_queue_full) +
         " truncated=" + std::to_string(truncated) + " not_allowed=" + std::to_string(not_allowed) +
         " receive_errors=" + std::to_string(receive_errors) +
         " coalesced=" + std::to_string(coalesced);
}

Pipeline::Pipeline(PipelineOptions options, const SinkFactory& make_sink, const Clock& clock)
    : options_(std::move(options)) {
  if (options_.receive_threads == 0) {
    options_.receive_threads = 1;
  }
  DecodeWorkersOptions worker_options;
  worker_options.workers = options_.decode_threads;
  worker_options.producers = options_.receive_threads;
  worker_options.queue_bytes = options_.queue_bytes;
  worker_options.decoder = options_.decoder;
  workers_ = std::make_unique<DecodeWorkers>(std::move(worker_options), make_sink, clock);
}

Result<std::unique_ptr<Pipeline>> Pipeline::Create(PipelineOptions options,
                                                   const SinkFactory& make_sink,
                                                   const Clock& clock) {
  if (options.listen.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "no address to listen on");
  }
  std::unique_ptr<Pipeline> pipeline(new Pipeline(std::move(options), make_sink, clock));
  const PipelineOptions& opts = pipeline->options_;
  // sockets[r][a]: socket of receive thread r for listen address a.
  std::vector<std::vector<net::UdpSocket>> sockets(opts.receive_threads);
  for (const net::Endpoint& listen : opts.listen) {
    net::UdpSocketOptions socket_options;
    socket_options.local = listen;
    socket_options.rcvbuf_bytes = opts.rcvbuf_bytes;
    socket_options.reuse_port = opts.receive_threads > 1;
    for (std::size_t receiver_idx = 0; receiver_idx < opts.receive_threads; ++receiver_idx) {
      auto socket = net::UdpSocket::Bind(socket_options);
      if (!socket) {
        return tl::unexpected(socket.error());
      }
      // Port 0: the first socket picks the port, the others share it.
      socket_options.local.port = socket->local().port;
      sockets[receiver_idx].push_back(std::move(*socket));
    }
  }
  net::UdpReceiverOptions receiver_options;
  receiver_options.batch_size = opts.batch_size;
  receiver_options.slot_bytes = opts.slot_bytes;
  receiver_options.allow = opts.allow;
  receiver_options.coalesce = opts.receive_offload;
  for (auto& thread_sockets : sockets) {
    pipeline->receivers_.push_back(
        std::make_unique<net::UdpReceiver>(std::move(thread_sockets), receiver_options, clock));
  }
  return pipeline;
}

Pipeline::~Pipeline() {
  Stop();
}

void Pipeline::Start() {
  if (started_) {
    return;
  }
  started_ = true;
  workers_->Start();
  for (std::size_t receiver_idx = 0; receiver_idx < receivers_.size(); ++receiver_idx) {
    threads_.emplace_back([this, receiver_idx] {
      SetCurrentThreadName("receive-" + std::to_string(receiver_idx));
      Receive(receiver_idx);
    });
  }
}

void Pipeline::Receive(std::size_t receiver_idx) {
  net::UdpReceiver& receiver = *receivers_[receiver_idx];
  using SteadyClock = std::chrono::steady_clock;
  const auto ring_wait = std::chrono::microseconds(options_.ring_wait_us);
  SteadyClock::time_point no_wait_until{};
  // Tries a refused datagram again until it fits or the wait runs out.
  auto wait_for_room = [&](const flow::Datagram& datagram) {
    if (ring_wait.count() == 0) {
      return false;
    }
    const SteadyClock::time_point started = SteadyClock::now();
    if (started < no_wait_until) {
      return false;
    }
    workers_->Publish(receiver_idx);  // the worker may be waiting for what is queued
    while (SteadyClock::now() - started < ring_wait) {
      std::this_thread::sleep_for(kRingRetry);
      if (workers_->TryPush(receiver_idx, datagram)) {
        return true;
      }
    }
    no_wait_until = SteadyClock::now() + 10 * ring_wait;
    return false;
  };
  auto forward = [&](std::span<const flow::Datagram> batch) {
    for (const flow::Datagram& datagram : batch) {
      if (!workers_->TryPush(receiver_idx, datagram) && !wait_for_room(datagram)) {
        workers_->CountRefused(receiver_idx, 1);
      }
    }
    workers_->Publish(receiver_idx);
  };
  const std::chrono::microseconds coalesce = CoalesceWait(options_.coalesce_us, receiver);
  while (!stop_receiving_.load(std::memory_order_acquire)) {
    const auto batch = receiver.ReceiveBatch(kReceivePollMs);
    forward(batch);
    if (!batch.empty() && !receiver.LastBatchFull() && coalesce.count() != 0) {
      std::this_thread::sleep_for(coalesce);
    }
  }
  // Whatever the kernel already holds is taken too, so a clean stop loses nothing.
  for (;;) {
    const auto batch = receiver.ReceiveBatch(0);
    if (batch.empty()) {
      break;
    }
    forward(batch);
  }
}

void Pipeline::Stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  stop_receiving_.store(true, std::memory_order_release);
  for (std::thread& thread : threads_) {
    thread.join();
  }
  workers_->Stop();
}

PipelineStats Pipeline::Stats() const {
  PipelineStats stats;
  for (const auto& receiver : receivers_) {
    const net::ReceiveCounters& counters = receiver->counters();
    stats.datagrams += counters.datagrams.Get();
    stats.bytes += counters.bytes.Get();
    stats.truncated += counters.truncated.Get();
    stats.not_allowed += counters.not_allowed.Get();
    stats.kernel_drops += counters.kernel_drops.Get();
    stats.receive_errors += counters.errors.Get();
    stats.coalesced += counters.coalesced.Get();
  }
  const DecodeStats decode = workers_->Stats();
  stats.dropped_queue_full = decode.dropped_queue_full;
  stats.datagrams_decoded = decode.datagrams_decoded;
  stats.records = decode.records;
  stats.decode_errors = decode.decode_errors;
  return stats;
}

}  // namespace sluice::ingest
