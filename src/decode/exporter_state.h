// SPDX-License-Identifier: Apache-2.0
// ExporterState: everything the decoders remember about one exporter (templates,
// samplers, sequence numbers, interfaces) and the counters that report on it.
// ExporterTable: the bounded set of them.

#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "common/clock.h"
#include "decode/decode_error.h"
#include "decode/decoder_options.h"
#include "decode/interface_table.h"
#include "decode/sampler_table.h"
#include "decode/sequence_tracker.h"
#include "decode/template_cache.h"
#include "flow/ip_address.h"

namespace sluice::decode {

// The export protocols, as recognised from a datagram's first bytes.
enum class Protocol : std::uint8_t {
  kNetflowV5,
  kNetflowV9,
  kIpfix,
  kSflowV5,
};

std::string_view Name(Protocol protocol);

// Monotonic counters of one exporter. Read by stats, /metrics and `decode --stats`.
struct ExporterCounters {
  std::uint64_t datagrams = 0;              // datagrams seen from this exporter
  std::uint64_t datagram_bytes = 0;         // their UDP payload bytes
  std::uint64_t datagrams_failed = 0;       // datagrams that stopped with an error
  std::uint64_t records = 0;                // flow records produced
  std::uint64_t option_records = 0;         // v9/IPFIX options data records decoded
  std::uint64_t counter_samples = 0;        // sFlow counter samples decoded
  std::uint64_t templates_received = 0;     // (options) template records accepted
  std::uint64_t templates_withdrawn = 0;    // IPFIX template withdrawals applied
  std::uint64_t templates_expired = 0;      // templates dropped for age
  std::uint64_t templates_refused = 0;      // over the template or field limit
  std::uint64_t sets_without_template = 0;  // data sets whose template was unknown
  std::uint64_t pending_sets_decoded = 0;   // of those, decoded when the template came
  std::uint64_t pending_sets_dropped = 0;   // of those, dropped (limit or expiry)
  std::uint64_t sequence_lost = 0;          // packets (v9, sFlow) or records (v5, IPFIX) lost
  std::uint64_t sequence_resets = 0;        // sequence restarts (exporter reboot, reorder)
  std::uint64_t samplers_refused = 0;       // sampler entries over the limit
  std::array<std::uint64_t, kDecodeErrorKindCount> errors{};  // by DecodeErrorKind

  void CountError(DecodeErrorKind kind) { ++errors[static_cast<std::size_t>(kind)]; }

  std::uint64_t ErrorTotal() const {
    std::uint64_t total = 0;
    for (std::uint64_t count : errors) {
      total += count;
    }
    return total;
  }
};

// Ownership: owned by ExporterTable. Thread-safety: none; an exporter is pinned to one
// decode worker.
struct ExporterState {
  ExporterState(const flow::IpAddress& exporter_address, const DecoderOptions& options)
      : address(exporter_address),
        templates(options),
        samplers(options.max_samplers_per_exporter),
        interfaces(options.max_interfaces_per_exporter) {}

  flow::IpAddress address;
  UnixMillis first_seen = 0;
  UnixMillis last_seen = 0;
  Protocol last_protocol = Protocol::kNetflowV5;
  ExporterCounters counters;
  TemplateCache templates;  // v9 and IPFIX, per observation domain
  SamplerTable samplers;
  InterfaceTable interfaces;
  // Keyed by (protocol << 32 | stream id): v5 engine, v9 source id, IPFIX domain, sFlow
  // sub-agent. Bounded by what the exporter can name; capped at kMaxSequenceStreams.
  std::unordered_map<std::uint64_t, SequenceTracker> sequences;

  static constexpr std::size_t kMaxSequenceStreams = 1024;

  // Observes a sequence number and counts what it shows.
  void ObserveSequence(Protocol protocol, std::uint32_t stream, std::uint32_t sequence,
                       std::uint32_t advance);
};

// The exporters known to one decoder, bounded by DecoderOptions::max_exporters.
class ExporterTable {
 public:
  explicit ExporterTable(const DecoderOptions& options) : options_(&options) {}

  // Returns the state for `address`, creating it; nullptr if the table is full.
  ExporterState* FindOrAdd(const flow::IpAddress& address);

  const ExporterState* Find(const flow::IpAddress& address) const;

  // Exporters refused because the table was full.
  std::uint64_t refused() const { return refused_; }

  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [address, state] : exporters_) {
      fn(*state);
    }
  }

  template <typename Fn>
  void ForEachMutable(Fn&& fn) {
    for (auto& [address, state] : exporters_) {
      fn(*state);
    }
  }

  std::size_t size() const { return exporters_.size(); }

 private:
  const DecoderOptions* options_;
  std::unordered_map<flow::IpAddress, std::unique_ptr<ExporterState>, flow::IpAddressHash>
      exporters_;
  std::uint64_t refused_ = 0;
};

}  // namespace sluice::decode
