// SPDX-License-Identifier: Apache-2.0

#include "decode/ie_map.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "flow/flow_batch.h"

namespace sluice::decode {
namespace {

struct Mapping {
  OpKind kind = OpKind::kSkip;
  std::uint32_t target = 0;
};

constexpr Mapping To(OpKind kind, std::size_t column_offset) {
  return Mapping{kind, static_cast<std::uint32_t>(column_offset)};
}

constexpr Mapping ToSlot(Slot slot) { return Mapping{OpKind::kSlot, static_cast<std::uint32_t>(slot)}; }

// Byte offset of a FlowColumns member (FlowColumns is standard-layout).
#define SLUICE_COL(member) offsetof(flow::FlowColumns, member)

// Sampling elements, the same in data and options records.
std::optional<Mapping> SamplingMapping(std::uint16_t ie) {
  switch (ie) {
    case 34:  // samplingInterval (v9 SAMPLING_INTERVAL)
      return ToSlot(Slot::kSamplingInterval);
    case 35:  // samplingAlgorithm
      return ToSlot(Slot::kSamplingAlgorithm);
    case 48:  // samplerId (v9 FLOW_SAMPLER_ID)
      return ToSlot(Slot::kSamplerId);
    case 49:  // samplerMode
      return ToSlot(Slot::kSamplerMode);
    case 50:  // samplerRandomInterval
      return ToSlot(Slot::kSamplerRandomInterval);
    case 302:  // selectorId (RFC 5477)
      return ToSlot(Slot::kSelectorId);
    case 305:  // samplingPacketInterval
      return ToSlot(Slot::kPacketInterval);
    case 306:  // samplingPacketSpace
      return ToSlot(Slot::kPacketSpace);
    case 309:  // samplingSize
      return ToSlot(Slot::kSamplingSize);
    case 310:  // samplingPopulation
      return ToSlot(Slot::kSamplingPopulation);
    case 311:  // samplingProbability (float64)
      return Mapping{OpKind::kFloatSlot, static_cast<std::uint32_t>(Slot::kSamplingProbability)};
    default:
      return std::nullopt;
  }
}

// Which alternatives a template carries, so that a fallback element (a total count, a
// post-MAC) is mapped only when its preferred element is absent.
struct Presence {
  bool octet_delta = false;    // 1
  bool packet_delta = false;   // 2
  bool octet_total = false;    // 85
  bool packet_total = false;   // 86
  bool src_mac = false;        // 56
  bool dst_mac = false;        // 80
  bool vlan = false;           // 58 or 243
  bool rev_octet_delta = false;   // PEN 29305 IE 1
  bool rev_packet_delta = false;  // PEN 29305 IE 2

  explicit Presence(const Template& tmpl) {
    for (const FieldSpec& field : tmpl.fields) {
      if (field.pen == kReversePen) {
        rev_octet_delta |= field.ie == 1;
        rev_packet_delta |= field.ie == 2;
      } else if (field.pen == 0) {
        octet_delta |= field.ie == 1;
        packet_delta |= field.ie == 2;
        octet_total |= field.ie == 85;
        packet_total |= field.ie == 86;
        src_mac |= field.ie == 56;
        dst_mac |= field.ie == 80;
        vlan |= field.ie == 58 || field.ie == 243;
      }
    }
  }
};

// Elements of flow (data) records, IANA numbering (pen 0).
Mapping DataMapping(TemplateFamily family, std::uint16_t ie, const Presence& has) {
  if (const auto sampling = SamplingMapping(ie)) {
    return *sampling;
  }
  switch (ie) {
    case 1:  // octetDeltaCount
      return To(OpKind::kU64, SLUICE_COL(bytes));
    case 2:  // packetDeltaCount
      return To(OpKind::kU64, SLUICE_COL(packets));
    case 85:  // octetTotalCount: used when no delta count is present
      return has.octet_delta ? Mapping{} : To(OpKind::kU64, SLUICE_COL(bytes));
    case 86:  // packetTotalCount
      return has.packet_delta ? Mapping{} : To(OpKind::kU64, SLUICE_COL(packets));
    case 231:  // initiatorOctets (NSEL NF_F_FWD_FLOW_DELTA_BYTES): when no 1/85
      return has.octet_delta || has.octet_total ? Mapping{} : To(OpKind::kU64, SLUICE_COL(bytes));
    case 298:  // initiatorPackets: when no 2/86
      return has.packet_delta || has.packet_total ? Mapping{}
                                                  : To(OpKind::kU64, SLUICE_COL(packets));
    case 4:  // protocolIdentifier
      return To(OpKind::kU8, SLUICE_COL(proto));
    case 5:  // ipClassOfService
      return To(OpKind::kU8, SLUICE_COL(tos));
    case 6:  // tcpControlBits (2 bytes in RFC 7125, low 8 bits kept)
      return To(OpKind::kU8, SLUICE_COL(tcp_flags));
    case 7:  // sourceTransportPort
      return To(OpKind::kU16, SLUICE_COL(src_port));
    case 11:  // destinationTransportPort
      return To(OpKind::kU16, SLUICE_COL(dst_port));
    case 8:  // sourceIPv4Address
      return To(OpKind::kIpv4, SLUICE_COL(src_addr));
    case 12:  // destinationIPv4Address
      return To(OpKind::kIpv4, SLUICE_COL(dst_addr));
    case 27:  // sourceIPv6Address
      return To(OpKind::kIpv6, SLUICE_COL(src_addr));
    case 28:  // destinationIPv6Address
      return To(OpKind::kIpv6, SLUICE_COL(dst_addr));
    case 9:   // sourceIPv4PrefixLength
    case 29:  // sourceIPv6PrefixLength
      return To(OpKind::kU8, SLUICE_COL(src_mask));
    case 13:  // destinationIPv4PrefixLength
    case 30:  // destinationIPv6PrefixLength
      return To(OpKind::kU8, SLUICE_COL(dst_mask));
    case 10:  // ingressInterface
      return To(OpKind::kU32, SLUICE_COL(in_if));
    case 14:  // egressInterface
      return To(OpKind::kU32, SLUICE_COL(out_if));
    case 15:  // ipNextHopIPv4Address
      return To(OpKind::kIpv4, SLUICE_COL(next_hop));
    case 62:  // ipNextHopIPv6Address
      return To(OpKind::kIpv6, SLUICE_COL(next_hop));
    case 18:  // bgpNextHopIPv4Address
      return To(OpKind::kIpv4, SLUICE_COL(bgp_next_hop));
    case 63:  // bgpNextHopIPv6Address
      return To(OpKind::kIpv6, SLUICE_COL(bgp_next_hop));
    case 16:  // bgpSourceAsNumber
      return To(OpKind::kU32, SLUICE_COL(src_as));
    case 17:  // bgpDestinationAsNumber
      return To(OpKind::kU32, SLUICE_COL(dst_as));
    case 32:   // icmpTypeCodeIPv4
    case 139:  // icmpTypeCodeIPv6
      return Mapping{OpKind::kIcmpTypeCode, 0};
    case 176:  // icmpTypeIPv4
    case 178:  // icmpTypeIPv6
      return To(OpKind::kU8, SLUICE_COL(icmp_type));
    case 177:  // icmpCodeIPv4
    case 179:  // icmpCodeIPv6
      return To(OpKind::kU8, SLUICE_COL(icmp_code));
    case 56:  // sourceMacAddress
      return To(OpKind::kMac, SLUICE_COL(src_mac));
    case 80:  // destinationMacAddress
      return To(OpKind::kMac, SLUICE_COL(dst_mac));
    case 81:  // postSourceMacAddress: src_mac when 56 is absent
      return has.src_mac ? Mapping{} : To(OpKind::kMac, SLUICE_COL(src_mac));
    case 57:  // postDestinationMacAddress: dst_mac when 80 is absent
      return has.dst_mac ? Mapping{} : To(OpKind::kMac, SLUICE_COL(dst_mac));
    case 58:   // vlanId
    case 243:  // dot1qVlanId
      return To(OpKind::kU16, SLUICE_COL(vlan));
    case 59:  // postVlanId: vlan when no other VLAN element is present
      return has.vlan ? Mapping{} : To(OpKind::kU16, SLUICE_COL(vlan));
    case 61:  // flowDirection
      return To(OpKind::kU8, SLUICE_COL(direction));
    case 136:  // flowEndReason
      return To(OpKind::kU8, SLUICE_COL(flow_end_reason));
    case 70:  // mplsTopLabelStackSection
      return To(OpKind::kMplsLabel, SLUICE_COL(mpls_label));
    case 96:  // applicationName
      return To(OpKind::kApp, SLUICE_COL(app));
    case 95:  // applicationId (RFC 6759)
      return To(OpKind::kAppId, SLUICE_COL(app));
    case 225:  // postNATSourceIPv4Address
      return To(OpKind::kIpv4, SLUICE_COL(xlate_src_addr));
    case 226:  // postNATDestinationIPv4Address
      return To(OpKind::kIpv4, SLUICE_COL(xlate_dst_addr));
    case 227:  // postNAPTSourceTransportPort
      return To(OpKind::kU16, SLUICE_COL(xlate_src_port));
    case 228:  // postNAPTDestinationTransportPort
      return To(OpKind::kU16, SLUICE_COL(xlate_dst_port));
    case 281:  // postNATSourceIPv6Address
      return To(OpKind::kIpv6, SLUICE_COL(xlate_src_addr));
    case 282:  // postNATDestinationIPv6Address
      return To(OpKind::kIpv6, SLUICE_COL(xlate_dst_addr));
    case 230:  // natEvent (RFC 8158)
      return ToSlot(Slot::kNatEvent);
    case 233:  // firewallEvent: 0 ignore, 1 created, 2 deleted, 3 denied, 4 alert, 5 update
      return To(OpKind::kU8, SLUICE_COL(fw_event));
    case 22:  // flowStartSysUpTime (v9 FIRST_SWITCHED)
      return ToSlot(Slot::kStartUptime);
    case 21:  // flowEndSysUpTime (v9 LAST_SWITCHED)
      return ToSlot(Slot::kEndUptime);
    case 150:  // flowStartSeconds
      return ToSlot(Slot::kStartSeconds);
    case 151:  // flowEndSeconds
      return ToSlot(Slot::kEndSeconds);
    case 152:  // flowStartMilliseconds
      return ToSlot(Slot::kStartMillis);
    case 153:  // flowEndMilliseconds
      return ToSlot(Slot::kEndMillis);
    case 154:  // flowStartMicroseconds (dateTimeMicroseconds, NTP format)
      return ToSlot(Slot::kStartMicros);
    case 155:  // flowEndMicroseconds
      return ToSlot(Slot::kEndMicros);
    case 156:  // flowStartNanoseconds (dateTimeNanoseconds, NTP format)
      return ToSlot(Slot::kStartNanos);
    case 157:  // flowEndNanoseconds
      return ToSlot(Slot::kEndNanos);
    case 158:  // flowStartDeltaMicroseconds (before the export time)
      return ToSlot(Slot::kStartDeltaMicros);
    case 159:  // flowEndDeltaMicroseconds
      return ToSlot(Slot::kEndDeltaMicros);
    case 160:  // systemInitTimeMilliseconds
      return ToSlot(Slot::kSysInitMillis);
    case 161:  // flowDurationMilliseconds
      return ToSlot(Slot::kDurationMillis);
    case 162:  // flowDurationMicroseconds
      return ToSlot(Slot::kDurationMicros);
    case 323:  // observationTimeMilliseconds (NSEL NF_F_EVENT_TIME_MSEC)
      return ToSlot(Slot::kObsTimeMillis);
    case 324:  // observationTimeMicroseconds
      return ToSlot(Slot::kObsTimeMicros);
    case 325:  // observationTimeNanoseconds
      return ToSlot(Slot::kObsTimeNanos);
    default:
      break;
  }
  if (family == TemplateFamily::kNetflowV9) {
    // Cisco ASA NSEL ("Cisco ASA NetFlow Implementation Guide") private v9 field ids.
    // 33000-33002 (ingress/egress ACL ids, extended event) are skipped.
    switch (ie) {
      case 40001:  // NF_F_XLATE_SRC_ADDR_IPV4
        return To(OpKind::kIpv4, SLUICE_COL(xlate_src_addr));
      case 40002:  // NF_F_XLATE_DST_ADDR_IPV4
        return To(OpKind::kIpv4, SLUICE_COL(xlate_dst_addr));
      case 40003:  // NF_F_XLATE_SRC_PORT
        return To(OpKind::kU16, SLUICE_COL(xlate_src_port));
      case 40004:  // NF_F_XLATE_DST_PORT
        return To(OpKind::kU16, SLUICE_COL(xlate_dst_port));
      case 40005:  // NF_F_FW_EVENT, same values as firewallEvent (233)
        return To(OpKind::kU8, SLUICE_COL(fw_event));
      case 40057:  // NF_F_XLATE_SRC_ADDR_IPV6
        return To(OpKind::kIpv6, SLUICE_COL(xlate_src_addr));
      case 40058:  // NF_F_XLATE_DST_ADDR_IPV6
        return To(OpKind::kIpv6, SLUICE_COL(xlate_dst_addr));
      default:
        break;
    }
  }
  return {};
}

// RFC 5103 reverse elements (PEN 29305, same element numbers).
Mapping ReverseMapping(std::uint16_t ie, const Presence& has) {
  switch (ie) {
    case 1:
      return ToSlot(Slot::kRevOctets);
    case 2:
      return ToSlot(Slot::kRevPackets);
    case 85:
      return has.rev_octet_delta ? Mapping{} : ToSlot(Slot::kRevOctets);
    case 86:
      return has.rev_packet_delta ? Mapping{} : ToSlot(Slot::kRevPackets);
    case 6:
      return ToSlot(Slot::kRevTcpFlags);
    default:
      return {};
  }
}

// Elements of options records: only what the decoder learns from them (interface
// names, sampling parameters, system init time).
Mapping OptionsMapping(std::uint16_t ie) {
  if (const auto sampling = SamplingMapping(ie)) {
    return *sampling;
  }
  switch (ie) {
    case 10:  // ingressInterface (the usual scope of interface options)
      return ToSlot(Slot::kIfIndex);
    case 82:  // interfaceName
      return Mapping{OpKind::kIfName, 0};
    case 83:  // interfaceDescription
      return Mapping{OpKind::kIfDescription, 0};
    case 160:  // systemInitTimeMilliseconds
      return ToSlot(Slot::kSysInitMillis);
    default:
      return {};
  }
}

// Repeated elements. What record field(s) an op writes, as keys that tell the fields
// apart: a FlowColumns column by its offset, a slot by its index, and applicationId
// apart from applicationName (it is a fallback for the same column, not an
// alternative: a name wins whatever the order).
enum class KeySpace : std::uint64_t { kColumn = 0, kSlot = 1, kAppId = 2, kOptionString = 3 };

constexpr std::uint64_t Key(KeySpace space, std::uint32_t value) {
  return (static_cast<std::uint64_t>(space) << 32) | value;
}

struct FieldKeys {
  std::array<std::uint64_t, 2> keys{};
  std::size_t count = 0;
};

FieldKeys KeysOf(const FieldOp& op) {
  switch (op.kind) {
    case OpKind::kSkip:
      return {};
    case OpKind::kSlot:
    case OpKind::kFloatSlot:
      return {{Key(KeySpace::kSlot, op.target)}, 1};
    case OpKind::kIcmpTypeCode:  // variable-length templates only; see CompileTemplate()
      return {{Key(KeySpace::kColumn, SLUICE_COL(icmp_type)), Key(KeySpace::kColumn, SLUICE_COL(icmp_code))},
              2};
    case OpKind::kAppId:
      return {{Key(KeySpace::kAppId, op.target)}, 1};
    case OpKind::kIfName:
    case OpKind::kIfDescription:
      return {{Key(KeySpace::kOptionString, static_cast<std::uint32_t>(op.kind))}, 1};
    default:
      return {{Key(KeySpace::kColumn, op.target)}, 1};
  }
}

#undef SLUICE_COL

bool IsAddress(OpKind kind) {
  return kind == OpKind::kIpv4 || kind == OpKind::kIpv6 || kind == OpKind::kIpv4NonZero;
}

template <typename T>
bool Contains(const std::vector<T>& values, T value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// The rule for several elements of a template that map to the same record field (a
// repeated element, such as the outer and inner addresses, ports and protocol of Cisco
// SRv6 templates, or IPv4 and IPv6 alternatives of one field): the last one in template
// order wins, except that an all-zero address never overrides a non-zero one (dual-stack
// templates send 0.0.0.0 or :: for the family the flow does not use). Decided here, once
// per template: an op whose fields are all written again by a later op is dropped (made
// kSkip, so that variable-length templates still walk over it); the address ops of a
// field stay, since which one wins depends on the values, and every one after the first
// is made conditional (kIpv4NonZero; kIpv6 never writes ::). Returns the address
// columns written by more than one op.
std::vector<std::uint32_t> ResolveRepeatedFields(std::vector<FieldOp>& ops) {
  std::vector<std::uint64_t> written_later;
  for (std::size_t idx = ops.size(); idx-- > 0;) {
    FieldOp& op = ops[idx];
    const FieldKeys keys = KeysOf(op);
    bool overridden = keys.count != 0 && !IsAddress(op.kind);
    for (std::size_t k = 0; k < keys.count; ++k) {
      if (!Contains(written_later, keys.keys[k])) {
        overridden = false;
        written_later.push_back(keys.keys[k]);
      }
    }
    if (overridden) {
      op.kind = OpKind::kSkip;
      op.target = 0;
    }
  }
  std::vector<std::uint32_t> address_columns;
  std::vector<std::uint32_t> repeated;
  for (FieldOp& op : ops) {
    if (!IsAddress(op.kind)) {
      continue;
    }
    if (!Contains(address_columns, op.target)) {
      address_columns.push_back(op.target);
      continue;
    }
    if (op.kind == OpKind::kIpv4) {
      op.kind = OpKind::kIpv4NonZero;
    }
    if (!Contains(repeated, op.target)) {
      repeated.push_back(op.target);
    }
  }
  return repeated;
}

Mapping MapField(const Template& tmpl, std::size_t field_idx, const Presence& has) {
  const FieldSpec& field = tmpl.fields[field_idx];
  if (field.pen == kReversePen) {
    return tmpl.is_options ? Mapping{} : ReverseMapping(field.ie, has);
  }
  if (field.pen != 0) {
    return {};  // other enterprises: skipped
  }
  if (!tmpl.is_options) {
    return DataMapping(tmpl.family, field.ie, has);
  }
  if (tmpl.family == TemplateFamily::kNetflowV9 && field_idx < tmpl.scope_count) {
    // RFC 3954 section 6.1: v9 scope field types are 1 system, 2 interface, 3 line
    // card, 4 cache, 5 template. Only the interface scope names something we keep.
    return field.ie == 2 ? ToSlot(Slot::kIfIndex) : Mapping{};
  }
  return OptionsMapping(field.ie);
}

}  // namespace

bool FieldLengthFits(OpKind kind, std::size_t length) {
  switch (kind) {
    case OpKind::kU8:
    case OpKind::kU16:
    case OpKind::kU32:
    case OpKind::kU64:
    case OpKind::kSlot:
      return length >= 1 && length <= 8;
    case OpKind::kIpv4:
    case OpKind::kIpv4NonZero:
      return length == 4;
    case OpKind::kIpv6:
      return length == 16;
    case OpKind::kMac:
      return length == 6;
    case OpKind::kFloatSlot:
      return length == 4 || length == 8;
    case OpKind::kMplsLabel:
      return length >= 3;
    case OpKind::kIcmpTypeCode:
      return length == 2;
    case OpKind::kAppId:
      return length >= 2;
    case OpKind::kSkip:
    case OpKind::kApp:
    case OpKind::kIfName:
    case OpKind::kIfDescription:
      return true;
  }
  return false;
}

namespace {

constexpr std::uint64_t kTimeSlots =
    SlotBit(Slot::kStartUptime) | SlotBit(Slot::kEndUptime) | SlotBit(Slot::kStartSeconds) |
    SlotBit(Slot::kEndSeconds) | SlotBit(Slot::kStartMillis) | SlotBit(Slot::kEndMillis) |
    SlotBit(Slot::kStartMicros) | SlotBit(Slot::kEndMicros) | SlotBit(Slot::kStartNanos) |
    SlotBit(Slot::kEndNanos) | SlotBit(Slot::kStartDeltaMicros) |
    SlotBit(Slot::kEndDeltaMicros) | SlotBit(Slot::kDurationMillis) |
    SlotBit(Slot::kDurationMicros) | SlotBit(Slot::kObsTimeMillis) |
    SlotBit(Slot::kObsTimeMicros) | SlotBit(Slot::kObsTimeNanos);
constexpr std::uint64_t kReverseSlots = SlotBit(Slot::kRevOctets) | SlotBit(Slot::kRevPackets);
constexpr std::uint64_t kSamplingSlots =
    SlotBit(Slot::kSamplingInterval) | SlotBit(Slot::kSamplerId) |
    SlotBit(Slot::kSamplerRandomInterval) | SlotBit(Slot::kSelectorId) |
    SlotBit(Slot::kPacketInterval) | SlotBit(Slot::kSamplingSize) |
    SlotBit(Slot::kSamplingPopulation) | SlotBit(Slot::kSamplingProbability);

// A data set holds at most 65535 - 4 bytes of records.
constexpr std::uint32_t kMaxRecordLength = 65535 - 4;

}  // namespace

std::optional<DecodeErrorKind> CompileTemplate(Template& tmpl) {
  tmpl.ops.clear();
  tmpl.slots = 0;
  tmpl.variable_length = false;
  tmpl.has_icmp_type = false;
  for (const FieldSpec& field : tmpl.fields) {
    if (field.length == kVariableLength) {
      tmpl.variable_length = true;
    }
  }
  const Presence presence(tmpl);
  std::uint32_t offset = 0;
  tmpl.ops.reserve(tmpl.fields.size());
  for (std::size_t field_idx = 0; field_idx < tmpl.fields.size(); ++field_idx) {
    const FieldSpec& field = tmpl.fields[field_idx];
    const bool variable = field.length == kVariableLength;
    Mapping mapping = MapField(tmpl, field_idx, presence);
    if (!variable && !FieldLengthFits(mapping.kind, field.length)) {
      mapping = {};
    }
    if (mapping.kind == OpKind::kIcmpTypeCode && !tmpl.variable_length) {
      // Two one-byte fields (type, then code), so the record loop reads them as u8 ops
      // and they resolve against icmpType/icmpCode elements (176-179) by template order.
      tmpl.ops.push_back(FieldOp{static_cast<std::uint32_t>(offsetof(flow::FlowColumns, icmp_type)),
                                 static_cast<std::uint16_t>(offset), 1, OpKind::kU8});
      tmpl.ops.push_back(FieldOp{static_cast<std::uint32_t>(offsetof(flow::FlowColumns, icmp_code)),
                                 static_cast<std::uint16_t>(offset + 1), 1, OpKind::kU8});
    } else if (tmpl.variable_length || mapping.kind != OpKind::kSkip) {
      tmpl.ops.push_back(FieldOp{mapping.target, static_cast<std::uint16_t>(offset), field.length,
                                 mapping.kind});
    }
    if (mapping.kind == OpKind::kSlot || mapping.kind == OpKind::kFloatSlot) {
      tmpl.slots |= std::uint64_t{1} << mapping.target;
    }
    if (mapping.kind == OpKind::kIcmpTypeCode ||
        (mapping.kind == OpKind::kU8 &&
         (mapping.target == offsetof(flow::FlowColumns, icmp_type) ||
          mapping.target == offsetof(flow::FlowColumns, icmp_code)))) {
      tmpl.has_icmp_type = true;
    }
    // A variable-length field takes at least its 1-byte length prefix.
    offset += variable ? 1 : field.length;
    if (offset > kMaxRecordLength) {
      tmpl.ops.clear();
      return DecodeErrorKind::kBadTemplate;
    }
  }
  tmpl.record_length = offset;
  const std::vector<std::uint32_t> repeated_addresses = ResolveRepeatedFields(tmpl.ops);
  if (!tmpl.variable_length) {
    std::erase_if(tmpl.ops, [](const FieldOp& op) { return op.kind == OpKind::kSkip; });
  }
  tmpl.u8_ops.clear();
  tmpl.u16_ops.clear();
  tmpl.u32_ops.clear();
  tmpl.u64_ops.clear();
  tmpl.slot_ops.clear();
  tmpl.ipv4_ops.clear();
  tmpl.ipv6_ops.clear();
  tmpl.other_ops.clear();
  if (!tmpl.variable_length) {
    for (const FieldOp& op : tmpl.ops) {
      const IntOp int_op{op.target, static_cast<std::uint16_t>(op.offset + op.length),
                         static_cast<std::uint8_t>(64 - 8 * std::min<std::uint16_t>(op.length, 8))};
      switch (op.kind) {
        case OpKind::kU8:
          tmpl.u8_ops.push_back(int_op);
          break;
        case OpKind::kU16:
          tmpl.u16_ops.push_back(int_op);
          break;
        case OpKind::kU32:
          tmpl.u32_ops.push_back(int_op);
          break;
        case OpKind::kU64:
        case OpKind::kMac:
          tmpl.u64_ops.push_back(int_op);
          break;
        case OpKind::kSlot:
          tmpl.slot_ops.push_back(int_op);
          break;
        case OpKind::kIpv4:
        case OpKind::kIpv6:
          // An address field with several elements: all its ops, in template order.
          if (Contains(repeated_addresses, op.target)) {
            tmpl.other_ops.push_back(op);
          } else if (op.kind == OpKind::kIpv4) {
            tmpl.ipv4_ops.push_back(op);
          } else {
            tmpl.ipv6_ops.push_back(op);
          }
          break;
        case OpKind::kSkip:
          break;
        default:
          tmpl.other_ops.push_back(op);
          break;
      }
    }
  }
  tmpl.has_time = (tmpl.slots & kTimeSlots) != 0;
  tmpl.has_reverse = (tmpl.slots & kReverseSlots) != 0;
  tmpl.has_record_sampling = (tmpl.slots & kSamplingSlots) != 0;
  return std::nullopt;
}

}  // namespace sluice::decode
