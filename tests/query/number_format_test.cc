// SPDX-License-Identifier: Apache-2.0
// nfdump's number scaling and the time/duration text of `sluice query`.

#include "query/number_format.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::query {
namespace {

TEST(NumberFormatTest, ScalesLikeNfdump) {
  // Values checked against nfdump 1.7.1 on the same flows.
  EXPECT_EQ(FormatScaled(0, false), "0");
  EXPECT_EQ(FormatScaled(999'999, false), "999999");
  EXPECT_EQ(FormatScaled(1'000'000, false), "1.0 M");
  EXPECT_EQ(FormatScaled(1'000'001, false), "1.0 M");
  EXPECT_EQ(FormatScaled(1'500'000, false), "1.5 M");
  EXPECT_EQ(FormatScaled(123'456'789, false), "123.5 M");
  EXPECT_EQ(FormatScaled(954'469'255, false), "954.5 M");
  EXPECT_EQ(FormatScaled(1'234'567'890, false), "1.2 G");
  EXPECT_EQ(FormatScaled(2'192'038'691, false), "2.2 G");
  EXPECT_EQ(FormatScaled(5'000'000'000'000, false), "5.0 T");
}

// The scaled text is printf's "%.1f" of the value over its unit, ties included
// (1'050'000 / 1e6 is not exactly 1.05), for random values of every unit.
TEST(NumberFormatTest, ScaledTextIsPrintfsOneDecimal) {
  std::mt19937_64 rng(3);
  std::vector<std::uint64_t> values = {1'050'000, 1'150'000, 1'250'000, 2'450'000, 999'950'000,
                                       999'999'999, 1'000'000'000, 18'446'744'073'709'551'615ULL};
  for (int idx = 0; idx < 30000; ++idx) {
    const int digits = 7 + idx % 13;  // 10^6 .. 10^19
    std::uint64_t value = rng() % 10;
    for (int d = 1; d < digits; ++d) {
      value = value * 10 + rng() % 10;
    }
    values.push_back(std::max<std::uint64_t>(value, 1'000'000));
    values.push_back(std::max<std::uint64_t>(value / 100'000 * 100'000 + 50'000, 1'000'000));  // x.x5
  }
  for (const std::uint64_t value : values) {
    const double unit = value < 1'000'000'000 ? 1e6 : value < 1'000'000'000'000 ? 1e9 : 1e12;
    const char* suffix = value < 1'000'000'000 ? "M" : value < 1'000'000'000'000 ? "G" : "T";
    char expected[64];
    std::snprintf(expected, sizeof expected, "%.1f %s", static_cast<double>(value) / unit, suffix);
    ASSERT_EQ(FormatScaled(value, false), expected) << value;
  }
}

TEST(NumberFormatTest, ExactNumbersAreWhole) {
  EXPECT_EQ(FormatScaled(1'234'567'890, true), "1234567890");
  EXPECT_EQ(FormatScaled(18'446'744'073'709'551'615ULL, true), "18446744073709551615");
}

TEST(NumberFormatTest, RatesAreRoundedDownBeforeScaling) {
  std::string out;
  AppendScaledRate(out, BitsPerSecond(999'999, 59'000), false);
  EXPECT_EQ(out, "135593");
  out.clear();
  AppendScaledRate(out, BitsPerSecond(2'192'038'691, 59'000), false);
  EXPECT_EQ(out, "297.2 M");
  out.clear();
  AppendScaledRate(out, PacketsPerSecond(999, 59'000), false);
  EXPECT_EQ(out, "16");
  EXPECT_EQ(BitsPerSecond(100, 0), 0);
  EXPECT_EQ(PacketsPerSecond(100, -5), 0);
  EXPECT_EQ(BytesPerPacket(999'499, 1'000'001), 0u);
  EXPECT_EQ(BytesPerPacket(2048, 2), 1024u);
  EXPECT_EQ(BytesPerPacket(2048, 0), 0u);
}

TEST(NumberFormatTest, Durations) {
  std::string out;
  AppendDuration(out, 59'000);
  EXPECT_EQ(out, "00:00:59.000");
  out.clear();
  AppendDuration(out, 3'600'000 + 61'001);
  EXPECT_EQ(out, "01:01:01.001");
  out.clear();
  // 35 days 06:57:59.447, as nfdump prints a long aggregation.
  AppendDuration(out, 35LL * 86'400'000 + 6 * 3'600'000 + 57 * 60'000 + 59'447);
  EXPECT_EQ(out, "35d 06:57:59.447");
  out.clear();
  AppendDuration(out, -10);
  EXPECT_EQ(out, "00:00:00.000");
}

TEST(NumberFormatTest, Times) {
  constexpr std::int64_t kTime = 1'795'432'969'123;  // 2026-11-23 11:22:49.123 UTC
  std::string out;
  AppendDisplayTime(out, kTime, false, true);
  EXPECT_EQ(out, "2026-11-23 11:22:49.123");
  out.clear();
  AppendDisplayTime(out, kTime, false, false);
  EXPECT_EQ(out, "2026-11-23 11:22:49");
  EXPECT_EQ(FormatIsoTime(kTime), "2026-11-23T11:22:49.123Z");
  EXPECT_EQ(FormatIsoTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIsoTime(-1), "1969-12-31T23:59:59.999Z");
}

TEST(NumberFormatTest, UtcDisplayTimesAgreeWithGmtime) {
  std::mt19937_64 random(7);
  // Around the epoch, leap days (2000, 2024, 2100 is none), and years 1 to 9999.
  std::vector<std::int64_t> seconds{0, -1, 951'782'400, 951'868'799, 4'107'542'400, -62'135'596'800,
                                    253'402'300'799, 1'709'164'800, 1'709'251'199};
  for (int idx = 0; idx < 20000; ++idx) {
    seconds.push_back(static_cast<std::int64_t>(random() % 253'402'300'799ULL) - 62'135'596'800LL);
  }
  for (const std::int64_t second : seconds) {
    const std::time_t time = static_cast<std::time_t>(second);
    std::tm parts{};
    ASSERT_NE(gmtime_r(&time, &parts), nullptr);
    // strftime's %Y does not pad years below 1000; ours has four digits, as nfdump's.
    char year[16];
    std::snprintf(year, sizeof year, "%04d", parts.tm_year + 1900);
    char rest[32];
    std::strftime(rest, sizeof rest, "-%m-%d %H:%M:%S", &parts);
    std::string out;
    AppendDisplayTime(out, second * 1000 + 5, false, false);
    ASSERT_EQ(out, std::string(year) + rest) << second;
  }
}

}  // namespace
}  // namespace sluice::query
