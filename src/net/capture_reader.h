// SPDX-License-Identifier: Apache-2.0
// CaptureReader: the export datagrams inside a capture file (classic pcap or pcapng,
// through libpcap) or a raw payload file (one datagram, no framing).

#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"
#include "flow/datagram.h"

namespace sluice::net {

struct CaptureStats {
  std::uint64_t frames = 0;            // frames read from the file
  std::uint64_t datagrams = 0;         // UDP payloads handed on
  std::uint64_t skipped_not_udp = 0;   // frames that are not UDP over IPv4/IPv6 (e.g. BGP)
  std::uint64_t skipped_fragment = 0;  // non-first IP fragments (no UDP header)
  std::uint64_t skipped_malformed = 0; // truncated or inconsistent frames
};

struct CaptureOptions {
  // For raw payload files: the exporter address and time to attribute the datagram to.
  flow::IpAddress raw_exporter = *flow::IpAddress::Parse("192.0.2.1");
  UnixMillis raw_time_received = 0;
  // Only UDP datagrams to this destination port, 0 = any port.
  std::uint16_t dst_port = 0;
};

// Called for each UDP datagram; `dst_port` is the UDP destination port (0 for raw files).
using DatagramVisitor = std::function<void(const flow::Datagram& datagram, std::uint16_t dst_port)>;

// True if the file starts with a pcap or pcapng magic number.
bool IsCaptureFile(const std::string& path);

// Reads `path`: a pcap/pcapng capture (Ethernet, 802.1Q/QinQ, Linux cooked v1/v2, raw IP,
// BSD loopback framing) or, if it is not one, a raw payload file: one datagram, or for an
// IPFIX file (RFC 5655, *.ipfix: messages back to back) one datagram per message. Fails with a clear
// message if the file cannot be opened or is a corrupt capture.
Result<CaptureStats> ReadCapture(const std::string& path, const CaptureOptions& options,
                                 const DatagramVisitor& visit);

// Extracts the UDP payload of one link-layer frame. Exposed for tests and fuzzing.
// Returns false (and counts why in `stats`) if the frame carries no UDP datagram.
bool ParseFrame(int link_type, const std::uint8_t* frame, std::size_t length,
                flow::Datagram& datagram, std::uint16_t& dst_port, CaptureStats& stats);

}  // namespace sluice::net
