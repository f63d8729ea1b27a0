// SPDX-License-Identifier: Apache-2.0

#include "decode/decoder.h"

#include "common/byte_order.h"
#include "decode/ipfix.h"
#include "decode/netflow_v5.h"
#include "decode/netflow_v9.h"
#include "decode/sflow.h"

namespace sluice::decode {

std::optional<Protocol> DetectProtocol(std::span<const std::uint8_t> payload) {
  if (payload.size() < 4) {
    return std::nullopt;
  }
  switch (LoadBe16(payload.data())) {
    case 5:
      return Protocol::kNetflowV5;
    case 9:
      return Protocol::kNetflowV9;
    case 10:
      return Protocol::kIpfix;
    case 0:
      if (LoadBe32(payload.data()) == 5) {
        return Protocol::kSflowV5;
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

Decoder::Decoder(DecoderOptions options)
    : options_(std::move(options)), exporters_(options_) {}

DecodeOutcome Decoder::Decode(const flow::Datagram& datagram, flow::BatchWriter& out) {
  DecodeOutcome outcome;
  ExporterState* exporter = exporters_.FindOrAdd(datagram.exporter);
  if (exporter == nullptr) {
    outcome.error = DecodeError{DecodeErrorKind::kTooManyExporters, 0};
    return outcome;
  }
  ExporterCounters& counters = exporter->counters;
  ++counters.datagrams;
  counters.datagram_bytes += datagram.payload.size();
  if (exporter->first_seen == 0) {
    exporter->first_seen = datagram.time_received;
  }
  exporter->last_seen = datagram.time_received;

  const std::optional<Protocol> protocol = DetectProtocol(datagram.payload);
  if (!protocol) {
    ++unknown_datagrams_;
    ++counters.datagrams_failed;
    counters.CountError(DecodeErrorKind::kBadVersion);
    outcome.error = DecodeError{DecodeErrorKind::kBadVersion, 0};
    return outcome;
  }
  exporter->last_protocol = *protocol;

  std::uint32_t override_rate = 0;
  if (!options_.sampling_overrides.empty()) {
    auto it = options_.sampling_overrides.find(datagram.exporter);
    if (it != options_.sampling_overrides.end()) {
      override_rate = it->second;
    }
  }
  DecodeContext ctx{datagram, *exporter, options_, out, override_rate};
  const std::uint64_t records_before = counters.records;
  DecodeStatus status;
  switch (*protocol) {
    case Protocol::kNetflowV5:
      status = DecodeNetflowV5(ctx);
      break;
    case Protocol::kNetflowV9:
      status = DecodeNetflowV9(ctx);
      break;
    case Protocol::kIpfix:
      status = DecodeIpfix(ctx);
      break;
    case Protocol::kSflowV5:
      status = DecodeSflowV5(ctx);
      break;
  }
  outcome.records = static_cast<std::uint32_t>(counters.records - records_before);
  if (!status) {
    ++counters.datagrams_failed;
    counters.CountError(status.error().kind);
    outcome.error = status.error();
  }
  return outcome;
}

void Decoder::ExpireTemplates(UnixMillis now) {
  exporters_.ForEachMutable([now](ExporterState& exporter) {
    const TemplateCache::ExpireCounts expired = exporter.templates.Expire(now);
    exporter.counters.templates_expired += expired.templates;
    exporter.counters.pending_sets_dropped += expired.pending_sets;
  });
}

}  // namespace sluice::decode
