// SPDX-License-Identifier: Apache-2.0
// `sluice query -t`: nfdump, ISO 8601 and relative windows.

#include "query/time_window.h"

#include <limits>

#include <gtest/gtest.h>

namespace sluice::query {
namespace {

constexpr std::int64_t kDay = 1'795'392'000'000;  // 2026-11-23 00:00:00 UTC
constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kNow = kDay + 12 * kHour;

TimeWindow Parse(std::string_view text) {
  auto window = ParseTimeWindow(text, kNow, false);
  EXPECT_TRUE(window) << text << ": " << (window ? "" : window.error().Message());
  return window.value_or(TimeWindow{-1, -1});
}

void ExpectWindow(std::string_view text, std::int64_t from, std::int64_t to) {
  const TimeWindow window = Parse(text);
  EXPECT_EQ(window.from_ms, from) << text;
  EXPECT_EQ(window.to_ms, to) << text;
}

TEST(TimeWindowTest, NfdumpFullAndCut) {
  ExpectWindow("2026/11/23.10:00:00-2026/11/23.11:00:00", kDay + 10 * kHour, kDay + 11 * kHour);
  ExpectWindow("2026/11/23.10:30-2026/11/23.11", kDay + 10 * kHour + 30 * kMinute,
               kDay + 11 * kHour);
  ExpectWindow("2026/11/23", kDay, kForever);
  ExpectWindow("2026/11/23.10", kDay + 10 * kHour, kForever);
  ExpectWindow("2026/11/23-2026/11/24", kDay, kDay + 24 * kHour);
  ExpectWindow("2026/11/23.10:00:05", kDay + 10 * kHour + 5000, kForever);
}

TEST(TimeWindowTest, Iso8601) {
  ExpectWindow("2026-11-23T10:00:00Z/2026-11-23T11:00:00Z", kDay + 10 * kHour, kDay + 11 * kHour);
  ExpectWindow("2026-11-23T10:00:00Z--2026-11-23T11:00:00Z", kDay + 10 * kHour, kDay + 11 * kHour);
  ExpectWindow("2026-11-23T10:00Z", kDay + 10 * kHour, kForever);
  ExpectWindow("2026-11-23T10:00:00.250Z/2026-11-23T10:00:01Z", kDay + 10 * kHour + 250,
               kDay + 10 * kHour + 1000);
  ExpectWindow("2026-11-23T12:00:00+02:00/2026-11-23T11:00:00", kDay + 10 * kHour,
               kDay + 11 * kHour);
  ExpectWindow("2026-11-23", kDay, kForever);
}

TEST(TimeWindowTest, RelativeToNow) {
  ExpectWindow("-1h", kNow - kHour, kNow);
  ExpectWindow("-30m", kNow - 30 * kMinute, kNow);
  ExpectWindow("-90", kNow - 90'000, kNow);
  ExpectWindow("-2d/-1d", kNow - 48 * kHour, kNow - 24 * kHour);
  ExpectWindow("-1w", kNow - 7 * 24 * kHour, kNow);
}

TEST(TimeWindowTest, LocalTimeFollowsTheZone) {
  // With local_time the zone-less text is read in the process's zone; an explicit zone
  // is always honoured.
  auto window = ParseTimeWindow("2026-11-23T10:00:00Z", kNow, true);
  ASSERT_TRUE(window);
  EXPECT_EQ(window->from_ms, kDay + 10 * kHour);
}

TEST(TimeWindowTest, Errors) {
  for (const char* text : {"", "yesterday", "2026/11/23.25:00", "2026/13/01", "2026/02/30",
                           "2026/11/23.10:00-2026/11/23.09:00", "-1y", "+10", "-", "-1h/-2h",
                           "2026-11-23T10", "2026-11-23T10:00:00Q", "2026/11/23.1"}) {
    auto window = ParseTimeWindow(text, kNow, false);
    EXPECT_FALSE(window) << text;
    if (!window) {
      EXPECT_EQ(window.error().Code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(window.error().Message().find("time window"), std::string_view::npos);
    }
  }
}

}  // namespace
}  // namespace sluice::query
