// SPDX-License-Identifier: Apache-2.0
// FlowEncoder: pre-encoded NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export
// datagrams of synthetic flows, for load generation. The datagrams are built once; Next()
// only patches the header's sequence number, so sending costs no encoding.

#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sluice::tools {

enum class ExportProtocol : std::uint8_t {
  kNetflowV5,  // 30 records of 48 bytes per datagram (1464 bytes)
  kNetflowV9,  // template 256 of 18 fields (53-byte records), 27 per datagram
  kIpfix,      // template 256 of 18 fields (70-byte records), 20 per datagram
};

std::optional<ExportProtocol> ParseExportProtocol(std::string_view text);

struct FlowEncoderOptions {
  ExportProtocol protocol = ExportProtocol::kNetflowV9;
  std::size_t max_datagram_bytes = 1464;  // Ethernet MTU minus IPv6/UDP and some tunnel room
  std::size_t distinct_datagrams = 256;   // different datagrams cycled through (>= 64)
  std::uint32_t seed = 1;                 // varies the synthetic addresses and ports
  std::uint32_t source_id = 0;            // v9 source id / IPFIX observation domain
  std::int64_t now_ms = 0;                // export time, ms since the epoch
};

// Ownership: owns its datagrams. Thread-safety: none (one per sending thread/exporter).
class FlowEncoder {
 public:
  explicit FlowEncoder(const FlowEncoderOptions& options);

  // The template datagram to send first and then periodically; empty for v5.
  std::span<const std::uint8_t> TemplateDatagram();

  // The next data datagram, its sequence number set. Valid until the same datagram comes
  // round again (distinct_datagrams calls later).
  std::span<const std::uint8_t> NextData();

  // Like NextData(), but `count` consecutive data datagrams of equal size laid out back
  // to back, for UDP_SEGMENT sending; `count` is cut where the cycle wraps. Returns the
  // bytes and sets `count` to the number of datagrams they hold.
  std::span<const std::uint8_t> NextDataRun(std::size_t& count);

  // Size of every data datagram (they all have the same record count).
  std::size_t data_datagram_bytes() const { return data_bytes_; }

  std::size_t records_per_datagram() const { return records_per_datagram_; }

  // Flow records and datagrams (template ones included) handed out so far.
  std::uint64_t records_sent() const { return records_sent_; }

  std::uint64_t datagrams_sent() const { return datagrams_sent_; }

 private:
  void BuildTemplate();
  std::vector<std::uint8_t> BuildData(std::size_t datagram_idx);

  FlowEncoderOptions options_;
  std::size_t records_per_datagram_ = 0;
  std::vector<std::uint8_t> template_;
  void PatchSequence(std::uint8_t* datagram);

  std::vector<std::uint8_t> data_;  // distinct_datagrams datagrams of data_bytes_, back to back
  std::size_t data_bytes_ = 0;
  std::size_t next_ = 0;
  std::uint64_t records_sent_ = 0;
  std::uint64_t datagrams_sent_ = 0;
};

}  // namespace sluice::tools
