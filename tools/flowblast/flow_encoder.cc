// SPDX-License-Identifier: Apache-2.0

#include "flow_encoder.h"

#include <algorithm>
#include <array>
#include <bit>

#include "traffic_model.h"

namespace sluice::tools {
namespace {

constexpr std::uint16_t kV4TemplateId = 256;
constexpr std::uint16_t kV6TemplateId = 257;
constexpr std::size_t kMaxRecords = 64;                  // one bit each in the per-datagram masks
constexpr std::uint32_t kBootUptimeMs = 5 * 86'400'000;  // the exporter has been up 5+ days

struct FieldSpec {
  std::uint16_t id;      // v9 field type / IPFIX information element
  std::uint16_t length;  // bytes
};

// RFC 3954, section 8 (field type definitions).
constexpr std::array<FieldSpec, 18> kV9Ipv4Fields{{
    {1, 4},   // IN_BYTES
    {2, 4},   // IN_PKTS
    {4, 1},   // PROTOCOL
    {5, 1},   // SRC_TOS
    {6, 1},   // TCP_FLAGS
    {7, 2},   // L4_SRC_PORT
    {8, 4},   // IPV4_SRC_ADDR
    {9, 1},   // SRC_MASK
    {10, 4},  // INPUT_SNMP
    {11, 2},  // L4_DST_PORT
    {12, 4},  // IPV4_DST_ADDR
    {13, 1},  // DST_MASK
    {14, 4},  // OUTPUT_SNMP
    {15, 4},  // IPV4_NEXT_HOP
    {16, 4},  // SRC_AS
    {17, 4},  // DST_AS
    {21, 4},  // LAST_SWITCHED (sysUptime ms)
    {22, 4},  // FIRST_SWITCHED (sysUptime ms)
}};

constexpr std::array<FieldSpec, 18> kV9Ipv6Fields{{
    {1, 4},    // IN_BYTES
    {2, 4},    // IN_PKTS
    {4, 1},    // PROTOCOL
    {5, 1},    // SRC_TOS
    {6, 1},    // TCP_FLAGS
    {7, 2},    // L4_SRC_PORT
    {27, 16},  // IPV6_SRC_ADDR
    {29, 1},   // IPV6_SRC_MASK
    {10, 4},   // INPUT_SNMP
    {11, 2},   // L4_DST_PORT
    {28, 16},  // IPV6_DST_ADDR
    {30, 1},   // IPV6_DST_MASK
    {14, 4},   // OUTPUT_SNMP
    {62, 16},  // IPV6_NEXT_HOP
    {16, 4},   // SRC_AS
    {17, 4},   // DST_AS
    {21, 4},   // LAST_SWITCHED
    {22, 4},   // FIRST_SWITCHED
}};

// IANA IPFIX information elements (RFC 7012 and the IANA registry).
// The same with ICMP_TYPE (RFC 3954 field 32: type * 256 + code) appended, for
// FlowEncoderOptions::icmp_type_field.
constexpr std::array<FieldSpec, 19> kV9Ipv4IcmpFields{{
    {1, 4}, {2, 4}, {4, 1}, {5, 1}, {6, 1}, {7, 2}, {8, 4}, {9, 1}, {10, 4}, {11, 2},
    {12, 4}, {13, 1}, {14, 4}, {15, 4}, {16, 4}, {17, 4}, {21, 4}, {22, 4}, {32, 2},
}};

constexpr std::array<FieldSpec, 19> kV9Ipv6IcmpFields{{
    {1, 4}, {2, 4}, {4, 1}, {5, 1}, {6, 1}, {7, 2}, {27, 16}, {29, 1}, {10, 4}, {11, 2},
    {28, 16}, {30, 1}, {14, 4}, {62, 16}, {16, 4}, {17, 4}, {21, 4}, {22, 4}, {32, 2},
}};

constexpr std::array<FieldSpec, 18> kIpfixIpv4Fields{{
    {1, 8},    // octetDeltaCount
    {2, 8},    // packetDeltaCount
    {4, 1},    // protocolIdentifier
    {5, 1},    // ipClassOfService
    {6, 2},    // tcpControlBits (RFC 7125: 16 bits)
    {7, 2},    // sourceTransportPort
    {8, 4},    // sourceIPv4Address
    {9, 1},    // sourceIPv4PrefixLength
    {10, 4},   // ingressInterface
    {11, 2},   // destinationTransportPort
    {12, 4},   // destinationIPv4Address
    {13, 1},   // destinationIPv4PrefixLength
    {14, 4},   // egressInterface
    {15, 4},   // ipNextHopIPv4Address
    {16, 4},   // bgpSourceAsNumber
    {17, 4},   // bgpDestinationAsNumber
    {152, 8},  // flowStartMilliseconds
    {153, 8},  // flowEndMilliseconds
}};

constexpr std::array<FieldSpec, 18> kIpfixIpv6Fields{{
    {1, 8},    // octetDeltaCount
    {2, 8},    // packetDeltaCount
    {4, 1},    // protocolIdentifier
    {5, 1},    // ipClassOfService
    {6, 2},    // tcpControlBits
    {7, 2},    // sourceTransportPort
    {27, 16},  // sourceIPv6Address
    {29, 1},   // sourceIPv6PrefixLength
    {10, 4},   // ingressInterface
    {11, 2},   // destinationTransportPort
    {28, 16},  // destinationIPv6Address
    {30, 1},   // destinationIPv6PrefixLength
    {14, 4},   // egressInterface
    {62, 16},  // ipNextHopIPv6Address
    {16, 4},   // bgpSourceAsNumber
    {17, 4},   // bgpDestinationAsNumber
    {152, 8},  // flowStartMilliseconds
    {153, 8},  // flowEndMilliseconds
}};

// Writes big-endian integers and raw bytes at a cursor.
class Writer {
 public:
  explicit Writer(std::uint8_t* out) : out_(out) {}

  // REQUIRES: bytes <= 8.
  void Put(std::uint64_t value, std::size_t bytes) {
    for (std::size_t byte_idx = bytes; byte_idx-- > 0;) {
      *out_++ = static_cast<std::uint8_t>(value >> (8 * byte_idx));
    }
  }

  void Zero(std::size_t count) {
    std::fill(out_, out_ + count, std::uint8_t{0});
    out_ += count;
  }

  void PutBytes(const std::uint8_t* bytes, std::size_t count) {
    std::copy(bytes, bytes + count, out_);
    out_ += count;
  }

  std::uint8_t* position() const { return out_; }

 private:
  std::uint8_t* out_;
};

void StoreBe(std::uint8_t* at, std::uint64_t value, std::size_t bytes) {
  for (std::size_t byte_idx = 0; byte_idx < bytes; ++byte_idx) {
    at[byte_idx] = static_cast<std::uint8_t>(value >> (8 * (bytes - 1 - byte_idx)));
  }
}

std::uint64_t LoadBe(const std::uint8_t* at, std::size_t bytes) {
  std::uint64_t value = 0;
  for (std::size_t byte_idx = 0; byte_idx < bytes; ++byte_idx) {
    value = (value << 8) | at[byte_idx];
  }
  return value;
}

std::size_t RecordBytes(std::span<const FieldSpec> fields) {
  std::size_t bytes = 0;
  for (const FieldSpec& field : fields) {
    bytes += field.length;
  }
  return bytes;
}

std::size_t OffsetOf(std::span<const FieldSpec> fields, std::uint16_t id) {
  std::size_t offset = 0;
  for (const FieldSpec& field : fields) {
    if (field.id == id) {
      return offset;
    }
    offset += field.length;
  }
  return offset;
}

// A data set of `records` records: set header, records, padding to 32 bits; 0 if empty.
std::size_t SetBytes(std::size_t records, std::size_t record_bytes) {
  if (records == 0) {
    return 0;
  }
  const std::size_t bytes = 4 + records * record_bytes;
  return bytes + (4 - bytes % 4) % 4;
}

std::span<const FieldSpec> FieldsOf(ExportProtocol protocol, bool ipv6, bool icmp_type_field) {
  if (protocol == ExportProtocol::kIpfix) {
    return ipv6 ? std::span<const FieldSpec>(kIpfixIpv6Fields)
                : std::span<const FieldSpec>(kIpfixIpv4Fields);
  }
  if (icmp_type_field) {
    return ipv6 ? std::span<const FieldSpec>(kV9Ipv6IcmpFields)
                : std::span<const FieldSpec>(kV9Ipv4IcmpFields);
  }
  return ipv6 ? std::span<const FieldSpec>(kV9Ipv6Fields)
              : std::span<const FieldSpec>(kV9Ipv4Fields);
}

std::size_t HeaderBytes(ExportProtocol protocol) {
  switch (protocol) {
    case ExportProtocol::kNetflowV5:
      return 24;
    case ExportProtocol::kNetflowV9:
      return 20;
    case ExportProtocol::kIpfix:
      return 16;
  }
  return 0;
}

// Writes field `field` of `flow`; `last` and `first` are the encoded end and start times.
void PutField(Writer& out, const FieldSpec& field, const SyntheticFlow& flow, std::uint64_t first,
              std::uint64_t last) {
  switch (field.id) {
    case 1:
      out.Put(field.length == 4 ? std::min<std::uint64_t>(flow.bytes, 0xFFFFFFFF) : flow.bytes,
              field.length);
      return;
    case 2:
      out.Put(flow.packets, field.length);
      return;
    case 4:
      out.Put(flow.proto, field.length);
      return;
    case 5:
      out.Put(flow.tos, field.length);
      return;
    case 6:
      out.Put(flow.tcp_flags, field.length);
      return;
    case 7:
      out.Put(flow.src_port, field.length);
      return;
    case 8:
    case 27:
      out.PutBytes(flow.src_addr.data(), field.length);
      return;
    case 9:
    case 29:
      out.Put(flow.src_mask, field.length);
      return;
    case 10:
      out.Put(flow.in_if, field.length);
      return;
    case 11:
      out.Put(flow.dst_port, field.length);
      return;
    case 12:
    case 28:
      out.PutBytes(flow.dst_addr.data(), field.length);
      return;
    case 13:
    case 30:
      out.Put(flow.dst_mask, field.length);
      return;
    case 14:
      out.Put(flow.out_if, field.length);
      return;
    case 15:
    case 62:
      out.PutBytes(flow.next_hop.data(), field.length);
      return;
    case 16:
      out.Put(flow.src_as, field.length);
      return;
    case 17:
      out.Put(flow.dst_as, field.length);
      return;
    case 32:
      out.Put(flow.proto == 1 || flow.proto == 58 ? flow.dst_port : 0, field.length);
      return;
    case 21:
    case 153:
      out.Put(last, field.length);
      return;
    case 22:
    case 152:
      out.Put(first, field.length);
      return;
    default:
      out.Zero(field.length);
      return;
  }
}

// NetFlow v5 carries 16-bit AS numbers; larger ones become AS_TRANS (RFC 6793).
std::uint16_t As16(std::uint32_t asn) {
  return asn > 0xFFFF ? 23456 : static_cast<std::uint16_t>(asn);
}

}  // namespace

std::optional<ExportProtocol> ParseExportProtocol(std::string_view text) {
  if (text == "v5" || text == "netflow5") {
    return ExportProtocol::kNetflowV5;
  }
  if (text == "v9" || text == "netflow9") {
    return ExportProtocol::kNetflowV9;
  }
  if (text == "ipfix" || text == "v10") {
    return ExportProtocol::kIpfix;
  }
  return std::nullopt;
}

FlowEncoder::FlowEncoder(const FlowEncoderOptions& options) : options_(options) {
  options_.distinct_datagrams = std::max<std::size_t>(options_.distinct_datagrams, 1);
  options_.ipv6_percent = std::min<std::uint32_t>(options_.ipv6_percent, 100);
  if (options_.protocol == ExportProtocol::kNetflowV5) {
    options_.ipv6_percent = 0;
  }
  boot_uptime_ms_ =
      kBootUptimeMs + static_cast<std::uint32_t>(Rng::Mix(options_.seed) % 86'400'000);
  now_ms_ = options_.now_ms;
  ChooseLayout();
  BuildTemplate();
  const std::size_t distinct = options_.distinct_datagrams;
  data_.resize(distinct * data_bytes_);
  stamp_ms_.assign(distinct, options_.now_ms);
  client_port_mask_.assign(distinct, 0);
  client_is_src_mask_.assign(distinct, 0);
  for (std::size_t datagram_idx = 0; datagram_idx < distinct; ++datagram_idx) {
    BuildData(datagram_idx, data_.data() + datagram_idx * data_bytes_);
  }
}

void FlowEncoder::ChooseLayout() {
  const std::size_t header = HeaderBytes(options_.protocol);
  if (options_.protocol == ExportProtocol::kNetflowV5) {
    // Cisco NetFlow v5 record: srcaddr 0, dstaddr 4, nexthop 8, input 12, output 14,
    // dPkts 16, dOctets 20, First 24, Last 28, srcport 32, dstport 34, ...
    ipv4_records_ = std::clamp<std::size_t>((options_.max_datagram_bytes - header) / 48, 1, 30);
    v4_layout_ = RecordLayout{48, 32, 34, 24, 28};
    v4_records_offset_ = header;
    data_bytes_ = header + 48 * ipv4_records_;
    return;
  }
  const auto v4_fields = FieldsOf(options_.protocol, false, options_.icmp_type_field);
  const auto v6_fields = FieldsOf(options_.protocol, true, options_.icmp_type_field);
  const bool ipfix = options_.protocol == ExportProtocol::kIpfix;
  v4_layout_ =
      RecordLayout{RecordBytes(v4_fields), OffsetOf(v4_fields, 7), OffsetOf(v4_fields, 11),
                   OffsetOf(v4_fields, ipfix ? 152 : 22), OffsetOf(v4_fields, ipfix ? 153 : 21)};
  v6_layout_ =
      RecordLayout{RecordBytes(v6_fields), OffsetOf(v6_fields, 7), OffsetOf(v6_fields, 11),
                   OffsetOf(v6_fields, ipfix ? 152 : 22), OffsetOf(v6_fields, ipfix ? 153 : 21)};
  // The most records that fit, with the IPv6 share as close to the option as can be.
  ipv4_records_ = 1;
  ipv6_records_ = 0;
  for (std::size_t total = kMaxRecords; total >= 1; --total) {
    const std::size_t v6 = (total * options_.ipv6_percent + 50) / 100;
    const std::size_t v4 = total - v6;
    if (header + SetBytes(v4, v4_layout_.bytes) + SetBytes(v6, v6_layout_.bytes) <=
        options_.max_datagram_bytes) {
      ipv4_records_ = v4;
      ipv6_records_ = v6;
      break;
    }
  }
  v4_records_offset_ = header + 4;
  v6_records_offset_ = header + SetBytes(ipv4_records_, v4_layout_.bytes) + 4;
  data_bytes_ = header + SetBytes(ipv4_records_, v4_layout_.bytes) +
                SetBytes(ipv6_records_, v6_layout_.bytes);
}

std::uint32_t FlowEncoder::UptimeMs(std::int64_t now_ms) const {
  return static_cast<std::uint32_t>(boot_uptime_ms_ +
                                    static_cast<std::uint64_t>(now_ms - options_.now_ms));
}

std::size_t FlowEncoder::RecordOffset(std::size_t record_idx) const {
  return record_idx < ipv4_records_
             ? v4_records_offset_ + record_idx * v4_layout_.bytes
             : v6_records_offset_ + (record_idx - ipv4_records_) * v6_layout_.bytes;
}

const FlowEncoder::RecordLayout& FlowEncoder::LayoutOf(std::size_t record_idx) const {
  return record_idx < ipv4_records_ ? v4_layout_ : v6_layout_;
}

void FlowEncoder::BuildTemplate() {
  if (options_.protocol == ExportProtocol::kNetflowV5) {
    return;
  }
  const bool v9 = options_.protocol == ExportProtocol::kNetflowV9;
  std::vector<std::span<const FieldSpec>> templates;
  std::vector<std::uint16_t> ids;
  if (ipv4_records_ > 0) {
    templates.push_back(FieldsOf(options_.protocol, false, options_.icmp_type_field));
    ids.push_back(kV4TemplateId);
  }
  if (ipv6_records_ > 0) {
    templates.push_back(FieldsOf(options_.protocol, true, options_.icmp_type_field));
    ids.push_back(kV6TemplateId);
  }
  std::size_t set_bytes = 4;
  for (const auto& fields : templates) {
    set_bytes += 4 + 4 * fields.size();
  }
  const std::size_t header = HeaderBytes(options_.protocol);
  template_.resize(header + set_bytes);
  Writer out(template_.data());
  if (v9) {
    // RFC 3954, 5.1 Header Format: version, count (records of all flowsets: here the
    // template records), sysUptime, UNIX secs, sequence number (packets), source id.
    out.Put(9, 2);
    out.Put(templates.size(), 2);
    out.Put(0, 4);
    out.Put(0, 4);
    out.Put(0, 4);
    out.Put(options_.source_id, 4);
    // RFC 3954, 5.2 Template FlowSet Format: FlowSet ID 0, length, then per template its
    // id, field count and fields.
    out.Put(0, 2);
  } else {
    // RFC 7011, 3.1 Message Header Format: version 10, length, export time, sequence
    // number (data records), observation domain id.
    out.Put(10, 2);
    out.Put(header + set_bytes, 2);
    out.Put(0, 4);
    out.Put(0, 4);
    out.Put(options_.source_id, 4);
    // RFC 7011, 3.3.2 Set Header (Set ID 2: Template Set) and 3.4.1 Template Record.
    out.Put(2, 2);
  }
  out.Put(set_bytes, 2);
  for (std::size_t template_idx = 0; template_idx < templates.size(); ++template_idx) {
    out.Put(ids[template_idx], 2);
    out.Put(templates[template_idx].size(), 2);
    for (const FieldSpec& field : templates[template_idx]) {
      out.Put(field.id, 2);
      out.Put(field.length, 2);
    }
  }
}

void FlowEncoder::BuildData(std::size_t datagram_idx, std::uint8_t* datagram) {
  // One model per datagram, seeded from the encoder's seed and the datagram's index, so
  // a datagram's flows do not depend on how many datagrams there are.
  TrafficModel model(Rng::Mix(options_.seed * 0x9E3779B97F4A7C15ULL + datagram_idx));
  const std::size_t count = records_per_datagram();
  const std::uint32_t uptime = UptimeMs(options_.now_ms);
  const bool ipfix = options_.protocol == ExportProtocol::kIpfix;
  Writer out(datagram);
  switch (options_.protocol) {
    case ExportProtocol::kNetflowV5:
      // Cisco NetFlow v5 header: version, count, sysUptime, unix secs/nsecs, flow
      // sequence, engine type/id, sampling interval. Times and sequence are patched.
      out.Put(5, 2);
      out.Put(count, 2);
      out.Zero(16);
      out.Put(0, 1);
      out.Put(options_.source_id & 0xFF, 1);
      out.Put(0, 2);
      break;
    case ExportProtocol::kNetflowV9:
      out.Put(9, 2);
      out.Put(count, 2);
      out.Zero(12);
      out.Put(options_.source_id, 4);
      break;
    case ExportProtocol::kIpfix:
      out.Put(10, 2);
      out.Put(data_bytes_, 2);
      out.Zero(8);
      out.Put(options_.source_id, 4);
      break;
  }
  std::uint64_t client_port_mask = 0;
  std::uint64_t client_is_src_mask = 0;
  for (std::size_t record_idx = 0; record_idx < count; ++record_idx) {
    const bool ipv6 = record_idx >= ipv4_records_;
    if (options_.protocol != ExportProtocol::kNetflowV5 &&
        (record_idx == 0 || record_idx == ipv4_records_)) {
      // Data set: the Set/FlowSet ID is the Template ID (RFC 3954 5.3, RFC 7011 3.3.2).
      out = Writer(datagram + RecordOffset(record_idx) - 4);
      out.Put(ipv6 ? kV6TemplateId : kV4TemplateId, 2);
      out.Put(ipv6 ? SetBytes(ipv6_records_, v6_layout_.bytes)
                   : SetBytes(ipv4_records_, v4_layout_.bytes),
              2);
    }
    const SyntheticFlow flow = model.Next(ipv6);
    if (flow.has_client_port) {
      client_port_mask |= std::uint64_t{1} << record_idx;
      if (flow.client_port_is_src) {
        client_is_src_mask |= std::uint64_t{1} << record_idx;
      }
    }
    const std::uint64_t last = ipfix ? static_cast<std::uint64_t>(options_.now_ms - flow.end_lag_ms)
                                     : std::uint32_t{uptime - flow.end_lag_ms};
    const std::uint64_t first =
        ipfix ? last - flow.duration_ms
              : std::uint32_t{static_cast<std::uint32_t>(last) - flow.duration_ms};
    out = Writer(datagram + RecordOffset(record_idx));
    if (options_.protocol == ExportProtocol::kNetflowV5) {
      out.PutBytes(flow.src_addr.data(), 4);
      out.PutBytes(flow.dst_addr.data(), 4);
      out.PutBytes(flow.next_hop.data(), 4);
      out.Put(flow.in_if, 2);
      out.Put(flow.out_if, 2);
      out.Put(std::min<std::uint64_t>(flow.packets, 0xFFFFFFFF), 4);
      out.Put(std::min<std::uint64_t>(flow.bytes, 0xFFFFFFFF), 4);
      out.Put(first, 4);
      out.Put(last, 4);
      out.Put(flow.src_port, 2);
      out.Put(flow.dst_port, 2);
      out.Put(0, 1);
      out.Put(flow.tcp_flags, 1);
      out.Put(flow.proto, 1);
      out.Put(flow.tos, 1);
      out.Put(As16(flow.src_as), 2);
      out.Put(As16(flow.dst_as), 2);
      out.Put(flow.src_mask, 1);
      out.Put(flow.dst_mask, 1);
      out.Put(0, 2);
      continue;
    }
    for (const FieldSpec& field : FieldsOf(options_.protocol, ipv6, options_.icmp_type_field)) {
      PutField(out, field, flow, first, last);
    }
  }
  client_port_mask_[datagram_idx] = client_port_mask;
  client_is_src_mask_[datagram_idx] = client_is_src_mask;
}

void FlowEncoder::PatchHeader(std::uint8_t* datagram, bool is_template) {
  const auto now_s = static_cast<std::uint32_t>(now_ms_ / 1000);
  switch (options_.protocol) {
    case ExportProtocol::kNetflowV5:
      StoreBe(datagram + 4, UptimeMs(now_ms_), 4);
      StoreBe(datagram + 8, now_s, 4);
      StoreBe(datagram + 12, static_cast<std::uint64_t>(now_ms_ % 1000) * 1'000'000, 4);
      StoreBe(datagram + 16, records_sent_, 4);  // flows seen before this datagram
      break;
    case ExportProtocol::kNetflowV9:
      // v9 numbers packets, template ones included.
      StoreBe(datagram + 4, UptimeMs(now_ms_), 4);
      StoreBe(datagram + 8, now_s, 4);
      StoreBe(datagram + 12, datagrams_sent_, 4);
      break;
    case ExportProtocol::kIpfix:
      // IPFIX numbers data records: a template message carries the count without
      // advancing it.
      StoreBe(datagram + 4, now_s, 4);
      StoreBe(datagram + 8, records_sent_, 4);
      break;
  }
  ++datagrams_sent_;
  if (!is_template) {
    records_sent_ += records_per_datagram();
  }
}

void FlowEncoder::PatchRecords(std::size_t datagram_idx, std::uint8_t* datagram) {
  const std::size_t count = records_per_datagram();
  const std::int64_t delta = now_ms_ - stamp_ms_[datagram_idx];
  if (delta != 0) {
    stamp_ms_[datagram_idx] = now_ms_;
    const std::size_t time_bytes = options_.protocol == ExportProtocol::kIpfix ? 8 : 4;
    const std::uint64_t time_mask = time_bytes == 8 ? ~std::uint64_t{0} : 0xFFFFFFFFULL;
    for (std::size_t record_idx = 0; record_idx < count; ++record_idx) {
      std::uint8_t* record = datagram + RecordOffset(record_idx);
      const RecordLayout& layout = LayoutOf(record_idx);
      for (const std::size_t offset : {layout.first, layout.last}) {
        const std::uint64_t value =
            (LoadBe(record + offset, time_bytes) + static_cast<std::uint64_t>(delta)) & time_mask;
        StoreBe(record + offset, value, time_bytes);
      }
    }
  }
  if (pass_ == 0) {
    return;
  }
  // A new client port for every conversation on each pass after the first.
  const std::uint64_t pass_key = Rng::Mix(options_.seed ^ (pass_ << 32) ^ datagram_idx);
  for (std::uint64_t mask = client_port_mask_[datagram_idx]; mask != 0; mask &= mask - 1) {
    const auto record_idx = static_cast<std::size_t>(std::countr_zero(mask));
    const RecordLayout& layout = LayoutOf(record_idx);
    const bool is_src = (client_is_src_mask_[datagram_idx] >> record_idx) & 1;
    StoreBe(datagram + RecordOffset(record_idx) + (is_src ? layout.src_port : layout.dst_port),
            EphemeralPort(Rng::Mix(pass_key + record_idx)), 2);
  }
}

std::span<const std::uint8_t> FlowEncoder::TemplateDatagram() {
  if (template_.empty()) {
    return {};
  }
  PatchHeader(template_.data(), true);
  return template_;
}

std::span<const std::uint8_t> FlowEncoder::NextData() {
  std::size_t count = 1;
  return NextDataRun(count);
}

std::span<const std::uint8_t> FlowEncoder::NextDataRun(std::size_t& count) {
  const std::size_t distinct = stamp_ms_.size();
  count = std::clamp<std::size_t>(count, 1, distinct - next_);
  std::uint8_t* first = data_.data() + next_ * data_bytes_;
  for (std::size_t run_idx = 0; run_idx < count; ++run_idx) {
    std::uint8_t* datagram = first + run_idx * data_bytes_;
    PatchHeader(datagram, false);
    PatchRecords(next_ + run_idx, datagram);
  }
  next_ += count;
  if (next_ == distinct) {
    next_ = 0;
    ++pass_;
  }
  return std::span<const std::uint8_t>(first, count * data_bytes_);
}

}  // namespace sluice::tools
