// SPDX-License-Identifier: Apache-2.0
// ParseTimeWindow: the text of `sluice query -t` into a TimeWindow.
//
// Accepted forms (docs/query.md):
//   nfdump   yyyy/MM/dd.hh:mm:ss[-yyyy/MM/dd.hh:mm:ss]; trailing fields may be left out
//            (yyyy/MM/dd, yyyy/MM/dd.hh, yyyy/MM/dd.hh:mm). Without an end the window
//            runs on for ever; a cut end means the start of that day/hour/minute.
//   ISO 8601 2026-11-23T10:00:00Z/2026-11-23T11:00:00Z (or "--" between the two);
//            seconds, fractions and the zone (Z, +hh:mm, -hh:mm) are optional; a date
//            alone is midnight. Without an end the window runs on for ever.
//   relative -1h (the last hour until now), -30m, -90s, -2d/-1d (from two days ago to one
//            day ago), -1w; units s, m, h, d, w; a bare number is seconds.
// Times without a zone are UTC, or local time when the TZ variable is set (UseLocalTime()).

#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "query/query_spec.h"

namespace sluice::query {

// `now_ms` anchors relative windows; `local_time` reads zone-less times as local time.
// An unparsable text or a window whose end is before its start is kInvalidArgument.
Result<TimeWindow> ParseTimeWindow(std::string_view text, std::int64_t now_ms, bool local_time);

}  // namespace sluice::query
