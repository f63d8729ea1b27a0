// SPDX-License-Identifier: Apache-2.0
// Small helpers for parsing subcommand arguments.

#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "flow/ip_address.h"

namespace sluice::cli {

// Parses a whole decimal number in [min, max].
std::optional<std::uint64_t> ParseUnsigned(std::string_view text, std::uint64_t min,
                                           std::uint64_t max);

// Parses a size in bytes: "123", or a whole number with a suffix K, M, G or T (either
// case; powers of 1024): "64K", "64M", "1G", "100G". At most 2^60 bytes.
std::optional<std::uint64_t> ParseSize(std::string_view text);

// Parses a duration: "300" (seconds), or a whole number with a unit s, m, h, d or w:
// "5s", "5m", "2h", "30d", "1w". No fractions and no compounds ("1h30m" is "90m").
// At most 2^40 seconds.
std::optional<std::chrono::seconds> ParseDuration(std::string_view text);

// Splits "HOST:PORT" or "[V6]:PORT".
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

std::optional<HostPort> ParseHostPort(std::string_view text);

// Parses a sampling override "ADDR=RATE" (RATE >= 1).
struct SamplingOverride {
  flow::IpAddress exporter;
  std::uint32_t rate = 1;
};

std::optional<SamplingOverride> ParseSamplingOverride(std::string_view text);

}  // namespace sluice::cli
