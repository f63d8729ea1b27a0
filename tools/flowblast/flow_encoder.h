// SPDX-License-Identifier: Apache-2.0
// FlowEncoder: pre-encoded NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export
// datagrams of synthetic flows (TrafficModel), for load generation. The datagrams are built
// once; sending only patches what must change: the header's sequence number and times,
// each record's start and end times (so they follow the clock), and, from the second pass
// over the datagrams on, each record's ephemeral client port (so a datagram never repeats
// byte for byte).

#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sluice::tools {

enum class ExportProtocol : std::uint8_t {
  kNetflowV5,  // up to 30 IPv4 records of 48 bytes per datagram (1464 bytes)
  kNetflowV9,  // template 256 (IPv4, 18 fields, 53 bytes) and 257 (IPv6, 89 bytes)
  kIpfix,      // template 256 (IPv4, 18 fields, 70 bytes) and 257 (IPv6, 106 bytes)
};

std::optional<ExportProtocol> ParseExportProtocol(std::string_view text);

struct FlowEncoderOptions {
  ExportProtocol protocol = ExportProtocol::kNetflowV9;
  std::size_t max_datagram_bytes = 1464;  // Ethernet MTU minus IPv6/UDP and some tunnel room
  std::size_t distinct_datagrams = 256;   // different datagrams cycled through (>= 1)
  std::uint32_t ipv6_percent = 25;        // share of IPv6 records, 0-100 (v5: always 0)
  std::uint64_t seed = 1;                 // the traffic; the same seed gives the same bytes
  std::uint32_t source_id = 0;            // v9 source id / IPFIX observation domain
  std::int64_t now_ms = 0;                // export time of the first datagrams, ms since the epoch
  // v9 only: also export ICMP_TYPE (field 32, type * 256 + code; 0 for other protocols)
  // after the 18 fields, as many Cisco exporters do. nfcapd 1.7.1 takes an ICMP flow's
  // type and code only from this field, not from L4_DST_PORT.
  bool icmp_type_field = false;
};

// Ownership: owns its datagrams. Thread-safety: none (one per sending thread/exporter).
//
// Layout: every data datagram holds the same number of records, IPv4 ones first (one
// data set) then IPv6 ones (a second data set), so all data datagrams have the same size
// and can be sent back to back with UDP_SEGMENT.
class FlowEncoder {
 public:
  explicit FlowEncoder(const FlowEncoderOptions& options);

  // The template datagram to send first and then periodically; empty for v5.
  std::span<const std::uint8_t> TemplateDatagram();

  // Sets the clock (ms since the epoch) that the datagrams handed out next carry: header
  // export time, sysUptime, and record start/end times, which keep their distance to it.
  // Call it before each batch of sends; the clock should not go backwards.
  void SetNow(std::int64_t now_ms) { now_ms_ = now_ms; }

  // The next data datagram, its sequence number and times set. Valid until the same
  // datagram comes round again (distinct_datagrams() calls later).
  std::span<const std::uint8_t> NextData();

  // Like NextData(), but `count` consecutive data datagrams of equal size laid out back
  // to back, for UDP_SEGMENT sending; `count` is cut where the cycle wraps. Returns the
  // bytes and sets `count` to the number of datagrams they hold.
  std::span<const std::uint8_t> NextDataRun(std::size_t& count);

  // Size of every data datagram (they all have the same record count).
  std::size_t data_datagram_bytes() const { return data_bytes_; }

  std::size_t records_per_datagram() const { return ipv4_records_ + ipv6_records_; }

  std::size_t ipv6_records_per_datagram() const { return ipv6_records_; }

  std::size_t distinct_datagrams() const { return stamp_ms_.size(); }

  // Flow records and datagrams (template ones included) handed out so far.
  std::uint64_t records_sent() const { return records_sent_; }

  std::uint64_t datagrams_sent() const { return datagrams_sent_; }

 private:
  // Where the patched fields of one kind of record are (bytes from the record's start).
  struct RecordLayout {
    std::size_t bytes = 0;
    std::size_t src_port = 0;
    std::size_t dst_port = 0;
    std::size_t first = 0;  // v5/v9: sysUptime ms (4 bytes); IPFIX: epoch ms (8 bytes)
    std::size_t last = 0;
  };

  void ChooseLayout();
  void BuildTemplate();
  void BuildData(std::size_t datagram_idx, std::uint8_t* out);
  void PatchHeader(std::uint8_t* datagram, bool is_template);
  void PatchRecords(std::size_t datagram_idx, std::uint8_t* datagram);
  std::uint32_t UptimeMs(std::int64_t now_ms) const;
  std::size_t RecordOffset(std::size_t record_idx) const;
  const RecordLayout& LayoutOf(std::size_t record_idx) const;

  FlowEncoderOptions options_;
  std::size_t ipv4_records_ = 0;
  std::size_t ipv6_records_ = 0;
  RecordLayout v4_layout_;
  RecordLayout v6_layout_;
  std::size_t v4_records_offset_ = 0;  // first IPv4 record in a data datagram
  std::size_t v6_records_offset_ = 0;
  std::uint32_t boot_uptime_ms_ = 0;  // sysUptime at options_.now_ms
  std::int64_t now_ms_ = 0;

  std::vector<std::uint8_t> template_;
  std::vector<std::uint8_t> data_;  // distinct datagrams of data_bytes_, back to back
  std::size_t data_bytes_ = 0;
  // Per datagram: the clock its times were last set for, and which records have an
  // ephemeral client port (bit per record) and whether it is the source port.
  std::vector<std::int64_t> stamp_ms_;
  std::vector<std::uint64_t> client_port_mask_;
  std::vector<std::uint64_t> client_is_src_mask_;
  std::size_t next_ = 0;
  std::uint64_t pass_ = 0;  // times the cycle has wrapped
  std::uint64_t records_sent_ = 0;
  std::uint64_t datagrams_sent_ = 0;
};

}  // namespace sluice::tools
