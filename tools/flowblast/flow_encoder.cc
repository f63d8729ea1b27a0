// SPDX-License-Identifier: Apache-2.0

#include "flow_encoder.h"

#include <array>

namespace sluice::tools {
namespace {

constexpr std::uint16_t kTemplateId = 256;
constexpr std::uint32_t kSysUptimeMs = 3'600'000;  // the exporter has been up an hour

struct FieldSpec {
  std::uint16_t id;      // v9 field type / IPFIX information element
  std::uint16_t length;  // bytes
};

// RFC 3954, section 8 (field type definitions).
constexpr std::array<FieldSpec, 18> kV9Fields{{
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

// IANA IPFIX information elements (RFC 7012 and the IANA registry).
constexpr std::array<FieldSpec, 18> kIpfixFields{{
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

void Put(std::vector<std::uint8_t>& out, std::uint64_t value, std::size_t bytes) {
  for (std::size_t byte_idx = bytes; byte_idx-- > 0;) {
    out.push_back(static_cast<std::uint8_t>(value >> (8 * byte_idx)));
  }
}

void PutAt(std::vector<std::uint8_t>& out, std::size_t offset, std::uint64_t value,
           std::size_t bytes) {
  for (std::size_t byte_idx = 0; byte_idx < bytes; ++byte_idx) {
    out[offset + byte_idx] = static_cast<std::uint8_t>(value >> (8 * (bytes - 1 - byte_idx)));
  }
}

std::uint64_t Mix(std::uint64_t value) {
  value ^= value >> 33;
  value *= 0xFF51AFD7ED558CCDULL;
  value ^= value >> 33;
  value *= 0xC4CEB9FE1A85EC53ULL;
  value ^= value >> 33;
  return value;
}

// The synthetic flow number `flow_idx`: plausible, varied values.
struct SyntheticFlow {
  explicit SyntheticFlow(std::uint64_t hash)
      : src_addr(0x0A000000u | static_cast<std::uint32_t>(hash & 0xFFFFFF)),
        dst_addr(0xC0A80000u | static_cast<std::uint32_t>((hash >> 24) & 0xFFFF)),
        src_port(static_cast<std::uint16_t>(1024 + (hash >> 8) % 60000)),
        dst_port(std::array<std::uint16_t, 4>{80, 443, 53, 22}[(hash >> 40) & 3]),
        proto(((hash >> 42) & 3) == 0 ? 17 : 6),
        tcp_flags(proto == 6 ? 0x1b : 0),
        bytes(64 + (hash >> 16) % 1'000'000),
        packets(1 + (hash >> 20) % 1000),
        in_if(1 + static_cast<std::uint32_t>((hash >> 44) % 8)),
        out_if(9 + static_cast<std::uint32_t>((hash >> 47) % 8)),
        src_as(64512 + static_cast<std::uint32_t>((hash >> 50) % 1000)),
        duration_ms(static_cast<std::uint32_t>((hash >> 12) % 30'000)) {}

  std::uint32_t src_addr;
  std::uint32_t dst_addr;
  std::uint16_t src_port;
  std::uint16_t dst_port;
  std::uint8_t proto;
  std::uint8_t tcp_flags;
  std::uint64_t bytes;
  std::uint64_t packets;
  std::uint32_t in_if;
  std::uint32_t out_if;
  std::uint32_t src_as;
  std::uint32_t duration_ms;
  std::uint32_t next_hop = 0x0AFF0001;  // 10.255.0.1
  std::uint32_t dst_as = 65000;
  std::uint8_t tos = 0;
  std::uint8_t src_mask = 24;
  std::uint8_t dst_mask = 24;
};

// Value of field `id` for `flow` (v9 and IPFIX share the numbers used here).
std::uint64_t FieldValue(std::uint16_t id, const SyntheticFlow& flow, std::int64_t now_ms) {
  const std::uint32_t last_uptime = kSysUptimeMs - 1000;
  switch (id) {
    case 1:
      return flow.bytes;
    case 2:
      return flow.packets;
    case 4:
      return flow.proto;
    case 5:
      return flow.tos;
    case 6:
      return flow.tcp_flags;
    case 7:
      return flow.src_port;
    case 8:
      return flow.src_addr;
    case 9:
      return flow.src_mask;
    case 10:
      return flow.in_if;
    case 11:
      return flow.dst_port;
    case 12:
      return flow.dst_addr;
    case 13:
      return flow.dst_mask;
    case 14:
      return flow.out_if;
    case 15:
      return flow.next_hop;
    case 16:
      return flow.src_as;
    case 17:
      return flow.dst_as;
    case 21:
      return last_uptime;
    case 22:
      return last_uptime - flow.duration_ms;
    case 152:
      return static_cast<std::uint64_t>(now_ms - 1000 - flow.duration_ms);
    case 153:
      return static_cast<std::uint64_t>(now_ms - 1000);
    default:
      return 0;
  }
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
  if (options_.distinct_datagrams < 64) {
    options_.distinct_datagrams = 64;
  }
  switch (options_.protocol) {
    case ExportProtocol::kNetflowV5:
      records_per_datagram_ = (options_.max_datagram_bytes - 24) / 48;
      if (records_per_datagram_ > 30) {
        records_per_datagram_ = 30;  // the v5 maximum
      }
      break;
    case ExportProtocol::kNetflowV9:
      records_per_datagram_ = (options_.max_datagram_bytes - 20 - 4) / 53;
      break;
    case ExportProtocol::kIpfix:
      records_per_datagram_ = (options_.max_datagram_bytes - 16 - 4) / 70;
      break;
  }
  BuildTemplate();
  for (std::size_t datagram_idx = 0; datagram_idx < options_.distinct_datagrams; ++datagram_idx) {
    const std::vector<std::uint8_t> datagram = BuildData(datagram_idx);
    data_bytes_ = datagram.size();
    data_.insert(data_.end(), datagram.begin(), datagram.end());
  }
}

void FlowEncoder::BuildTemplate() {
  const std::uint32_t now_s = static_cast<std::uint32_t>(options_.now_ms / 1000);
  std::vector<std::uint8_t>& out = template_;
  if (options_.protocol == ExportProtocol::kNetflowV9) {
    // RFC 3954, 5.1 Header Format: version, count (records of all flowsets), sysUptime,
    // UNIX secs, sequence number (packets), source id.
    Put(out, 9, 2);
    Put(out, 1, 2);
    Put(out, kSysUptimeMs, 4);
    Put(out, now_s, 4);
    Put(out, 0, 4);
    Put(out, options_.source_id, 4);
    // RFC 3954, 5.2 Template FlowSet Format: FlowSet ID 0, length, template id, count, fields.
    Put(out, 0, 2);
    Put(out, 4 + 4 + 4 * kV9Fields.size(), 2);
    Put(out, kTemplateId, 2);
    Put(out, kV9Fields.size(), 2);
    for (const FieldSpec& field : kV9Fields) {
      Put(out, field.id, 2);
      Put(out, field.length, 2);
    }
  } else if (options_.protocol == ExportProtocol::kIpfix) {
    // RFC 7011, 3.1 Message Header Format: version 10, length, export time, sequence
    // number (data records), observation domain id.
    const std::size_t length = 16 + 4 + 4 + 4 * kIpfixFields.size();
    Put(out, 10, 2);
    Put(out, length, 2);
    Put(out, now_s, 4);
    Put(out, 0, 4);
    Put(out, options_.source_id, 4);
    // RFC 7011, 3.3.2 Set Header (Set ID 2: Template Set) and 3.4.1 Template Record.
    Put(out, 2, 2);
    Put(out, 4 + 4 + 4 * kIpfixFields.size(), 2);
    Put(out, kTemplateId, 2);
    Put(out, kIpfixFields.size(), 2);
    for (const FieldSpec& field : kIpfixFields) {
      Put(out, field.id, 2);
      Put(out, field.length, 2);
    }
  }
}

std::vector<std::uint8_t> FlowEncoder::BuildData(std::size_t datagram_idx) {
  std::vector<std::uint8_t> out;
  out.reserve(options_.max_datagram_bytes);
  const std::uint32_t now_s = static_cast<std::uint32_t>(options_.now_ms / 1000);
  const std::size_t count = records_per_datagram_;
  auto flow_at = [&](std::size_t record_idx) {
    return SyntheticFlow(
        Mix((std::uint64_t{options_.seed} << 40) ^ (datagram_idx * count + record_idx)));
  };
  switch (options_.protocol) {
    case ExportProtocol::kNetflowV5: {
      // Cisco NetFlow v5 header: version, count, sysUptime, unix secs/nsecs, flow sequence,
      // engine type/id, sampling interval.
      Put(out, 5, 2);
      Put(out, count, 2);
      Put(out, kSysUptimeMs, 4);
      Put(out, now_s, 4);
      Put(out, 0, 4);
      Put(out, 0, 4);
      Put(out, 0, 1);
      Put(out, options_.source_id & 0xFF, 1);
      Put(out, 0, 2);
      for (std::size_t record_idx = 0; record_idx < count; ++record_idx) {
        const SyntheticFlow flow = flow_at(record_idx);
        const std::uint32_t last = kSysUptimeMs - 1000;
        Put(out, flow.src_addr, 4);
        Put(out, flow.dst_addr, 4);
        Put(out, flow.next_hop, 4);
        Put(out, flow.in_if, 2);
        Put(out, flow.out_if, 2);
        Put(out, flow.packets, 4);
        Put(out, flow.bytes, 4);
        Put(out, last - flow.duration_ms, 4);
        Put(out, last, 4);
        Put(out, flow.src_port, 2);
        Put(out, flow.dst_port, 2);
        Put(out, 0, 1);
        Put(out, flow.tcp_flags, 1);
        Put(out, flow.proto, 1);
        Put(out, flow.tos, 1);
        Put(out, flow.src_as & 0xFFFF, 2);
        Put(out, flow.dst_as & 0xFFFF, 2);
        Put(out, flow.src_mask, 1);
        Put(out, flow.dst_mask, 1);
        Put(out, 0, 2);
      }
      break;
    }
    case ExportProtocol::kNetflowV9:
    case ExportProtocol::kIpfix: {
      const bool v9 = options_.protocol == ExportProtocol::kNetflowV9;
      const std::span<const FieldSpec> fields =
          v9 ? std::span<const FieldSpec>(kV9Fields) : std::span<const FieldSpec>(kIpfixFields);
      std::size_t record_bytes = 0;
      for (const FieldSpec& field : fields) {
        record_bytes += field.length;
      }
      const std::size_t header_bytes = v9 ? 20 : 16;
      std::size_t set_length = 4 + count * record_bytes;
      const std::size_t padding = (4 - set_length % 4) % 4;  // pad the set to 32 bits
      set_length += padding;
      if (v9) {
        Put(out, 9, 2);
        Put(out, count, 2);
        Put(out, kSysUptimeMs, 4);
        Put(out, now_s, 4);
        Put(out, 0, 4);
        Put(out, options_.source_id, 4);
      } else {
        Put(out, 10, 2);
        Put(out, header_bytes + set_length, 2);
        Put(out, now_s, 4);
        Put(out, 0, 4);
        Put(out, options_.source_id, 4);
      }
      // Data set: the Set/FlowSet ID is the Template ID (RFC 3954 5.3, RFC 7011 3.3.2).
      Put(out, kTemplateId, 2);
      Put(out, set_length, 2);
      for (std::size_t record_idx = 0; record_idx < count; ++record_idx) {
        const SyntheticFlow flow = flow_at(record_idx);
        for (const FieldSpec& field : fields) {
          Put(out, FieldValue(field.id, flow, options_.now_ms), field.length);
        }
      }
      Put(out, 0, padding);
      break;
    }
  }
  return out;
}

std::span<const std::uint8_t> FlowEncoder::TemplateDatagram() {
  if (template_.empty()) {
    return {};
  }
  // v9 counts packets, so a template packet takes a sequence number; IPFIX counts data
  // records, so it carries the current count without advancing it.
  if (options_.protocol == ExportProtocol::kNetflowV9) {
    PutAt(template_, 12, datagrams_sent_, 4);
  } else {
    PutAt(template_, 8, records_sent_, 4);
  }
  ++datagrams_sent_;
  return template_;
}

void FlowEncoder::PatchSequence(std::uint8_t* datagram) {
  std::uint64_t value = 0;
  std::size_t offset = 0;
  switch (options_.protocol) {
    case ExportProtocol::kNetflowV5:
      value = records_sent_;  // flow_sequence: flows seen before this datagram
      offset = 16;
      break;
    case ExportProtocol::kNetflowV9:
      value = datagrams_sent_;  // packets sent before this one
      offset = 12;
      break;
    case ExportProtocol::kIpfix:
      value = records_sent_;  // data records sent before this one
      offset = 8;
      break;
  }
  for (std::size_t byte_idx = 0; byte_idx < 4; ++byte_idx) {
    datagram[offset + byte_idx] = static_cast<std::uint8_t>(value >> (8 * (3 - byte_idx)));
  }
  records_sent_ += records_per_datagram_;
  ++datagrams_sent_;
}

std::span<const std::uint8_t> FlowEncoder::NextData() {
  std::size_t count = 1;
  return NextDataRun(count);
}

std::span<const std::uint8_t> FlowEncoder::NextDataRun(std::size_t& count) {
  const std::size_t distinct = data_.size() / data_bytes_;
  if (count > distinct - next_) {
    count = distinct - next_;
  }
  std::uint8_t* first = data_.data() + next_ * data_bytes_;
  for (std::size_t datagram_idx = 0; datagram_idx < count; ++datagram_idx) {
    PatchSequence(first + datagram_idx * data_bytes_);
  }
  next_ = (next_ + count) % distinct;
  return std::span<const std::uint8_t>(first, count * data_bytes_);
}

}  // namespace sluice::tools
