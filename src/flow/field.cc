// SPDX-License-Identifier: Apache-2.0

#include "flow/field.h"

#include <array>

namespace sluice::flow {
namespace {

using enum FieldType;

constexpr std::array<FieldInfo, kFieldCount> kCatalogue{{
    {FieldId::kTimeReceived, "time_received", kTimeMillis, std::nullopt, "tr",
     "When the collector received the export packet"},
    {FieldId::kFirst, "first", kTimeMillis, 152, "ts",
     "Time the flow's first packet was seen (flowStartMilliseconds)"},
    {FieldId::kLast, "last", kTimeMillis, 153, "te",
     "Time the flow's last packet was seen (flowEndMilliseconds)"},
    {FieldId::kExporter, "exporter", kIpAddress, 130, "ra",
     "Address of the exporting device, as seen by the collector (nfdump: router ip)"},
    {FieldId::kObsDomain, "obs_domain", kUint32, 149, "",
     "Observation domain / v9 source id; for NetFlow v5, engine_type << 8 | engine_id"},
    {FieldId::kSamplingRate, "sampling_rate", kUint32, 34, "",
     "Packet sampling rate applied to bytes/packets (1 = unsampled)"},
    {FieldId::kSrcAddr, "src_addr", kIpAddress, 8, "sa", "Source address (IE 8 or 27)"},
    {FieldId::kDstAddr, "dst_addr", kIpAddress, 12, "da", "Destination address (IE 12 or 28)"},
    {FieldId::kSrcPort, "src_port", kUint16, 7, "sp", "Source transport port"},
    {FieldId::kDstPort, "dst_port", kUint16, 11, "dp",
     "Destination transport port; for ICMP, type * 256 + code as nfdump shows it"},
    {FieldId::kProto, "proto", kUint8, 4, "pr", "IP protocol number"},
    {FieldId::kTcpFlags, "tcp_flags", kUint8, 6, "flg", "Union of TCP flags (CWR..FIN)"},
    {FieldId::kTos, "tos", kUint8, 5, "tos", "IP type of service / DSCP byte"},
    {FieldId::kIcmpType, "icmp_type", kUint8, 176, "", "ICMP or ICMPv6 type"},
    {FieldId::kIcmpCode, "icmp_code", kUint8, 177, "", "ICMP or ICMPv6 code"},
    {FieldId::kBytes, "bytes", kUint64, 1, "byt", "Octets, scaled by the sampling rate"},
    {FieldId::kPackets, "packets", kUint64, 2, "pkt", "Packets, scaled by the sampling rate"},
    {FieldId::kInIf, "in_if", kUint32, 10, "in", "Input interface index (SNMP ifIndex)"},
    {FieldId::kOutIf, "out_if", kUint32, 14, "out", "Output interface index (SNMP ifIndex)"},
    {FieldId::kSrcAs, "src_as", kUint32, 16, "sas", "Source BGP autonomous system"},
    {FieldId::kDstAs, "dst_as", kUint32, 17, "das", "Destination BGP autonomous system"},
    {FieldId::kSrcMask, "src_mask", kUint8, 9, "smk", "Source prefix length"},
    {FieldId::kDstMask, "dst_mask", kUint8, 13, "dmk", "Destination prefix length"},
    {FieldId::kNextHop, "next_hop", kIpAddress, 15, "nh", "IP next hop (IE 15 or 62)"},
    {FieldId::kVlan, "vlan", kUint16, 58, "vlan", "VLAN id (source VLAN, IE 58 or dot1qVlanId 243)"},
    {FieldId::kSrcMac, "src_mac", kMacAddress, 56, "ismc", "Source MAC address"},
    {FieldId::kDstMac, "dst_mac", kMacAddress, 80, "odmc", "Destination MAC address"},
    {FieldId::kDirection, "direction", kUint8, 61, "dir", "0 = ingress, 1 = egress"},
    {FieldId::kFlowEndReason, "flow_end_reason", kUint8, 136, "",
     "Why the exporter ended the flow (1 idle, 2 active, 3 end, 4 forced, 5 lack of resources)"},
    {FieldId::kMplsLabel, "mpls_label", kUint32, 70, "mpls1", "Top MPLS label (20 bits)"},
    {FieldId::kXlateSrcAddr, "xlate_src_addr", kIpAddress, 225, "nsa",
     "Source address after NAT (postNATSourceIPv4Address, NSEL)"},
    {FieldId::kXlateDstAddr, "xlate_dst_addr", kIpAddress, 226, "nda",
     "Destination address after NAT"},
    {FieldId::kXlateSrcPort, "xlate_src_port", kUint16, 227, "nsp", "Source port after NAPT"},
    {FieldId::kXlateDstPort, "xlate_dst_port", kUint16, 228, "ndp", "Destination port after NAPT"},
    {FieldId::kFwEvent, "fw_event", kUint8, 233,
     "evt", "Firewall / NAT event (IE 233, NSEL 40005, NEL 230 mapped: 1 create, 2 delete, 3 deny, 4 alert, 5 update)"},
    {FieldId::kSrcCountry, "src_country", kCountry, std::nullopt, "", "Source country (enrichment)"},
    {FieldId::kDstCountry, "dst_country", kCountry, std::nullopt, "",
     "Destination country (enrichment)"},
    {FieldId::kSubscriber, "subscriber", kString, std::nullopt, "", "Subscriber id (enrichment)"},
    {FieldId::kSite, "site", kString, std::nullopt, "", "Site / NAS id (enrichment)"},
    {FieldId::kApp, "app", kString, 96, "", "Application name (applicationName, NBAR, DPI)"},
    {FieldId::kBgpNextHop, "bgp_next_hop", kIpAddress, 18, "nhb", "BGP next hop (IE 18 or 63)"},
    {FieldId::kFlows, "flows", kUint64, 3, "fl",
     "Flow records this row stands for: 1 for a decoded record, the sum for a roll-up row "
     "(deltaFlowCount)",
     1},
    {FieldId::kReseller, "reseller", kString, std::nullopt, "",
     "Reseller id of the subscriber (enrichment: prefix map)"},
    {FieldId::kCir, "cir", kUint64, std::nullopt, "",
     "Committed information rate of the subscriber, bits/s (enrichment: prefix map; 0 = none)"},
}};

constexpr bool CatalogueIsInOrder() {
  for (std::size_t idx = 0; idx < kCatalogue.size(); ++idx) {
    if (static_cast<std::size_t>(kCatalogue[idx].id) != idx) {
      return false;
    }
  }
  return true;
}

static_assert(CatalogueIsInOrder(), "kCatalogue must list fields in FieldId order");

}  // namespace

std::span<const FieldInfo> FieldCatalogue() { return kCatalogue; }

const FieldInfo& Info(FieldId id) { return kCatalogue[static_cast<std::size_t>(id)]; }

std::optional<FieldId> FieldByName(std::string_view name) {
  for (const FieldInfo& info : kCatalogue) {
    if (info.name == name) {
      return info.id;
    }
  }
  return std::nullopt;
}

}  // namespace sluice::flow
