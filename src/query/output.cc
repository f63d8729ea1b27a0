// SPDX-License-Identifier: Apache-2.0

#include "query/output.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "flow/field.h"
#include "flow/record_json.h"
#include "query/number_format.h"
#include "query/stat_names.h"

namespace sluice::query {
namespace {

using flow::FieldId;
using flow::FieldType;

// ---- field access by FieldId (a switch, no indirection per row) ----

std::uint64_t NumberAt(const flow::FlowColumns& c, std::size_t row, FieldId field) {
  switch (field) {
    case FieldId::kTimeReceived:
      return static_cast<std::uint64_t>(c.time_received[row]);
    case FieldId::kFirst:
      return static_cast<std::uint64_t>(c.first[row]);
    case FieldId::kLast:
      return static_cast<std::uint64_t>(c.last[row]);
    case FieldId::kObsDomain:
      return c.obs_domain[row];
    case FieldId::kSamplingRate:
      return c.sampling_rate[row];
    case FieldId::kSrcPort:
      return c.src_port[row];
    case FieldId::kDstPort:
      return c.dst_port[row];
    case FieldId::kProto:
      return c.proto[row];
    case FieldId::kTcpFlags:
      return c.tcp_flags[row];
    case FieldId::kTos:
      return c.tos[row];
    case FieldId::kIcmpType:
      return c.icmp_type[row];
    case FieldId::kIcmpCode:
      return c.icmp_code[row];
    case FieldId::kBytes:
      return c.bytes[row];
    case FieldId::kPackets:
      return c.packets[row];
    case FieldId::kInIf:
      return c.in_if[row];
    case FieldId::kOutIf:
      return c.out_if[row];
    case FieldId::kSrcAs:
      return c.src_as[row];
    case FieldId::kDstAs:
      return c.dst_as[row];
    case FieldId::kSrcMask:
      return c.src_mask[row];
    case FieldId::kDstMask:
      return c.dst_mask[row];
    case FieldId::kVlan:
      return c.vlan[row];
    case FieldId::kSrcMac:
      return c.src_mac[row];
    case FieldId::kDstMac:
      return c.dst_mac[row];
    case FieldId::kDirection:
      return c.direction[row];
    case FieldId::kFlowEndReason:
      return c.flow_end_reason[row];
    case FieldId::kMplsLabel:
      return c.mpls_label[row];
    case FieldId::kXlateSrcPort:
      return c.xlate_src_port[row];
    case FieldId::kXlateDstPort:
      return c.xlate_dst_port[row];
    case FieldId::kFwEvent:
      return c.fw_event[row];
    case FieldId::kSrcCountry:
      return c.src_country[row];
    case FieldId::kDstCountry:
      return c.dst_country[row];
    case FieldId::kFlows:
      return c.flows[row];
    case FieldId::kCir:
      return c.cir[row];
    default:
      return 0;
  }
}

const flow::IpAddress& AddressAt(const flow::FlowColumns& c, std::size_t row, FieldId field) {
  switch (field) {
    case FieldId::kExporter:
      return c.exporter[row];
    case FieldId::kDstAddr:
      return c.dst_addr[row];
    case FieldId::kNextHop:
      return c.next_hop[row];
    case FieldId::kXlateSrcAddr:
      return c.xlate_src_addr[row];
    case FieldId::kXlateDstAddr:
      return c.xlate_dst_addr[row];
    case FieldId::kBgpNextHop:
      return c.bgp_next_hop[row];
    default:
      return c.src_addr[row];
  }
}

flow::StringRef StringAt(const flow::FlowColumns& c, std::size_t row, FieldId field) {
  switch (field) {
    case FieldId::kSubscriber:
      return c.subscriber[row];
    case FieldId::kSite:
      return c.site[row];
    case FieldId::kReseller:
      return c.reseller[row];
    default:
      return c.app[row];
  }
}

// Writes a key value into a row of a batch (aggregated records are printed through the
// same code as flows).
void SetKeyValue(flow::FlowColumns& c, std::size_t row, FieldId field, const KeyValue& value) {
  const std::uint64_t n = value.number;
  switch (field) {
    case FieldId::kExporter:
      c.exporter[row] = value.address;
      break;
    case FieldId::kSrcAddr:
      c.src_addr[row] = value.address;
      break;
    case FieldId::kDstAddr:
      c.dst_addr[row] = value.address;
      break;
    case FieldId::kNextHop:
      c.next_hop[row] = value.address;
      break;
    case FieldId::kXlateSrcAddr:
      c.xlate_src_addr[row] = value.address;
      break;
    case FieldId::kXlateDstAddr:
      c.xlate_dst_addr[row] = value.address;
      break;
    case FieldId::kBgpNextHop:
      c.bgp_next_hop[row] = value.address;
      break;
    case FieldId::kObsDomain:
      c.obs_domain[row] = static_cast<std::uint32_t>(n);
      break;
    case FieldId::kSamplingRate:
      c.sampling_rate[row] = static_cast<std::uint32_t>(n);
      break;
    case FieldId::kSrcPort:
      c.src_port[row] = static_cast<std::uint16_t>(n);
      break;
    case FieldId::kDstPort:
      c.dst_port[row] = static_cast<std::uint16_t>(n);
      break;
    case FieldId::kProto:
      c.proto[row] = static_cast<std::uint8_t>(n);
      break;
    case FieldId::kTcpFlags:
      c.tcp_flags[row] = static_cast<std::uint8_t>(n);
      break;
    case FieldId::kTos:
      c.tos[row] = static_cast<std::uint8_t>(n);
      break;
    case FieldId::kIcmpType:
      c.icmp_type[row] = static_cast<std::uint8_t>(n);
      break;
    case FieldId::kIcmpCode:
      c.icmp_code[row] = static_cast<std::uint8_t>(n);
      break;
    case FieldId::kInIf:
      c.in_if[row] = static_cast<std::uint32_t>(n);
      break;
    case FieldId::kOutIf:
      c.out_if[row] = static_cast<std::uint32_t>(n);
      break;
    case FieldId::kSrcAs:
      c.src_as[row] = static_cast<std::uint32_t>(n);
      break;
    case FieldId::kDstAs:
      c.dst_as[row] = static_cast<std::uint32_t>(n);
      break;
    case FieldId::kSrcMask:
      c.src_mask[row] = static_cast<std::uint8_t>(n);
      break;
    case FieldId::kDstMask:
      c.dst_mask[row] = static_cast<std::uint8_t>(n);
      break;
    case FieldId::kVlan:
      c.vlan[row] = static_cast<std::uint16_t>(n);
      break;
    case FieldId::kSrcMac:
      c.src_mac[row] = n;
      break;
    case FieldId::kDstMac:
      c.dst_mac[row] = n;
      break;
    case FieldId::kDirection:
      c.direction[row] = static_cast<std::uint8_t>(n);
      break;
    case FieldId::kFlowEndReason:
      c.flow_end_reason[row] = static_cast<std::uint8_t>(n);
      break;
    case FieldId::kMplsLabel:
      c.mpls_label[row] = static_cast<std::uint32_t>(n);
      break;
    case FieldId::kXlateSrcPort:
      c.xlate_src_port[row] = static_cast<std::uint16_t>(n);
      break;
    case FieldId::kXlateDstPort:
      c.xlate_dst_port[row] = static_cast<std::uint16_t>(n);
      break;
    case FieldId::kFwEvent:
      c.fw_event[row] = static_cast<std::uint8_t>(n);
      break;
    case FieldId::kSrcCountry:
      c.src_country[row] = static_cast<std::uint16_t>(n);
      break;
    case FieldId::kDstCountry:
      c.dst_country[row] = static_cast<std::uint16_t>(n);
      break;
    case FieldId::kCir:
      c.cir[row] = n;
      break;
    default:
      break;
  }
}

// ---- small text helpers ----

void AppendF(std::string& out, const char* format, auto... args) {
  char buffer[128];
  const int length = std::snprintf(buffer, sizeof buffer, format, args...);
  if (length > 0) {
    out.append(buffer, std::min(static_cast<std::size_t>(length), sizeof buffer - 1));
  }
}

void Pad(std::string& out, std::size_t start, int width) {
  // Right-aligns (width > 0) or left-aligns (width < 0) out[start..] in |width| columns.
  const std::size_t length = out.size() - start;
  const std::size_t wanted = static_cast<std::size_t>(width < 0 ? -width : width);
  if (length >= wanted) {
    return;
  }
  const std::size_t pad = wanted - length;
  if (width > 0) {
    // Moved by hand: std::string::insert's general path was 2-3 % of a listing.
    out.resize(out.size() + pad);
    char* text = out.data() + start;
    std::memmove(text + pad, text, length);
    std::memset(text, ' ', pad);
  } else {
    out.append(pad, ' ');
  }
}

void AppendProto(std::string& out, std::uint64_t proto) {
  const std::string_view name = ProtocolName(proto);
  if (name.empty()) {
    AppendF(out, "%" PRIu64, proto);
  } else {
    out.append(name);
  }
}

void AppendFlags(std::string& out, std::uint64_t flags) {
  static constexpr char kLetters[] = "CEUAPRSF";
  for (int bit = 7; bit >= 0; --bit) {
    out.push_back((flags >> bit) & 1 ? kLetters[7 - bit] : '.');
  }
}

void AppendMac(std::string& out, std::uint64_t mac) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 40; shift >= 0; shift -= 8) {
    const auto octet = static_cast<unsigned>((mac >> shift) & 0xff);
    out.push_back(kHex[octet >> 4]);
    out.push_back(kHex[octet & 0xf]);
    if (shift > 0) {
      out.push_back(':');
    }
  }
}

void AppendCountry(std::string& out, std::uint64_t code, std::string_view unknown) {
  if (code == 0) {
    out.append(unknown);
    return;
  }
  out.push_back(static_cast<char>((code >> 8) & 0xff));
  out.push_back(static_cast<char>(code & 0xff));
}

void AppendAddress(std::string& out, const flow::IpAddress& address, std::uint8_t v4_prefix,
                   std::uint8_t v6_prefix) {
  if (address.IsUnset()) {  // not exported: shown as nfdump shows a zero address
    out.append("0.0.0.0");
    return;
  }
  const bool v4 = address.IsV4();
  char text[flow::IpAddress::kMaxTextLength];
  out.append(text, address.ToText(text));
  if (v4 && v4_prefix < 32) {
    AppendF(out, "/%u", static_cast<unsigned>(v4_prefix));
  } else if (!v4 && v6_prefix < 128) {
    AppendF(out, "/%u", static_cast<unsigned>(v6_prefix));
  }
}

void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      AppendF(out, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void AppendJsonDouble(std::string& out, double value) {
  if (!(value == value) || value > 1e300 || value < -1e300) {
    out.append("0");
    return;
  }
  AppendF(out, "%.3f", value);
}

// last - first in ms, saturated (times come from exporters and may be anything).
std::int64_t SpanMillis(std::int64_t first, std::int64_t last) {
  std::int64_t span = 0;
  if (__builtin_sub_overflow(last, first, &span)) {
    return last > first ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
  }
  return span;
}

std::int64_t Duration(const Counters& counters) {
  return SpanMillis(counters.first_ms, counters.last_ms);
}

// ---- fmt tokens ----

enum class TokenKind : std::uint8_t {
  kLiteral,
  kTime,         // a time field, "yyyy-mm-dd hh:mm:ss.mmm"
  kDuration,     // last - first
  kProto,        // protocol name
  kAddress,      // an address field (cut to the key's prefix for aggregated records)
  kAddressPort,  // address:port
  kNetwork,      // address with its mask field applied: "10.1.2.0/24"
  kNumber,       // a whole number, never scaled
  kScaled,       // packets, bytes: scaled unless -N
  kFlags,        // TCP flags "...AP.SF"
  kDirection,    // "I" / "E"
  kMac,
  kCountry,
  kString,
  kBps,
  kPps,
  kBpp,
};

struct TokenDef {
  std::string_view name;  // without '%'
  TokenKind kind;
  FieldId field;
  int width;  // > 0 right-aligned, < 0 left-aligned
  std::string_view header;
  FieldId second = FieldId::kFlows;  // kAddressPort: the port; kNetwork: the mask
};

// nfdump's tokens (nfdump(1), OUTPUT) that have a field in Sluice's record, with its
// headers and widths.
constexpr std::array kTokenDefs{
    TokenDef{"ts", TokenKind::kTime, FieldId::kFirst, -23, "Date first seen        "},
    TokenDef{"tfs", TokenKind::kTime, FieldId::kFirst, -23, "Date first seen        "},
    TokenDef{"te", TokenKind::kTime, FieldId::kLast, -23, "Date last seen         "},
    TokenDef{"tr", TokenKind::kTime, FieldId::kTimeReceived, -23, "Date flow received     "},
    TokenDef{"td", TokenKind::kDuration, FieldId::kFirst, 16, "    Duration    "},
    TokenDef{"pr", TokenKind::kProto, FieldId::kProto, -5, "Proto"},
    TokenDef{"sa", TokenKind::kAddress, FieldId::kSrcAddr, 16, "     Src IP Addr"},
    TokenDef{"da", TokenKind::kAddress, FieldId::kDstAddr, 16, "     Dst IP Addr"},
    TokenDef{"sap", TokenKind::kAddressPort, FieldId::kSrcAddr, 0, "     Src IP Addr:Port ",
             FieldId::kSrcPort},
    TokenDef{"dap", TokenKind::kAddressPort, FieldId::kDstAddr, 0, "     Dst IP Addr:Port ",
             FieldId::kDstPort},
    TokenDef{"sn", TokenKind::kNetwork, FieldId::kSrcAddr, 0, "        Src Network",
             FieldId::kSrcMask},
    TokenDef{"dn", TokenKind::kNetwork, FieldId::kDstAddr, 0, "        Dst Network",
             FieldId::kDstMask},
    TokenDef{"sp", TokenKind::kNumber, FieldId::kSrcPort, 6, "Src Pt"},
    TokenDef{"dp", TokenKind::kNumber, FieldId::kDstPort, 6, "Dst Pt"},
    TokenDef{"it", TokenKind::kNumber, FieldId::kIcmpType, 6, "ICMP-T"},
    TokenDef{"ic", TokenKind::kNumber, FieldId::kIcmpCode, 6, "ICMP-C"},
    TokenDef{"pkt", TokenKind::kScaled, FieldId::kPackets, 8, " Packets"},
    TokenDef{"ipkt", TokenKind::kScaled, FieldId::kPackets, 8, " Packets"},
    TokenDef{"byt", TokenKind::kScaled, FieldId::kBytes, 8, "   Bytes"},
    TokenDef{"ibyt", TokenKind::kScaled, FieldId::kBytes, 8, "   Bytes"},
    TokenDef{"fl", TokenKind::kNumber, FieldId::kFlows, 5, "Flows"},
    TokenDef{"flg", TokenKind::kFlags, FieldId::kTcpFlags, 8, "   Flags"},
    TokenDef{"tos", TokenKind::kNumber, FieldId::kTos, 3, "Tos"},
    TokenDef{"stos", TokenKind::kNumber, FieldId::kTos, 4, "STos"},
    TokenDef{"in", TokenKind::kNumber, FieldId::kInIf, 6, " Input"},
    TokenDef{"out", TokenKind::kNumber, FieldId::kOutIf, 6, "Output"},
    TokenDef{"sas", TokenKind::kNumber, FieldId::kSrcAs, 6, "Src AS"},
    TokenDef{"das", TokenKind::kNumber, FieldId::kDstAs, 6, "Dst AS"},
    TokenDef{"bps", TokenKind::kBps, FieldId::kBytes, 8, "     bps"},
    TokenDef{"pps", TokenKind::kPps, FieldId::kPackets, 8, "     pps"},
    TokenDef{"bpp", TokenKind::kBpp, FieldId::kBytes, 6, "   Bpp"},
    TokenDef{"ra", TokenKind::kAddress, FieldId::kExporter, 16, "       Router IP"},
    TokenDef{"nh", TokenKind::kAddress, FieldId::kNextHop, 16, "     Next-hop IP"},
    TokenDef{"nhb", TokenKind::kAddress, FieldId::kBgpNextHop, 16, " BGP next-hop IP"},
    TokenDef{"smk", TokenKind::kNumber, FieldId::kSrcMask, 5, "SMask"},
    TokenDef{"dmk", TokenKind::kNumber, FieldId::kDstMask, 5, "DMask"},
    TokenDef{"dir", TokenKind::kDirection, FieldId::kDirection, 3, "Dir"},
    TokenDef{"svln", TokenKind::kNumber, FieldId::kVlan, 5, "SVlan"},
    TokenDef{"ismc", TokenKind::kMac, FieldId::kSrcMac, 17, "  In src MAC Addr"},
    TokenDef{"odmc", TokenKind::kMac, FieldId::kDstMac, 17, " Out dst MAC Addr"},
    TokenDef{"mpls1", TokenKind::kNumber, FieldId::kMplsLabel, 12, " MPLS lbl 1 "},
    TokenDef{"sc", TokenKind::kCountry, FieldId::kSrcCountry, 2, "SC"},
    TokenDef{"dc", TokenKind::kCountry, FieldId::kDstCountry, 2, "DC"},
    TokenDef{"evt", TokenKind::kNumber, FieldId::kFwEvent, 6, " Event"},
    TokenDef{"nevt", TokenKind::kNumber, FieldId::kFwEvent, 6, " Event"},
    TokenDef{"xsa", TokenKind::kAddress, FieldId::kXlateSrcAddr, 16, "   X-late Src IP"},
    TokenDef{"xda", TokenKind::kAddress, FieldId::kXlateDstAddr, 16, "   X-late Dst IP"},
    TokenDef{"xsp", TokenKind::kNumber, FieldId::kXlateSrcPort, 6, "XsPort"},
    TokenDef{"xdp", TokenKind::kNumber, FieldId::kXlateDstPort, 6, "XdPort"},
    TokenDef{"nsa", TokenKind::kAddress, FieldId::kXlateSrcAddr, 16, "     NAT Src IP"},
    TokenDef{"nda", TokenKind::kAddress, FieldId::kXlateDstAddr, 16, "     NAT Dst IP"},
    TokenDef{"nsp", TokenKind::kNumber, FieldId::kXlateSrcPort, 6, "NSPort"},
    TokenDef{"ndp", TokenKind::kNumber, FieldId::kXlateDstPort, 6, "NDPort"},
    TokenDef{"odid", TokenKind::kNumber, FieldId::kObsDomain, 11, "obsDomainID"},
    TokenDef{"nbnam", TokenKind::kString, FieldId::kApp, -16, "App             "},
};

struct Token {
  TokenKind kind = TokenKind::kLiteral;
  FieldId field = FieldId::kFlows;
  FieldId second = FieldId::kFlows;
  int width = 0;
  std::string text;    // kLiteral
  std::string header;  // what the header line shows
  std::uint8_t v4_prefix = 32;
  std::uint8_t v6_prefix = 128;
};

// A generic token for any catalogue field (%{name}).
std::optional<Token> FieldToken(FieldId field) {
  const flow::FieldInfo& info = flow::Info(field);
  Token token;
  token.field = field;
  switch (info.type) {
    case FieldType::kTimeMillis:
      token.kind = TokenKind::kTime;
      token.width = -23;
      break;
    case FieldType::kIpAddress:
      token.kind = TokenKind::kAddress;
      token.width = 16;
      break;
    case FieldType::kMacAddress:
      token.kind = TokenKind::kMac;
      token.width = 17;
      break;
    case FieldType::kCountry:
      token.kind = TokenKind::kCountry;
      token.width = 2;
      break;
    case FieldType::kString:
      token.kind = TokenKind::kString;
      token.width = -12;
      break;
    default:
      token.kind = field == FieldId::kBytes || field == FieldId::kPackets ? TokenKind::kScaled
                                                                          : TokenKind::kNumber;
      token.width = field == FieldId::kProto ? 5 : 8;
      break;
  }
  const int abs_width = token.width < 0 ? -token.width : token.width;
  token.header = std::string(info.name);
  if (static_cast<int>(token.header.size()) < abs_width) {
    if (token.width > 0) {
      token.header.insert(0, static_cast<std::size_t>(abs_width) - token.header.size(), ' ');
    } else {
      token.header.append(static_cast<std::size_t>(abs_width) - token.header.size(), ' ');
    }
  }
  return token;
}

Result<std::vector<Token>> CompileFormat(std::string_view format) {
  std::vector<Token> tokens;
  std::string literal;
  const auto flush_literal = [&] {
    if (!literal.empty()) {
      Token token;
      token.text = literal;
      token.header.assign(literal.size(), ' ');
      tokens.push_back(std::move(token));
      literal.clear();
    }
  };
  std::size_t pos = 0;
  while (pos < format.size()) {
    const char c = format[pos];
    if (c != '%') {
      literal.push_back(c);
      ++pos;
      continue;
    }
    const std::string_view rest = format.substr(pos + 1);
    if (rest.starts_with("%")) {
      literal.push_back('%');
      pos += 2;
      continue;
    }
    // %n is a new line when no letter or digit follows it (%nh, %nsa, ... are tokens).
    if (rest.starts_with("n") && (rest.size() == 1 || !((rest[1] >= 'a' && rest[1] <= 'z') ||
                                                        (rest[1] >= '0' && rest[1] <= '9')))) {
      literal.push_back('\n');
      pos += 2;
      continue;
    }
    if (rest.starts_with("{")) {
      const std::size_t close = rest.find('}');
      const std::string_view name = rest.substr(1, close == std::string_view::npos ? 0 : close - 1);
      const auto field = flow::FieldByName(name);
      if (close == std::string_view::npos || !field) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "fmt: unknown field '%" +
                             std::string(rest.substr(
                                 0, close == std::string_view::npos ? rest.size() : close + 1)) +
                             "' (%{name} takes a name from 'sluice fields')");
      }
      flush_literal();
      tokens.push_back(*FieldToken(*field));
      pos += close + 2;
      continue;
    }
    const TokenDef* best = nullptr;
    for (const TokenDef& def : kTokenDefs) {
      if (rest.starts_with(def.name) && (best == nullptr || def.name.size() > best->name.size())) {
        best = &def;
      }
    }
    if (best == nullptr) {
      std::size_t end = 0;
      while (end < rest.size() &&
             ((rest[end] >= 'a' && rest[end] <= 'z') || (rest[end] >= '0' && rest[end] <= '9'))) {
        ++end;
      }
      return MakeError(
          ErrorCode::kInvalidArgument,
          "fmt: unknown token '%" + std::string(rest.substr(0, end)) +
              "' (see docs/query.md for the tokens Sluice knows; %{name} prints any field)");
    }
    flush_literal();
    Token token;
    token.kind = best->kind;
    token.field = best->field;
    token.second = best->second;
    token.width = best->width;
    token.header = std::string(best->header);
    tokens.push_back(std::move(token));
    pos += 1 + best->name.size();
  }
  flush_literal();
  return tokens;
}

constexpr std::string_view kLineFormat = "%ts %td %pr %sap -> %dap %pkt %byt %fl";
constexpr std::string_view kLongFormat = "%ts %td %pr %sap -> %dap %flg %tos %pkt %byt %fl";
constexpr std::string_view kExtendedFormat =
    "%ts %td %pr %sap -> %dap %flg %tos %pkt %byt %pps %bps %bpp %fl";

// The layout of aggregated records: times, the key's columns, then the counters.
std::string AggregateFormat(const std::vector<KeyField>& key, bool extended) {
  std::string format = "%ts %td";
  for (const KeyField& part : key) {
    switch (part.field) {
      case FieldId::kProto:
        format += " %pr";
        break;
      case FieldId::kSrcAddr:
        format += " %sa";
        break;
      case FieldId::kDstAddr:
        format += " %da";
        break;
      case FieldId::kSrcPort:
        format += " %sp";
        break;
      case FieldId::kDstPort:
        format += " %dp";
        break;
      default:
        format += " %{" + std::string(flow::Info(part.field).name) + "}";
        break;
    }
  }
  format += extended ? " %pkt %byt %pps %bps %bpp %fl" : " %pkt %byt %bps %bpp %fl";
  return format;
}

std::string HeaderOf(const std::vector<Token>& tokens) {
  std::string header;
  for (const Token& token : tokens) {
    header += token.header;
  }
  while (!header.empty() && header.back() == ' ') {
    header.pop_back();
  }
  return header;
}

void AppendToken(std::string& out, const Token& token, const flow::FlowBatch& batch,
                 std::size_t row, const OutputOptions& options) {
  const flow::FlowColumns& c = batch.cols();
  const std::size_t start = out.size();
  switch (token.kind) {
    case TokenKind::kLiteral:
      out += token.text;
      return;
    case TokenKind::kTime:
      AppendDisplayTime(out, static_cast<std::int64_t>(NumberAt(c, row, token.field)),
                        options.local_time, true);
      break;
    case TokenKind::kDuration:
      AppendDuration(out, SpanMillis(c.first[row], c.last[row]));
      break;
    case TokenKind::kProto:
      AppendProto(out, c.proto[row]);
      break;
    case TokenKind::kAddress:
      AppendAddress(out, AddressAt(c, row, token.field), token.v4_prefix, token.v6_prefix);
      break;
    case TokenKind::kAddressPort: {
      AppendAddress(out, AddressAt(c, row, token.field), token.v4_prefix, token.v6_prefix);
      Pad(out, start, 16);
      const std::size_t port_start = out.size();
      // IPv6 "addr.port", as nfdump writes it (a colon would read as part of the address).
      out.push_back(
          AddressAt(c, row, token.field).IsV4() || AddressAt(c, row, token.field).IsUnset() ? ':'
                                                                                            : '.');
      AppendUnsigned(out, NumberAt(c, row, token.second));
      Pad(out, port_start, -6);
      return;
    }
    case TokenKind::kNetwork: {
      const flow::IpAddress& address = AddressAt(c, row, token.field);
      const auto mask = static_cast<std::uint8_t>(NumberAt(c, row, token.second));
      flow::IpAddress cut = address;
      const unsigned bits =
          address.IsV4() ? 96u + std::min<unsigned>(mask, 32) : std::min<unsigned>(mask, 128);
      for (unsigned bit = bits; bit < 128; ++bit) {
        cut.bytes[bit / 8] = static_cast<std::uint8_t>(cut.bytes[bit / 8] & ~(0x80u >> (bit % 8)));
      }
      if (cut.IsUnset()) {
        out += "0.0.0.0";
      } else {
        char text[flow::IpAddress::kMaxTextLength];
        out.append(text, cut.ToText(text));
      }
      Pad(out, start, 16);
      const std::size_t mask_start = out.size();
      AppendF(out, "/%u", static_cast<unsigned>(mask));
      Pad(out, mask_start, -3);
      return;
    }
    case TokenKind::kNumber:
      AppendUnsigned(out, NumberAt(c, row, token.field));
      break;
    case TokenKind::kScaled:
      AppendScaled(out, NumberAt(c, row, token.field), options.exact);
      break;
    case TokenKind::kFlags:
      AppendFlags(out, c.tcp_flags[row]);
      break;
    case TokenKind::kDirection:
      out.push_back(c.direction[row] == 0 ? 'I' : 'E');
      break;
    case TokenKind::kMac:
      AppendMac(out, NumberAt(c, row, token.field));
      break;
    case TokenKind::kCountry:
      AppendCountry(out, NumberAt(c, row, token.field), "..");
      break;
    case TokenKind::kString:
      out += batch.String(StringAt(c, row, token.field));
      break;
    case TokenKind::kBps:
      AppendScaledRate(out, BitsPerSecond(c.bytes[row], SpanMillis(c.first[row], c.last[row])), options.exact);
      break;
    case TokenKind::kPps:
      AppendScaledRate(out, PacketsPerSecond(c.packets[row], SpanMillis(c.first[row], c.last[row])),
                       options.exact);
      break;
    case TokenKind::kBpp:
      AppendUnsigned(out, BytesPerPacket(c.bytes[row], c.packets[row]));
      break;
  }
  Pad(out, start, token.width);
}

// ---- CSV (nfdump's column names, exact numbers) ----

constexpr std::string_view kCsvHeader =
    "ts,te,td,sa,da,sp,dp,pr,flg,stos,ipkt,ibyt,fl,in,out,sas,das,smk,dmk,dir,nh,nhb,svln,ismc,"
    "odmc,mpls1,ra,tr";

void AppendCsvRecord(std::string& out, const flow::FlowBatch& batch, std::size_t row,
                     const OutputOptions& options) {
  const flow::FlowColumns& c = batch.cols();
  const auto number = [&out](std::uint64_t value) {
    AppendUnsigned(out, value);
    out.push_back(',');
  };
  const auto address = [&out](const flow::IpAddress& value) {
    AppendAddress(out, value, 32, 128);
    out.push_back(',');
  };
  AppendDisplayTime(out, c.first[row], options.local_time, false);
  out.push_back(',');
  AppendDisplayTime(out, c.last[row], options.local_time, false);
  out.push_back(',');
  const std::int64_t duration = std::max<std::int64_t>(0, SpanMillis(c.first[row], c.last[row]));
  AppendUnsigned(out, static_cast<std::uint64_t>(duration / 1000));
  out.push_back('.');
  const std::size_t millis_start = out.size();
  AppendUnsigned(out, static_cast<std::uint64_t>(duration % 1000));
  out.insert(millis_start, 3 - (out.size() - millis_start), '0');
  out.push_back(',');
  address(c.src_addr[row]);
  address(c.dst_addr[row]);
  number(c.src_port[row]);
  number(c.dst_port[row]);
  AppendProto(out, c.proto[row]);
  out.push_back(',');
  AppendFlags(out, c.tcp_flags[row]);
  out.push_back(',');
  number(c.tos[row]);
  number(c.packets[row]);
  number(c.bytes[row]);
  number(c.flows[row]);
  number(c.in_if[row]);
  number(c.out_if[row]);
  number(c.src_as[row]);
  number(c.dst_as[row]);
  number(c.src_mask[row]);
  number(c.dst_mask[row]);
  number(c.direction[row]);
  address(c.next_hop[row]);
  address(c.bgp_next_hop[row]);
  number(c.vlan[row]);
  AppendMac(out, c.src_mac[row]);
  out.push_back(',');
  AppendMac(out, c.dst_mac[row]);
  out.push_back(',');
  number(c.mpls_label[row]);
  address(c.exporter[row]);
  AppendDisplayTime(out, c.time_received[row], options.local_time, true);
  out.push_back('\n');
}

// ---- key values as text ----

void AppendKeyText(std::string& out, const KeyField& key, const KeyValue& value, bool json) {
  switch (flow::Info(key.field).type) {
    case FieldType::kIpAddress:
      AppendAddress(out, value.address, key.v4_prefix, key.v6_prefix);
      return;
    case FieldType::kMacAddress:
      AppendMac(out, value.number);
      return;
    case FieldType::kCountry:
      AppendCountry(out, value.number, json ? "" : "..");
      return;
    default:
      AppendF(out, "%" PRIu64, value.number);
      return;
  }
}

void AppendJsonKey(std::string& out, const std::vector<KeyField>& fields,
                   const std::vector<KeyValue>& values) {
  out += '{';
  for (std::size_t idx = 0; idx < fields.size() && idx < values.size(); ++idx) {
    if (idx > 0) {
      out += ',';
    }
    AppendJsonString(out, flow::Info(fields[idx].field).name);
    out += ':';
    const FieldType type = flow::Info(fields[idx].field).type;
    if (type == FieldType::kIpAddress || type == FieldType::kMacAddress ||
        type == FieldType::kCountry) {
      std::string text;
      AppendKeyText(text, fields[idx], values[idx], true);
      AppendJsonString(out, text);
    } else {
      AppendF(out, "%" PRIu64, values[idx].number);
    }
  }
  out += '}';
}

void AppendJsonCounters(std::string& out, const Counters& counters) {
  AppendF(out, "\"flows\":%" PRIu64 ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"first\":",
          counters.flows, counters.packets, counters.bytes);
  AppendJsonString(out, FormatIsoTime(counters.first_ms));
  out += ",\"last\":";
  AppendJsonString(out, FormatIsoTime(counters.last_ms));
}

}  // namespace

// ---- the writer ----

struct OutputWriter::State {
  QuerySpec spec;
  OutputOptions options;
  std::FILE* file = nullptr;
  std::string* capture = nullptr;
  std::vector<Token> record_tokens;
  std::string buffer;
  bool header_done = false;
  bool failed = false;
  bool any_record = false;  // json: a record was written (for commas)
  std::uint64_t printed = 0;

  bool Emit() {
    if (capture != nullptr) {
      capture->append(buffer);
    } else if (!buffer.empty() && !failed) {
      if (std::fwrite(buffer.data(), 1, buffer.size(), file) != buffer.size()) {
        failed = true;
      }
    }
    buffer.clear();
    return !failed;
  }

  bool Text() const {
    return options.format == OutputFormat::kLine || options.format == OutputFormat::kLong ||
           options.format == OutputFormat::kExtended || options.format == OutputFormat::kFmt;
  }

  bool Listing() const {
    return spec.stats.empty() && spec.aggregate.empty() && spec.bucket_ms == 0;
  }

  void RecordsHeader() {
    if (header_done) {
      return;
    }
    header_done = true;
    if (options.format == OutputFormat::kJson) {
      buffer += "{\"records\":[";
    } else if (options.format == OutputFormat::kCsv) {
      buffer += kCsvHeader;
      buffer += '\n';
    } else if (Text() && !options.quiet) {
      buffer += HeaderOf(record_tokens);
      buffer += '\n';
    }
  }

  void AppendRecord(const flow::FlowBatch& batch, std::size_t row) {
    switch (options.format) {
      case OutputFormat::kJson:
        if (any_record) {
          buffer += ',';
        }
        any_record = true;
        flow::AppendRecordJson(batch, row, buffer);
        break;
      case OutputFormat::kNdjson:
        flow::AppendRecordJson(batch, row, buffer);
        buffer += '\n';
        break;
      case OutputFormat::kCsv:
        AppendCsvRecord(buffer, batch, row, options);
        break;
      default:
        for (const Token& token : record_tokens) {
          AppendToken(buffer, token, batch, row, options);
        }
        while (!buffer.empty() && buffer.back() == ' ') {
          buffer.pop_back();
        }
        buffer += '\n';
        break;
    }
  }

  void Summary(const QueryResult& result);
  void StatText(const StatTable& table);
  void StatCsv(const StatTable& table);
  void StatJson(const StatTable& table, bool ndjson);
  void Aggregated(const QueryResult& result);
  void Series(const QueryResult& result);
};

Status ParseOutputFormat(std::string_view text, OutputOptions& options) {
  if (text.starts_with("fmt:")) {
    options.format = OutputFormat::kFmt;
    options.fmt = std::string(text.substr(4));
    auto tokens = CompileFormat(options.fmt);
    if (!tokens) {
      return tl::unexpected(tokens.error());
    }
    return OkStatus();
  }
  static constexpr std::array<std::pair<std::string_view, OutputFormat>, 9> kNames{{
      {"line", OutputFormat::kLine},
      {"long", OutputFormat::kLong},
      {"extended", OutputFormat::kExtended},
      {"line6", OutputFormat::kLine},
      {"long6", OutputFormat::kLong},
      {"extended6", OutputFormat::kExtended},
      {"csv", OutputFormat::kCsv},
      {"json", OutputFormat::kJson},
      {"ndjson", OutputFormat::kNdjson},
  }};
  for (const auto& [name, format] : kNames) {
    if (name == text) {
      options.format = format;
      return OkStatus();
    }
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown output format '" + std::string(text) +
                       "' (expected line, long, extended, csv, json, ndjson or fmt:...)");
}

Result<std::unique_ptr<OutputWriter>> OutputWriter::Create(const QuerySpec& spec,
                                                           const OutputOptions& options,
                                                           std::FILE* out) {
  auto state = std::make_unique<State>();
  state->spec = spec;
  state->options = options;
  state->file = out;
  std::string_view format = kLineFormat;
  std::string aggregate_format;
  if (!spec.aggregate.empty() && options.format != OutputFormat::kFmt) {
    aggregate_format = AggregateFormat(spec.aggregate, options.format == OutputFormat::kExtended);
    format = aggregate_format;
  } else if (options.format == OutputFormat::kLong) {
    format = kLongFormat;
  } else if (options.format == OutputFormat::kExtended) {
    format = kExtendedFormat;
  } else if (options.format == OutputFormat::kFmt) {
    format = options.fmt;
  }
  auto tokens = CompileFormat(format);
  if (!tokens) {
    return tl::unexpected(tokens.error());
  }
  // Aggregated address keys cut to a prefix print as "10.1.2.0/24".
  for (Token& token : *tokens) {
    for (const KeyField& key : spec.aggregate) {
      if (token.field == key.field &&
          (token.kind == TokenKind::kAddress || token.kind == TokenKind::kAddressPort)) {
        token.v4_prefix = key.v4_prefix;
        token.v6_prefix = key.v6_prefix;
      }
    }
  }
  state->record_tokens = std::move(*tokens);
  return std::unique_ptr<OutputWriter>(new OutputWriter(std::move(state)));
}

Result<std::unique_ptr<OutputWriter>> OutputWriter::CreateForString(const QuerySpec& spec,
                                                                    const OutputOptions& options,
                                                                    std::string* out) {
  auto writer = Create(spec, options, nullptr);
  if (writer) {
    (*writer)->state_->capture = out;
  }
  return writer;
}

OutputWriter::OutputWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}

OutputWriter::~OutputWriter() = default;

std::vector<flow::FieldId> OutputWriter::Fields() const {
  const State& s = *state_;
  switch (s.options.format) {
    case OutputFormat::kJson:
    case OutputFormat::kNdjson:
    case OutputFormat::kCsv:
      return RecordSink::Fields();
    default:
      break;
  }
  std::vector<bool> wanted(flow::kFieldCount, false);
  auto want = [&](FieldId field) { wanted[static_cast<std::size_t>(field)] = true; };
  for (const Token& token : s.record_tokens) {
    switch (token.kind) {
      case TokenKind::kLiteral:
        break;
      case TokenKind::kDuration:
        want(FieldId::kFirst);
        want(FieldId::kLast);
        break;
      case TokenKind::kProto:
        want(FieldId::kProto);
        break;
      case TokenKind::kAddressPort:
      case TokenKind::kNetwork:
        want(token.field);
        want(token.second);
        break;
      case TokenKind::kFlags:
        want(FieldId::kTcpFlags);
        break;
      case TokenKind::kDirection:
        want(FieldId::kDirection);
        break;
      case TokenKind::kBps:
        want(FieldId::kBytes);
        want(FieldId::kFirst);
        want(FieldId::kLast);
        break;
      case TokenKind::kPps:
        want(FieldId::kPackets);
        want(FieldId::kFirst);
        want(FieldId::kLast);
        break;
      case TokenKind::kBpp:
        want(FieldId::kBytes);
        want(FieldId::kPackets);
        break;
      default:
        want(token.field);
        break;
    }
  }
  std::vector<flow::FieldId> fields;
  for (std::size_t field_idx = 0; field_idx < flow::kFieldCount; ++field_idx) {
    if (wanted[field_idx]) {
      fields.push_back(static_cast<FieldId>(field_idx));
    }
  }
  return fields;
}

bool OutputWriter::Consume(const flow::FlowBatch& batch, std::span<const std::uint32_t> rows) {
  State& s = *state_;
  s.RecordsHeader();
  for (const std::uint32_t row : rows) {
    if (s.spec.limit != 0 && s.printed >= s.spec.limit) {
      break;
    }
    s.AppendRecord(batch, row);
    ++s.printed;
  }
  const bool ok = s.Emit();
  return ok && (s.spec.limit == 0 || s.printed < s.spec.limit);
}

void OutputWriter::State::StatText(const StatTable& table) {
  const bool by_proto = !table.spec.key.empty() && table.spec.key.front().field == FieldId::kProto;
  const std::size_t value_index = table.spec.key.empty() ? 0 : table.spec.key.size() - 1;
  if (!options.quiet) {
    AppendF(buffer, "Top %zu %s ordered by %s:\n", table.rows.size(), StatTitle(table.spec).c_str(),
            std::string(OrderName(table.spec.order)).c_str());
    buffer += "Date first seen                 Duration Proto ";
    const std::size_t start = buffer.size();
    buffer += StatTitle(table.spec);
    Pad(buffer, start, 17);
    buffer += "    Flows(%)     Packets(%)       Bytes(%)         pps      bps   bpp\n";
  }
  const auto percent = [](std::uint64_t part, std::uint64_t whole) {
    return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  };
  for (const GroupRow& row : table.rows) {
    const Counters& n = row.counters;
    AppendDisplayTime(buffer, n.first_ms, options.local_time, true);
    buffer += ' ';
    std::size_t start = buffer.size();
    AppendDuration(buffer, Duration(n));
    Pad(buffer, start, 16);
    buffer += ' ';
    start = buffer.size();
    if (by_proto && !row.key.empty()) {
      AppendProto(buffer, row.key.front().number);
    } else {
      buffer += "any";
    }
    Pad(buffer, start, -5);
    buffer += ' ';
    start = buffer.size();
    if (value_index < row.key.size() && value_index < table.spec.key.size()) {
      AppendKeyText(buffer, table.spec.key[value_index], row.key[value_index], false);
    }
    Pad(buffer, start, 17);
    const std::pair<std::uint64_t, std::uint64_t> columns[3] = {{n.flows, table.total.flows},
                                                                {n.packets, table.total.packets},
                                                                {n.bytes, table.total.bytes}};
    for (const auto& [value, whole] : columns) {
      buffer += ' ';
      start = buffer.size();
      AppendScaled(buffer, value, options.exact);
      Pad(buffer, start, 8);
      AppendF(buffer, "(%4.1f)", percent(value, whole));
    }
    buffer += ' ';
    start = buffer.size();
    AppendScaledRate(buffer, PacketsPerSecond(n.packets, Duration(n)), options.exact);
    Pad(buffer, start, 8);
    buffer += ' ';
    start = buffer.size();
    AppendScaledRate(buffer, BitsPerSecond(n.bytes, Duration(n)), options.exact);
    Pad(buffer, start, 8);
    AppendF(buffer, " %5" PRIu64 "\n", BytesPerPacket(n.bytes, n.packets));
  }
  buffer += '\n';
}

void OutputWriter::State::StatCsv(const StatTable& table) {
  const bool by_proto = !table.spec.key.empty() && table.spec.key.front().field == FieldId::kProto;
  const std::size_t value_index = table.spec.key.empty() ? 0 : table.spec.key.size() - 1;
  buffer += "ts,te,td,pr,val,fl,flP,ipkt,ipktP,ibyt,ibytP,ipps,ibps,ibpp\n";
  const auto percent = [](std::uint64_t part, std::uint64_t whole) {
    return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  };
  for (const GroupRow& row : table.rows) {
    const Counters& n = row.counters;
    AppendDisplayTime(buffer, n.first_ms, options.local_time, false);
    buffer += ',';
    AppendDisplayTime(buffer, n.last_ms, options.local_time, false);
    const std::int64_t duration = std::max<std::int64_t>(0, Duration(n));
    AppendF(buffer, ",%" PRId64 ".%03" PRId64 ",", duration / 1000, duration % 1000);
    if (by_proto && !row.key.empty()) {
      AppendProto(buffer, row.key.front().number);
    } else {
      buffer += "any";
    }
    buffer += ',';
    if (value_index < row.key.size() && value_index < table.spec.key.size()) {
      AppendKeyText(buffer, table.spec.key[value_index], row.key[value_index], false);
    }
    AppendF(buffer, ",%" PRIu64 ",%.1f,%" PRIu64 ",%.1f,%" PRIu64 ",%.1f,", n.flows,
            percent(n.flows, table.total.flows), n.packets, percent(n.packets, table.total.packets),
            n.bytes, percent(n.bytes, table.total.bytes));
    AppendScaledRate(buffer, PacketsPerSecond(n.packets, Duration(n)), true);
    buffer += ',';
    AppendScaledRate(buffer, BitsPerSecond(n.bytes, Duration(n)), true);
    AppendF(buffer, ",%" PRIu64 "\n", BytesPerPacket(n.bytes, n.packets));
  }
  buffer += '\n';
}

void OutputWriter::State::StatJson(const StatTable& table, bool ndjson) {
  if (ndjson) {
    for (const GroupRow& row : table.rows) {
      buffer += "{\"stat\":";
      AppendJsonString(buffer, table.spec.name);
      buffer += ",\"order\":";
      AppendJsonString(buffer, OrderName(table.spec.order));
      buffer += ",\"key\":";
      AppendJsonKey(buffer, table.spec.key, row.key);
      buffer += ',';
      AppendJsonCounters(buffer, row.counters);
      buffer += "}\n";
    }
    return;
  }
  buffer += "{\"stat\":";
  AppendJsonString(buffer, table.spec.name);
  buffer += ",\"order\":";
  AppendJsonString(buffer, OrderName(table.spec.order));
  if (table.distinct_known) {
    AppendF(buffer, ",\"distinct\":%" PRIu64 ",\"rows\":[", table.distinct);
  } else {
    buffer += ",\"distinct\":null,\"rows\":[";
  }
  bool first = true;
  for (const GroupRow& row : table.rows) {
    if (!first) {
      buffer += ',';
    }
    first = false;
    buffer += "{\"key\":";
    AppendJsonKey(buffer, table.spec.key, row.key);
    buffer += ',';
    AppendJsonCounters(buffer, row.counters);
    buffer += '}';
  }
  buffer += "]}";
}

void OutputWriter::State::Aggregated(const QueryResult& result) {
  if (options.format == OutputFormat::kJson || options.format == OutputFormat::kNdjson) {
    const bool ndjson = options.format == OutputFormat::kNdjson;
    bool first = true;
    for (const GroupRow& row : result.aggregated) {
      if (!ndjson && !first) {
        buffer += ',';
      }
      first = false;
      buffer += "{\"key\":";
      AppendJsonKey(buffer, spec.aggregate, row.key);
      buffer += ',';
      AppendJsonCounters(buffer, row.counters);
      buffer += ndjson ? "}\n" : "}";
      if (buffer.size() > 65536) {
        Emit();
      }
    }
    return;
  }
  // Text and CSV: the rows go through a batch, printed like flows.
  auto batch = std::make_unique<flow::FlowBatch>();
  const auto flush = [&] {
    for (std::size_t row = 0; row < batch->size(); ++row) {
      AppendRecord(*batch, row);
    }
    batch->Clear();
    Emit();
  };
  for (const GroupRow& group : result.aggregated) {
    if (batch->full()) {
      flush();
    }
    const std::size_t row = batch->AppendRow();
    flow::FlowColumns& c = batch->cols();
    c.first[row] = group.counters.first_ms;
    c.last[row] = group.counters.last_ms;
    c.packets[row] = group.counters.packets;
    c.bytes[row] = group.counters.bytes;
    c.flows[row] = group.counters.flows;
    for (std::size_t idx = 0; idx < spec.aggregate.size() && idx < group.key.size(); ++idx) {
      SetKeyValue(c, row, spec.aggregate[idx].field, group.key[idx]);
    }
  }
  flush();
}

void OutputWriter::State::Series(const QueryResult& result) {
  const bool json = options.format == OutputFormat::kJson;
  const bool ndjson = options.format == OutputFormat::kNdjson;
  if (json || ndjson) {
    bool first = true;
    for (const SeriesPoint& point : result.series) {
      if (json && !first) {
        buffer += ',';
      }
      first = false;
      buffer += "{\"start\":";
      AppendJsonString(buffer, FormatIsoTime(point.bucket_start_ms));
      if (!point.group.empty()) {
        buffer += ",\"group\":";
        AppendJsonKey(buffer, spec.bucket_group, point.group);
      }
      if (point.other) {
        buffer += ",\"other\":true";
      }
      AppendF(buffer, ",\"flows\":%" PRIu64 ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 "}",
              point.counters.flows, point.counters.packets, point.counters.bytes);
      if (ndjson) {
        buffer += '\n';
      }
    }
    return;
  }
  const bool csv = options.format == OutputFormat::kCsv;
  if (csv) {
    buffer += "start,group,flows,packets,bytes\n";
  } else if (!options.quiet) {
    buffer += "Bucket start        ";
    if (!spec.bucket_group.empty()) {
      buffer += "               Group";
    }
    buffer += "    Flows  Packets    Bytes\n";
  }
  for (const SeriesPoint& point : result.series) {
    AppendDisplayTime(buffer, point.bucket_start_ms, options.local_time, false);
    std::string group;
    if (point.other) {
      group = "other";
    } else {
      for (std::size_t idx = 0; idx < point.group.size() && idx < spec.bucket_group.size(); ++idx) {
        if (idx > 0) {
          group += ' ';
        }
        AppendKeyText(group, spec.bucket_group[idx], point.group[idx], false);
      }
    }
    if (csv) {
      AppendF(buffer, ",%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", group.c_str(),
              point.counters.flows, point.counters.packets, point.counters.bytes);
      continue;
    }
    if (!spec.bucket_group.empty()) {
      buffer += ' ';
      const std::size_t start = buffer.size();
      buffer += group;
      Pad(buffer, start, 20);
    }
    const std::uint64_t values[3] = {point.counters.flows, point.counters.packets,
                                     point.counters.bytes};
    for (const std::uint64_t value : values) {
      buffer += ' ';
      const std::size_t start = buffer.size();
      AppendScaled(buffer, value, options.exact);
      Pad(buffer, start, 8);
    }
    buffer += '\n';
  }
  buffer += '\n';
}

void OutputWriter::State::Summary(const QueryResult& result) {
  const Counters& t = result.totals;
  const std::int64_t duration = Duration(t);
  const double bps = BitsPerSecond(t.bytes, duration);
  const double pps = PacketsPerSecond(t.packets, duration);
  const std::uint64_t bpp = BytesPerPacket(t.bytes, t.packets);
  const ScanStats& scan = result.scan;
  if (options.format == OutputFormat::kJson || options.format == OutputFormat::kNdjson) {
    AppendF(buffer,
            "{\"flows\":%" PRIu64 ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"avg_bps\":",
            t.flows, t.packets, t.bytes);
    AppendJsonDouble(buffer, bps);
    buffer += ",\"avg_pps\":";
    AppendJsonDouble(buffer, pps);
    AppendF(buffer, ",\"avg_bpp\":%" PRIu64 ",\"first\":", bpp);
    AppendJsonString(buffer, FormatIsoTime(t.first_ms));
    buffer += ",\"last\":";
    AppendJsonString(buffer, FormatIsoTime(t.last_ms));
    AppendF(buffer, ",\"rows_scanned\":%" PRIu64 ",\"blocks_skipped\":%" PRIu64 ",\"seconds\":",
            scan.rows_scanned, scan.blocks_skipped);
    AppendJsonDouble(buffer, scan.seconds);
    buffer += '}';
    return;
  }
  if (options.format == OutputFormat::kCsv) {
    buffer += "Summary\nflows,bytes,packets,avg_bps,avg_pps,avg_bpp\n";
    AppendF(buffer, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", t.flows, t.bytes, t.packets);
    AppendScaledRate(buffer, bps, true);
    buffer += ',';
    AppendScaledRate(buffer, pps, true);
    AppendF(buffer, ",%" PRIu64 "\n", bpp);
    return;
  }
  buffer += "Summary: total flows: ";
  AppendScaled(buffer, t.flows, options.exact);
  buffer += ", total bytes: ";
  AppendScaled(buffer, t.bytes, options.exact);
  buffer += ", total packets: ";
  AppendScaled(buffer, t.packets, options.exact);
  buffer += ", avg bps: ";
  AppendScaledRate(buffer, bps, options.exact);
  buffer += ", avg pps: ";
  AppendScaledRate(buffer, pps, options.exact);
  AppendF(buffer, ", avg bpp: %" PRIu64 "\n", bpp);
  buffer += "Time window: ";
  if (t.flows == 0) {
    buffer += "<no flows>";
  } else {
    AppendDisplayTime(buffer, t.first_ms, options.local_time, false);
    buffer += " - ";
    AppendDisplayTime(buffer, t.last_ms, options.local_time, false);
  }
  AppendF(buffer,
          "\nTotal flows processed: %" PRIu64 ", passed: %" PRIu64 ", Blocks skipped: %" PRIu64
          ", Segments read: %" PRIu64 "\n",
          scan.rows_scanned, scan.rows_matched, scan.blocks_skipped, scan.segments_read);
}

bool OutputWriter::Finish(const QueryResult& result) {
  State& s = *state_;
  const OutputFormat format = s.options.format;
  if (format == OutputFormat::kJson) {
    // {"summary":...,"stats":[...],"records":[...],"series":[...]}
    if (s.header_done) {
      s.buffer += "],";  // records were streamed: close them, then the rest follows
    } else {
      s.buffer += '{';
    }
    s.buffer += "\"summary\":";
    s.Summary(result);
    if (!s.spec.stats.empty()) {
      s.buffer += ",\"stats\":[";
      for (std::size_t idx = 0; idx < result.stats.size(); ++idx) {
        if (idx > 0) {
          s.buffer += ',';
        }
        s.StatJson(result.stats[idx], false);
      }
      s.buffer += ']';
    }
    if (!s.spec.aggregate.empty()) {
      s.buffer += ",\"records\":[";
      s.Aggregated(result);
      s.buffer += ']';
    } else if (s.Listing() && !s.header_done) {
      s.buffer += ",\"records\":[]";
    }
    if (s.spec.bucket_ms != 0) {
      s.buffer += ",\"series\":[";
      s.Series(result);
      s.buffer += ']';
    }
    s.buffer += "}\n";
    return s.Emit();
  }
  if (format == OutputFormat::kNdjson) {
    for (const StatTable& table : result.stats) {
      s.StatJson(table, true);
    }
    if (!s.spec.aggregate.empty()) {
      s.Aggregated(result);
    }
    if (s.spec.bucket_ms != 0) {
      s.Series(result);
    }
    s.buffer += "{\"summary\":";
    s.Summary(result);
    s.buffer += "}\n";
    return s.Emit();
  }
  if (s.Listing()) {
    s.RecordsHeader();
  }
  for (const StatTable& table : result.stats) {
    if (table.spec.records) {
      // -s record: the top aggregated records, in the aggregated layout of their key.
      QuerySpec record_spec = s.spec;
      record_spec.aggregate = table.spec.key;
      OutputOptions record_options = s.options;
      if (record_options.format == OutputFormat::kFmt) {
        record_options.format = OutputFormat::kLine;
      }
      auto writer = CreateForString(record_spec, record_options, &s.buffer);
      if (writer) {
        if (!s.options.quiet && format != OutputFormat::kCsv) {
          AppendF(s.buffer, "Top %zu flows ordered by %s:\n", table.rows.size(),
                  std::string(OrderName(table.spec.order)).c_str());
        }
        QueryResult part;
        part.aggregated = table.rows;
        (*writer)->state_->RecordsHeader();
        (*writer)->state_->Aggregated(part);
        s.buffer += '\n';
      }
      continue;
    }
    if (format == OutputFormat::kCsv) {
      s.StatCsv(table);
    } else {
      s.StatText(table);
    }
  }
  if (!s.spec.aggregate.empty()) {
    s.RecordsHeader();
    s.Aggregated(result);
  }
  if (s.spec.bucket_ms != 0) {
    s.Series(result);
  }
  if (!s.options.quiet) {
    s.Summary(result);
  }
  return s.Emit();
}

}  // namespace sluice::query
