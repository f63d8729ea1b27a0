// SPDX-License-Identifier: Apache-2.0
// The field catalogue: every field of the normalized flow record, with the one name used
// by every output of the project (filter language, CLI columns, JSON keys, store columns).

#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace sluice::flow {

// The value type of a field as stored in a FlowBatch column.
enum class FieldType : std::uint8_t {
  kTimeMillis,  // int64, milliseconds since the Unix epoch, UTC
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kIpAddress,   // 128-bit, IPv4-mapped for IPv4
  kMacAddress,  // 48 bits in the low bytes of a uint64
  kCountry,     // ISO 3166-1 alpha-2 code in two ASCII bytes (uint16), 0 = unknown
  kString,      // text in the batch's string arena
};

// The fields, in catalogue order. Numbering is stable: new fields go at the end.
enum class FieldId : std::uint8_t {
  kTimeReceived,
  kFirst,
  kLast,
  kExporter,
  kObsDomain,
  kSamplingRate,
  kSrcAddr,
  kDstAddr,
  kSrcPort,
  kDstPort,
  kProto,
  kTcpFlags,
  kTos,
  kIcmpType,
  kIcmpCode,
  kBytes,
  kPackets,
  kInIf,
  kOutIf,
  kSrcAs,
  kDstAs,
  kSrcMask,
  kDstMask,
  kNextHop,
  kVlan,
  kSrcMac,
  kDstMac,
  kDirection,
  kFlowEndReason,
  kMplsLabel,
  kXlateSrcAddr,
  kXlateDstAddr,
  kXlateSrcPort,
  kXlateDstPort,
  kFwEvent,
  kSrcCountry,
  kDstCountry,
  kSubscriber,
  kSite,
  kApp,
  kBgpNextHop,
  kFlows,
  kReseller,
  kCir,
};

inline constexpr std::size_t kFieldCount = static_cast<std::size_t>(FieldId::kCir) + 1;

struct FieldInfo {
  FieldId id;
  std::string_view name;          // snake_case, the project-wide name
  FieldType type;
  std::optional<std::uint16_t> ipfix_ie;  // IANA IPFIX information element, where one fits
  std::string_view nfdump_alias;  // nfdump's filter/format token, empty if none
  std::string_view description;
  // The value a reader gives the field for rows of a segment written before the field
  // existed (0 for every field but `flows`, whose records each stand for one flow).
  std::uint64_t default_value = 0;
};

// All fields in FieldId order.
std::span<const FieldInfo> FieldCatalogue();

const FieldInfo& Info(FieldId id);

// Looks a field up by its catalogue name.
std::optional<FieldId> FieldByName(std::string_view name);

}  // namespace sluice::flow
