// SPDX-License-Identifier: Apache-2.0

#include "decode/packet_header.h"

#include "common/byte_order.h"

namespace sluice::decode {
namespace {

// EtherType values (IEEE 802.3 / IANA).
constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr std::uint16_t kEtherTypeVlan = 0x8100;     // IEEE 802.1Q C-tag
constexpr std::uint16_t kEtherTypeQinQ = 0x88A8;     // IEEE 802.1ad S-tag
constexpr std::uint16_t kEtherTypeQinQOld = 0x9100;  // pre-standard QinQ
constexpr std::uint16_t kEtherTypeMpls = 0x8847;
constexpr std::uint16_t kEtherTypeMplsMulticast = 0x8848;

// IP protocol numbers (IANA).
constexpr std::uint8_t kProtoHopByHop = 0;
constexpr std::uint8_t kProtoIcmp = 1;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kProtoRouting = 43;
constexpr std::uint8_t kProtoFragment = 44;
constexpr std::uint8_t kProtoAh = 51;
constexpr std::uint8_t kProtoIcmpv6 = 58;
constexpr std::uint8_t kProtoDestOptions = 60;
constexpr std::uint8_t kProtoMobility = 135;
constexpr std::uint8_t kProtoSctp = 132;
constexpr std::uint8_t kProtoUdpLite = 136;
constexpr std::uint8_t kProtoHip = 139;
constexpr std::uint8_t kProtoShim6 = 140;

// Caps on stacked headers. Each stacked header consumes at least 4 bytes, so the
// header length already bounds the loops; these only keep a hostile header cheap.
constexpr int kMaxVlanTags = 4;
constexpr int kMaxMplsLabels = 16;
constexpr int kMaxIpv6ExtensionHeaders = 8;

std::uint64_t LoadMac(const std::uint8_t* p) {
  return (std::uint64_t{LoadBe16(p)} << 32) | LoadBe32(p + 2);
}

// Ports, TCP flags or ICMP type/code of the transport header at `p` (`length` bytes).
HeaderParse ParseTransport(std::uint8_t proto, const std::uint8_t* p, std::size_t length,
                           flow::FlowColumns& c, std::size_t row) {
  switch (proto) {
    case kProtoTcp:
      // RFC 9293 section 3.1: ports at 0 and 2, flags (CWR..FIN) in byte 13.
      if (length < 4) {
        return HeaderParse::kNetwork;
      }
      c.src_port[row] = LoadBe16(p);
      c.dst_port[row] = LoadBe16(p + 2);
      if (length < 14) {
        return HeaderParse::kNetwork;
      }
      c.tcp_flags[row] = p[13];
      return HeaderParse::kTransport;
    case kProtoUdp:
    case kProtoSctp:
    case kProtoUdpLite:
      // RFC 768, RFC 9260 section 3.1, RFC 3828: ports at 0 and 2.
      if (length < 4) {
        return HeaderParse::kNetwork;
      }
      c.src_port[row] = LoadBe16(p);
      c.dst_port[row] = LoadBe16(p + 2);
      return HeaderParse::kTransport;
    case kProtoIcmp:
    case kProtoIcmpv6:
      // RFC 792 / RFC 4443 section 2.1: type, code.
      if (length < 2) {
        return HeaderParse::kNetwork;
      }
      c.icmp_type[row] = p[0];
      c.icmp_code[row] = p[1];
      return HeaderParse::kTransport;
    default:
      return HeaderParse::kNetwork;
  }
}

// RFC 791 section 3.1.
HeaderParse ParseIpv4(const std::uint8_t* p, std::size_t length, flow::FlowColumns& c,
                      std::size_t row) {
  if (length < 20 || (p[0] >> 4) != 4) {
    return HeaderParse::kUnsupported;
  }
  const std::size_t header_length = std::size_t{p[0] & 0x0Fu} * 4;
  c.tos[row] = p[1];
  c.proto[row] = p[9];
  c.src_addr[row] = flow::IpAddress::FromV4(LoadBe32(p + 12));
  c.dst_addr[row] = flow::IpAddress::FromV4(LoadBe32(p + 16));
  const std::uint16_t fragment_offset = LoadBe16(p + 6) & 0x1FFF;
  if (header_length < 20 || header_length > length || fragment_offset != 0) {
    return HeaderParse::kNetwork;  // bad IHL, options cut off, or no transport header here
  }
  return ParseTransport(p[9], p + header_length, length - header_length, c, row);
}

// RFC 8200 sections 3 and 4.
HeaderParse ParseIpv6(const std::uint8_t* p, std::size_t length, flow::FlowColumns& c,
                      std::size_t row) {
  if (length < 40 || (p[0] >> 4) != 6) {
    return HeaderParse::kUnsupported;
  }
  c.tos[row] = static_cast<std::uint8_t>(LoadBe32(p) >> 20);  // traffic class
  c.src_addr[row] = flow::IpAddress::FromV6(p + 8);
  c.dst_addr[row] = flow::IpAddress::FromV6(p + 24);
  std::uint8_t next = p[6];
  std::size_t offset = 40;
  for (int ext_idx = 0; ext_idx < kMaxIpv6ExtensionHeaders; ++ext_idx) {
    std::size_t ext_length = 0;
    switch (next) {
      case kProtoHopByHop:
      case kProtoRouting:
      case kProtoDestOptions:
      case kProtoMobility:
      case kProtoHip:
      case kProtoShim6:
        // Next Header, Hdr Ext Len in 8-octet units not counting the first 8.
        if (length - offset < 2) {
          c.proto[row] = next;
          return HeaderParse::kNetwork;
        }
        ext_length = (std::size_t{p[offset + 1]} + 1) * 8;
        break;
      case kProtoAh:
        // RFC 4302 section 2.2: Payload Len in 4-octet units, minus 2.
        if (length - offset < 2) {
          c.proto[row] = next;
          return HeaderParse::kNetwork;
        }
        ext_length = (std::size_t{p[offset + 1]} + 2) * 4;
        break;
      case kProtoFragment: {
        // RFC 8200 section 4.5: 8 bytes; a non-first fragment has no transport header.
        if (length - offset < 8) {
          c.proto[row] = next;
          return HeaderParse::kNetwork;
        }
        const std::uint16_t fragment_offset = LoadBe16(p + offset + 2) >> 3;
        if (fragment_offset != 0) {
          c.proto[row] = p[offset];
          return HeaderParse::kNetwork;
        }
        ext_length = 8;
        break;
      }
      default:
        c.proto[row] = next;
        return ParseTransport(next, p + offset, length - offset, c, row);
    }
    next = p[offset];
    if (ext_length > length - offset) {
      c.proto[row] = next;
      return HeaderParse::kNetwork;
    }
    offset += ext_length;
  }
  c.proto[row] = next;
  return HeaderParse::kNetwork;
}

// An IP packet whose version is read from its first nibble (MPLS payloads carry no type).
HeaderParse ParseIpGuess(const std::uint8_t* p, std::size_t length, flow::FlowColumns& c,
                         std::size_t row) {
  if (length < 1) {
    return HeaderParse::kUnsupported;
  }
  switch (p[0] >> 4) {
    case 4:
      return ParseIpv4(p, length, c, row);
    case 6:
      return ParseIpv6(p, length, c, row);
    default:
      return HeaderParse::kUnsupported;  // e.g. a pseudowire control word or Ethernet
  }
}

// RFC 3032 section 2.1: 4-byte entries, label(20) TC(3) S(1) TTL(8).
HeaderParse ParseMpls(const std::uint8_t* p, std::size_t length, flow::FlowColumns& c,
                      std::size_t row) {
  std::size_t offset = 0;
  for (int label_idx = 0; label_idx < kMaxMplsLabels; ++label_idx) {
    if (length - offset < 4) {
      return HeaderParse::kUnsupported;
    }
    const std::uint32_t entry = LoadBe32(p + offset);
    offset += 4;
    if (label_idx == 0) {
      c.mpls_label[row] = entry >> 12;
    }
    if ((entry & 0x100u) != 0) {  // bottom of stack
      return ParseIpGuess(p + offset, length - offset, c, row);
    }
  }
  return HeaderParse::kUnsupported;
}

HeaderParse ParseEthernet(const std::uint8_t* p, std::size_t length, flow::FlowColumns& c,
                          std::size_t row) {
  // IEEE 802.3 clause 3.1.1: destination MAC, source MAC, EtherType/length.
  if (length < 14) {
    return HeaderParse::kUnsupported;
  }
  c.dst_mac[row] = LoadMac(p);
  c.src_mac[row] = LoadMac(p + 6);
  std::uint16_t ether_type = LoadBe16(p + 12);
  std::size_t offset = 14;
  // IEEE 802.1Q clause 9: tag = TPID, TCI (PCP 3, DEI 1, VID 12). The outermost tag is
  // the VLAN on the wire where the packet was sampled.
  bool first_tag = true;
  for (int tag_idx = 0; tag_idx < kMaxVlanTags; ++tag_idx) {
    if (ether_type != kEtherTypeVlan && ether_type != kEtherTypeQinQ &&
        ether_type != kEtherTypeQinQOld) {
      break;
    }
    if (length - offset < 4) {
      return HeaderParse::kUnsupported;
    }
    if (first_tag && c.vlan[row] == 0) {
      c.vlan[row] = LoadBe16(p + offset) & 0x0FFF;
    }
    first_tag = false;
    ether_type = LoadBe16(p + offset + 2);
    offset += 4;
  }
  switch (ether_type) {
    case kEtherTypeIpv4:
      return ParseIpv4(p + offset, length - offset, c, row);
    case kEtherTypeIpv6:
      return ParseIpv6(p + offset, length - offset, c, row);
    case kEtherTypeMpls:
    case kEtherTypeMplsMulticast:
      return ParseMpls(p + offset, length - offset, c, row);
    default:
      return HeaderParse::kUnsupported;
  }
}

}  // namespace

HeaderParse ParsePacketHeader(std::uint32_t protocol, std::span<const std::uint8_t> header,
                              flow::FlowColumns& c, std::size_t row) {
  switch (static_cast<HeaderProtocol>(protocol)) {
    case HeaderProtocol::kEthernet:
      return ParseEthernet(header.data(), header.size(), c, row);
    case HeaderProtocol::kIpv4:
      return ParseIpv4(header.data(), header.size(), c, row);
    case HeaderProtocol::kIpv6:
      return ParseIpv6(header.data(), header.size(), c, row);
    case HeaderProtocol::kMpls:
      return ParseMpls(header.data(), header.size(), c, row);
  }
  return HeaderParse::kUnsupported;
}

}  // namespace sluice::decode
