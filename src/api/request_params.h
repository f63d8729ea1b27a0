// SPDX-License-Identifier: Apache-2.0
// RequestParams: the named parameters of one API request (the query string, or the
// members of a JSON body), and the validating parsers every endpoint uses. Each parser
// names the parameter and what was expected when it refuses a value; nothing that is
// not valid reaches the query engine.
//
// Times are epoch milliseconds or ISO 8601 (2026-11-23T10:00:00Z); periods and steps
// are a whole number with a unit s, m, h, d or w (15m, 24h, 7d).

#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "api/api_error.h"
#include "query/query_spec.h"

namespace sluice::api {

class RequestParams {
 public:
  // A parameter given twice is an error (ApiResult), not silently one of the two.
  void Set(std::string name, std::string value);
  std::optional<std::string> duplicate() const { return duplicate_; }

  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }

  // Fails naming the first parameter not in `known` (or a duplicate).
  ApiResult<bool> CheckKnown(std::initializer_list<std::string_view> known) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
  std::optional<std::string> duplicate_;
};

// "15m", "24h", "7d", "90s", "2w": at least 1 s, at most `max`.
ApiResult<std::chrono::milliseconds> ParsePeriod(std::string_view name, std::string_view text,
                                                 std::chrono::milliseconds max);

// Epoch milliseconds (digits) or ISO 8601.
ApiResult<std::int64_t> ParseTime(std::string_view name, std::string_view text);

// The window of a request: `period` (the last PERIOD until now), or `from`/`to` (to
// defaults to now, from to `to` minus `default_period`). Giving both forms, or from after
// to, is an error.
ApiResult<query::TimeWindow> ParseWindow(const RequestParams& params, std::int64_t now_ms,
                                         std::chrono::milliseconds default_period);

// A whole number in [min, max]; `fallback` when absent.
ApiResult<std::uint64_t> ParseCount(const RequestParams& params, std::string_view name,
                                    std::uint64_t fallback, std::uint64_t min, std::uint64_t max);

// The `filter` parameter, checked by the filter parser: a syntax error is a 400
// "bad_filter" carrying the column. Absent = "" (every flow).
ApiResult<std::string> ParseFilterParam(const RequestParams& params);

// An identifier compared against stored text (subscriber ids, NAS/site ids): 1 to 64
// characters of [A-Za-z0-9._:@/-]. Returned as a quoted filter literal is safe.
ApiResult<std::string> ParseIdentifier(std::string_view name, std::string_view text);

}  // namespace sluice::api
