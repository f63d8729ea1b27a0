// SPDX-License-Identifier: Apache-2.0

#include "flow/record_json.h"

#include <cstdio>

#include "flow/field.h"

namespace sluice::flow {
namespace {

void AppendKey(std::string& out, std::string_view name) {
  if (out.back() != '{') {
    out.push_back(',');
  }
  out.push_back('"');
  out.append(name);
  out.append("\":");
}

void AppendEscaped(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (byte < 0x20 || byte >= 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out.append(escaped);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

void AppendUnsigned(std::string& out, std::uint64_t value) {
  char text[24];
  const int length = std::snprintf(text, sizeof text, "%llu", static_cast<unsigned long long>(value));
  out.append(text, static_cast<std::size_t>(length));
}

void AppendSigned(std::string& out, std::int64_t value) {
  char text[24];
  const int length = std::snprintf(text, sizeof text, "%lld", static_cast<long long>(value));
  out.append(text, static_cast<std::size_t>(length));
}

void AppendAddress(std::string& out, std::string_view name, const IpAddress& address) {
  if (address.IsUnset()) {
    return;
  }
  AppendKey(out, name);
  out.push_back('"');
  char text[IpAddress::kMaxTextLength];
  out.append(text, address.ToText(text));
  out.push_back('"');
}

void AppendMac(std::string& out, std::string_view name, std::uint64_t mac) {
  if (mac == 0) {
    return;
  }
  char text[24];
  std::snprintf(text, sizeof text, "\"%02x:%02x:%02x:%02x:%02x:%02x\"",
                static_cast<unsigned>((mac >> 40) & 0xff), static_cast<unsigned>((mac >> 32) & 0xff),
                static_cast<unsigned>((mac >> 24) & 0xff), static_cast<unsigned>((mac >> 16) & 0xff),
                static_cast<unsigned>((mac >> 8) & 0xff), static_cast<unsigned>(mac & 0xff));
  AppendKey(out, name);
  out.append(text);
}

}  // namespace

void AppendRecordJson(const FlowBatch& batch, std::size_t row, std::string& out) {
  const FlowColumns& c = batch.cols();
  out.push_back('{');
  for (const FieldInfo& info : FieldCatalogue()) {
    const std::string_view name = info.name;
    switch (info.id) {
      case FieldId::kTimeReceived:
        AppendKey(out, name);
        AppendSigned(out, c.time_received[row]);
        break;
      case FieldId::kFirst:
        AppendKey(out, name);
        AppendSigned(out, c.first[row]);
        break;
      case FieldId::kLast:
        AppendKey(out, name);
        AppendSigned(out, c.last[row]);
        break;
      case FieldId::kExporter:
        AppendAddress(out, name, c.exporter[row]);
        break;
      case FieldId::kObsDomain:
        AppendKey(out, name);
        AppendUnsigned(out, c.obs_domain[row]);
        break;
      case FieldId::kSamplingRate:
        AppendKey(out, name);
        AppendUnsigned(out, c.sampling_rate[row]);
        break;
      case FieldId::kSrcAddr:
        AppendAddress(out, name, c.src_addr[row]);
        break;
      case FieldId::kDstAddr:
        AppendAddress(out, name, c.dst_addr[row]);
        break;
      case FieldId::kSrcPort:
        AppendKey(out, name);
        AppendUnsigned(out, c.src_port[row]);
        break;
      case FieldId::kDstPort:
        AppendKey(out, name);
        AppendUnsigned(out, c.dst_port[row]);
        break;
      case FieldId::kProto:
        AppendKey(out, name);
        AppendUnsigned(out, c.proto[row]);
        break;
      case FieldId::kTcpFlags:
        AppendKey(out, name);
        AppendUnsigned(out, c.tcp_flags[row]);
        break;
      case FieldId::kTos:
        AppendKey(out, name);
        AppendUnsigned(out, c.tos[row]);
        break;
      case FieldId::kIcmpType:
        AppendKey(out, name);
        AppendUnsigned(out, c.icmp_type[row]);
        break;
      case FieldId::kIcmpCode:
        AppendKey(out, name);
        AppendUnsigned(out, c.icmp_code[row]);
        break;
      case FieldId::kBytes:
        AppendKey(out, name);
        AppendUnsigned(out, c.bytes[row]);
        break;
      case FieldId::kPackets:
        AppendKey(out, name);
        AppendUnsigned(out, c.packets[row]);
        break;
      case FieldId::kInIf:
        AppendKey(out, name);
        AppendUnsigned(out, c.in_if[row]);
        break;
      case FieldId::kOutIf:
        AppendKey(out, name);
        AppendUnsigned(out, c.out_if[row]);
        break;
      case FieldId::kSrcAs:
        AppendKey(out, name);
        AppendUnsigned(out, c.src_as[row]);
        break;
      case FieldId::kDstAs:
        AppendKey(out, name);
        AppendUnsigned(out, c.dst_as[row]);
        break;
      case FieldId::kSrcMask:
        AppendKey(out, name);
        AppendUnsigned(out, c.src_mask[row]);
        break;
      case FieldId::kDstMask:
        AppendKey(out, name);
        AppendUnsigned(out, c.dst_mask[row]);
        break;
      case FieldId::kNextHop:
        AppendAddress(out, name, c.next_hop[row]);
        break;
      case FieldId::kVlan:
        AppendKey(out, name);
        AppendUnsigned(out, c.vlan[row]);
        break;
      case FieldId::kSrcMac:
        AppendMac(out, name, c.src_mac[row]);
        break;
      case FieldId::kDstMac:
        AppendMac(out, name, c.dst_mac[row]);
        break;
      case FieldId::kDirection:
        AppendKey(out, name);
        AppendUnsigned(out, c.direction[row]);
        break;
      case FieldId::kFlowEndReason:
        AppendKey(out, name);
        AppendUnsigned(out, c.flow_end_reason[row]);
        break;
      case FieldId::kMplsLabel:
        AppendKey(out, name);
        AppendUnsigned(out, c.mpls_label[row]);
        break;
      case FieldId::kXlateSrcAddr:
        AppendAddress(out, name, c.xlate_src_addr[row]);
        break;
      case FieldId::kXlateDstAddr:
        AppendAddress(out, name, c.xlate_dst_addr[row]);
        break;
      case FieldId::kXlateSrcPort:
        AppendKey(out, name);
        AppendUnsigned(out, c.xlate_src_port[row]);
        break;
      case FieldId::kXlateDstPort:
        AppendKey(out, name);
        AppendUnsigned(out, c.xlate_dst_port[row]);
        break;
      case FieldId::kFwEvent:
        AppendKey(out, name);
        AppendUnsigned(out, c.fw_event[row]);
        break;
      case FieldId::kSrcCountry:
      case FieldId::kDstCountry: {
        const std::uint16_t code =
            info.id == FieldId::kSrcCountry ? c.src_country[row] : c.dst_country[row];
        if (code != 0) {
          const char text[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
          AppendKey(out, name);
          AppendEscaped(out, std::string_view(text, 2));
        }
        break;
      }
      case FieldId::kSubscriber:
      case FieldId::kSite:
      case FieldId::kApp:
      case FieldId::kReseller: {
        const StringRef ref = info.id == FieldId::kSubscriber ? c.subscriber[row]
                              : info.id == FieldId::kSite     ? c.site[row]
                              : info.id == FieldId::kReseller ? c.reseller[row]
                                                              : c.app[row];
        if (ref.length != 0) {
          AppendKey(out, name);
          AppendEscaped(out, batch.String(ref));
        }
        break;
      }
      case FieldId::kBgpNextHop:
        AppendAddress(out, name, c.bgp_next_hop[row]);
        break;
      case FieldId::kFlows:
        AppendKey(out, name);
        AppendUnsigned(out, c.flows[row]);
        break;
      case FieldId::kCir:
        if (c.cir[row] != 0) {
          AppendKey(out, name);
          AppendUnsigned(out, c.cir[row]);
        }
        break;
    }
  }
  out.push_back('}');
}

}  // namespace sluice::flow
