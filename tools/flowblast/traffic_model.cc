// SPDX-License-Identifier: Apache-2.0

#include "traffic_model.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace sluice::tools {
namespace {

// What a service's flows look like: how many packets, how big, how long.
enum class Kind : std::uint8_t {
  kWeb,          // HTTP(S) and similar request/response over TCP
  kQuic,         // HTTP/3
  kDns,          // one query, one answer
  kNtp,          // one packet each way
  kInteractive,  // SSH, RDP: long, small packets
  kVoip,         // STUN/RTP media: steady small packets, DSCP EF
  kTunnel,       // IPsec NAT-T, OpenVPN, GRE, ESP: long and bulky
  kScan,         // SYNs from the Internet to local addresses, nothing answers
  kIcmp,         // echo, unreachable, time exceeded
};

struct Service {
  std::uint8_t proto;
  std::uint16_t port;
  double weight;  // share of flows, relative
  Kind kind;
  double local_server;  // probability that the server is in the local network
};

constexpr std::uint8_t kTcp = 6;
constexpr std::uint8_t kUdp = 17;
constexpr std::uint8_t kIcmp = 1;
constexpr std::uint8_t kIcmpV6 = 58;

// About 60 % TCP, 35 % UDP, 3 % ICMP, the rest GRE and ESP.
constexpr std::array<Service, 23> kServices{{
    {kTcp, 443, 38, Kind::kWeb, 0.10},
    {kUdp, 443, 14, Kind::kQuic, 0.02},
    {kTcp, 80, 7, Kind::kWeb, 0.15},
    {kUdp, 53, 13, Kind::kDns, 0.10},
    {kTcp, 53, 0.5, Kind::kDns, 0.10},
    {kUdp, 123, 2, Kind::kNtp, 0.05},
    {kTcp, 22, 1.5, Kind::kInteractive, 0.4},
    {kTcp, 25, 1.2, Kind::kWeb, 0.5},
    {kTcp, 587, 0.4, Kind::kWeb, 0.2},
    {kTcp, 993, 1.2, Kind::kWeb, 0.2},
    {kTcp, 3389, 0.6, Kind::kInteractive, 0.3},
    {kTcp, 8080, 1.0, Kind::kWeb, 0.2},
    {kTcp, 5223, 1.2, Kind::kInteractive, 0},
    {kUdp, 3478, 1.0, Kind::kVoip, 0},
    {kUdp, 19302, 0.6, Kind::kVoip, 0},
    {kUdp, 4500, 0.8, Kind::kTunnel, 0.3},
    {kUdp, 1194, 0.3, Kind::kTunnel, 0.5},
    {kTcp, 853, 0.3, Kind::kWeb, 0},
    {kTcp, 445, 0.4, Kind::kScan, 1},
    {kTcp, 23, 0.6, Kind::kScan, 1},
    {kIcmp, 0, 2.5, Kind::kIcmp, 0.2},
    {47, 0, 0.2, Kind::kTunnel, 0.5},
    {50, 0, 0.3, Kind::kTunnel, 0.5},
}};

// Uplinks of the simulated router (ifIndex) and their peers' addresses (next hops).
constexpr std::uint32_t kTransitA = 10;
constexpr std::uint32_t kTransitB = 11;
constexpr std::uint32_t kExchange = 12;
constexpr std::uint32_t kServerLan = 4;  // clients sit on ifIndex 1 to 3

// Internet networks that carry most traffic, with their AS numbers.
struct Network {
  std::uint32_t v4_base;
  std::uint8_t v4_length;
  std::uint64_t v6_high;  // the top 64 bits of the IPv6 prefix
  std::uint8_t v6_length;
  std::uint32_t asn;
  double weight;
  std::uint32_t link;
};

constexpr std::array<Network, 9> kNetworks{{
    {0x8EFA0000, 15, 0x2607F8B000000000ULL, 32, 15169, 24, kExchange},  // Google
    {0x9DF00000, 16, 0x2A03288000000000ULL, 32, 32934, 10, kExchange},  // Meta
    {0x68100000, 13, 0x2606470000000000ULL, 32, 13335, 9, kExchange},   // Cloudflare
    {0x0D200000, 15, 0x2600900000000000ULL, 28, 16509, 8, kTransitA},   // Amazon
    {0x17200000, 11, 0x2A0226F000000000ULL, 29, 20940, 7, kTransitA},   // Akamai
    {0x14210000, 16, 0x2603100000000000ULL, 25, 8075, 5, kTransitB},    // Microsoft
    {0x2D390000, 17, 0x2A0086C000000000ULL, 32, 2906, 4, kExchange},    // Netflix
    {0x97650000, 16, 0x2A044E4200000000ULL, 32, 54113, 4, kTransitB},   // Fastly
    {0x11FD0000, 16, 0x2620014900000000ULL, 32, 714, 3, kTransitB},     // Apple
}};
constexpr double kTailWeight = 26;  // the rest of the Internet

// First octets of the long tail's IPv4 /24s (RIR blocks with many small networks).
constexpr std::array<std::uint8_t, 24> kTailFirstOctets{{2,   5,   31,  37,  41,  46,  62,  77,
                                                         78,  80,  82,  85,  88,  91,  94,  176,
                                                         178, 185, 188, 190, 193, 195, 200, 212}};

template <typename T, std::size_t N>
constexpr double TotalWeight(const std::array<T, N>& table) {
  double total = 0;
  for (const T& entry : table) {
    total += entry.weight;
  }
  return total;
}

template <typename T, std::size_t N>
const T& PickWeighted(const std::array<T, N>& table, double total, double uniform) {
  double point = uniform * total;
  for (const T& entry : table) {
    if (point < entry.weight) {
      return entry;
    }
    point -= entry.weight;
  }
  return table.back();
}

// A rank in [0, n) with probability roughly proportional to 1 / (rank + 1)^s: the inverse
// of the continuous approximation of the Zipf distribution's CDF.
std::uint64_t ZipfRank(std::uint64_t n, double s, double uniform) {
  const double limit = static_cast<double>(n) + 1;
  double x = 0;
  if (std::abs(s - 1) < 1e-9) {
    x = std::pow(limit, uniform);
  } else {
    const double a = 1 - s;
    x = std::pow(1 + uniform * (std::pow(limit, a) - 1), 1 / a);
  }
  const auto rank = static_cast<std::uint64_t>(x) - 1;
  return std::min(rank, n - 1);
}

double Normal(Rng& rng) {
  const double u1 = 1 - rng.Uniform();  // (0, 1]
  const double u2 = rng.Uniform();
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double LogNormal(Rng& rng, double mu, double sigma) {
  return std::exp(mu + sigma * Normal(rng));
}

double Between(Rng& rng, double low, double high) {
  return low + (high - low) * rng.Uniform();
}

void PutV4(std::array<std::uint8_t, 16>& out, std::uint32_t address) {
  out = {};
  for (std::size_t byte_idx = 0; byte_idx < 4; ++byte_idx) {
    out[byte_idx] = static_cast<std::uint8_t>(address >> (24 - 8 * byte_idx));
  }
}

void PutV6(std::array<std::uint8_t, 16>& out, std::uint64_t high, std::uint64_t low) {
  for (std::size_t byte_idx = 0; byte_idx < 8; ++byte_idx) {
    out[byte_idx] = static_cast<std::uint8_t>(high >> (56 - 8 * byte_idx));
    out[8 + byte_idx] = static_cast<std::uint8_t>(low >> (56 - 8 * byte_idx));
  }
}

// 2001:db8::/32 is the local network's IPv6 space.
constexpr std::uint64_t kLocalV6 = 0x20010DB800000000ULL;

// One end of a conversation.
struct Endpoint {
  std::array<std::uint8_t, 16> address{};
  std::uint8_t mask = 0;
  std::uint32_t asn = 0;
  std::uint32_t interface = 0;
  bool local = false;
};

Endpoint LocalClient(Rng& rng, bool ipv6, bool uniform_host) {
  // 30,000 active clients in 198.18.0.0/15, mildly skewed (a few busy hosts, NAT gateways).
  const std::uint64_t rank = uniform_host ? rng.Below(131072) : ZipfRank(30000, 0.8, rng.Uniform());
  const std::uint64_t hash = Rng::Mix(rank + 0x51CE);
  Endpoint end;
  end.local = true;
  if (ipv6) {
    // Subnets 2001:db8:0:0-1ff::/64 with random (privacy) interface identifiers.
    const std::uint64_t subnet = hash % 512;
    PutV6(end.address, kLocalV6 | subnet, Rng::Mix(hash));
    end.mask = 64;
    end.interface = 1 + static_cast<std::uint32_t>(subnet % 3);
    return end;
  }
  std::uint32_t offset = static_cast<std::uint32_t>(hash % 131072);
  if ((offset & 0xFF) == 0 || (offset & 0xFF) == 0xFF) {
    offset ^= 0x11;
  }
  PutV4(end.address, 0xC6120000u + offset);
  end.mask = 24;
  end.interface = 1 + (offset >> 8) % 3;
  return end;
}

Endpoint LocalServer(Rng& rng, bool ipv6) {
  const std::uint64_t rank = ZipfRank(96, 1.2, rng.Uniform());
  Endpoint end;
  end.local = true;
  end.interface = kServerLan;
  if (ipv6) {
    PutV6(end.address, kLocalV6 | 0x0005'0000'0000ULL | (rank % 4), 0x10 + rank);
    end.mask = 64;
    return end;
  }
  // 192.0.2.0/24 and 198.51.100.0/24.
  const std::uint32_t base = rank % 2 == 0 ? 0xC0000200u : 0xC6336400u;
  PutV4(end.address, base + 10 + static_cast<std::uint32_t>(rank / 2));
  end.mask = 24;
  return end;
}

Endpoint InternetHost(Rng& rng, bool ipv6) {
  static constexpr double kNetworkTotal = TotalWeight(kNetworks);
  Endpoint end;
  const double pick = rng.Uniform() * (kNetworkTotal + kTailWeight);
  if (pick < kNetworkTotal) {
    const Network& net = PickWeighted(kNetworks, kNetworkTotal, pick / kNetworkTotal);
    // A few thousand front ends per network, strongly skewed.
    const std::uint64_t rank = ZipfRank(4096, 1.1, rng.Uniform());
    const std::uint64_t hash = Rng::Mix(rank ^ (std::uint64_t{net.asn} << 20));
    end.asn = net.asn;
    end.interface = net.link;
    if (ipv6) {
      const std::uint64_t host_bits = 64 - net.v6_length;
      const std::uint64_t subnet =
          (hash >> 8) & ((std::uint64_t{1} << std::min<std::uint64_t>(host_bits, 24)) - 1);
      PutV6(end.address, net.v6_high | subnet, 0x1 + (hash & 0x20FF));
      end.mask = net.v6_length;
    } else {
      const std::uint32_t size = 1u << (32 - net.v4_length);
      std::uint32_t offset = static_cast<std::uint32_t>(hash % size);
      if ((offset & 0xFF) == 0) {
        offset |= 1;
      }
      PutV4(end.address, net.v4_base + offset);
      end.mask = net.v4_length;
    }
    return end;
  }
  // The long tail: 250,000 hosts in 80,000 networks of ~8,000 ASes.
  const std::uint64_t rank = ZipfRank(250000, 0.9, rng.Uniform());
  const std::uint64_t network = rank / 3;
  const std::uint64_t network_hash = Rng::Mix(network + 0x7A11);
  const std::uint64_t as_hash = Rng::Mix(network % 8000 + 0xA5);
  end.asn = as_hash % 4 == 0 ? 131072 + static_cast<std::uint32_t>(as_hash % 270000)
                             : 1000 + static_cast<std::uint32_t>(as_hash % 64000);
  end.interface = as_hash % 3 == 0 ? kTransitB : kTransitA;
  if (ipv6) {
    PutV6(end.address, 0x2A00000000000000ULL | ((network_hash & 0x0FFFFFFF) << 28) | (rank % 16),
          0x1 + Rng::Mix(rank) % 0x10000);
    end.mask = 32;
  } else {
    const std::uint32_t first = kTailFirstOctets[network_hash % kTailFirstOctets.size()];
    const std::uint32_t middle = static_cast<std::uint32_t>((network_hash >> 8) & 0xFFFF);
    const std::uint32_t host = 1 + static_cast<std::uint32_t>(Rng::Mix(rank) % 254);
    PutV4(end.address, (first << 24) | (middle << 8) | host);
    end.mask = 24;
  }
  return end;
}

// The peer behind each interface: the next hop towards an endpoint there.
void NextHop(const Endpoint& to, bool ipv6, std::array<std::uint8_t, 16>& out) {
  // Uplink peers: 203.0.113.1, .5, .9; local routers: 203.0.113.129, .133, ...
  const std::uint32_t host =
      to.local ? 129 + 4 * (to.interface - 1) : 1 + 4 * (to.interface - kTransitA);
  if (ipv6) {
    PutV6(out, kLocalV6 | 0xFFFF'0000'0000ULL | (to.local ? 1 : 0), host);
  } else {
    PutV4(out, 0xCB007100u + host);
  }
}

std::uint8_t PickTcpFlags(Rng& rng, bool& mid_flow) {
  const double point = rng.Uniform();
  mid_flow = false;
  if (point < 0.60) {
    return 0x1B;  // FIN PSH ACK SYN: a whole short connection
  }
  if (point < 0.68) {
    return 0x13;  // FIN ACK SYN: no payload
  }
  if (point < 0.86) {
    mid_flow = true;  // cut by the active timeout, still running
    return point < 0.78 ? 0x18 : 0x10;
  }
  if (point < 0.92) {
    return 0x1C;  // RST PSH ACK
  }
  if (point < 0.96) {
    return 0x14;  // RST ACK
  }
  return 0x02;  // SYN only: nobody answered
}

std::uint8_t PickTos(Rng& rng) {
  const double point = rng.Uniform();
  if (point < 0.88) {
    return 0;
  }
  if (point < 0.92) {
    return 0x20;  // CS1 (lower effort)
  }
  if (point < 0.95) {
    return 0x02;  // ECT(0)
  }
  if (point < 0.98) {
    return 0x48;  // AF21
  }
  return 0x28;  // AF11
}

}  // namespace

SyntheticFlow TrafficModel::Next(bool ipv6) {
  static constexpr double kServiceTotal = TotalWeight(kServices);
  const Service& service = PickWeighted(kServices, kServiceTotal, rng_.Uniform());
  SyntheticFlow flow;
  flow.ipv6 = ipv6;
  flow.proto = service.proto == kIcmp && ipv6 ? kIcmpV6 : service.proto;

  // Who talks to whom. A scan comes from the Internet to any local address.
  const bool local_server = rng_.Uniform() < service.local_server;
  const Endpoint client = local_server ? InternetHost(rng_, ipv6)
                                       : LocalClient(rng_, ipv6, service.kind == Kind::kScan);
  const Endpoint server = local_server && service.kind != Kind::kScan ? LocalServer(rng_, ipv6)
                          : local_server ? LocalClient(rng_, ipv6, true)
                                         : InternetHost(rng_, ipv6);
  // Both directions are exported; a scan has only the request.
  const bool request = service.kind == Kind::kScan || rng_.Uniform() < 0.5;
  const Endpoint& from = request ? client : server;
  const Endpoint& to = request ? server : client;
  flow.src_addr = from.address;
  flow.dst_addr = to.address;
  flow.src_mask = from.mask;
  flow.dst_mask = to.mask;
  flow.src_as = from.asn;
  flow.dst_as = to.asn;
  flow.in_if = from.interface;
  flow.out_if = to.interface;
  NextHop(to, ipv6, flow.next_hop);

  if (flow.proto == kTcp || flow.proto == kUdp) {
    const std::uint16_t client_port = EphemeralPort(rng_.Next());
    flow.src_port = request ? client_port : service.port;
    flow.dst_port = request ? service.port : client_port;
    flow.has_client_port = true;
    flow.client_port_is_src = request;
  }
  flow.tos = PickTos(rng_);

  // Sizes: heavy-tailed packet counts (log-normal body, Pareto elephants), bytes per
  // packet by direction (downloads fill the MTU, uploads are mostly ACKs).
  const double header_bytes = ipv6 ? 60 : 40;
  double packets = 1;
  double packet_bytes = header_bytes;
  bool mid_flow = false;
  switch (service.kind) {
    case Kind::kWeb:
    case Kind::kQuic:
    case Kind::kInteractive: {
      const bool interactive = service.kind == Kind::kInteractive;
      packets = 1 + std::floor(LogNormal(rng_, interactive ? 3.0 : 1.6, 1.7));
      if (rng_.Uniform() < 0.005) {
        packets += 1000 / std::pow(1 - rng_.Uniform(), 1 / 1.1);  // Pareto, alpha 1.1
      }
      const bool download = !request;
      packet_bytes = interactive ? Between(rng_, 80, 400)
                     : download  ? Between(rng_, 300, 1448)
                                 : Between(rng_, header_bytes + 12, 180);
      if (flow.proto == kTcp) {
        flow.tcp_flags = PickTcpFlags(rng_, mid_flow);
        if (flow.tcp_flags == 0x02) {
          packets = 1 + static_cast<double>(rng_.Below(3));
          packet_bytes = header_bytes + 20;
        }
      }
      break;
    }
    case Kind::kDns:
      packets = rng_.Uniform() < 0.92 ? 1 : 2 + static_cast<double>(rng_.Below(2));
      packet_bytes = request ? Between(rng_, 58, 90) : Between(rng_, 90, 512);
      packet_bytes += ipv6 ? 20 : 0;
      flow.tcp_flags = flow.proto == kTcp ? 0x1B : 0;
      break;
    case Kind::kNtp:
      packets = 1;
      packet_bytes = ipv6 ? 96 : 76;
      break;
    case Kind::kVoip:
      packets = 1 + std::floor(LogNormal(rng_, 5.0, 1.5));
      packet_bytes = Between(rng_, 100, 220);
      flow.tos = 0xB8;  // EF
      break;
    case Kind::kTunnel:
      packets = 1 + std::floor(LogNormal(rng_, 4.5, 2.0));
      packet_bytes = Between(rng_, 100, 1400);
      break;
    case Kind::kScan:
      packets = 1 + static_cast<double>(rng_.Below(2));
      packet_bytes = header_bytes + 4;
      flow.tcp_flags = 0x02;
      flow.src_port = static_cast<std::uint16_t>(1024 + rng_.Below(64512));
      flow.has_client_port = false;  // a scanner's source port; leave it as drawn
      break;
    case Kind::kIcmp: {
      // dst_port carries type * 256 + code.
      const double point = rng_.Uniform();
      std::uint16_t type_code = 0;
      if (ipv6) {
        type_code = point < 0.4 ? 0x8000 : point < 0.8 ? 0x8100 : point < 0.93 ? 0x0104 : 0x0300;
      } else {
        type_code = point < 0.4    ? 0x0800
                    : point < 0.8  ? 0x0000
                    : point < 0.9  ? 0x0303
                    : point < 0.93 ? 0x0301
                                   : 0x0B00;
      }
      flow.dst_port = type_code;
      const bool echo = point < 0.8;
      packets = echo ? 1 + static_cast<double>(rng_.Below(5)) : 1;
      packet_bytes = echo ? header_bytes + 44 : header_bytes * 2 + 36;
      break;
    }
  }
  packets = std::min(packets, 5e6);
  flow.packets = static_cast<std::uint64_t>(packets);
  flow.bytes = static_cast<std::uint64_t>(std::round(packets * packet_bytes));

  // Times: up to the 60 s active timeout; a finished flow is exported within the 15 s
  // inactive timeout, a running one within about a second of the timeout.
  if (flow.packets > 1) {
    const double gap_ms = LogNormal(rng_, service.kind == Kind::kDns ? 1.0 : 2.7, 1.3);
    flow.duration_ms = static_cast<std::uint32_t>(std::min(60000.0, (packets - 1) * gap_ms));
  }
  if (mid_flow) {
    flow.duration_ms = static_cast<std::uint32_t>(Between(rng_, 50000, 60000));
    flow.end_lag_ms = static_cast<std::uint32_t>(rng_.Below(1500));
  } else {
    flow.end_lag_ms = static_cast<std::uint32_t>(rng_.Below(15000));
  }
  return flow;
}

}  // namespace sluice::tools
