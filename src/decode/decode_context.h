// SPDX-License-Identifier: Apache-2.0
// DecodeContext: what a protocol decoder is given for one datagram, and the helpers
// every protocol uses to finish a record the same way.

#pragma once

#include <cstdint>

#include "common/result.h"
#include "decode/decode_error.h"
#include "decode/decoder_options.h"
#include "decode/exporter_state.h"
#include "flow/datagram.h"
#include "flow/flow_sink.h"

namespace sluice::decode {

using DecodeStatus = Result<void, DecodeError>;

inline tl::unexpected<DecodeError> Fail(DecodeErrorKind kind, std::size_t offset) {
  return tl::unexpected<DecodeError>(DecodeError{kind, static_cast<std::uint32_t>(offset)});
}

struct DecodeContext {
  const flow::Datagram& datagram;
  ExporterState& exporter;
  const DecoderOptions& options;
  flow::BatchWriter& out;
  std::uint32_t override_rate = 0;  // configured sampling rate for this exporter, 0 = none
};

// ICMP has no ports: as nfdump shows an ICMP flow, dst_port holds type * 256 + code.
// When the record carries ICMP type/code elements (`explicit_type`: 32, 139, 176-179),
// they are authoritative even when 0/0 (echo reply): dst_port is set from them and
// src_port to 0, because what such exporters put in the port elements is not a port
// (Cisco ASA: the echo identifier). Without them the type and code are read from
// dst_port (the Cisco NetFlow convention), and a source that filled icmp_type/icmp_code
// otherwise (sFlow packet headers) gets dst_port from them.
inline void NormalizeIcmp(flow::FlowColumns& c, std::size_t row, bool explicit_type = false) {
  const std::uint8_t proto = c.proto[row];
  if (proto != 1 && proto != 58) {
    return;
  }
  if (explicit_type) {
    c.src_port[row] = 0;
    c.dst_port[row] = static_cast<std::uint16_t>((c.icmp_type[row] << 8) | c.icmp_code[row]);
  } else if (c.icmp_type[row] == 0 && c.icmp_code[row] == 0) {
    c.icmp_type[row] = static_cast<std::uint8_t>(c.dst_port[row] >> 8);
    c.icmp_code[row] = static_cast<std::uint8_t>(c.dst_port[row]);
  } else if (c.dst_port[row] == 0) {
    c.dst_port[row] = static_cast<std::uint16_t>((c.icmp_type[row] << 8) | c.icmp_code[row]);
  }
}

// Sets the fields every record gets from its datagram, applies the sampling rate to
// bytes/packets (rate 1 leaves them as they are) and normalizes ICMP (`explicit_icmp`:
// the record carries ICMP type/code elements, see NormalizeIcmp()).
inline void FinishRecord(const DecodeContext& ctx, std::size_t row, std::uint32_t obs_domain,
                         std::uint32_t rate, bool explicit_icmp = false) {
  flow::FlowColumns& c = ctx.out.cols();
  c.time_received[row] = ctx.datagram.time_received;
  c.exporter[row] = ctx.datagram.exporter;
  c.obs_domain[row] = obs_domain;
  c.sampling_rate[row] = rate;
  if (rate > 1) {
    c.bytes[row] *= rate;
    c.packets[row] *= rate;
  }
  NormalizeIcmp(c, row, explicit_icmp);
}

}  // namespace sluice::decode
