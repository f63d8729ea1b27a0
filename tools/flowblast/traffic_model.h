// SPDX-License-Identifier: Apache-2.0
// TrafficModel: seeded synthetic flows that look like an edge router's export: hosts of a
// few real-looking prefixes with Zipf popularity, real service ports and ephemeral client
// ports, a TCP/UDP/ICMP mix, heavy-tailed packet and byte counts, interfaces and ASes.

#pragma once

#include <array>
#include <cstdint>

namespace sluice::tools {

// splitmix64: a small, fast, seedable generator; enough for synthetic traffic.
// Thread-safety: none.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    return Mix(state_);
  }

  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // Uniform in [0, bound). REQUIRES: bound > 0.
  std::uint64_t Below(std::uint64_t bound) { return Next() % bound; }

  // A 64-bit finaliser (MurmurHash3's fmix64): good avalanche for hashing small integers.
  static std::uint64_t Mix(std::uint64_t value) {
    value ^= value >> 33;
    value *= 0xFF51AFD7ED558CCDULL;
    value ^= value >> 33;
    value *= 0xC4CEB9FE1A85EC53ULL;
    value ^= value >> 33;
    return value;
  }

 private:
  std::uint64_t state_;
};

// One flow record before encoding. Addresses are in network order; an IPv4 address uses
// the first 4 bytes. Times are relative to the export time of the datagram carrying it.
struct SyntheticFlow {
  bool ipv6 = false;
  std::array<std::uint8_t, 16> src_addr{};
  std::array<std::uint8_t, 16> dst_addr{};
  std::array<std::uint8_t, 16> next_hop{};
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;  // ICMP: type * 256 + code (the Cisco NetFlow convention)
  std::uint8_t proto = 0;
  std::uint8_t tcp_flags = 0;
  std::uint8_t tos = 0;
  std::uint8_t src_mask = 0;
  std::uint8_t dst_mask = 0;
  std::uint64_t bytes = 0;
  std::uint64_t packets = 0;
  std::uint32_t in_if = 0;
  std::uint32_t out_if = 0;
  std::uint32_t src_as = 0;  // 0 for the local network, as routers export it
  std::uint32_t dst_as = 0;
  std::uint32_t duration_ms = 0;  // last packet - first packet
  std::uint32_t end_lag_ms = 0;   // export time - last packet
  bool has_client_port = false;   // TCP/UDP with an ephemeral client port (not ICMP, GRE, ESP)
  bool client_port_is_src = false;
};

// Ephemeral client ports: 32768-65535 (Linux starts at 32768, Windows at 49152).
inline std::uint16_t EphemeralPort(std::uint64_t random) {
  return static_cast<std::uint16_t>(32768 + random % 32768);
}

// The model of one exporter: an edge router between a local network (198.18.0.0/15 and
// 2001:db8::/32 clients, servers in 192.0.2.0/24, 198.51.100.0/24 and 2001:db8:5::/48)
// and the Internet (prefixes and AS numbers of large content networks, then a long tail).
// Both directions of each conversation are exported.
//
// Thread-safety: none. Deterministic: the same seed gives the same flows.
class TrafficModel {
 public:
  explicit TrafficModel(std::uint64_t seed) : rng_(seed) {}

  // The next flow, IPv6 if `ipv6`.
  SyntheticFlow Next(bool ipv6);

 private:
  Rng rng_;
};

}  // namespace sluice::tools
