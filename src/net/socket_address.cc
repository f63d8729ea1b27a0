// SPDX-License-Identifier: Apache-2.0

#include "net/socket_address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace sluice::net {

std::string Endpoint::ToString() const {
  if (address.IsV4()) {
    return address.ToString() + ":" + std::to_string(port);
  }
  return "[" + address.ToString() + "]:" + std::to_string(port);
}

bool FromSockaddr(const sockaddr_storage& storage, Endpoint& endpoint) {
  if (storage.ss_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, &storage, sizeof sin);
    endpoint.address = flow::IpAddress::FromV4(ntohl(sin.sin_addr.s_addr));
    endpoint.port = ntohs(sin.sin_port);
    return true;
  }
  if (storage.ss_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, &storage, sizeof sin6);
    // IPv4-mapped sources of a dual-stack socket are already in our representation.
    endpoint.address = flow::IpAddress::FromV6(sin6.sin6_addr.s6_addr);
    endpoint.port = ntohs(sin6.sin6_port);
    return true;
  }
  return false;
}

socklen_t ToSockaddr(const Endpoint& endpoint, bool force_v6, sockaddr_storage& storage) {
  std::memset(&storage, 0, sizeof storage);
  if (endpoint.address.IsV4() && !force_v6) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(endpoint.port);
    sin.sin_addr.s_addr = htonl(endpoint.address.V4());
    std::memcpy(&storage, &sin, sizeof sin);
    return sizeof sin;
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(endpoint.port);
  std::memcpy(sin6.sin6_addr.s6_addr, endpoint.address.bytes.data(), 16);
  std::memcpy(&storage, &sin6, sizeof sin6);
  return sizeof sin6;
}

Result<Endpoint> Resolve(const std::string& host, std::uint16_t port) {
  if (const auto numeric = flow::IpAddress::Parse(host)) {
    return Endpoint{*numeric, port};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    return MakeError(ErrorCode::kNotFound, "cannot resolve '" + host + "': " + ::gai_strerror(rc));
  }
  sockaddr_storage storage{};
  std::memcpy(&storage, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  Endpoint endpoint;
  if (!FromSockaddr(storage, endpoint)) {
    return MakeError(ErrorCode::kNotFound, "'" + host + "' has no IPv4 or IPv6 address");
  }
  endpoint.port = port;
  return endpoint;
}

}  // namespace sluice::net
