// SPDX-License-Identifier: Apache-2.0

#include "decode/sflow.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "common/byte_order.h"
#include "decode/packet_header.h"

namespace sluice::decode {
namespace {

// Section and structure names below are those of sflow_version_5.txt. Everything is XDR
// (RFC 4506): big-endian 32-bit words; variable-length opaque data is padded to 4 bytes.

// struct sample_datagram_v5: version(4) = 5, agent_address (address), sub_agent_id(4),
// sequence_number(4), uptime(4, ms), samples<> (count(4), then sample_records).
constexpr std::uint32_t kVersion = 5;
constexpr std::size_t kDatagramFixedSize = 4 + 4 + 16;  // version, address type, 4 words

// union address: type(4) then 0 (UNKNOWN), 4 (IP_V4) or 16 (IP_V6) bytes.
constexpr std::uint32_t kAddressUnknown = 0;
constexpr std::uint32_t kAddressIpv4 = 1;
constexpr std::uint32_t kAddressIpv6 = 2;

// sample_record, flow_record and counter_record all are: data_format(4: enterprise in
// the top 20 bits, format in the low 12), length(4), opaque data<length>.
constexpr std::size_t kRecordHeaderSize = 8;

// Sample formats of enterprise 0.
constexpr std::uint32_t kFlowSample = 1;              // struct flow_sample
constexpr std::uint32_t kCountersSample = 2;          // struct counters_sample
constexpr std::uint32_t kExpandedFlowSample = 3;      // struct flow_sample_expanded
constexpr std::uint32_t kExpandedCountersSample = 4;  // struct counters_sample_expanded

// struct flow_sample: sequence_number, source_id (type 8 bits | index 24 bits),
//   sampling_rate, sample_pool, drops, input, output (interface), flow_records<>.
constexpr std::size_t kFlowSampleFixedSize = 32;
// struct flow_sample_expanded: sequence_number, source_id (type, index), sampling_rate,
//   sample_pool, drops, input (format, value), output (format, value), flow_records<>.
constexpr std::size_t kExpandedFlowSampleFixedSize = 44;
// struct counters_sample: sequence_number, source_id, counters<>.
constexpr std::size_t kCountersSampleFixedSize = 12;
// struct counters_sample_expanded: sequence_number, source_id (type, index), counters<>.
constexpr std::size_t kExpandedCountersSampleFixedSize = 16;

// Flow record formats of enterprise 0.
constexpr std::uint32_t kSampledHeader = 1;       // struct sampled_header
constexpr std::uint32_t kSampledEthernet = 2;     // struct sampled_ethernet
constexpr std::uint32_t kSampledIpv4 = 3;         // struct sampled_ipv4
constexpr std::uint32_t kSampledIpv6 = 4;         // struct sampled_ipv6
constexpr std::uint32_t kExtendedSwitch = 1001;   // struct extended_switch
constexpr std::uint32_t kExtendedRouter = 1002;   // struct extended_router
constexpr std::uint32_t kExtendedGateway = 1003;  // struct extended_gateway

// struct sampled_header: header_protocol, frame_length, stripped, header<> (length, bytes).
constexpr std::size_t kSampledHeaderFixedSize = 16;
// struct sampled_ethernet: length, src_mac (mac = opaque[6], padded to 8), dst_mac, type.
constexpr std::size_t kSampledEthernetSize = 24;
// struct sampled_ipv4: length, protocol, src_ip, dst_ip, src_port, dst_port, tcp_flags, tos.
constexpr std::size_t kSampledIpv4Size = 32;
// struct sampled_ipv6: length, protocol, src_ip(16), dst_ip(16), src_port, dst_port,
//   tcp_flags, priority.
constexpr std::size_t kSampledIpv6Size = 56;
// struct extended_switch: src_vlan, src_priority, dst_vlan, dst_priority.
constexpr std::size_t kExtendedSwitchSize = 16;

// Counter record formats of enterprise 0.
constexpr std::uint32_t kGenericInterfaceCounters = 1;  // struct if_counters
constexpr std::size_t kGenericInterfaceCountersSize = 88;

// interface: format 0 = single ifIndex; 0x3FFFFFFF = internal to the agent.
constexpr std::uint32_t kInterfaceInternal = 0x3FFFFFFF;

std::size_t Pad4(std::size_t length) {
  return (length + 3) & ~std::size_t{3};
}

// The ifIndex of an sFlow interface, or 0 where there is none: discarded (format 1),
// several interfaces (format 2), or the agent itself.
std::uint32_t InterfaceIndex(std::uint32_t format, std::uint32_t value) {
  return format == 0 && value != kInterfaceInternal ? value : 0;
}

// Compact form: format in the top 2 bits, value in the low 30.
std::uint32_t CompactInterfaceIndex(std::uint32_t field) {
  return InterfaceIndex(field >> 30, field & 0x3FFFFFFFu);
}

// What the records of one flow sample have told us so far.
struct FlowSampleState {
  std::uint64_t frame_length = 0;
  int frame_length_rank = 0;  // 3 sampled_header, 2 sampled_ethernet, 1 sampled_ipv4/6
  bool have_key = false;      // addresses/ports already came from a packet record
  std::uint16_t switch_vlan = 0;
};

class SflowDecoder {
 public:
  explicit SflowDecoder(DecodeContext& ctx)
      : ctx_(ctx), base_(ctx.datagram.payload.data()), size_(ctx.datagram.payload.size()) {}

  DecodeStatus Decode();

 private:
  std::size_t Offset(const std::uint8_t* p) const { return static_cast<std::size_t>(p - base_); }

  // Records why decoding stops and returns false. The helpers below report failure as a
  // bool plus error_ rather than as a DecodeStatus: returning the small expected<> from
  // every record cost a store-forwarding stall per call (a third of the decode time).
  bool Error(DecodeErrorKind kind, const std::uint8_t* where) {
    error_ = DecodeError{kind, static_cast<std::uint32_t>(Offset(where))};
    return false;
  }

  // Calls fn(data_format, data, length) for each of `count` records in [p, p + length).
  // A count that cannot fit is kBadCount; a record running past the end is
  // `overrun_kind`.
  template <typename Fn>
  bool ForEachRecord(const std::uint8_t* p, std::size_t length, std::uint32_t count,
                     DecodeErrorKind overrun_kind, Fn&& fn);

  bool DecodeFlowSample(const std::uint8_t* p, std::size_t length, bool expanded);
  bool DecodeFlowRecord(std::uint32_t format, const std::uint8_t* p, std::size_t length,
                        std::size_t row, FlowSampleState& state);
  bool DecodeCountersSample(const std::uint8_t* p, std::size_t length, bool expanded);

  // Reads an `address` at p (length bytes available) into `out` (left unset for
  // UNKNOWN); sets `consumed`.
  bool ReadAddress(const std::uint8_t* p, std::size_t length, flow::IpAddress& out,
                   std::size_t& consumed);

  DecodeContext& ctx_;
  const std::uint8_t* base_;
  std::size_t size_;
  DecodeError error_{};  // why a helper returned false
};

bool SflowDecoder::ReadAddress(const std::uint8_t* p, std::size_t length, flow::IpAddress& out,
                               std::size_t& consumed) {
  if (length < 4) {
    return Error(DecodeErrorKind::kBadLength, p);
  }
  switch (LoadBe32(p)) {
    case kAddressUnknown:
      consumed = 4;
      return true;
    case kAddressIpv4:
      if (length < 8) {
        return Error(DecodeErrorKind::kBadLength, p);
      }
      out = flow::IpAddress::FromV4(LoadBe32(p + 4));
      consumed = 8;
      return true;
    case kAddressIpv6:
      if (length < 20) {
        return Error(DecodeErrorKind::kBadLength, p);
      }
      out = flow::IpAddress::FromV6(p + 4);
      consumed = 20;
      return true;
    default:
      return Error(DecodeErrorKind::kBadRecord, p);
  }
}

template <typename Fn>
bool SflowDecoder::ForEachRecord(const std::uint8_t* p, std::size_t length, std::uint32_t count,
                                 DecodeErrorKind overrun_kind, Fn&& fn) {
  if (count > length / kRecordHeaderSize) {
    return Error(DecodeErrorKind::kBadCount, p - 4);
  }
  const std::uint8_t* const end = p + length;
  for (std::uint32_t record_idx = 0; record_idx < count; ++record_idx) {
    const auto left = static_cast<std::size_t>(end - p);
    if (left < kRecordHeaderSize) {
      return Error(overrun_kind, p);
    }
    const std::uint32_t format = LoadBe32(p);
    const std::uint32_t record_length = LoadBe32(p + 4);
    const std::uint8_t* data = p + kRecordHeaderSize;
    const std::size_t available = left - kRecordHeaderSize;
    if (record_length > available) {
      return Error(overrun_kind, p + 4);
    }
    if (!fn(format, data, std::size_t{record_length})) {
      return false;
    }
    // XDR pads opaque data to 4 bytes; tolerate a last record without its padding.
    p = data + std::min(Pad4(record_length), available);
  }
  return true;
}

DecodeStatus SflowDecoder::Decode() {
  if (size_ < 8) {
    return Fail(DecodeErrorKind::kTruncated, 0);
  }
  if (LoadBe32(base_) != kVersion) {
    return Fail(DecodeErrorKind::kBadVersion, 0);
  }
  std::size_t address_length = 0;
  switch (LoadBe32(base_ + 4)) {
    case kAddressUnknown:
      break;
    case kAddressIpv4:
      address_length = 4;
      break;
    case kAddressIpv6:
      address_length = 16;
      break;
    default:
      return Fail(DecodeErrorKind::kBadRecord, 4);
  }
  if (size_ < kDatagramFixedSize + address_length) {
    return Fail(DecodeErrorKind::kTruncated, size_);
  }
  const std::uint8_t* header = base_ + 8 + address_length;
  const std::uint32_t sub_agent_id = LoadBe32(header);
  const std::uint32_t sequence = LoadBe32(header + 4);
  const std::uint32_t sample_count = LoadBe32(header + 12);
  ctx_.exporter.ObserveSequence(Protocol::kSflowV5, sub_agent_id, sequence, 1);

  const std::uint8_t* samples = header + 16;
  const std::size_t samples_length = size_ - Offset(samples);
  const bool ok =
      ForEachRecord(samples, samples_length, sample_count, DecodeErrorKind::kTruncated,
                    [this](std::uint32_t format, const std::uint8_t* p, std::size_t length) {
                      if ((format >> 12) != 0) {
                        return true;  // another enterprise's sample
                      }
                      switch (format) {
                        case kFlowSample:
                          return DecodeFlowSample(p, length, false);
                        case kExpandedFlowSample:
                          return DecodeFlowSample(p, length, true);
                        case kCountersSample:
                          return DecodeCountersSample(p, length, false);
                        case kExpandedCountersSample:
                          return DecodeCountersSample(p, length, true);
                        default:
                          return true;  // e.g. discarded packet events (format 5)
                      }
                    });
  if (!ok) {
    return tl::unexpected<DecodeError>(error_);
  }
  return {};
}

bool SflowDecoder::DecodeFlowSample(const std::uint8_t* p, std::size_t length, bool expanded) {
  std::uint32_t source_index;
  std::uint32_t sampling_rate;
  std::uint32_t in_if;
  std::uint32_t out_if;
  std::uint32_t record_count;
  std::size_t fixed_size;
  if (expanded) {
    fixed_size = kExpandedFlowSampleFixedSize;
    if (length < fixed_size) {
      return Error(DecodeErrorKind::kBadLength, p - 4);
    }
    source_index = LoadBe32(p + 8);
    sampling_rate = LoadBe32(p + 12);
    in_if = InterfaceIndex(LoadBe32(p + 24), LoadBe32(p + 28));
    out_if = InterfaceIndex(LoadBe32(p + 32), LoadBe32(p + 36));
    record_count = LoadBe32(p + 40);
  } else {
    fixed_size = kFlowSampleFixedSize;
    if (length < fixed_size) {
      return Error(DecodeErrorKind::kBadLength, p - 4);
    }
    source_index = LoadBe32(p + 4) & 0x00FFFFFFu;
    sampling_rate = LoadBe32(p + 8);
    in_if = CompactInterfaceIndex(LoadBe32(p + 20));
    out_if = CompactInterfaceIndex(LoadBe32(p + 24));
    record_count = LoadBe32(p + 28);
  }

  const std::size_t row = ctx_.out.NewRow();
  flow::FlowColumns& c = ctx_.out.cols();
  FlowSampleState state;
  const bool ok =
      ForEachRecord(p + fixed_size, length - fixed_size, record_count, DecodeErrorKind::kBadLength,
                    [&](std::uint32_t format, const std::uint8_t* data, std::size_t data_length) {
                      return DecodeFlowRecord(format, data, data_length, row, state);
                    });
  if (!ok) {
    ctx_.out.DiscardRow();
    return false;
  }
  c.in_if[row] = in_if;
  c.out_if[row] = out_if;
  if (state.switch_vlan != 0) {
    c.vlan[row] = state.switch_vlan;
  }
  const UnixMillis now = ctx_.datagram.time_received;
  c.first[row] = now;
  c.last[row] = now;
  c.bytes[row] = state.frame_length;
  c.packets[row] = 1;
  FinishRecord(ctx_, row, source_index, ResolveRate(ctx_.override_rate, sampling_rate, 0));
  ++ctx_.exporter.counters.records;
  return true;
}

bool SflowDecoder::DecodeFlowRecord(std::uint32_t format, const std::uint8_t* p, std::size_t length,
                                    std::size_t row, FlowSampleState& state) {
  if ((format >> 12) != 0) {
    return true;  // another enterprise's record
  }
  flow::FlowColumns& c = ctx_.out.cols();
  const auto too_short = [&] {
    return Error(DecodeErrorKind::kBadLength, p - 4);
  };
  switch (format) {
    case kSampledHeader: {
      if (length < kSampledHeaderFixedSize) {
        return too_short();
      }
      const std::uint32_t header_protocol = LoadBe32(p);
      const std::uint32_t frame_length = LoadBe32(p + 4);
      const std::uint32_t header_length = LoadBe32(p + 12);
      if (header_length > length - kSampledHeaderFixedSize) {
        return Error(DecodeErrorKind::kBadLength, p + 12);
      }
      if (state.frame_length_rank < 3) {
        state.frame_length = frame_length;
        state.frame_length_rank = 3;
      }
      if (!state.have_key) {
        const HeaderParse parsed = ParsePacketHeader(
            header_protocol, {p + kSampledHeaderFixedSize, header_length}, c, row);
        state.have_key = parsed != HeaderParse::kUnsupported;
      }
      return true;
    }
    case kSampledEthernet:
      if (length < kSampledEthernetSize) {
        return too_short();
      }
      if (state.frame_length_rank < 2) {
        state.frame_length = LoadBe32(p);
        state.frame_length_rank = 2;
      }
      if (c.src_mac[row] == 0 && c.dst_mac[row] == 0) {
        c.src_mac[row] = (std::uint64_t{LoadBe16(p + 4)} << 32) | LoadBe32(p + 6);
        c.dst_mac[row] = (std::uint64_t{LoadBe16(p + 12)} << 32) | LoadBe32(p + 14);
      }
      return true;
    case kSampledIpv4:
    case kSampledIpv6: {
      const bool v6 = format == kSampledIpv6;
      if (length < (v6 ? kSampledIpv6Size : kSampledIpv4Size)) {
        return too_short();
      }
      if (state.frame_length_rank < 1) {
        state.frame_length = LoadBe32(p);
        state.frame_length_rank = 1;
      }
      if (state.have_key) {
        return true;
      }
      state.have_key = true;
      c.proto[row] = static_cast<std::uint8_t>(LoadBe32(p + 4));
      const std::uint8_t* ports;
      if (v6) {
        c.src_addr[row] = flow::IpAddress::FromV6(p + 8);
        c.dst_addr[row] = flow::IpAddress::FromV6(p + 24);
        ports = p + 40;
      } else {
        c.src_addr[row] = flow::IpAddress::FromV4(LoadBe32(p + 8));
        c.dst_addr[row] = flow::IpAddress::FromV4(LoadBe32(p + 12));
        ports = p + 16;
      }
      c.src_port[row] = static_cast<std::uint16_t>(LoadBe32(ports));
      c.dst_port[row] = static_cast<std::uint16_t>(LoadBe32(ports + 4));
      c.tcp_flags[row] = static_cast<std::uint8_t>(LoadBe32(ports + 8));
      c.tos[row] = static_cast<std::uint8_t>(LoadBe32(ports + 12));  // tos / priority
      return true;
    }
    case kExtendedSwitch: {
      if (length < kExtendedSwitchSize) {
        return too_short();
      }
      const std::uint32_t src_vlan = LoadBe32(p);
      const std::uint32_t dst_vlan = LoadBe32(p + 8);
      const std::uint32_t vlan = src_vlan != 0 ? src_vlan : dst_vlan;
      if (vlan <= 0x0FFF) {  // a 12-bit VID; anything else is not a VLAN
        state.switch_vlan = static_cast<std::uint16_t>(vlan);
      }
      return true;
    }
    case kExtendedRouter: {
      // struct extended_router: nexthop (address), src_mask_len, dst_mask_len.
      flow::IpAddress next_hop;
      std::size_t consumed = 0;
      if (!ReadAddress(p, length, next_hop, consumed)) {
        return false;
      }
      if (length - consumed < 8) {
        return too_short();
      }
      c.next_hop[row] = next_hop;
      const std::uint32_t src_mask = LoadBe32(p + consumed);
      const std::uint32_t dst_mask = LoadBe32(p + consumed + 4);
      c.src_mask[row] = static_cast<std::uint8_t>(std::min<std::uint32_t>(src_mask, 128));
      c.dst_mask[row] = static_cast<std::uint8_t>(std::min<std::uint32_t>(dst_mask, 128));
      return true;
    }
    case kExtendedGateway: {
      // struct extended_gateway: nexthop (address), as, src_as, src_peer_as,
      //   dst_as_path<> (as_path_type: type, as_number<>), communities<>, localpref.
      flow::IpAddress next_hop;
      std::size_t offset = 0;
      if (!ReadAddress(p, length, next_hop, offset)) {
        return false;
      }
      if (length - offset < 16) {
        return too_short();
      }
      const std::uint32_t router_as = LoadBe32(p + offset);
      const std::uint32_t src_as = LoadBe32(p + offset + 4);
      const std::uint32_t segment_count = LoadBe32(p + offset + 12);
      offset += 16;
      if (segment_count > (length - offset) / 8) {
        return Error(DecodeErrorKind::kBadCount, p + offset - 4);
      }
      std::uint32_t dst_as = router_as;  // an empty path: the destination is local
      for (std::uint32_t segment_idx = 0; segment_idx < segment_count; ++segment_idx) {
        if (length - offset < 8) {
          return too_short();
        }
        const std::uint32_t as_count = LoadBe32(p + offset + 4);
        offset += 8;
        if (as_count > (length - offset) / 4) {
          return Error(DecodeErrorKind::kBadCount, p + offset - 4);
        }
        if (as_count != 0) {
          dst_as = LoadBe32(p + offset + (std::size_t{as_count} - 1) * 4);
        }
        offset += std::size_t{as_count} * 4;
      }
      c.bgp_next_hop[row] = next_hop;
      c.src_as[row] = src_as;
      c.dst_as[row] = dst_as;
      return true;
    }
    default:
      return true;
  }
}

bool SflowDecoder::DecodeCountersSample(const std::uint8_t* p, std::size_t length, bool expanded) {
  const std::size_t fixed_size =
      expanded ? kExpandedCountersSampleFixedSize : kCountersSampleFixedSize;
  if (length < fixed_size) {
    return Error(DecodeErrorKind::kBadLength, p - 4);
  }
  const std::uint32_t record_count = LoadBe32(p + fixed_size - 4);
  const bool ok =
      ForEachRecord(p + fixed_size, length - fixed_size, record_count, DecodeErrorKind::kBadLength,
                    [&](std::uint32_t format, const std::uint8_t* r, std::size_t r_length) {
                      if (format != kGenericInterfaceCounters) {
                        return true;  // ethernet, vlan, processor, host... and other enterprises
                      }
                      // struct if_counters: ifIndex, ifType, ifSpeed(8), ifDirection, ifStatus,
                      //   ifInOctets(8), ifInUcastPkts, ifInMulticastPkts, ifInBroadcastPkts,
                      //   ifInDiscards, ifInErrors, ifInUnknownProtos, ifOutOctets(8),
                      //   ifOutUcastPkts, ifOutMulticastPkts, ifOutBroadcastPkts, ifOutDiscards,
                      //   ifOutErrors, ifPromiscuousMode.
                      if (r_length < kGenericInterfaceCountersSize) {
                        return Error(DecodeErrorKind::kBadLength, r - 4);
                      }
                      InterfaceInfo* info = ctx_.exporter.interfaces.FindOrAdd(LoadBe32(r));
                      if (info == nullptr) {
                        return true;  // the interface table is full
                      }
                      InterfaceCounters& k = info->counters;
                      k.if_type = LoadBe32(r + 4);
                      k.speed_bps = LoadBe64(r + 8);
                      k.direction = LoadBe32(r + 16);
                      k.status = LoadBe32(r + 20);
                      k.in_octets = LoadBe64(r + 24);
                      k.in_ucast_pkts = LoadBe32(r + 32);
                      k.in_multicast_pkts = LoadBe32(r + 36);
                      k.in_broadcast_pkts = LoadBe32(r + 40);
                      k.in_discards = LoadBe32(r + 44);
                      k.in_errors = LoadBe32(r + 48);
                      k.in_unknown_protos = LoadBe32(r + 52);
                      k.out_octets = LoadBe64(r + 56);
                      k.out_ucast_pkts = LoadBe32(r + 64);
                      k.out_multicast_pkts = LoadBe32(r + 68);
                      k.out_broadcast_pkts = LoadBe32(r + 72);
                      k.out_discards = LoadBe32(r + 76);
                      k.out_errors = LoadBe32(r + 80);
                      k.promiscuous_mode = LoadBe32(r + 84);
                      info->has_counters = true;
                      info->counters_time = ctx_.datagram.time_received;
                      return true;
                    });
  if (!ok) {
    return false;
  }
  ++ctx_.exporter.counters.counter_samples;
  return true;
}

}  // namespace

DecodeStatus DecodeSflowV5(DecodeContext& ctx) {
  return SflowDecoder(ctx).Decode();
}

}  // namespace sluice::decode
