// SPDX-License-Identifier: Apache-2.0
// PcapWriter: writes UDP datagrams as a classic pcap file (libpcap format 2.4, microsecond
// timestamps, LINKTYPE_ETHERNET) with Ethernet II / IPv4 / UDP framing, so that the exact
// bytes sluice-blast would send can be replayed to several collectors (`sluice replay`,
// tcpreplay) or read by tshark.

#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

namespace sluice::tools {

// Ownership: owns its FILE. Thread-safety: none.
class PcapWriter {
 public:
  PcapWriter() = default;
  ~PcapWriter();

  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Creates (truncates) `path` and writes the file header. False if it cannot.
  bool Open(const std::string& path);

  // Appends one frame carrying `payload` from src_v4:src_port to dst_v4:dst_port (host
  // byte order) captured at `time_us` (µs since the epoch). REQUIRES: payload fits one
  // IPv4 datagram (<= 65507 bytes). False on a write error.
  bool Write(std::int64_t time_us, std::uint32_t src_v4, std::uint16_t src_port,
             std::uint32_t dst_v4, std::uint16_t dst_port,
             std::span<const std::uint8_t> payload);

  // Flushes and closes; false if a write failed at any point.
  bool Close();

 private:
  std::FILE* file_ = nullptr;
  bool ok_ = true;
};

}  // namespace sluice::tools
