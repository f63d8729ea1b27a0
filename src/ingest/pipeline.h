// SPDX-License-Identifier: Apache-2.0
// Pipeline: UDP sockets -> receive threads -> bounded rings -> decode workers -> a FlowSink
// per worker. The collector's data path, without configuration files or signals (those
// belong to the command that runs it).
//
// Receive thread r owns socket r of every listen address (SO_REUSEPORT spreads exporters
// over the threads), reads them with recvmmsg and copies each datagram into the ring of
// its exporter's decode worker. A full ring makes it wait a little (ring_wait_us) while
// the kernel's socket buffer holds what arrives; what still does not fit is dropped and
// counted.

#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "decode/decoder_options.h"
#include "flow/ip_prefix.h"
#include "ingest/decode_workers.h"
#include "net/socket_address.h"
#include "net/udp_receiver.h"

namespace sluice::ingest {

struct PipelineOptions {
  std::vector<net::Endpoint> listen;  // one socket per (address, receive thread)
  std::size_t receive_threads = 1;
  std::size_t decode_threads = 1;
  std::size_t rcvbuf_bytes = net::kDefaultReceiveBufferBytes;  // per socket; 0 = kernel default
  std::size_t queue_bytes = std::size_t{16} << 20;             // per (receive, decode) ring
  std::size_t batch_size = 64;                                 // datagrams per recvmmsg
  std::size_t slot_bytes = 65536;                              // longer datagrams: truncated
  std::vector<flow::IpPrefix> allow;                            // empty: any exporter
  // UDP_GRO on the sockets: the kernel may pass consecutive datagrams of one exporter
  // as one buffer, which the receive thread splits (net::UdpReceiverOptions::coalesce).
  bool receive_offload = true;
  // After a batch that did not fill, a receive thread waits at least this long before
  // reading again, so that datagrams arrive in batches rather than one wake-up each
  // (interrupt coalescing); up to 4 ms where its socket buffers can hold half of what a
  // 10 Gbit/s burst brings meanwhile (pipeline.cc, CoalesceWait). 0 = never wait.
  std::uint32_t coalesce_us = 200;
  // When a decode worker's ring is full, the receive thread stops reading and tries the
  // datagram again for up to this long, so that the socket buffer (rcvbuf) absorbs a
  // short stall of decoding or storing instead of the datagram being dropped. After a
  // wait that ran out, it does not wait again for ten times as long (a worker that
  // cannot keep up must not hold back the other workers' exporters): full rings then
  // drop at once. 0 = never wait.
  std::uint32_t ring_wait_us = 100'000;
  decode::DecoderOptions decoder;
};

// A snapshot of the pipeline's counters (all monotonic since Start()).
struct PipelineStats {
  std::uint64_t datagrams = 0;           // received and allowed
  std::uint64_t bytes = 0;               // their payload bytes
  std::uint64_t truncated = 0;           // longer than a slot, dropped
  std::uint64_t not_allowed = 0;         // exporter outside the allow-list, dropped
  std::uint64_t kernel_drops = 0;        // dropped by the kernel (socket buffer full)
  std::uint64_t receive_errors = 0;      // recvmmsg failures
  std::uint64_t coalesced = 0;           // buffers of several datagrams (UDP_GRO), split
  std::uint64_t dropped_queue_full = 0;  // a decode worker's ring was full
  std::uint64_t datagrams_decoded = 0;
  std::uint64_t records = 0;        // flow records decoded
  std::uint64_t decode_errors = 0;  // datagrams that stopped with a decode error

  // {"datagrams":...,...} on one line.
  std::string ToJson() const;
  // "datagrams=... bytes=... ..." for the log.
  std::string ToLogLine() const;
};

// Ownership: owns sockets, threads and workers. Thread-safety: Start/Stop from one
// control thread; Stats() from any thread.
class Pipeline {
 public:
  // Binds every socket (the error names the address that failed) and builds the workers.
  static Result<std::unique_ptr<Pipeline>> Create(PipelineOptions options,
                                                  const SinkFactory& make_sink, const Clock& clock);

  ~Pipeline();

  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void Start();

  // Stops receiving (after reading what the sockets already hold), decodes everything
  // queued, flushes the sinks and joins all threads. Idempotent.
  void Stop();

  PipelineStats Stats() const;

  // The sockets of receive thread 0, one per listen address (ports as bound).
  const std::vector<net::UdpSocket>& sockets() const { return receivers_.front()->sockets(); }

  const DecodeWorkers& workers() const { return *workers_; }

  DecodeWorkers& workers() { return *workers_; }

 private:
  Pipeline(PipelineOptions options, const SinkFactory& make_sink, const Clock& clock);

  void Receive(std::size_t receiver_idx);

  PipelineOptions options_;
  std::vector<std::unique_ptr<net::UdpReceiver>> receivers_;
  std::unique_ptr<DecodeWorkers> workers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_receiving_{false};
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace sluice::ingest
