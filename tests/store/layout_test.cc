// SPDX-License-Identifier: Apache-2.0
// store/layout.h: segment paths round-trip through ParseSegmentPath() for every kind of
// time (leap days, year ends, before 1970), slot alignment for every rotation, and junk
// names are rejected.

#include "store/layout.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::store {
namespace {

// 2024-02-29 00:00:00 UTC (a leap day).
constexpr UnixMillis kLeapDay = 1'709'164'800'000;
// 2026-11-23 00:00:00 UTC.
constexpr UnixMillis kDay = 1'795'392'000'000;

UnixMillis At(UnixMillis day, int hour, int minute) {
  return day + hour * kMillisPerHour + minute * kMillisPerMinute;
}

// Day starts around the awkward places of the calendar.
std::vector<UnixMillis> AwkwardDays() {
  std::vector<UnixMillis> days;
  const std::vector<UnixMillis> anchors = {
      0,                  // 1970-01-01
      951'782'400'000,    // 2000-02-29 (divisible by 400: leap)
      kLeapDay,           // 2024-02-29
      1'703'980'800'000,  // 2023-12-31
      1'735'603'200'000,  // 2024-12-31 (day 366 of a leap year)
      2'147'472'000'000,  // 2038-01-19
      4'107'456'000'000,  // 2100-02-28 (divisible by 100: not leap; next day is March 1)
      kDay,
      -86'400'000,  // 1969-12-31
  };
  for (const UnixMillis anchor : anchors) {
    for (int offset = -1; offset <= 1; ++offset) {
      days.push_back(anchor + offset * kMillisPerDay);
    }
  }
  return days;
}

TEST(LayoutTest, DetailPathsRoundTripForEverySlotOfAwkwardDays) {
  for (const UnixMillis day : AwkwardDays()) {
    for (UnixMillis slot = day; slot < day + kMillisPerDay; slot += 5 * kMillisPerMinute) {
      for (const std::uint32_t index : {0u, 1u, 9u, 10u, 4'294'967'295u}) {
        const std::string path = DetailSegmentPath("/var/lib/sluice", "core", slot, index);
        ASSERT_EQ(path.rfind("/var/lib/sluice/core/", 0), 0u) << path;
        const std::string relative = path.substr(std::string("/var/lib/sluice/").size());
        const std::optional<SegmentName> name = ParseSegmentPath(relative);
        ASSERT_TRUE(name) << relative;
        EXPECT_EQ(name->source, "core");
        EXPECT_EQ(name->kind, SegmentKind::kDetail);
        EXPECT_EQ(name->state, SegmentState::kSealed);
        EXPECT_EQ(name->start, slot) << relative;
        EXPECT_EQ(name->index, index) << relative;
        // The relative form is what the same call with an empty data directory makes.
        EXPECT_EQ(DetailSegmentPath("", "core", slot, index), relative);
      }
    }
  }
}

TEST(LayoutTest, DetailPathsSpellTheUtcDateAndTime) {
  EXPECT_EQ(DetailSegmentPath("/d", "core", At(kDay, 16, 20), 0), "/d/core/2026/11/23/1620.seg");
  EXPECT_EQ(DetailSegmentPath("/d/", "core", At(kDay, 16, 20), 2), "/d/core/2026/11/23/1620-2.seg");
  EXPECT_EQ(DetailSegmentPath("d", "edge-1", At(kLeapDay, 23, 55), 0),
            "d/edge-1/2024/02/29/2355.seg");
  EXPECT_EQ(DetailSegmentPath("d", "x", At(1'735'603'200'000, 23, 59), 0),
            "d/x/2024/12/31/2359.seg");
  EXPECT_EQ(DetailSegmentPath("d", "x", 1'735'689'600'000, 0), "d/x/2025/01/01/0000.seg");
  EXPECT_EQ(DetailSegmentPath("d", "x", -kMillisPerMinute, 0), "d/x/1969/12/31/2359.seg");
  EXPECT_EQ(DetailDayDir("d", "x", kLeapDay + kMillisPerDay - 1), "d/x/2024/02/29");
  EXPECT_EQ(RollupDayDir("d", "x", kLeapDay), "d/x/rollup/2024/02/29");
  EXPECT_EQ(DayString(kLeapDay), "2024-02-29");
  EXPECT_EQ(DayString(kLeapDay - 1), "2024-02-28");
  EXPECT_EQ(DayString(4'107'456'000'000 + kMillisPerDay), "2100-03-01");
  EXPECT_EQ(DayString(-1), "1969-12-31");
}

TEST(LayoutTest, RollupPathsRoundTripForEveryHourOfAwkwardDays) {
  for (const UnixMillis day : AwkwardDays()) {
    for (int hour = 0; hour < 24; ++hour) {
      const UnixMillis start = At(day, hour, 0);
      const std::string relative = RollupSegmentPath("", "core", start);
      const std::optional<SegmentName> name = ParseSegmentPath(relative);
      ASSERT_TRUE(name) << relative;
      EXPECT_EQ(name->kind, SegmentKind::kRollup);
      EXPECT_EQ(name->state, SegmentState::kSealed);
      EXPECT_EQ(name->source, "core");
      EXPECT_EQ(name->start, start) << relative;
      EXPECT_EQ(name->index, 0u);
      EXPECT_EQ(RollupSegmentPath("/data", "core", start), "/data/" + relative);
    }
  }
  EXPECT_EQ(RollupSegmentPath("d", "core", At(kDay, 7, 0)), "d/core/rollup/2026/11/23/07.seg");
}

TEST(LayoutTest, SummaryPathsRoundTripAndMirrorTheirDetailSegment) {
  for (const UnixMillis day : AwkwardDays()) {
    for (int minute = 0; minute < 24 * 60; minute += 35) {
      const UnixMillis start = At(day, minute / 60, minute % 60);
      for (const std::uint32_t index : {0u, 1u, 12u}) {
        const std::size_t summary = index % kSummaryDirs.size();
        const std::string relative = SummaryPath("", "core", summary, start, index);
        const std::optional<SegmentName> name = ParseSegmentPath(relative);
        ASSERT_TRUE(name) << relative;
        EXPECT_EQ(name->kind, SegmentKind::kSummary);
        EXPECT_EQ(name->summary, summary);
        EXPECT_EQ(name->state, SegmentState::kSealed);
        EXPECT_EQ(name->source, "core");
        EXPECT_EQ(name->start, start) << relative;
        EXPECT_EQ(name->index, index);
        const std::optional<SegmentName> temp = ParseSegmentPath(TempPathFor(relative));
        ASSERT_TRUE(temp);
        EXPECT_EQ(temp->kind, SegmentKind::kSummary);
        EXPECT_EQ(temp->state, SegmentState::kTemp);
      }
    }
  }
  EXPECT_EQ(SummaryPath("d", "core", 0, At(kDay, 7, 5), 0),
            "d/core/rollup/minute/2026/11/23/0705.seg");
  EXPECT_EQ(SummaryPath("d", "core", 3, At(kDay, 7, 5), 2),
            "d/core/rollup/port/2026/11/23/0705-2.seg");
  EXPECT_EQ(SummaryDayDir("d", "core", 1, At(kDay, 7, 5)), "d/core/rollup/src/2026/11/23");
  // HH.seg in a summary's directory is that summary's hour summary, not an hourly roll-up;
  // no other name stands in.
  const std::optional<SegmentName> hour = ParseSegmentPath("core/rollup/minute/2026/11/23/07.seg");
  ASSERT_TRUE(hour);
  EXPECT_EQ(hour->kind, SegmentKind::kHourSummary);
  EXPECT_FALSE(ParseSegmentPath("core/rollup/src/2026/11/23/7.seg"));
  EXPECT_FALSE(ParseSegmentPath("core/rollup/src/2026/11/23/07-1.seg"));
  EXPECT_FALSE(ParseSegmentPath("core/rollup/hourly/2026/11/23/0705.seg"));
  EXPECT_FALSE(ParseSegmentPath("core/minute/2026/11/23/0705.seg"));
}

TEST(LayoutTest, HourSummaryPathsRoundTripForEveryHourOfAwkwardDays) {
  for (const UnixMillis day : AwkwardDays()) {
    for (int hour = 0; hour < 24; ++hour) {
      const UnixMillis start = At(day, hour, 0);
      for (std::size_t summary = 0; summary < kSummaryDirs.size(); ++summary) {
        const std::string relative = HourSummaryPath("", "core", summary, start);
        const std::optional<SegmentName> name = ParseSegmentPath(relative);
        ASSERT_TRUE(name) << relative;
        EXPECT_EQ(name->kind, SegmentKind::kHourSummary);
        EXPECT_EQ(name->summary, summary);
        EXPECT_EQ(name->state, SegmentState::kSealed);
        EXPECT_EQ(name->source, "core");
        EXPECT_EQ(name->start, start) << relative;
        EXPECT_EQ(name->index, 0u);
        const std::optional<SegmentName> temp = ParseSegmentPath(TempPathFor(relative));
        ASSERT_TRUE(temp);
        EXPECT_EQ(temp->kind, SegmentKind::kHourSummary);
        EXPECT_EQ(temp->state, SegmentState::kTemp);
      }
    }
  }
  EXPECT_EQ(HourSummaryPath("d", "core", 1, At(kDay, 7, 0)), "d/core/rollup/src/2026/11/23/07.seg");
  EXPECT_FALSE(ParseSegmentPath("core/rollup/src/2026/11/23/24.seg"));
}

TEST(LayoutTest, AddressFilterPathsRoundTripAndAreNeverOpen) {
  for (const UnixMillis day : AwkwardDays()) {
    for (UnixMillis slot = day; slot < day + kMillisPerDay; slot += 5 * kMillisPerMinute) {
      for (const std::uint32_t index : {0u, 1u, 12u}) {
        const std::string relative = AddressFilterPath("", "core", slot, index);
        const std::optional<SegmentName> name = ParseSegmentPath(relative);
        ASSERT_TRUE(name) << relative;
        EXPECT_EQ(name->kind, SegmentKind::kAddressFilter);
        EXPECT_EQ(name->state, SegmentState::kSealed);
        EXPECT_EQ(name->source, "core");
        EXPECT_EQ(name->start, slot) << relative;
        EXPECT_EQ(name->index, index);
        // A filter and its detail segment name the same slot and index.
        const std::optional<SegmentName> detail =
            ParseSegmentPath(DetailSegmentPath("", "core", slot, index));
        ASSERT_TRUE(detail);
        EXPECT_EQ(detail->start, name->start);
        EXPECT_EQ(detail->index, name->index);
        const std::optional<SegmentName> temp = ParseSegmentPath(TempPathFor(relative));
        ASSERT_TRUE(temp);
        EXPECT_EQ(temp->kind, SegmentKind::kAddressFilter);
        EXPECT_EQ(temp->state, SegmentState::kTemp);
        EXPECT_FALSE(ParseSegmentPath(OpenPathFor(relative))) << "a filter is never open";
      }
    }
  }
  EXPECT_EQ(AddressFilterPath("d", "core", At(kDay, 7, 5), 0),
            "d/core/rollup/address-filter/2026/11/23/0705.flt");
  EXPECT_EQ(AddressFilterPath("d", "core", At(kDay, 7, 5), 2),
            "d/core/rollup/address-filter/2026/11/23/0705-2.flt");
  EXPECT_FALSE(ParseSegmentPath("core/rollup/address-filter/2026/11/23/0705.seg"));
  EXPECT_FALSE(ParseSegmentPath("core/rollup/address-filter/2026/11/23/07.flt"));
  EXPECT_FALSE(ParseSegmentPath("core/rollup/minute/2026/11/23/0705.flt"));
  EXPECT_FALSE(ParseSegmentPath("core/2026/11/23/0705.flt"));
}

TEST(LayoutTest, OpenAndTempNamesKeepWhatTheyNameAndSayTheirState) {
  for (const std::string& final_path : {DetailSegmentPath("", "core", At(kDay, 16, 20), 0),
                                        DetailSegmentPath("", "core", At(kLeapDay, 0, 0), 3),
                                        RollupSegmentPath("", "core", At(kDay, 23, 0))}) {
    const std::optional<SegmentName> sealed = ParseSegmentPath(final_path);
    ASSERT_TRUE(sealed) << final_path;
    EXPECT_EQ(OpenPathFor(final_path), final_path + ".open");
    EXPECT_EQ(TempPathFor(final_path), final_path + ".tmp");
    const std::optional<SegmentName> open = ParseSegmentPath(OpenPathFor(final_path));
    const std::optional<SegmentName> temp = ParseSegmentPath(TempPathFor(final_path));
    ASSERT_TRUE(open) << final_path;
    ASSERT_TRUE(temp) << final_path;
    EXPECT_EQ(open->state, SegmentState::kOpen);
    EXPECT_EQ(temp->state, SegmentState::kTemp);
    for (const SegmentName& name : {*open, *temp}) {
      EXPECT_EQ(name.source, sealed->source);
      EXPECT_EQ(name.kind, sealed->kind);
      EXPECT_EQ(name.start, sealed->start);
      EXPECT_EQ(name.index, sealed->index);
    }
  }
}

TEST(LayoutTest, RejectsNamesThatAreNotStoreFiles) {
  const std::vector<std::string> junk = {
      "",
      "core",
      "core/2026/11/23",
      "core/2026/11/23/1620",          // no suffix
      "core/2026/11/23/1620.seg.bak",  // unknown suffix
      "core/2026/11/23/1620.SEG",      // suffixes are lower case
      "core/2026/11/23/1620.open",     // .open without .seg
      "core/2026/11/23/1620.seg.tmp.open",
      "core/2026/11/23/162.seg",  // HHMM has four digits
      "core/2026/11/23/16200.seg",
      "core/2026/11/23/+620.seg",
      "core/2026/11/23/1660.seg",     // minute 60
      "core/2026/11/23/2400.seg",     // hour 24
      "core/2026/11/23/1620-0.seg",   // the first segment has no -N
      "core/2026/11/23/1620-01.seg",  // no leading zeros
      "core/2026/11/23/1620-.seg",
      "core/2026/11/23/1620-x.seg",
      "core/2026/11/23/1620--1.seg",
      "core/2026/11/23/1620-+1.seg",
      "core/2026/11/23/1620-4294967296.seg",  // does not fit 32 bits
      "core/2026/11/23/1620-1-2.seg",
      "core/2026/02/30/1620.seg",  // no such day
      "core/2025/02/29/1620.seg",  // not a leap year
      "core/2100/02/29/1620.seg",  // not a leap year either
      "core/2026/13/01/1620.seg",
      "core/2026/00/01/1620.seg",
      "core/2026/11/00/1620.seg",
      "core/2026/1/23/1620.seg",  // two-digit month
      "core/26/11/23/1620.seg",   // four-digit year
      "core/2026/11/23/extra/1620.seg",
      "core/extra/2026/11/23/1620.seg",  // only "rollup" may sit there
      "core/2026/11/23/1620.seg/x",
      ".hidden/2026/11/23/1620.seg",  // source names do not start with '.'
      "rollup/2026/11/23/1620.seg",   // "rollup" is not a source name
      "co re/2026/11/23/1620.seg",
      "core/rollup/2026/11/23/1620.seg",  // roll-ups are named HH
      "core/rollup/2026/11/23/24.seg",
      "core/rollup/2026/11/23/7.seg",
      "core/rollup/2026/11/23/07-1.seg",  // roll-ups have no -N
      "core/rollup/2026/11/23",
  };
  for (const std::string& path : junk) {
    EXPECT_FALSE(ParseSegmentPath(path)) << "'" << path << "'";
  }
}

TEST(LayoutTest, SourceNames) {
  for (const std::string_view name : {"default", "core", "edge-1", "a.b_c", "A9", "x"}) {
    EXPECT_TRUE(IsValidSourceName(name)) << name;
  }
  EXPECT_TRUE(IsValidSourceName(std::string(64, 'a')));
  EXPECT_FALSE(IsValidSourceName(std::string(65, 'a')));
  for (const std::string_view name : {"", ".", "..", ".core", "rollup", "a/b", "a b", "é"}) {
    EXPECT_FALSE(IsValidSourceName(name)) << name;
  }
  EXPECT_TRUE(IsValidSourceName(kDefaultSource));
}

TEST(LayoutTest, SlotStartAlignsToTheHourForEveryRotation) {
  // Times on both sides of the epoch, on hour and day boundaries and in between.
  std::vector<UnixMillis> times = {0,
                                   -1,
                                   kDay,
                                   kDay - 1,
                                   At(kDay, 16, 59) + 59'999,
                                   kLeapDay + kMillisPerDay - 1,
                                   -kMillisPerHour,
                                   -kMillisPerHour - 1};
  for (UnixMillis t = kDay - 3 * kMillisPerHour; t < kDay + 3 * kMillisPerHour; t += 12'347) {
    times.push_back(t);
  }
  for (UnixMillis t = -2 * kMillisPerHour; t < 2 * kMillisPerHour; t += 999'983) {
    times.push_back(t);
  }
  for (int rotation = 1; rotation <= 60; ++rotation) {
    const UnixMillis slot = rotation * kMillisPerMinute;
    for (const UnixMillis t : times) {
      const UnixMillis start = SlotStart(t, rotation);
      const UnixMillis hour = HourStart(t);
      ASSERT_LE(start, t) << "rotation " << rotation << " t " << t;
      ASSERT_EQ(HourStart(start), hour) << "rotation " << rotation << " t " << t;
      ASSERT_EQ((start - hour) % slot, 0) << "rotation " << rotation << " t " << t;
      // The slot holds t, and a slot never runs past the hour (the last one may be short
      // when the rotation does not divide 60).
      ASSERT_LT(t, std::min(start + slot, hour + kMillisPerHour))
          << "rotation " << rotation << " t " << t;
      ASSERT_EQ(SlotStart(start, rotation), start);
      ASSERT_EQ(start % kMillisPerMinute, 0);
    }
  }
  EXPECT_EQ(SlotStart(At(kDay, 16, 24) + 59'999, 5), At(kDay, 16, 20));
  EXPECT_EQ(SlotStart(At(kDay, 16, 25), 5), At(kDay, 16, 25));
  EXPECT_EQ(SlotStart(At(kDay, 16, 59), 7), At(kDay, 16, 56));
  EXPECT_EQ(SlotStart(At(kDay, 16, 59), 60), At(kDay, 16, 0));
  EXPECT_EQ(SlotStart(-1, 5), -5 * kMillisPerMinute);
  EXPECT_EQ(HourStart(-1), -kMillisPerHour);
  EXPECT_EQ(HourStart(At(kDay, 16, 59)), At(kDay, 16, 0));
}

}  // namespace
}  // namespace sluice::store
