// SPDX-License-Identifier: Apache-2.0

#include "query/number_format.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace sluice::query {
namespace {

void AppendFormatted(std::string& out, const char* format, auto... args) {
  char buffer[64];
  const int length = std::snprintf(buffer, sizeof buffer, format, args...);
  if (length > 0) {
    out.append(buffer, static_cast<std::size_t>(length) < sizeof buffer
                           ? static_cast<std::size_t>(length)
                           : sizeof buffer - 1);
  }
}

std::tm BrokenDown(std::int64_t unix_ms, bool local_time) {
  std::int64_t seconds = unix_ms / 1000;
  if (unix_ms % 1000 < 0) {
    --seconds;
  }
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm parts{};
  if (local_time) {
    localtime_r(&time, &parts);
  } else {
    gmtime_r(&time, &parts);
  }
  return parts;
}

int Millis(std::int64_t unix_ms) {
  const std::int64_t millis = unix_ms % 1000;
  return static_cast<int>(millis < 0 ? millis + 1000 : millis);
}

void AppendTwoDigits(std::string& out, int value) {
  out.push_back(static_cast<char>('0' + value / 10 % 10));
  out.push_back(static_cast<char>('0' + value % 10));
}

void AppendThreeDigits(std::string& out, int value) {
  out.push_back(static_cast<char>('0' + value / 100 % 10));
  AppendTwoDigits(out, value % 100);
}

// The text of the last second formatted, per thread: consecutive flows mostly share it,
// and gmtime_r/localtime_r plus formatting cost more than the rest of a line.
struct SecondCache {
  std::int64_t seconds = -1;
  bool local_time = false;
  char text[32] = {};
  std::size_t length = 0;
};

}  // namespace

void AppendUnsigned(std::string& out, std::uint64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

void AppendScaled(std::string& out, std::uint64_t value, bool exact) {
  constexpr std::uint64_t kMega = 1'000'000;
  constexpr std::uint64_t kGiga = 1'000'000'000;
  constexpr std::uint64_t kTera = 1'000'000'000'000;
  if (exact || value < kMega) {
    AppendUnsigned(out, value);
  } else if (value < kGiga) {
    AppendFormatted(out, "%.1f M", static_cast<double>(value) / static_cast<double>(kMega));
  } else if (value < kTera) {
    AppendFormatted(out, "%.1f G", static_cast<double>(value) / static_cast<double>(kGiga));
  } else {
    AppendFormatted(out, "%.1f T", static_cast<double>(value) / static_cast<double>(kTera));
  }
}

std::string FormatScaled(std::uint64_t value, bool exact) {
  std::string out;
  AppendScaled(out, value, exact);
  return out;
}

void AppendScaledRate(std::string& out, double value, bool exact) {
  const double whole = std::floor(value);
  AppendScaled(out, whole <= 0 ? 0 : static_cast<std::uint64_t>(whole), exact);
}

bool UseLocalTime() {
  const char* zone = std::getenv("TZ");
  return zone != nullptr && zone[0] != '\0';
}

void AppendDisplayTime(std::string& out, std::int64_t unix_ms, bool local_time, bool with_millis) {
  // A few slots, so that first/last/received times of one line do not evict each other.
  thread_local std::array<SecondCache, 8> caches;
  std::int64_t seconds = unix_ms / 1000;
  if (unix_ms % 1000 < 0) {
    --seconds;
  }
  SecondCache& cache = caches[static_cast<std::size_t>(seconds) & 7];
  if (seconds != cache.seconds || local_time != cache.local_time) {
    const std::tm parts = BrokenDown(unix_ms, local_time);
    const int length = std::snprintf(cache.text, sizeof cache.text, "%04d-%02d-%02d %02d:%02d:%02d",
                                     parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                                     parts.tm_hour, parts.tm_min, parts.tm_sec);
    cache.length =
        length > 0 ? std::min(static_cast<std::size_t>(length), sizeof cache.text - 1) : 0;
    cache.seconds = seconds;
    cache.local_time = local_time;
  }
  out.append(cache.text, cache.length);
  if (with_millis) {
    out.push_back('.');
    AppendThreeDigits(out, Millis(unix_ms));
  }
}

void AppendIsoTime(std::string& out, std::int64_t unix_ms) {
  const std::tm parts = BrokenDown(unix_ms, false);
  AppendFormatted(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900,
                  parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                  Millis(unix_ms));
}

std::string FormatIsoTime(std::int64_t unix_ms) {
  std::string out;
  AppendIsoTime(out, unix_ms);
  return out;
}

void AppendDuration(std::string& out, std::int64_t duration_ms) {
  if (duration_ms < 0) {
    duration_ms = 0;
  }
  const std::int64_t days = duration_ms / 86'400'000;
  const std::int64_t rest = duration_ms % 86'400'000;
  if (days > 0) {
    AppendUnsigned(out, static_cast<std::uint64_t>(days));
    out += "d ";
  }
  AppendTwoDigits(out, static_cast<int>(rest / 3'600'000));
  out.push_back(':');
  AppendTwoDigits(out, static_cast<int>(rest / 60'000 % 60));
  out.push_back(':');
  AppendTwoDigits(out, static_cast<int>(rest / 1000 % 60));
  out.push_back('.');
  AppendThreeDigits(out, static_cast<int>(rest % 1000));
}

double BitsPerSecond(std::uint64_t bytes, std::int64_t duration_ms) {
  if (duration_ms <= 0) {
    return 0;
  }
  return static_cast<double>(bytes) * 8000.0 / static_cast<double>(duration_ms);
}

double PacketsPerSecond(std::uint64_t packets, std::int64_t duration_ms) {
  if (duration_ms <= 0) {
    return 0;
  }
  return static_cast<double>(packets) * 1000.0 / static_cast<double>(duration_ms);
}

std::uint64_t BytesPerPacket(std::uint64_t bytes, std::uint64_t packets) {
  return packets == 0 ? 0 : bytes / packets;
}

std::string_view ProtocolName(std::uint64_t proto) {
  switch (proto) {
    case 1:
      return "ICMP";
    case 2:
      return "IGMP";
    case 4:
      return "IPIP";
    case 6:
      return "TCP";
    case 17:
      return "UDP";
    case 41:
      return "IPv6";
    case 47:
      return "GRE";
    case 50:
      return "ESP";
    case 51:
      return "AH";
    case 58:
      return "ICMP6";
    case 89:
      return "OSPF";
    case 103:
      return "PIM";
    case 132:
      return "SCTP";
    default:
      return {};
  }
}

}  // namespace sluice::query
