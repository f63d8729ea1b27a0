// SPDX-License-Identifier: Apache-2.0
// Decoder: recognises the protocol of each export datagram and decodes it with the
// exporter's state. The one entry point to decode/.
//
// Pure: bytes in, records out. No sockets, threads, clocks or logging, so it can be
// fuzzed and replayed from files. Errors are counted per exporter and by kind; the
// records decoded before an error in a datagram are kept.
//
// Ownership: owns the exporter table. Thread-safety: none; each decode worker owns one
// Decoder and exporters are pinned to workers.

#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "decode/decode_context.h"
#include "decode/exporter_state.h"
#include "flow/datagram.h"
#include "flow/flow_sink.h"

namespace sluice::decode {

// Recognises the protocol from the first bytes (v5: 0x0005, v9: 0x0009, IPFIX: 0x000a,
// sFlow: the 32-bit version 5), whatever port the datagram arrived on.
std::optional<Protocol> DetectProtocol(std::span<const std::uint8_t> payload);

struct DecodeOutcome {
  std::uint32_t records = 0;           // flow records appended
  std::optional<DecodeError> error;    // why decoding stopped early, if it did
};

class Decoder {
 public:
  explicit Decoder(DecoderOptions options);

  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  DecodeOutcome Decode(const flow::Datagram& datagram, flow::BatchWriter& out);

  // Drops templates older than the configured lifetime.
  void ExpireTemplates(UnixMillis now);

  const ExporterTable& exporters() const { return exporters_; }

  // The state of `address`, created if new; nullptr if the exporter table is full. For
  // restoring saved state (decoder_state.h), not for decoding.
  ExporterState* FindOrAddExporter(const flow::IpAddress& address) {
    return exporters_.FindOrAdd(address);
  }

  // Datagrams whose first bytes matched no protocol (they have no exporter state when
  // the exporter is new, so they are counted here too).
  std::uint64_t unknown_datagrams() const { return unknown_datagrams_; }

  const DecoderOptions& options() const { return options_; }

 private:
  DecoderOptions options_;
  ExporterTable exporters_;
  std::uint64_t unknown_datagrams_ = 0;
};

}  // namespace sluice::decode
