// SPDX-License-Identifier: Apache-2.0
// Socket addresses: conversions between sockaddr and flow::IpAddress, name resolution,
// (the allow-list of exporters is a list of flow::IpPrefix).

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


}  // namespace sluice::net
