// SPDX-License-Identifier: Apache-2.0
// Small helpers for parsing subcommand arguments.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "flow/ip_address.h"

namespace sluice::cli {

// Parses a whole decimal number in [min, max].
std::optional<std::uint64_t> ParseUnsigned(std::string_view text, std::uint64_t min,
                                           std::uint64_t max);

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
