// SPDX-License-Identifier: Apache-2.0

#include "flow/ip_address.h"

#include <arpa/inet.h>

#include <string>

namespace sluice::flow {

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return std::nullopt;
  }
  const std::string z(text);
  if (z.find(':') == std::string::npos) {
    in_addr v4{};
    if (inet_pton(AF_INET, z.c_str(), &v4) != 1) {
      return std::nullopt;
    }
    return FromV4(ntohl(v4.s_addr));
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, z.c_str(), &v6) != 1) {
    return std::nullopt;
  }
  return FromV6(v6.s6_addr);
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN];
  if (IsV4()) {
    const in_addr v4{htonl(V4())};
    inet_ntop(AF_INET, &v4, text, sizeof text);
  } else {
    in6_addr v6{};
    std::memcpy(v6.s6_addr, bytes.data(), 16);
    inet_ntop(AF_INET6, &v6, text, sizeof text);
  }
  return text;
}

}  // namespace sluice::flow
