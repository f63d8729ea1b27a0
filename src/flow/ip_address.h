// SPDX-License-Identifier: Apache-2.0
// IpAddress: a 128-bit address; IPv4 is held IPv4-mapped (::ffff:a.b.c.d).

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::flow {

// A value type of 16 bytes in network order. The all-zero value (::) means "not set"
// in flow records; IPv4 0.0.0.0 is ::ffff:0.0.0.0 and so stays distinguishable.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};

  static IpAddress FromV4(std::uint32_t host_order) {
    IpAddress a;
    a.bytes[10] = 0xff;
    a.bytes[11] = 0xff;
    a.bytes[12] = static_cast<std::uint8_t>(host_order >> 24);
    a.bytes[13] = static_cast<std::uint8_t>(host_order >> 16);
    a.bytes[14] = static_cast<std::uint8_t>(host_order >> 8);
    a.bytes[15] = static_cast<std::uint8_t>(host_order);
    return a;
  }

  // REQUIRES: `network_order` points at 16 readable bytes.
  static IpAddress FromV6(const std::uint8_t* network_order) {
    IpAddress a;
    std::memcpy(a.bytes.data(), network_order, 16);
    return a;
  }

  // Parses dotted IPv4 or RFC 4291 IPv6 text.
  static std::optional<IpAddress> Parse(std::string_view text);

  bool IsV4() const {
    static constexpr std::array<std::uint8_t, 12> kPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(bytes.data(), kPrefix.data(), kPrefix.size()) == 0;
  }

  bool IsUnset() const {
    static constexpr std::array<std::uint8_t, 16> kZero{};
    return bytes == kZero;
  }

  // REQUIRES: IsV4().
  std::uint32_t V4() const {
    return (std::uint32_t{bytes[12]} << 24) | (std::uint32_t{bytes[13]} << 16) |
           (std::uint32_t{bytes[14]} << 8) | std::uint32_t{bytes[15]};
  }

  // The longest text ToText() writes (an IPv6 address ending in a dotted quad).
  static constexpr std::size_t kMaxTextLength = 45;

  // Dotted quad for IPv4-mapped addresses, RFC 5952 text otherwise: the text glibc's
  // inet_ntop() writes, without its sprintf() per group.
  // REQUIRES: `out` has room for kMaxTextLength characters; returns the end of the text.
  char* ToText(char* out) const;
  std::string ToString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

struct IpAddressHash {
  std::size_t operator()(const IpAddress& a) const {
    std::uint64_t hi;
    std::uint64_t lo;
    std::memcpy(&hi, a.bytes.data(), 8);
    std::memcpy(&lo, a.bytes.data() + 8, 8);
    return static_cast<std::size_t>((hi * 0x9E3779B97F4A7C15ULL) ^ (lo + (lo >> 29)) * 0xBF58476D1CE4E5B9ULL);
  }
};

}  // namespace sluice::flow
