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

namespace {

char* DecimalByte(char* out, unsigned value) {
  if (value >= 100) {
    *out++ = static_cast<char>('0' + value / 100);
    value %= 100;
    *out++ = static_cast<char>('0' + value / 10);
  } else if (value >= 10) {
    *out++ = static_cast<char>('0' + value / 10);
  }
  *out++ = static_cast<char>('0' + value % 10);
  return out;
}

char* DottedQuad(char* out, const std::uint8_t* four) {
  for (int idx = 0; idx < 4; ++idx) {
    if (idx > 0) {
      *out++ = '.';
    }
    out = DecimalByte(out, four[idx]);
  }
  return out;
}

char* HexGroup(char* out, unsigned group) {  // lower case, no leading zeros
  static constexpr char kDigits[] = "0123456789abcdef";
  bool started = false;
  for (int shift = 12; shift > 0; shift -= 4) {
    const unsigned digit = (group >> shift) & 0xf;
    started = started || digit != 0;
    if (started) {
      *out++ = kDigits[digit];
    }
  }
  *out++ = kDigits[group & 0xf];
  return out;
}

}  // namespace

char* IpAddress::ToText(char* out) const {
  if (IsV4()) {
    return DottedQuad(out, bytes.data() + 12);
  }
  std::array<unsigned, 8> groups{};
  for (std::size_t idx = 0; idx < 8; ++idx) {
    groups[idx] = (unsigned{bytes[2 * idx]} << 8) | bytes[2 * idx + 1];
  }
  // The first longest run of two or more zero groups becomes "::".
  int best_start = -1;
  int best_length = 0;
  for (int idx = 0; idx < 8;) {
    if (groups[static_cast<std::size_t>(idx)] != 0) {
      ++idx;
      continue;
    }
    int end = idx;
    while (end < 8 && groups[static_cast<std::size_t>(end)] == 0) {
      ++end;
    }
    if (end - idx > best_length) {
      best_start = idx;
      best_length = end - idx;
    }
    idx = end;
  }
  if (best_length < 2) {
    best_start = -1;
  }
  for (int idx = 0; idx < 8; ++idx) {
    if (best_start >= 0 && idx >= best_start && idx < best_start + best_length) {
      if (idx == best_start) {
        *out++ = ':';
      }
      continue;
    }
    if (idx != 0) {
      *out++ = ':';
    }
    // ::a.b.c.d and ::ffff:0:a.b.c.d keep their last 32 bits dotted, as inet_ntop does.
    if (idx == 6 && best_start == 0 && (best_length == 6 || (best_length == 5 && groups[5] == 0xffff))) {
      return DottedQuad(out, bytes.data() + 12);
    }
    out = HexGroup(out, groups[static_cast<std::size_t>(idx)]);
  }
  if (best_start >= 0 && best_start + best_length == 8) {
    *out++ = ':';
  }
  return out;
}

std::string IpAddress::ToString() const {
  char text[kMaxTextLength];
  return std::string(text, ToText(text));
}

}  // namespace sluice::flow
