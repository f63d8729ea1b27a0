// SPDX-License-Identifier: Apache-2.0
// Template: one NetFlow v9 (RFC 3954 section 5.2/6.1) or IPFIX (RFC 7011 section 3.4)
// template as announced, plus its compiled form: per field, where it sits in a record
// and what to do with it (write a FlowBatch column, or keep it in a scratch slot for the
// few fields that need a second look, such as times and sampling). Compiling happens
// once per template; decoding a data record then walks the op list with no lookups.

#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/clock.h"

namespace sluice::decode {

// Which protocol a template belongs to. v9 and IPFIX templates of one exporter live in
// one cache but never meet: the family is part of the key.
enum class TemplateFamily : std::uint8_t {
  kNetflowV9 = 0,
  kIpfix = 1,
};

// Field length that announces a variable-length field (RFC 7011 section 7; some v9
// exporters, e.g. H3C, use it the same way).
inline constexpr std::uint16_t kVariableLength = 0xFFFF;

// RFC 5103 section 6.1: the enterprise number of reverse information elements.
inline constexpr std::uint32_t kReversePen = 29305;

// Readable bytes the decoder guarantees before every data set body it decodes (message
// and set headers, or the zero prefix of a held set), so fixed-length fields can be
// loaded as the 8 bytes that end where the field ends.
inline constexpr std::size_t kLoadSlack = 8;

// One field specifier as announced: IE number (enterprise bit cleared), length, PEN (0
// for IANA elements and for every v9 field).
struct FieldSpec {
  std::uint16_t ie = 0;
  std::uint16_t length = 0;
  std::uint32_t pen = 0;

  friend bool operator==(const FieldSpec&, const FieldSpec&) = default;
};

// Values kept aside while a record is decoded, read by the post-processing step.
enum class Slot : std::uint8_t {
  // Times.
  kStartUptime,       // 22 flowStartSysUpTime / v9 FIRST_SWITCHED
  kEndUptime,         // 21 flowEndSysUpTime / v9 LAST_SWITCHED
  kStartSeconds,      // 150
  kEndSeconds,        // 151
  kStartMillis,       // 152
  kEndMillis,         // 153
  kStartMicros,       // 154 (NTP format)
  kEndMicros,         // 155
  kStartNanos,        // 156 (NTP format)
  kEndNanos,          // 157
  kStartDeltaMicros,  // 158
  kEndDeltaMicros,    // 159
  kSysInitMillis,     // 160 systemInitTimeMilliseconds
  kDurationMillis,    // 161
  kDurationMicros,    // 162
  kObsTimeMillis,     // 323 observationTimeMilliseconds (NSEL event time)
  kObsTimeMicros,     // 324 (NTP format)
  kObsTimeNanos,      // 325 (NTP format)
  // RFC 5103 reverse counters (PEN 29305): delta, else total.
  kRevOctets,         // reverseOctetDeltaCount / reverseOctetTotalCount
  kRevPackets,        // reversePacketDeltaCount / reversePacketTotalCount
  kRevTcpFlags,       // reverseTcpControlBits
  // Sampling.
  kSamplingInterval,        // 34
  kSamplingAlgorithm,       // 35
  kSamplerId,               // 48
  kSamplerMode,             // 49
  kSamplerRandomInterval,   // 50
  kSelectorId,              // 302
  kPacketInterval,          // 305
  kPacketSpace,             // 306
  kSamplingSize,            // 309
  kSamplingPopulation,      // 310
  kSamplingProbability,     // 311 (float64 bits)
  // Events and options scope.
  kNatEvent,      // 230 (mapped to fw_event when no firewall event is present)
  kIfIndex,       // options scope: 10 ingressInterface, v9 scope type 2 (interface)
  kCount,
};

inline constexpr std::size_t kSlotCount = static_cast<std::size_t>(Slot::kCount);
static_assert(kSlotCount <= 64, "slots are tracked in a 64-bit mask");

constexpr std::uint64_t SlotBit(Slot slot) { return std::uint64_t{1} << static_cast<unsigned>(slot); }

// What to do with one field.
enum class OpKind : std::uint8_t {
  kSkip,          // walk over it (only listed in variable-length templates)
  kU8,            // unsigned, any length 1..8 (RFC 7011 6.2), into a uint8 column
  kU16,           // ... uint16 column
  kU32,           // ... uint32 column
  kU64,           // ... uint64 column
  kIpv4,          // 4 bytes into an IpAddress column
  kIpv6,          // 16 bytes into an IpAddress column, unless all-zero
  kIpv4NonZero,   // kIpv4 for a later element of the same field: 0.0.0.0 never
                  // overrides a non-zero address written by an earlier one
  kMac,           // 6 bytes into a MAC (uint64) column
  kSlot,          // unsigned, 1..8 bytes, into a slot
  kFloatSlot,     // float64 or float32 into a slot (as float64 bits)
  kMplsLabel,     // 70: top 20 bits of the first 3 bytes (RFC 3032 label stack entry)
  kIcmpTypeCode,  // 32/139: type in the first byte, code in the second
  kApp,           // 96 applicationName: string into the app column
  kAppId,         // 95 applicationId: "engine:selector" into app unless a name is set
  kIfName,        // 82 interfaceName (options records only)
  kIfDescription, // 83 interfaceDescription (options records only)
};

struct FieldOp {
  std::uint32_t target = 0;  // byte offset of the column in FlowColumns, or the Slot
  std::uint16_t offset = 0;  // byte offset in the record (fixed-length templates)
  std::uint16_t length = 0;  // wire length, kVariableLength for variable-length fields
  OpKind kind = OpKind::kSkip;
};

// An unsigned field of a fixed-length template, read branch-free: the 8 bytes that end
// where the field ends are loaded and the bytes before the field shifted out. (The
// decoder guarantees 7 readable bytes before every data set body.)
struct IntOp {
  std::uint32_t target = 0;  // column byte offset in FlowColumns, or the Slot
  std::uint16_t end = 0;     // offset of the byte after the field in the record
  std::uint8_t shift = 0;    // 64 - 8 * length
};

struct Template {
  // As announced.
  TemplateFamily family = TemplateFamily::kIpfix;
  std::uint32_t domain = 0;  // v9 source id or IPFIX observation domain id
  std::uint16_t id = 0;
  bool is_options = false;
  std::uint16_t scope_count = 0;  // options templates: the first scope_count fields
  std::vector<FieldSpec> fields;
  UnixMillis last_seen = 0;  // time_received of the last (re)announcement

  // Compiled (CompileTemplate()).
  // Fixed-length templates: only the fields that map to something, with offsets.
  // Variable-length templates: every field in order (kSkip for unmapped ones).
  std::vector<FieldOp> ops;
  // Repeated elements (several fields of the template map to the same record field,
  // e.g. the outer and inner addresses of Cisco SRv6 templates, or IPv4 and IPv6
  // alternatives): the last one in template order wins, except that an all-zero
  // address never overrides a non-zero one. Resolved by CompileTemplate(): the earlier
  // duplicates of a non-address field are dropped from `ops` (kSkip in variable-length
  // templates), so each such field has one op; the address ops of a field with several
  // stay, in template order, the later ones kIpv4NonZero/kIpv6.
  //
  // Fixed-length templates also have the ops grouped by what they do, so the record
  // loop runs a few tight loops instead of one branch per field. Every record field is
  // written by one op, except the address fields with several elements: their ops all
  // go to other_ops, in template order. (ICMP type/code (32/139) is compiled into two
  // u8 ops there, so that it resolves against icmpType/icmpCode elements like any other
  // field.)
  std::vector<IntOp> u8_ops;
  std::vector<IntOp> u16_ops;
  std::vector<IntOp> u32_ops;
  std::vector<IntOp> u64_ops;   // includes MAC addresses (6 bytes)
  std::vector<IntOp> slot_ops;
  std::vector<FieldOp> ipv4_ops;
  std::vector<FieldOp> ipv6_ops;
  std::vector<FieldOp> other_ops;  // floats, MPLS, strings, repeated address fields
  std::uint32_t record_length = 0;  // fixed length; for variable ones the minimum
  bool variable_length = false;
  std::uint64_t slots = 0;          // SlotBit() of every slot an op writes
  bool has_time = false;            // writes some time slot
  bool has_reverse = false;         // RFC 5103 reverse counters: may emit a 2nd record
  bool has_record_sampling = false; // carries a sampling rate or sampler id per record
  bool has_icmp_type = false;       // maps an ICMP type/code element (32, 139, 176-179)
};

// What a data set needs from its message header to be decoded (now or, held while its
// template is unknown, later).
struct ExportHeader {
  TemplateFamily family = TemplateFamily::kIpfix;
  std::uint32_t domain = 0;         // v9 source id / IPFIX observation domain id
  std::int64_t export_ms = 0;       // export time (unix_secs * 1000)
  std::uint32_t sys_uptime_ms = 0;  // v9 only: the exporter's uptime at export
};

}  // namespace sluice::decode
