// SPDX-License-Identifier: Apache-2.0
// IpPrefix: an address prefix such as 192.0.2.0/24 or 2001:db8::/32, held in the 128-bit
// space of flow::IpAddress (an IPv4 /24 is a /120 of the IPv4-mapped address).

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "flow/ip_address.h"

namespace sluice::flow {

// A value type. The network's host bits are always zero.
class IpPrefix {
 public:
  IpPrefix() = default;
  IpPrefix(const IpAddress& address, std::uint8_t length_bits);

  // "ADDR" (a single host) or "ADDR/LEN" with LEN <= 32 for IPv4 and <= 128 for IPv6.
  static std::optional<IpPrefix> Parse(std::string_view text);

  bool Contains(const IpAddress& address) const;

  const IpAddress& network() const { return network_; }

  // Bits in the 128-bit space (IPv4 prefixes are 96 + their IPv4 length).
  std::uint8_t length() const { return length_; }

  // As it was written: "192.0.2.0/24", "2001:db8::/32".
  std::string ToString() const;

  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;

 private:
  IpAddress network_;          // host bits zeroed
  std::uint8_t length_ = 128;  // bits, in the 128-bit space
};

}  // namespace sluice::flow
