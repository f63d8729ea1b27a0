// SPDX-License-Identifier: Apache-2.0
// DecodeError: why a datagram (or part of one) could not be decoded. Small and
// allocation-free: decoders return it, the exporter's counters count it by kind.

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::decode {

enum class DecodeErrorKind : std::uint8_t {
  kTruncated,            // a header, set or record runs past the end of the datagram
  kBadVersion,           // the version field names no protocol we decode
  kBadLength,            // a length field is impossible (zero, shorter than its header)
  kBadCount,             // a record count is impossible for the datagram's size
  kBadTemplate,          // a template record is malformed (zero fields, bad lengths)
  kTooManyFields,        // a template has more fields than the configured limit
  kTooManyTemplates,     // the exporter's template table is full
  kTooManyExporters,     // the exporter table is full; the datagram is not decoded
  kBadSetId,             // a set id is reserved (2..255 in IPFIX, 2..255 in v9)
  kUnsupportedFormat,    // a well-formed structure we do not decode (sFlow format, ...)
  kBadRecord,            // a record's content is impossible (bad address length, ...)
};

inline constexpr std::size_t kDecodeErrorKindCount =
    static_cast<std::size_t>(DecodeErrorKind::kBadRecord) + 1;

// Stable snake_case names used in counters, JSON and metrics.
inline std::string_view Name(DecodeErrorKind kind) {
  static constexpr std::array<std::string_view, kDecodeErrorKindCount> kNames{
      "truncated",     "bad_version",         "bad_length",        "bad_count",
      "bad_template",  "too_many_fields",     "too_many_templates", "too_many_exporters",
      "bad_set_id",    "unsupported_format",  "bad_record"};
  return kNames[static_cast<std::size_t>(kind)];
}

struct DecodeError {
  DecodeErrorKind kind;
  std::uint32_t byte_offset;  // where in the datagram the problem was found
};

}  // namespace sluice::decode
