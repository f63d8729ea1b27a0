// SPDX-License-Identifier: Apache-2.0
// Socket addresses: conversions between sockaddr and flow::IpAddress, name resolution,
// and IpPrefix (the allow-list of exporters).

#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "flow/ip_address.h"

namespace sluice::net {

// An address and UDP port. IPv4 is held IPv4-mapped, as everywhere in flow/.
struct Endpoint {
  flow::IpAddress address;
  std::uint16_t port = 0;

  // "192.0.2.1:2055" or "[2001:db8::1]:2055".
  std::string ToString() const;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Reads the address and port of an AF_INET or AF_INET6 sockaddr. IPv4-mapped IPv6
// sources (a dual-stack socket) come out as plain IPv4. Returns false for other families.
bool FromSockaddr(const sockaddr_storage& storage, Endpoint& endpoint);

// Writes `endpoint` as sockaddr_in (IPv4-mapped addresses, unless `force_v6`) or
// sockaddr_in6. Returns the length to pass to bind/connect/sendmsg.
socklen_t ToSockaddr(const Endpoint& endpoint, bool force_v6, sockaddr_storage& storage);

// Resolves "HOST" (numeric or a name, through getaddrinfo) and a port to an endpoint;
// prefers the first address the resolver returns.
Result<Endpoint> Resolve(const std::string& host, std::uint16_t port);

// An address prefix, e.g. 192.0.2.0/24 or 2001:db8::/32, held in the 128-bit space
// (an IPv4 /24 is stored as a /120 of the mapped address).
class IpPrefix {
 public:
  IpPrefix() = default;
  IpPrefix(const flow::IpAddress& address, std::uint8_t length_bits);

  // "ADDR" (a single host) or "ADDR/LEN" with LEN <= 32 for IPv4 and <= 128 for IPv6.
  static std::optional<IpPrefix> Parse(std::string_view text);

  bool Contains(const flow::IpAddress& address) const;

  std::string ToString() const;

 private:
  flow::IpAddress network_;    // host bits zeroed
  std::uint8_t length_ = 128;  // bits, in the 128-bit space
};

}  // namespace sluice::net
