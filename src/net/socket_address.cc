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

IpPrefix::IpPrefix(const flow::IpAddress& address, std::uint8_t length_bits)
    : network_(address), length_(length_bits > 128 ? 128 : length_bits) {
  for (std::size_t bit = length_; bit < 128; ++bit) {
    network_.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
}

std::optional<IpPrefix> IpPrefix::Parse(std::string_view text) {
  const auto slash = text.find('/');
  const auto address = flow::IpAddress::Parse(text.substr(0, slash));
  if (!address) {
    return std::nullopt;
  }
  const unsigned max_length = address->IsV4() ? 32 : 128;
  unsigned length = max_length;
  if (slash != std::string_view::npos) {
    const std::string_view length_text = text.substr(slash + 1);
    const auto [end, error] =
        std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
    if (length_text.empty() || error != std::errc{} ||
        end != length_text.data() + length_text.size() || length > max_length) {
      return std::nullopt;
    }
  }
  return IpPrefix(*address, static_cast<std::uint8_t>(address->IsV4() ? length + 96 : length));
}

bool IpPrefix::Contains(const flow::IpAddress& address) const {
  const std::size_t full_bytes = length_ / 8;
  if (std::memcmp(address.bytes.data(), network_.bytes.data(), full_bytes) != 0) {
    return false;
  }
  const unsigned rest = length_ % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<std::uint8_t>(0xFFu << (8 - rest));
  return (address.bytes[full_bytes] & mask) == network_.bytes[full_bytes];
}

std::string IpPrefix::ToString() const {
  const unsigned length = network_.IsV4() && length_ >= 96 ? length_ - 96u : length_;
  return network_.ToString() + "/" + std::to_string(length);
}

}  // namespace sluice::net
