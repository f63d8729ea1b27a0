// SPDX-License-Identifier: Apache-2.0
// ParsePacketHeader: reads the flow key out of the first bytes of a sampled packet (the
// sFlow sampled_header record): Ethernet, 802.1Q / QinQ tags, an MPLS label stack, IPv4,
// IPv6 with its extension headers, and the TCP/UDP/SCTP ports, TCP flags or ICMP type.
//
// A sampled header is cut short by design (typically 128 bytes), so running out of bytes
// is not an error: the parser writes every field it could read and says how far it got.
// It never reads past `header`, allocates nothing and makes no virtual calls.

#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "flow/flow_batch.h"

namespace sluice::decode {

// sFlow header_protocol values (sflow_version_5.txt, "enum header_protocol").
enum class HeaderProtocol : std::uint32_t {
  kEthernet = 1,  // ETHERNET-ISO88023
  kIpv4 = 11,
  kIpv6 = 12,
  kMpls = 13,
};

// How far ParsePacketHeader got.
enum class HeaderParse : std::uint8_t {
  kUnsupported,  // link or network protocol we do not parse; no IP fields written
  kNetwork,      // IP addresses written; no transport header (truncated, fragment, other)
  kTransport,    // IP addresses and the transport header's fields written
};

// Parses `header` (starting at a header of type `protocol`) into row `row` of `c`:
// src_mac/dst_mac, vlan (the outermost tag, only if the row has none yet), mpls_label
// (top label), src_addr/dst_addr, tos, proto, src_port/dst_port, tcp_flags,
// icmp_type/icmp_code. Fields it cannot reach are left as they were.
HeaderParse ParsePacketHeader(std::uint32_t protocol, std::span<const std::uint8_t> header,
                              flow::FlowColumns& c, std::size_t row);

}  // namespace sluice::decode
