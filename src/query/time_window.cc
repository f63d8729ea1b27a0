// SPDX-License-Identifier: Apache-2.0

#include "query/time_window.h"

#include <charconv>
#include <ctime>
#include <limits>
#include <optional>
#include <string>

namespace sluice::query {
namespace {

constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();

Error Invalid(std::string_view text, std::string_view why) {
  return Error(ErrorCode::kInvalidArgument,
               "time window '" + std::string(text) + "': " + std::string(why));
}

// Reads exactly `digits` decimal digits at `pos`.
std::optional<int> ReadNumber(std::string_view text, std::size_t& pos, std::size_t digits) {
  if (pos + digits > text.size()) {
    return std::nullopt;
  }
  int value = 0;
  for (std::size_t idx = 0; idx < digits; ++idx) {
    const char c = text[pos + idx];
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  pos += digits;
  return value;
}

// Calendar fields, in UTC or local time, to ms since the epoch.
std::optional<std::int64_t> ToMillis(int year, int month, int day, int hour, int minute, int second,
                                     bool local_time) {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::tm parts{};
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  parts.tm_isdst = -1;
  const std::time_t seconds = local_time ? std::mktime(&parts) : timegm(&parts);
  if (parts.tm_mday != day) {  // 2026/02/31 and the like were normalized
    return std::nullopt;
  }
  return static_cast<std::int64_t>(seconds) * 1000;
}

// yyyy/MM/dd[.hh[:mm[:ss]]]
std::optional<std::int64_t> ParseNfdumpTime(std::string_view text, bool local_time) {
  std::size_t pos = 0;
  const auto year = ReadNumber(text, pos, 4);
  if (!year || pos >= text.size() || text[pos++] != '/') {
    return std::nullopt;
  }
  const auto month = ReadNumber(text, pos, 2);
  if (!month || pos >= text.size() || text[pos++] != '/') {
    return std::nullopt;
  }
  const auto day = ReadNumber(text, pos, 2);
  if (!day) {
    return std::nullopt;
  }
  int clock[3] = {0, 0, 0};
  const char separators[3] = {'.', ':', ':'};
  for (int part = 0; part < 3 && pos < text.size(); ++part) {
    if (text[pos++] != separators[part]) {
      return std::nullopt;
    }
    const auto value = ReadNumber(text, pos, 2);
    if (!value) {
      return std::nullopt;
    }
    clock[part] = *value;
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  return ToMillis(*year, *month, *day, clock[0], clock[1], clock[2], local_time);
}

// yyyy-MM-dd[Thh:mm[:ss[.fff]]][Z|+hh:mm|-hh:mm]
std::optional<std::int64_t> ParseIsoTime(std::string_view text, bool local_time) {
  std::size_t pos = 0;
  const auto year = ReadNumber(text, pos, 4);
  if (!year || pos >= text.size() || text[pos++] != '-') {
    return std::nullopt;
  }
  const auto month = ReadNumber(text, pos, 2);
  if (!month || pos >= text.size() || text[pos++] != '-') {
    return std::nullopt;
  }
  const auto day = ReadNumber(text, pos, 2);
  if (!day) {
    return std::nullopt;
  }
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millis = 0;
  bool has_zone = false;
  std::int64_t offset_ms = 0;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == 't' || text[pos] == ' ')) {
    ++pos;
    const auto h = ReadNumber(text, pos, 2);
    if (!h || pos >= text.size() || text[pos++] != ':') {
      return std::nullopt;
    }
    const auto m = ReadNumber(text, pos, 2);
    if (!m) {
      return std::nullopt;
    }
    hour = *h;
    minute = *m;
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      const auto s = ReadNumber(text, pos, 2);
      if (!s) {
        return std::nullopt;
      }
      second = *s;
      if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
        ++pos;
        int scale = 100;
        bool any = false;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          millis += (text[pos] - '0') * scale;
          scale /= 10;
          ++pos;
          any = true;
        }
        if (!any) {
          return std::nullopt;
        }
      }
    }
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
      ++pos;
      has_zone = true;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
      const int sign = text[pos++] == '-' ? -1 : 1;
      const auto oh = ReadNumber(text, pos, 2);
      if (!oh) {
        return std::nullopt;
      }
      int om = 0;
      if (pos < text.size()) {
        if (text[pos] == ':') {
          ++pos;
        }
        const auto m2 = ReadNumber(text, pos, 2);
        if (!m2) {
          return std::nullopt;
        }
        om = *m2;
      }
      has_zone = true;
      offset_ms = sign * (std::int64_t{*oh} * 3'600'000 + std::int64_t{om} * 60'000);
    }
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  const auto base = ToMillis(*year, *month, *day, hour, minute, second, local_time && !has_zone);
  if (!base) {
    return std::nullopt;
  }
  return *base + millis - offset_ms;
}

// "-1h", "-30m", "-90", "-2d": ms before now (a positive number of ms).
std::optional<std::int64_t> ParseRelative(std::string_view text) {
  if (text.size() < 2 || text[0] != '-') {
    return std::nullopt;
  }
  text.remove_prefix(1);
  std::int64_t unit_ms = 1000;
  switch (text.back()) {
    case 's':
      unit_ms = 1000;
      text.remove_suffix(1);
      break;
    case 'm':
      unit_ms = 60'000;
      text.remove_suffix(1);
      break;
    case 'h':
      unit_ms = 3'600'000;
      text.remove_suffix(1);
      break;
    case 'd':
      unit_ms = 86'400'000;
      text.remove_suffix(1);
      break;
    case 'w':
      unit_ms = 7 * 86'400'000LL;
      text.remove_suffix(1);
      break;
    default:
      break;
  }
  std::int64_t count = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (error != std::errc() || end != text.data() + text.size() || count < 0 ||
      count > (std::int64_t{1} << 40)) {
    return std::nullopt;
  }
  return count * unit_ms;
}

Result<TimeWindow> Checked(std::string_view text, std::int64_t from, std::int64_t to) {
  if (to < from) {
    return tl::unexpected(Invalid(text, "the end is before the start"));
  }
  return TimeWindow{from, to};
}

}  // namespace

Result<TimeWindow> ParseTimeWindow(std::string_view text, std::int64_t now_ms, bool local_time) {
  if (text.empty()) {
    return tl::unexpected(Invalid(text, "empty"));
  }
  if (text[0] == '+') {
    return tl::unexpected(
        Invalid(text, "'+N' (relative to the first flow) is not supported; use -N (before now)"));
  }
  if (text[0] == '-') {  // relative: -1h or -2d/-1d
    const std::size_t slash = text.find('/');
    const auto start = ParseRelative(text.substr(0, slash));
    if (!start) {
      return tl::unexpected(Invalid(text, "expected -N[s|m|h|d|w] or -N[unit]/-M[unit]"));
    }
    std::int64_t end = 0;
    if (slash != std::string_view::npos) {
      const auto parsed_end = ParseRelative(text.substr(slash + 1));
      if (!parsed_end) {
        return tl::unexpected(Invalid(text, "expected -N[s|m|h|d|w] or -N[unit]/-M[unit]"));
      }
      end = *parsed_end;
    }
    return Checked(text, now_ms - *start, now_ms - end);
  }
  const bool nfdump_style = text.size() > 4 && text[4] == '/';
  std::string_view first = text;
  std::string_view second;
  bool has_end = false;
  if (nfdump_style) {
    const std::size_t dash = text.find('-');
    if (dash != std::string_view::npos) {
      first = text.substr(0, dash);
      second = text.substr(dash + 1);
      has_end = true;
    }
  } else {
    std::size_t split = text.find('/');
    std::size_t skip = 1;
    if (split == std::string_view::npos) {
      split = text.find("--");
      skip = 2;
    }
    if (split != std::string_view::npos) {
      first = text.substr(0, split);
      second = text.substr(split + skip);
      has_end = true;
    }
  }
  const auto parse = [&](std::string_view part) {
    return nfdump_style ? ParseNfdumpTime(part, local_time) : ParseIsoTime(part, local_time);
  };
  const auto from = parse(first);
  if (!from) {
    return tl::unexpected(Invalid(
        text, nfdump_style ? "expected yyyy/MM/dd[.hh[:mm[:ss]]][-yyyy/MM/dd[.hh[:mm[:ss]]]]"
                           : "expected yyyy/MM/dd.hh:mm:ss, ISO 8601 (2026-11-23T10:00:00Z[/END]) "
                             "or -N[s|m|h|d|w]"));
  }
  if (!has_end) {
    return TimeWindow{*from, kForever};
  }
  const auto to = parse(second);
  if (!to) {
    return tl::unexpected(Invalid(text, "the end time does not parse"));
  }
  return Checked(text, *from, *to);
}

}  // namespace sluice::query
