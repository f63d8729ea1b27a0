// SPDX-License-Identifier: Apache-2.0

#include "cli/args.h"

#include <charconv>

namespace sluice::cli {

std::optional<std::uint64_t> ParseUnsigned(std::string_view text, std::uint64_t min,
                                           std::uint64_t max) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint64_t> ParseSize(std::string_view text) {
  std::uint64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        scale = 1ULL << 10;
        break;
      case 'm':
      case 'M':
        scale = 1ULL << 20;
        break;
      case 'g':
      case 'G':
        scale = 1ULL << 30;
        break;
      case 't':
      case 'T':
        scale = 1ULL << 40;
        break;
      default:
        break;
    }
    if (scale != 1) {
      text.remove_suffix(1);
    }
  }
  const auto value = ParseUnsigned(text, 0, (1ULL << 60) / scale);
  if (!value) {
    return std::nullopt;
  }
  return *value * scale;
}

std::optional<std::chrono::seconds> ParseDuration(std::string_view text) {
  std::uint64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's':
        break;
      case 'm':
        scale = 60;
        break;
      case 'h':
        scale = 60 * 60;
        break;
      case 'd':
        scale = 24 * 60 * 60;
        break;
      case 'w':
        scale = 7 * 24 * 60 * 60;
        break;
      default:
        break;
    }
    if (text.back() == 's' || scale != 1) {
      text.remove_suffix(1);
    }
  }
  const auto value = ParseUnsigned(text, 0, (1ULL << 40) / scale);
  if (!value) {
    return std::nullopt;
  }
  return std::chrono::seconds(static_cast<std::int64_t>(*value * scale));
}

std::optional<HostPort> ParseHostPort(std::string_view text) {
  HostPort result;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    result.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    result.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  const auto port = ParseUnsigned(port_text, 0, 65535);
  if (!port || result.host.empty()) {
    return std::nullopt;
  }
  result.port = static_cast<std::uint16_t>(*port);
  return result;
}

std::optional<SamplingOverride> ParseSamplingOverride(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) {
    return std::nullopt;
  }
  const auto exporter = flow::IpAddress::Parse(text.substr(0, eq));
  const auto rate = ParseUnsigned(text.substr(eq + 1), 1, 0xFFFFFFFFULL);
  if (!exporter || !rate) {
    return std::nullopt;
  }
  return SamplingOverride{*exporter, static_cast<std::uint32_t>(*rate)};
}

}  // namespace sluice::cli
