// SPDX-License-Identifier: Apache-2.0
// Number, time and duration text as nfdump prints them: counters scaled to "1.2 M"
// unless exact numbers are asked for (-N), "2026-11-23 10:00:00.000" times, durations
// "00:00:59.000" / "35d 06:57:59.447", and ISO 8601 UTC times for JSON.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::query {

// Appends `value` in decimal (std::to_chars; no allocation beyond `out`'s growth).
void AppendUnsigned(std::string& out, std::uint64_t value);

// nfdump's scaling: below 1,000,000 the number is printed whole; from there on it is
// divided by 10^6, 10^9 or 10^12 and printed with one decimal and " M", " G" or " T"
// ("1.0 M", "954.5 M", "2.2 G"). With `exact`, always the whole number.
void AppendScaled(std::string& out, std::uint64_t value, bool exact);
std::string FormatScaled(std::uint64_t value, bool exact);

// Rates (bps, pps) are whole numbers (rounded down) before scaling, as nfdump prints them.
void AppendScaledRate(std::string& out, double value, bool exact);

// How times are shown and how time text without a zone is read: UTC, unless the TZ
// environment variable is set (then the local time of that zone, like nfdump).
bool UseLocalTime();

// "yyyy-mm-dd hh:mm:ss.mmm" (with_millis) or "yyyy-mm-dd hh:mm:ss", in UTC or local time.
void AppendDisplayTime(std::string& out, std::int64_t unix_ms, bool local_time, bool with_millis);

// "2026-11-23T10:00:00.000Z": ISO 8601, UTC, milliseconds.
void AppendIsoTime(std::string& out, std::int64_t unix_ms);
std::string FormatIsoTime(std::int64_t unix_ms);

// "hh:mm:ss.mmm", with "Nd " in front from one day on. Negative durations print as 0.
void AppendDuration(std::string& out, std::int64_t duration_ms);

// Per-second rates over `duration_ms` (0 when the duration is 0, like nfdump) and
// bytes per packet (0 without packets).
double BitsPerSecond(std::uint64_t bytes, std::int64_t duration_ms);
double PacketsPerSecond(std::uint64_t packets, std::int64_t duration_ms);
std::uint64_t BytesPerPacket(std::uint64_t bytes, std::uint64_t packets);

// nfdump's name of an IP protocol ("TCP", "UDP", "ICMP6", ...); empty when it has none.
std::string_view ProtocolName(std::uint64_t proto);

}  // namespace sluice::query
