// SPDX-License-Identifier: Apache-2.0
// Layout: where the store keeps its files under the data directory, and how a path is
// read back into what it holds. The one place that knows the directory scheme:
//
//   DATA/<source>/YYYY/MM/DD/HHMM.seg        a sealed detail segment of the rotation slot
//                                            that starts at YYYY-MM-DD HH:MM UTC
//   DATA/<source>/YYYY/MM/DD/HHMM-N.seg      another segment of the same slot (N >= 1:
//                                            the collector restarted within the slot)
//   DATA/<source>/YYYY/MM/DD/HHMM[-N].seg.open   the segment being written (no footer yet;
//                                            recovered at the next start)
//   DATA/<source>/rollup/YYYY/MM/DD/HH.seg   the hourly roll-up of hour HH:00 UTC
//   DATA/<source>/rollup/<summary>/YYYY/MM/DD/HHMM[-N].seg
//                                            a summary of the detail segment of the same
//                                            name: <summary> is one of kSummaryDirs
//                                            (what each holds: store/rollup.h)
//   DATA/<source>/rollup/<summary>/YYYY/MM/DD/HH.seg
//                                            the hour summary: the merge of that summary
//                                            of every detail segment of hour HH:00 UTC
//                                            (only for kHourSummaries, store/rollup.h)
//   DATA/<source>/rollup/address-filter/YYYY/MM/DD/HHMM[-N].flt
//                                            the address filters of the blocks of the
//                                            detail segment of the same name
//                                            (store/address_filter.h)
//   DATA/<source>/.../<name>.tmp             a file being sealed (temporary; removed at
//                                            the next start)
//
// Slots are placed by the time the collector received the flows (UTC), like nfcapd.

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace sluice::store {

inline constexpr std::string_view kDefaultSource = "default";
inline constexpr std::string_view kRollupDir = "rollup";
// The summaries of a detail segment, each in its directory under kRollupDir; a
// SegmentName's `summary` is an index into this list.
inline constexpr std::array<std::string_view, 6> kSummaryDirs = {"minute", "src", "dst", "port",
                                                                  "port-slot", "src-port-slot"};
inline constexpr std::string_view kAddressFilterDir = "address-filter";
inline constexpr std::string_view kSegmentSuffix = ".seg";
inline constexpr std::string_view kAddressFilterSuffix = ".flt";
inline constexpr std::string_view kOpenSuffix = ".open";
inline constexpr std::string_view kTempSuffix = ".tmp";

inline constexpr UnixMillis kMillisPerMinute = 60'000;
inline constexpr UnixMillis kMillisPerHour = 3'600'000;
inline constexpr UnixMillis kMillisPerDay = 86'400'000;

enum class SegmentKind : std::uint8_t {
  kDetail,  // every flow of one rotation slot
  kRollup,  // hourly aggregates
  kSummary,  // a summary of one detail segment (same start and index): see `summary`
  kHourSummary,  // summary `summary` of every detail segment of one hour (start = the hour)
  kAddressFilter,  // the address filters of one detail segment's blocks (same start and index)
};

enum class SegmentState : std::uint8_t {
  kSealed,  // finished: footer written, renamed to its final name
  kOpen,    // being written, or left footer-less by a crash
  kTemp,    // half-sealed; never read
};

// What a store path says about the file it names.
struct SegmentName {
  std::string source;
  SegmentKind kind = SegmentKind::kDetail;
  SegmentState state = SegmentState::kSealed;
  UnixMillis start = 0;     // slot (or hour) start, UTC
  std::uint32_t index = 0;  // the -N of HHMM-N.seg; 0 for the first segment of a slot
  std::size_t summary = 0;  // kSummary, kHourSummary: its index in kSummaryDirs
};

// True if `name` can be a source's directory name: 1 to 64 of [A-Za-z0-9_.-], not
// starting with '.', and not "rollup".
bool IsValidSourceName(std::string_view name);

// The start of the rotation slot of `rotation_minutes` (1..60; slots are aligned to the
// hour, like nfcapd's) that holds `t`.
UnixMillis SlotStart(UnixMillis t, int rotation_minutes);

// The start of the hour that holds `t`.
UnixMillis HourStart(UnixMillis t);

// "DATA/<source>/YYYY/MM/DD" for detail segments of the day holding `t`.
std::string DetailDayDir(std::string_view data_dir, std::string_view source, UnixMillis t);

// "DATA/<source>/rollup/YYYY/MM/DD" for roll-ups of the day holding `t`.
std::string RollupDayDir(std::string_view data_dir, std::string_view source, UnixMillis t);

// The final path of detail segment `index` of the slot starting at `slot_start`.
std::string DetailSegmentPath(std::string_view data_dir, std::string_view source,
                              UnixMillis slot_start, std::uint32_t index);

// The final path of the roll-up of the hour starting at `hour_start`.
std::string RollupSegmentPath(std::string_view data_dir, std::string_view source,
                              UnixMillis hour_start);

// "DATA/<source>/rollup/<kSummaryDirs[summary]>/YYYY/MM/DD" for those summaries of the
// day holding `t`. REQUIRES: summary < kSummaryDirs.size().
std::string SummaryDayDir(std::string_view data_dir, std::string_view source, std::size_t summary,
                          UnixMillis t);

// The final path of summary `summary` of detail segment `index` of the slot starting at
// `slot_start`.
std::string SummaryPath(std::string_view data_dir, std::string_view source, std::size_t summary,
                        UnixMillis slot_start, std::uint32_t index);

// The final path of the hour summary `summary` of the hour starting at `hour_start`.
std::string HourSummaryPath(std::string_view data_dir, std::string_view source, std::size_t summary,
                            UnixMillis hour_start);

// "DATA/<source>/rollup/address-filter/YYYY/MM/DD" for the address filters of the day
// holding `t`.
std::string AddressFilterDayDir(std::string_view data_dir, std::string_view source, UnixMillis t);

// The final path of the address filters of detail segment `index` of the slot starting
// at `slot_start`.
std::string AddressFilterPath(std::string_view data_dir, std::string_view source,
                              UnixMillis slot_start, std::uint32_t index);

// `final_path` + ".open" / ".tmp".
std::string OpenPathFor(std::string_view final_path);
std::string TempPathFor(std::string_view final_path);

// Parses a path relative to the data directory ("core/2026/11/23/1620.seg",
// "core/rollup/2026/11/23/16.seg", "core/rollup/src/2026/11/23/1620.seg",
// "core/rollup/src/2026/11/23/16.seg", "core/rollup/address-filter/2026/11/23/1620.flt",
// ...). nullopt for anything that is not a store file.
std::optional<SegmentName> ParseSegmentPath(std::string_view relative_path);

// Parses exactly `digits` decimal digits (the YYYY, MM, DD, HHMM parts of store paths).
std::optional<int> ParseDigits(std::string_view text, std::size_t digits);

// "2026-11-23" for the day holding `t` (UTC).
std::string DayString(UnixMillis t);

}  // namespace sluice::store
