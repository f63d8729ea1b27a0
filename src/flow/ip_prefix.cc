// SPDX-License-Identifier: Apache-2.0

#include "flow/ip_prefix.h"

#include <charconv>
#include <cstring>

namespace sluice::flow {

IpPrefix::IpPrefix(const IpAddress& address, std::uint8_t length_bits)
    : network_(address), length_(length_bits > 128 ? 128 : length_bits) {
  for (std::size_t bit = length_; bit < 128; ++bit) {
    network_.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
}

std::optional<IpPrefix> IpPrefix::Parse(std::string_view text) {
  const auto slash = text.find('/');
  const auto address = IpAddress::Parse(text.substr(0, slash));
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

bool IpPrefix::Contains(const IpAddress& address) const {
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

}  // namespace sluice::flow
