// SPDX-License-Identifier: Apache-2.0

#include "store/layout.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <vector>

namespace sluice::store {
namespace {

struct CivilTime {
  int year = 1970;
  unsigned month = 1;
  unsigned day = 1;
  int hour = 0;
  int minute = 0;
};

UnixMillis FloorDiv(UnixMillis value, UnixMillis unit) {
  UnixMillis q = value / unit;
  if (value % unit != 0 && value < 0) {
    --q;
  }
  return q;
}

CivilTime ToCivil(UnixMillis t) {
  const UnixMillis days = FloorDiv(t, kMillisPerDay);
  const UnixMillis in_day = t - days * kMillisPerDay;
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  CivilTime civil;
  civil.year = static_cast<int>(ymd.year());
  civil.month = static_cast<unsigned>(ymd.month());
  civil.day = static_cast<unsigned>(ymd.day());
  civil.hour = static_cast<int>(in_day / kMillisPerHour);
  civil.minute = static_cast<int>((in_day % kMillisPerHour) / kMillisPerMinute);
  return civil;
}

std::optional<UnixMillis> FromCivil(int year, unsigned month, unsigned day, int hour, int minute) {
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                                        std::chrono::day{day}};
  if (!ymd.ok() || hour < 0 || hour > 23 || minute < 0 || minute > 59) {
    return std::nullopt;
  }
  const auto days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  return static_cast<UnixMillis>(days) * kMillisPerDay + hour * kMillisPerHour +
         minute * kMillisPerMinute;
}

std::string DayPath(const CivilTime& civil) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d/%02u/%02u", civil.year, civil.month, civil.day);
  return text;
}

std::string Join(std::string_view data_dir, std::string_view rest) {
  std::string path(data_dir);
  if (!path.empty() && path.back() != '/') {
    path += '/';
  }
  path += rest;
  return path;
}


std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    if (!part.empty()) {
      parts.push_back(part);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return parts;
}

bool ConsumeSuffix(std::string_view& text, std::string_view suffix) {
  if (text.size() < suffix.size() || text.substr(text.size() - suffix.size()) != suffix) {
    return false;
  }
  text.remove_suffix(suffix.size());
  return true;
}

}  // namespace

std::optional<int> ParseDigits(std::string_view text, std::size_t digits) {
  if (text.size() != digits) {
    return std::nullopt;
  }
  int value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

bool IsValidSourceName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.' || name == kRollupDir) {
    return false;
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

UnixMillis SlotStart(UnixMillis t, int rotation_minutes) {
  const UnixMillis slot = static_cast<UnixMillis>(rotation_minutes) * kMillisPerMinute;
  const UnixMillis hour = HourStart(t);
  return hour + FloorDiv(t - hour, slot) * slot;
}

UnixMillis HourStart(UnixMillis t) { return FloorDiv(t, kMillisPerHour) * kMillisPerHour; }

std::string DetailDayDir(std::string_view data_dir, std::string_view source, UnixMillis t) {
  return Join(data_dir, std::string(source) + "/" + DayPath(ToCivil(t)));
}

std::string RollupDayDir(std::string_view data_dir, std::string_view source, UnixMillis t) {
  return Join(data_dir,
              std::string(source) + "/" + std::string(kRollupDir) + "/" + DayPath(ToCivil(t)));
}

std::string SummaryDayDir(std::string_view data_dir, std::string_view source, std::size_t summary,
                          UnixMillis t) {
  return Join(data_dir, std::string(source) + "/" + std::string(kRollupDir) + "/" +
                            std::string(kSummaryDirs[summary]) + "/" + DayPath(ToCivil(t)));
}

namespace {

// "/HHMM.seg" or "/HHMM-N.seg" (or another suffix).
std::string SlotFileName(UnixMillis slot_start, std::uint32_t index,
                         std::string_view suffix = kSegmentSuffix) {
  const CivilTime civil = ToCivil(slot_start);
  char name[32];
  if (index == 0) {
    std::snprintf(name, sizeof name, "/%02d%02d", civil.hour, civil.minute);
  } else {
    std::snprintf(name, sizeof name, "/%02d%02d-%u", civil.hour, civil.minute, index);
  }
  return name + std::string(suffix);
}

}  // namespace

std::string DetailSegmentPath(std::string_view data_dir, std::string_view source,
                              UnixMillis slot_start, std::uint32_t index) {
  return DetailDayDir(data_dir, source, slot_start) + SlotFileName(slot_start, index);
}

std::string SummaryPath(std::string_view data_dir, std::string_view source, std::size_t summary,
                        UnixMillis slot_start, std::uint32_t index) {
  return SummaryDayDir(data_dir, source, summary, slot_start) + SlotFileName(slot_start, index);
}

std::string AddressFilterDayDir(std::string_view data_dir, std::string_view source, UnixMillis t) {
  return Join(data_dir, std::string(source) + "/" + std::string(kRollupDir) + "/" +
                            std::string(kAddressFilterDir) + "/" + DayPath(ToCivil(t)));
}

std::string AddressFilterPath(std::string_view data_dir, std::string_view source,
                              UnixMillis slot_start, std::uint32_t index) {
  return AddressFilterDayDir(data_dir, source, slot_start) +
         SlotFileName(slot_start, index, kAddressFilterSuffix);
}

namespace {

// "/HH.seg".
std::string HourFileName(UnixMillis hour_start) {
  const CivilTime civil = ToCivil(hour_start);
  char name[16];
  std::snprintf(name, sizeof name, "/%02d.seg", civil.hour);
  return name;
}

}  // namespace

std::string RollupSegmentPath(std::string_view data_dir, std::string_view source,
                              UnixMillis hour_start) {
  return RollupDayDir(data_dir, source, hour_start) + HourFileName(hour_start);
}

std::string HourSummaryPath(std::string_view data_dir, std::string_view source, std::size_t summary,
                            UnixMillis hour_start) {
  return SummaryDayDir(data_dir, source, summary, hour_start) + HourFileName(hour_start);
}

std::string OpenPathFor(std::string_view final_path) {
  return std::string(final_path) + std::string(kOpenSuffix);
}

std::string TempPathFor(std::string_view final_path) {
  return std::string(final_path) + std::string(kTempSuffix);
}

std::optional<SegmentName> ParseSegmentPath(std::string_view relative_path) {
  std::vector<std::string_view> parts = SplitPath(relative_path);
  SegmentName name;
  const auto* summary =
      parts.size() == 7 ? std::find(kSummaryDirs.begin(), kSummaryDirs.end(), parts[2])
                        : kSummaryDirs.end();
  if (parts.size() == 7 && parts[1] == kRollupDir && parts[2] == kAddressFilterDir) {
    name.kind = SegmentKind::kAddressFilter;
    parts.erase(parts.begin() + 1, parts.begin() + 3);
  } else if (parts.size() == 7 && parts[1] == kRollupDir && summary != kSummaryDirs.end()) {
    name.kind = SegmentKind::kSummary;
    name.summary = static_cast<std::size_t>(summary - kSummaryDirs.begin());
    parts.erase(parts.begin() + 1, parts.begin() + 3);
  } else if (parts.size() == 6 && parts[1] == kRollupDir) {
    name.kind = SegmentKind::kRollup;
    parts.erase(parts.begin() + 1);
  } else if (parts.size() != 5) {
    return std::nullopt;
  }
  if (!IsValidSourceName(parts[0])) {
    return std::nullopt;
  }
  name.source = std::string(parts[0]);
  const std::optional<int> year = ParseDigits(parts[1], 4);
  const std::optional<int> month = ParseDigits(parts[2], 2);
  const std::optional<int> day = ParseDigits(parts[3], 2);
  if (!year || !month || !day) {
    return std::nullopt;
  }
  std::string_view file = parts[4];
  if (ConsumeSuffix(file, kTempSuffix)) {
    name.state = SegmentState::kTemp;
  } else if (ConsumeSuffix(file, kOpenSuffix)) {
    name.state = SegmentState::kOpen;
  }
  if (!ConsumeSuffix(file, name.kind == SegmentKind::kAddressFilter ? kAddressFilterSuffix
                                                                    : kSegmentSuffix) ||
      (name.kind == SegmentKind::kAddressFilter && name.state == SegmentState::kOpen)) {
    return std::nullopt;
  }
  if (name.kind == SegmentKind::kSummary && file.size() == 2) {
    name.kind = SegmentKind::kHourSummary;  // HH.seg beside the slots' HHMM[-N].seg
  }
  int hour = 0;
  int minute = 0;
  if (name.kind == SegmentKind::kRollup || name.kind == SegmentKind::kHourSummary) {
    const std::optional<int> h = ParseDigits(file, 2);
    if (!h) {
      return std::nullopt;
    }
    hour = *h;
  } else {
    const std::size_t dash = file.find('-');
    const std::optional<int> hhmm = ParseDigits(file.substr(0, dash), 4);
    if (!hhmm) {
      return std::nullopt;
    }
    hour = *hhmm / 100;
    minute = *hhmm % 100;
    if (dash != std::string_view::npos) {
      const std::string_view index_text = file.substr(dash + 1);
      std::uint32_t index = 0;
      const auto [end, ec] =
          std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
      if (ec != std::errc() || end != index_text.data() + index_text.size() || index == 0 ||
          index_text.front() == '0') {
        return std::nullopt;
      }
      name.index = index;
    }
  }
  const std::optional<UnixMillis> start = FromCivil(
      *year, static_cast<unsigned>(*month), static_cast<unsigned>(*day), hour, minute);
  if (!start) {
    return std::nullopt;
  }
  name.start = *start;
  return name;
}

std::string DayString(UnixMillis t) {
  const CivilTime civil = ToCivil(t);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", civil.year, civil.month, civil.day);
  return text;
}

}  // namespace sluice::store
