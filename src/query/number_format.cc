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
#include <limits>

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

// gmtime_r's fields for whole seconds since the epoch (proleptic Gregorian calendar, by
// the days-to-civil arithmetic over 400-year eras), without gmtime_r's locking and checks.
std::tm UtcBrokenDown(std::int64_t seconds) {
  std::int64_t days = seconds / 86400;
  std::int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  std::tm parts{};
  parts.tm_hour = static_cast<int>(rest / 3600);
  parts.tm_min = static_cast<int>(rest / 60 % 60);
  parts.tm_sec = static_cast<int>(rest % 60);
  const std::int64_t z = days + 719468;  // days since 0000-03-01
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t day_of_era = z - era * 146097;                      // [0, 146096]
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;  // [0, 399]
  const std::int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);  // [0, 365], from March
  const std::int64_t month_from_march = (5 * day_of_year + 2) / 153;            // [0, 11]
  const std::int64_t month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
  const std::int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  parts.tm_mday = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  parts.tm_mon = static_cast<int>(month - 1);
  parts.tm_year = static_cast<int>(year - 1900);
  return parts;
}

int Millis(std::int64_t unix_ms) {
  const std::int64_t millis = unix_ms % 1000;
  return static_cast<int>(millis < 0 ? millis + 1000 : millis);
}

// Writes `value` % 100 as two digits at `p`; returns the end.
char* PutTwoDigits(char* p, int value) {
  p[0] = static_cast<char>('0' + value / 10 % 10);
  p[1] = static_cast<char>('0' + value % 10);
  return p + 2;
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
  std::int64_t seconds = std::numeric_limits<std::int64_t>::min();  // none yet (-1 is a time)
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
    return;
  }
  const auto [unit, suffix] = value < kGiga   ? std::pair{kMega, " M"}
                              : value < kTera ? std::pair{kGiga, " G"}
                                              : std::pair{kTera, " T"};
  // What "%.1f" prints (to_chars with a precision rounds as printf does), without
  // snprintf's cost: a sixth of a listing's time where flows are large.
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer,
                                    static_cast<double>(value) / static_cast<double>(unit),
                                    std::chars_format::fixed, 1);
  out.append(buffer, result.ptr);
  out += suffix;
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
    // Digits by hand: a listing over a day rarely has two rows in the same second, and
    // snprintf was a fifth of a selective listing's time.
    const std::tm parts = local_time ? BrokenDown(unix_ms, true) : UtcBrokenDown(seconds);
    const int year = parts.tm_year + 1900;
    char* p = cache.text;
    if (year < 0 || year > 9999) {  // snprintf only for years nfdump cannot show either
      const int length = std::snprintf(p, sizeof cache.text, "%04d", year);
      p += length > 0 ? std::min(length, 12) : 0;
    } else {
      p = PutTwoDigits(PutTwoDigits(p, year / 100), year % 100);
    }
    *p++ = '-';
    p = PutTwoDigits(p, parts.tm_mon + 1);
    *p++ = '-';
    p = PutTwoDigits(p, parts.tm_mday);
    *p++ = ' ';
    p = PutTwoDigits(p, parts.tm_hour);
    *p++ = ':';
    p = PutTwoDigits(p, parts.tm_min);
    *p++ = ':';
    p = PutTwoDigits(p, parts.tm_sec);
    cache.length = static_cast<std::size_t>(p - cache.text);
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
