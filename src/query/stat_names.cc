// SPDX-License-Identifier: Apache-2.0

#include "query/stat_names.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include "flow/field.h"

namespace sluice::query {
namespace {

using flow::FieldId;

// An nfdump statistic: its key field, the field counted on the other side for the
// "either side" statistics, and nfdump's column title.
struct StatName {
  std::string_view name;
  FieldId field;
  std::optional<FieldId> paired;
  std::string_view title;
  bool prefix = false;  // srcnet/dstnet/net: the address is cut to a prefix
};

constexpr std::array kStats{
    StatName{"srcip", FieldId::kSrcAddr, std::nullopt, "Src IP Addr"},
    StatName{"dstip", FieldId::kDstAddr, std::nullopt, "Dst IP Addr"},
    StatName{"ip", FieldId::kSrcAddr, FieldId::kDstAddr, "IP Addr"},
    StatName{"nhip", FieldId::kNextHop, std::nullopt, "Nexthop IP"},
    StatName{"nhbip", FieldId::kBgpNextHop, std::nullopt, "Nexthop BGP IP"},
    StatName{"router", FieldId::kExporter, std::nullopt, "Router IP"},
    StatName{"srcport", FieldId::kSrcPort, std::nullopt, "Src Port"},
    StatName{"dstport", FieldId::kDstPort, std::nullopt, "Dst Port"},
    StatName{"port", FieldId::kSrcPort, FieldId::kDstPort, "Port"},
    StatName{"tos", FieldId::kTos, std::nullopt, "Tos"},
    StatName{"srctos", FieldId::kTos, std::nullopt, "Tos"},
    StatName{"dir", FieldId::kDirection, std::nullopt, "Dir"},
    StatName{"srcas", FieldId::kSrcAs, std::nullopt, "Src AS"},
    StatName{"dstas", FieldId::kDstAs, std::nullopt, "Dst AS"},
    StatName{"as", FieldId::kSrcAs, FieldId::kDstAs, "AS"},
    StatName{"inif", FieldId::kInIf, std::nullopt, "Input If"},
    StatName{"outif", FieldId::kOutIf, std::nullopt, "Output If"},
    StatName{"if", FieldId::kInIf, FieldId::kOutIf, "In/Out If"},
    StatName{"srcmask", FieldId::kSrcMask, std::nullopt, "Src Mask"},
    StatName{"dstmask", FieldId::kDstMask, std::nullopt, "Dst Mask"},
    StatName{"mask", FieldId::kSrcMask, FieldId::kDstMask, "Mask"},
    StatName{"srcvlan", FieldId::kVlan, std::nullopt, "Src Vlan"},
    StatName{"vlan", FieldId::kVlan, std::nullopt, "Vlan"},
    StatName{"proto", FieldId::kProto, std::nullopt, "Protocol"},
    // src_mac/dst_mac hold the in (pre) MACs, 56 and 80; the out (post) ones, 81 and 57,
    // only when the in one is absent (docs/decoding.md). So the in statistics map, the
    // out ones are refused (kOutMacStats).
    StatName{"srcmac", FieldId::kSrcMac, std::nullopt, "Src Mac"},
    StatName{"insrcmac", FieldId::kSrcMac, std::nullopt, "In Src Mac"},
    StatName{"dstmac", FieldId::kDstMac, std::nullopt, "Dst Mac"},
    StatName{"indstmac", FieldId::kDstMac, std::nullopt, "In Dst Mac"},
    // nfdump 1.7.1's inmac counts the in source MAC only (once per flow).
    StatName{"inmac", FieldId::kSrcMac, std::nullopt, "In Src Mac"},
    StatName{"mpls1", FieldId::kMplsLabel, std::nullopt, " MPLS lab 1"},
    StatName{"srcgeo", FieldId::kSrcCountry, std::nullopt, "Src Geo"},
    StatName{"dstgeo", FieldId::kDstCountry, std::nullopt, "Dst Geo"},
    StatName{"odid", FieldId::kObsDomain, std::nullopt, "Obs Domain"},
    StatName{"event", FieldId::kFwEvent, std::nullopt, "Event"},
    StatName{"nevent", FieldId::kFwEvent, std::nullopt, "NAT Event"},
    StatName{"xsrcip", FieldId::kXlateSrcAddr, std::nullopt, "X-Src IP Addr"},
    StatName{"xdstip", FieldId::kXlateDstAddr, std::nullopt, "X-Dst IP Addr"},
    StatName{"xsrcport", FieldId::kXlateSrcPort, std::nullopt, "X-Src Port"},
    StatName{"xdstport", FieldId::kXlateDstPort, std::nullopt, "X-Dst Port"},
    StatName{"nsrcip", FieldId::kXlateSrcAddr, std::nullopt, "NAT Src IP Addr"},
    StatName{"ndstip", FieldId::kXlateDstAddr, std::nullopt, "NAT Dst IP Addr"},
    StatName{"nsrcport", FieldId::kXlateSrcPort, std::nullopt, "NAT Src Port"},
    StatName{"ndstport", FieldId::kXlateDstPort, std::nullopt, "NAT Dst Port"},
    StatName{"srcnet", FieldId::kSrcAddr, std::nullopt, "Src Net", true},
    StatName{"dstnet", FieldId::kDstAddr, std::nullopt, "Dst Net", true},
    StatName{"net", FieldId::kSrcAddr, FieldId::kDstAddr, "Net", true},
    StatName{"flags", FieldId::kTcpFlags, std::nullopt, "Flags"},
};

// nfdump statistics whose data Sluice's record does not hold.
constexpr std::array<std::string_view, 21> kUnsupportedStats{
    "dsttos", "prevas", "nextas", "dstvlan", "inam",  "onam",   "mpls2",
    "mpls3",  "mpls4",  "mpls5",  "mpls6",   "mpls7", "mpls8",  "mpls9",
    "mpls10", "sysid",  "nbar",   "ja3",     "opid",  "xevent", "iacl"};

// nfdump's out (post) MAC statistics and elements: Sluice keeps an out MAC only as the
// fallback of src_mac/dst_mac, so no column holds exactly these.
constexpr std::array<std::string_view, 3> kOutMacStats{"outsrcmac", "outdstmac", "outmac"};

bool IsOutMac(std::string_view name) {
  return std::find(kOutMacStats.begin(), kOutMacStats.end(), name) != kOutMacStats.end();
}

std::string OutMacMessage(std::string_view option, std::string_view name) {
  return std::string(option) + std::string(name) +
         ": Sluice records the out (post) MAC addresses only as a fallback in src_mac and "
         "dst_mac when the in ones are absent; insrcmac and indstmac (src_mac, dst_mac) are "
         "recorded";
}

struct AggregateName {
  std::string_view name;
  FieldId field;
};

constexpr std::array kAggregates{
    AggregateName{"proto", FieldId::kProto},        AggregateName{"srcip", FieldId::kSrcAddr},
    AggregateName{"dstip", FieldId::kDstAddr},      AggregateName{"srcport", FieldId::kSrcPort},
    AggregateName{"dstport", FieldId::kDstPort},    AggregateName{"srcmask", FieldId::kSrcMask},
    AggregateName{"dstmask", FieldId::kDstMask},    AggregateName{"srcvlan", FieldId::kVlan},
    AggregateName{"vlan", FieldId::kVlan},          AggregateName{"srcas", FieldId::kSrcAs},
    AggregateName{"dstas", FieldId::kDstAs},        AggregateName{"inif", FieldId::kInIf},
    AggregateName{"outif", FieldId::kOutIf},        AggregateName{"next", FieldId::kNextHop},
    AggregateName{"bgpnext", FieldId::kBgpNextHop}, AggregateName{"insrcmac", FieldId::kSrcMac},
    AggregateName{"indstmac", FieldId::kDstMac},    AggregateName{"tos", FieldId::kTos},
    AggregateName{"srctos", FieldId::kTos},         AggregateName{"dir", FieldId::kDirection},
    AggregateName{"router", FieldId::kExporter},    AggregateName{"mpls1", FieldId::kMplsLabel},
};

Error Invalid(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

bool IsAddress(FieldId field) {
  return flow::Info(field).type == flow::FieldType::kIpAddress;
}

// Fields a key can hold: integers, addresses, MACs, countries (not strings or times).
bool Groupable(FieldId field) {
  switch (flow::Info(field).type) {
    case flow::FieldType::kString:
    case flow::FieldType::kTimeMillis:
      return false;
    default:
      return field != FieldId::kBytes && field != FieldId::kPackets && field != FieldId::kFlows;
  }
}

std::optional<std::uint8_t> ParseBits(std::string_view text, std::uint8_t max) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > max) {
    return std::nullopt;
  }
  return static_cast<std::uint8_t>(value);
}

bool IsDigits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) {
      return parts;
    }
    text.remove_prefix(at + 1);
  }
}

}  // namespace

Result<OrderBy> ParseOrder(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, OrderBy>, 8> kOrders{{
      {"flows", OrderBy::kFlows},
      {"packets", OrderBy::kPackets},
      {"bytes", OrderBy::kBytes},
      {"pps", OrderBy::kPps},
      {"bps", OrderBy::kBps},
      {"bpp", OrderBy::kBpp},
      {"tstart", OrderBy::kTstart},
      {"tend", OrderBy::kTend},
  }};
  for (const auto& [name, order] : kOrders) {
    if (name == text) {
      return order;
    }
  }
  return tl::unexpected(
      Invalid("unknown order '" + std::string(text) +
              "' (expected flows, packets, bytes, pps, bps, bpp, tstart or tend)"));
}

std::string_view OrderName(OrderBy order) {
  switch (order) {
    case OrderBy::kFlows:
      return "flows";
    case OrderBy::kPackets:
      return "packets";
    case OrderBy::kBytes:
      return "bytes";
    case OrderBy::kPps:
      return "pps";
    case OrderBy::kBps:
      return "bps";
    case OrderBy::kBpp:
      return "bpp";
    case OrderBy::kTstart:
      return "tstart";
    case OrderBy::kTend:
      return "tend";
  }
  return "flows";
}

Result<std::vector<StatSpec>> ParseStat(std::string_view text) {
  std::vector<std::string_view> parts = Split(text, '/');
  std::string_view name = parts[0];
  bool by_proto = false;
  if (name.ends_with(":p")) {
    by_proto = true;
    name.remove_suffix(2);
  }
  if (name.empty()) {
    return tl::unexpected(Invalid("-s: missing statistic name in '" + std::string(text) + "'"));
  }
  StatSpec base;
  base.name = std::string(name);
  const StatName* known = nullptr;
  for (const StatName& stat : kStats) {
    if (stat.name == name) {
      known = &stat;
    }
  }
  std::vector<std::uint8_t> bits;
  std::vector<OrderBy> orders;
  for (std::size_t idx = 1; idx < parts.size(); ++idx) {
    if (IsDigits(parts[idx])) {
      bits.push_back(0);
      const auto value = ParseBits(parts[idx], 128);
      if (!value) {
        return tl::unexpected(Invalid("-s " + std::string(text) + ": prefix length out of range"));
      }
      bits.back() = *value;
      continue;
    }
    auto order = ParseOrder(parts[idx]);
    if (!order) {
      return tl::unexpected(
          Invalid("-s " + std::string(text) + ": " + std::string(order.error().Message())));
    }
    if (*order == OrderBy::kTstart || *order == OrderBy::kTend) {
      return tl::unexpected(
          Invalid("-s " + std::string(text) +
                  ": statistics order by flows, packets, bytes, pps, bps or bpp"));
    }
    orders.push_back(*order);
  }
  if (name == "record") {
    base.records = true;
    base.key = FiveTupleKey();
  } else if (known != nullptr) {
    KeyField key{known->field};
    if (known->prefix) {
      key.v4_prefix = 24;
      key.v6_prefix = 64;
      if (!bits.empty()) {
        if (bits[0] > 32) {
          return tl::unexpected(
              Invalid("-s " + std::string(text) + ": an IPv4 prefix has at most 32 bits"));
        }
        key.v4_prefix = bits[0];
      }
      if (bits.size() > 1) {
        key.v6_prefix = bits[1];
      }
      if (bits.size() > 2) {
        return tl::unexpected(
            Invalid("-s " + std::string(text) + ": at most two prefix lengths (IPv4, IPv6)"));
      }
    } else if (!bits.empty()) {
      return tl::unexpected(Invalid("-s " + std::string(text) +
                                    ": only srcnet, dstnet and net take a prefix length"));
    }
    base.key.push_back(key);
    if (known->paired) {
      KeyField other = key;
      other.field = *known->paired;
      base.paired_key.push_back(other);
    }
  } else if (const auto field = flow::FieldByName(name)) {
    if (!Groupable(*field)) {
      return tl::unexpected(
          Invalid("-s " + std::string(name) +
                  ": cannot count by this field (strings, times and counters are not keys)"));
    }
    if (!bits.empty()) {
      return tl::unexpected(Invalid("-s " + std::string(text) +
                                    ": only srcnet, dstnet and net take a prefix length"));
    }
    base.key.push_back(KeyField{*field});
  } else {
    if (IsOutMac(name)) {
      return tl::unexpected(Invalid(OutMacMessage("-s ", name)));
    }
    for (std::string_view unsupported : kUnsupportedStats) {
      if (unsupported == name) {
        return tl::unexpected(
            Invalid("-s " + std::string(name) + ": Sluice's flow record has no such field"));
      }
    }
    return tl::unexpected(Invalid("-s: unknown statistic '" + std::string(name) +
                                  "' (see 'sluice fields' and docs/query.md)"));
  }
  if (by_proto && !base.records) {
    base.key.insert(base.key.begin(), KeyField{FieldId::kProto});
    if (!base.paired_key.empty()) {
      base.paired_key.insert(base.paired_key.begin(), KeyField{FieldId::kProto});
    }
  }
  if (orders.empty()) {
    orders.push_back(OrderBy::kFlows);
  }
  std::vector<StatSpec> specs;
  for (OrderBy order : orders) {
    specs.push_back(base);
    specs.back().order = order;
  }
  return specs;
}

Result<std::vector<KeyField>> ParseAggregation(std::string_view text) {
  std::vector<KeyField> keys;
  for (std::string_view item : Split(text, ',')) {
    if (item.empty()) {
      return tl::unexpected(Invalid("-A: empty element in '" + std::string(text) + "'"));
    }
    KeyField key;
    const std::size_t slash = item.find('/');
    const std::string_view name = item.substr(0, slash);
    bool prefixed = false;
    if (name == "srcip4" || name == "srcip6" || name == "dstip4" || name == "dstip6") {
      if (slash == std::string_view::npos) {
        return tl::unexpected(Invalid("-A " + std::string(item) +
                                      ": expected a prefix length, e.g. " + std::string(name) +
                                      "/24"));
      }
      const bool v4 = name.back() == '4';
      const auto bits = ParseBits(item.substr(slash + 1), v4 ? 32 : 128);
      if (!bits) {
        return tl::unexpected(Invalid("-A " + std::string(item) + ": bad prefix length"));
      }
      key.field = name.starts_with("src") ? FieldId::kSrcAddr : FieldId::kDstAddr;
      (v4 ? key.v4_prefix : key.v6_prefix) = *bits;
      prefixed = true;
    } else if (slash != std::string_view::npos) {
      return tl::unexpected(
          Invalid("-A " + std::string(item) +
                  ": only srcip4, srcip6, dstip4 and dstip6 take a prefix length"));
    } else if (name == "srcnet" || name == "dstnet") {
      // nfdump: the address cut to the flow's own src_mask/dst_mask.
      key.field = name == "srcnet" ? FieldId::kSrcAddr : FieldId::kDstAddr;
      key.flow_mask = true;
    } else if (IsOutMac(name)) {
      return tl::unexpected(Invalid(OutMacMessage("-A ", name)));
    } else {
      bool found = false;
      for (const AggregateName& aggregate : kAggregates) {
        if (aggregate.name == name) {
          key.field = aggregate.field;
          found = true;
        }
      }
      if (!found) {
        const auto field = flow::FieldByName(name);
        if (!field) {
          return tl::unexpected(
              Invalid("-A: unknown element '" + std::string(name) + "' (see docs/query.md)"));
        }
        if (!Groupable(*field)) {
          return tl::unexpected(
              Invalid("-A " + std::string(name) + ": cannot aggregate by this field"));
        }
        key.field = *field;
      }
    }
    bool merged = false;
    for (KeyField& existing : keys) {
      if (existing.field == key.field && IsAddress(key.field)) {
        // srcip4/24 and srcip6/64 name the same column: one key part with both prefixes.
        if (prefixed) {
          existing.v4_prefix = std::min(existing.v4_prefix, key.v4_prefix);
          existing.v6_prefix = std::min(existing.v6_prefix, key.v6_prefix);
        }
        existing.flow_mask = existing.flow_mask || key.flow_mask;
        merged = true;
      } else if (existing.field == key.field) {
        merged = true;
      }
    }
    if (!merged) {
      keys.push_back(key);
    }
  }
  return keys;
}

std::vector<KeyField> FiveTupleKey() {
  return {KeyField{FieldId::kProto}, KeyField{FieldId::kSrcAddr}, KeyField{FieldId::kDstAddr},
          KeyField{FieldId::kSrcPort}, KeyField{FieldId::kDstPort}};
}

std::string StatTitle(const StatSpec& spec) {
  if (spec.records) {
    return "flows";
  }
  for (const StatName& stat : kStats) {
    if (stat.name == spec.name) {
      return std::string(stat.title);
    }
  }
  return spec.name;
}

std::string PrefixSuffix(const KeyField& key, bool is_v4) {
  if (!IsAddress(key.field)) {
    return {};
  }
  if (is_v4 && key.v4_prefix < 32) {
    return "/" + std::to_string(key.v4_prefix);
  }
  if (!is_v4 && key.v6_prefix < 128) {
    return "/" + std::to_string(key.v6_prefix);
  }
  return {};
}

}  // namespace sluice::query
