// SPDX-License-Identifier: Apache-2.0

#include "api/request_params.h"

#include <charconv>

#include "query/filter.h"
#include "query/time_window.h"

namespace sluice::api {

void RequestParams::Set(std::string name, std::string value) {
  if (values_.contains(name)) {
    duplicate_ = name;
    return;
  }
  values_.emplace(std::move(name), std::move(value));
}

std::optional<std::string_view> RequestParams::Get(std::string_view name) const {
  const auto found = values_.find(name);
  if (found == values_.end()) {
    return std::nullopt;
  }
  return std::string_view(found->second);
}

ApiResult<bool> RequestParams::CheckKnown(std::initializer_list<std::string_view> known) const {
  if (duplicate_) {
    return tl::unexpected(BadParameter("parameter '" + *duplicate_ + "' is given more than once"));
  }
  for (const auto& [name, value] : values_) {
    bool found = false;
    for (const std::string_view candidate : known) {
      found |= candidate == name;
    }
    if (!found) {
      std::string list;
      for (const std::string_view candidate : known) {
        list += (list.empty() ? "" : ", ") + std::string(candidate);
      }
      return tl::unexpected(BadParameter("unknown parameter '" + name.substr(0, 64) +
                                         "' (this endpoint takes: " + list + ")"));
    }
  }
  return true;
}

namespace {

std::optional<std::uint64_t> Digits(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text.size() > 19) {
    return std::nullopt;
  }
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::string Shown(std::string_view text) {
  return "'" + std::string(text.substr(0, 64)) + (text.size() > 64 ? "...'" : "'");
}

}  // namespace

ApiResult<std::chrono::milliseconds> ParsePeriod(std::string_view name, std::string_view text,
                                                 std::chrono::milliseconds max) {
  const auto refuse = [&] {
    return tl::unexpected(BadParameter("parameter '" + std::string(name) + "': " + Shown(text) +
                                       " is not a period (a whole number with a unit s, m, h, d or w, "
                                       "like 15m, 24h, 7d; at most " +
                                       std::to_string(max.count() / 1000) + " s)"));
  };
  if (text.size() < 2) {
    return refuse();
  }
  std::int64_t unit_ms = 0;
  switch (text.back()) {
    case 's': unit_ms = 1000; break;
    case 'm': unit_ms = 60'000; break;
    case 'h': unit_ms = 3'600'000; break;
    case 'd': unit_ms = 86'400'000; break;
    case 'w': unit_ms = 604'800'000; break;
    default: return refuse();
  }
  const auto count = Digits(text.substr(0, text.size() - 1));
  if (!count || *count == 0 || *count > static_cast<std::uint64_t>(max.count() / unit_ms)) {
    return refuse();
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(*count) * unit_ms);
}

ApiResult<std::int64_t> ParseTime(std::string_view name, std::string_view text) {
  if (const auto ms = Digits(text)) {
    if (*ms <= static_cast<std::uint64_t>(INT64_MAX / 2)) {
      return static_cast<std::int64_t>(*ms);
    }
  }
  // ISO 8601 only: the nfdump and relative forms of -t are not API syntax.
  if (text.size() >= 10 && text[4] == '-' && text.find('/') == std::string_view::npos) {
    auto window = query::ParseTimeWindow(text, 0, false);
    if (window) {
      return window->from_ms;
    }
  }
  return tl::unexpected(BadParameter("parameter '" + std::string(name) + "': " + Shown(text) +
                                     " is not a time (epoch milliseconds or ISO 8601 such as "
                                     "2026-11-23T10:00:00Z)"));
}

ApiResult<query::TimeWindow> ParseWindow(const RequestParams& params, std::int64_t now_ms,
                                         std::chrono::milliseconds default_period) {
  constexpr std::chrono::milliseconds kMaxPeriod = std::chrono::hours(24 * 3660);
  const auto period = params.Get("period");
  if (period && (params.Has("from") || params.Has("to"))) {
    return tl::unexpected(BadParameter("give either 'period' or 'from'/'to', not both"));
  }
  if (period) {
    auto length = ParsePeriod("period", *period, kMaxPeriod);
    if (!length) {
      return tl::unexpected(length.error());
    }
    return query::TimeWindow{now_ms - length->count(), now_ms};
  }
  std::int64_t to_ms = now_ms;
  if (const auto to = params.Get("to")) {
    auto parsed = ParseTime("to", *to);
    if (!parsed) {
      return tl::unexpected(parsed.error());
    }
    to_ms = *parsed;
  }
  std::int64_t from_ms = to_ms - default_period.count();
  if (const auto from = params.Get("from")) {
    auto parsed = ParseTime("from", *from);
    if (!parsed) {
      return tl::unexpected(parsed.error());
    }
    from_ms = *parsed;
  }
  if (from_ms > to_ms) {
    return tl::unexpected(BadParameter("'from' is after 'to'"));
  }
  return query::TimeWindow{from_ms, to_ms};
}

ApiResult<std::uint64_t> ParseCount(const RequestParams& params, std::string_view name,
                                    std::uint64_t fallback, std::uint64_t min, std::uint64_t max) {
  const auto text = params.Get(name);
  if (!text) {
    return fallback;
  }
  const auto value = Digits(*text);
  if (!value || *value < min || *value > max) {
    return tl::unexpected(BadParameter("parameter '" + std::string(name) + "': " + Shown(*text) +
                                       " is not a whole number from " + std::to_string(min) +
                                       " to " + std::to_string(max)));
  }
  return *value;
}

ApiResult<std::string> ParseFilterParam(const RequestParams& params) {
  const auto text = params.Get("filter");
  if (!text) {
    return std::string();
  }
  if (text->size() > 16384) {
    return tl::unexpected(BadParameter("parameter 'filter' is longer than 16384 bytes"));
  }
  auto parsed = query::Filter::Parse(*text);
  if (!parsed) {
    return tl::unexpected(ApiError{400, "bad_filter", parsed.error().ToString(), parsed.error().column});
  }
  return std::string(*text);
}

ApiResult<std::string> ParseIdentifier(std::string_view name, std::string_view text) {
  bool valid = !text.empty() && text.size() <= 64;
  for (const char c : text) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    valid &= word || c == '.' || c == '_' || c == ':' || c == '@' || c == '/' || c == '-';
  }
  if (!valid) {
    return tl::unexpected(BadParameter("parameter '" + std::string(name) + "': " + Shown(text) +
                                       " is not an id (1 to 64 of A-Z a-z 0-9 . _ : @ / -)"));
  }
  return std::string(text);
}

}  // namespace sluice::api
