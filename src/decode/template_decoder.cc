// SPDX-License-Identifier: Apache-2.0

#include "decode/template_decoder.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "common/byte_order.h"
#include "decode/ie_map.h"
#include "flow/flow_batch.h"

namespace sluice::decode {
namespace {

using Slots = std::array<std::uint64_t, kSlotCount>;

constexpr std::size_t Idx(Slot slot) { return static_cast<std::size_t>(slot); }

// Seconds from the NTP era 0 epoch (1900-01-01) to the Unix epoch (RFC 5905).
constexpr std::uint64_t kNtpUnixOffset = 2'208'988'800;

// dateTimeMicroseconds / dateTimeNanoseconds (RFC 7011 sections 6.1.9, 6.1.10): NTP
// timestamp format, 32 bits of seconds since 1900 and 32 bits of binary fraction
// (for microseconds the low 11 bits of the fraction are to be ignored). A few exporters
// send plain Unix microseconds/nanoseconds instead; a seconds part before 1970 can only
// mean that, so such values are read as a plain count of `units_per_ms`.
std::int64_t NtpToMillis(std::uint64_t value, std::uint64_t units_per_ms) {
  const std::uint64_t seconds = value >> 32;
  if (seconds < kNtpUnixOffset) {
    return static_cast<std::int64_t>(value / units_per_ms);
  }
  const std::uint64_t fraction = value & 0xFFFF'FFFF;
  return static_cast<std::int64_t>((seconds - kNtpUnixOffset) * 1000 + ((fraction * 1000) >> 32));
}

template <typename T>
inline void Put(char* base, std::uint32_t target, std::size_t row, T value) {
  reinterpret_cast<T*>(base + target)[row] = value;
}

template <typename T>
inline T& At(char* base, std::uint32_t target, std::size_t row) {
  return reinterpret_cast<T*>(base + target)[row];
}

// Text of a string element without trailing NULs and blanks (fixed-length v9 strings
// are padded with them).
std::string_view TrimmedText(const std::uint8_t* p, std::size_t length) {
  while (length > 0 && (p[length - 1] == 0 || p[length - 1] == ' ')) {
    --length;
  }
  return {reinterpret_cast<const char*>(p), length};
}

// An unsigned field of 1..8 bytes ending at rec + op.end: the 8 bytes before that end,
// high bytes shifted out. REQUIRES: kLoadSlack readable bytes before `rec`.
inline std::uint64_t LoadTail(const std::uint8_t* rec, const IntOp& op) {
  return (LoadBe64(rec + op.end - 8) << op.shift) >> op.shift;
}

// Unset (::) or IPv4 0.0.0.0.
inline bool IsZeroAddress(const flow::IpAddress& address) {
  return address.IsUnset() || (address.IsV4() && address.V4() == 0);
}

double SlotDouble(std::uint64_t bits) { return std::bit_cast<double>(bits); }

// Applies one op of a data record. kChecked: the length comes from the record
// (variable-length field) and has not been checked against the op yet.
template <bool kChecked>
inline void ApplyDataOp(const FieldOp& op, const std::uint8_t* p, std::size_t length, char* base,
                        std::size_t row, Slots& slots, flow::FlowBatch& batch) {
  if constexpr (kChecked) {
    if (!FieldLengthFits(op.kind, length)) {
      return;
    }
  }
  switch (op.kind) {
    case OpKind::kSkip:
    case OpKind::kIfName:
    case OpKind::kIfDescription:
      break;
    case OpKind::kU8:
      Put(base, op.target, row, static_cast<std::uint8_t>(LoadBeN(p, length)));
      break;
    case OpKind::kU16:
      Put(base, op.target, row, static_cast<std::uint16_t>(LoadBeN(p, length)));
      break;
    case OpKind::kU32:
      Put(base, op.target, row, static_cast<std::uint32_t>(LoadBeN(p, length)));
      break;
    case OpKind::kU64:
      Put(base, op.target, row, LoadBeN(p, length));
      break;
    case OpKind::kIpv4:
      Put(base, op.target, row, flow::IpAddress::FromV4(LoadBe32(p)));
      break;
    case OpKind::kIpv6:
      // Templates that carry both IPv4 and IPv6 addresses send :: for the family the
      // flow does not use; it must not overwrite the other.
      if ((LoadBe64(p) | LoadBe64(p + 8)) != 0) {
        Put(base, op.target, row, flow::IpAddress::FromV6(p));
      }
      break;
    case OpKind::kIpv4NonZero: {
      // A later element of an address field (compiled_template.h, repeated elements):
      // 0.0.0.0 is written only over nothing or another zero address.
      const std::uint32_t v4 = LoadBe32(p);
      if (v4 != 0 || IsZeroAddress(At<flow::IpAddress>(base, op.target, row))) {
        Put(base, op.target, row, flow::IpAddress::FromV4(v4));
      }
      break;
    }
    case OpKind::kMac:
      Put(base, op.target, row, LoadBeN(p, 6));
      break;
    case OpKind::kSlot:
      slots[op.target] = LoadBeN(p, length);
      break;
    case OpKind::kFloatSlot:
      slots[op.target] = length == 8 ? LoadBe64(p)
                                     : std::bit_cast<std::uint64_t>(static_cast<double>(
                                           std::bit_cast<float>(LoadBe32(p))));
      break;
    case OpKind::kMplsLabel:
      // RFC 3032 label stack entry: label(20) exp(3) bottom-of-stack(1).
      Put(base, op.target, row,
          (std::uint32_t{p[0]} << 12) | (std::uint32_t{p[1]} << 4) | (std::uint32_t{p[2]} >> 4));
      break;
    case OpKind::kIcmpTypeCode: {
      flow::FlowColumns& c = batch.cols();
      c.icmp_type[row] = p[0];
      c.icmp_code[row] = p[1];
      break;
    }
    case OpKind::kApp: {
      const std::string_view text = TrimmedText(p, length);
      if (!text.empty()) {
        Put(base, op.target, row, batch.AddString(text));
      }
      break;
    }
    case OpKind::kAppId: {
      // RFC 6759: classification engine id (1 byte), then the selector id.
      if (At<flow::StringRef>(base, op.target, row).length != 0) {
        break;
      }
      const std::size_t selector_length = std::min<std::size_t>(length - 1, 8);
      std::array<char, 32> text;
      char* const text_end = text.data() + text.size();
      char* end = std::to_chars(text.data(), text_end, unsigned{p[0]}).ptr;
      *end++ = ':';
      end = std::to_chars(end, text_end, LoadBeN(p + length - selector_length, selector_length)).ptr;
      Put(base, op.target, row,
          batch.AddString(std::string_view(text.data(), static_cast<std::size_t>(end - text.data()))));
      break;
    }
  }
}

// The rate a record (data or options) announces: 1 out of N packets. 0 if none.
std::uint32_t RateFromSlots(std::uint64_t present, const Slots& slots) {
  auto has = [present](Slot slot) { return (present & SlotBit(slot)) != 0; };
  std::uint64_t rate = 0;
  if (has(Slot::kSamplingInterval) && slots[Idx(Slot::kSamplingInterval)] != 0) {
    rate = slots[Idx(Slot::kSamplingInterval)];
  } else if (has(Slot::kSamplerRandomInterval) && slots[Idx(Slot::kSamplerRandomInterval)] != 0) {
    rate = slots[Idx(Slot::kSamplerRandomInterval)];
  } else if (has(Slot::kPacketInterval) && has(Slot::kPacketSpace) &&
             slots[Idx(Slot::kPacketInterval)] != 0) {
    // RFC 5477 systematic count-based sampling: `interval` packets taken, then `space`
    // packets skipped.
    const std::uint64_t interval = slots[Idx(Slot::kPacketInterval)];
    rate = (interval + slots[Idx(Slot::kPacketSpace)]) / interval;
  } else if (has(Slot::kSamplingSize) && has(Slot::kSamplingPopulation) &&
             slots[Idx(Slot::kSamplingSize)] != 0) {
    // RFC 5477 random n-out-of-N sampling. (Cisco sends samplingPacketInterval 1 with
    // it and no space: the population/size pair is the rate.)
    rate = slots[Idx(Slot::kSamplingPopulation)] / slots[Idx(Slot::kSamplingSize)];
  } else if (has(Slot::kSamplingProbability)) {
    const double probability = SlotDouble(slots[Idx(Slot::kSamplingProbability)]);
    if (probability > 0.0 && probability <= 1.0) {
      rate = static_cast<std::uint64_t>(std::llround(1.0 / probability));
    }
  } else if (has(Slot::kPacketInterval) && slots[Idx(Slot::kPacketInterval)] != 0) {
    rate = 1;  // an interval with no space: every packet
  }
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(rate, std::numeric_limits<std::uint32_t>::max()));
}

// RFC 8158 natEvent values mapped onto fw_event (1 create, 2 delete, 3 deny, 4 alert,
// 5 update): session/BIB/binding/port-block creation -> 1, their deletion -> 2,
// exhaustion, quota and threshold events -> 4; others are left unset.
std::uint8_t NatEventToFwEvent(std::uint64_t nat_event) {
  switch (nat_event) {
    case 1:   // NAT translation create (historic)
    case 4:   // NAT44 session create
    case 6:   // NAT64 session create
    case 8:   // NAT44 BIB create
    case 10:  // NAT64 BIB create
    case 14:  // address binding create
    case 16:  // port block allocation
      return 1;
    case 2:   // NAT translation delete (historic)
    case 5:   // NAT44 session delete
    case 7:   // NAT64 session delete
    case 9:   // NAT44 BIB delete
    case 11:  // NAT64 BIB delete
    case 15:  // address binding delete
    case 17:  // port block de-allocation
      return 2;
    case 3:   // NAT addresses exhausted
    case 12:  // NAT ports exhausted
    case 13:  // quota exceeded
    case 18:  // threshold reached
      return 4;
    default:
      return 0;
  }
}

// Where a record's start (or end) time comes from, in order of preference.
enum class TimeSource : std::uint8_t {
  kNone,
  kMillis,   // 152/153
  kMicros,   // 154/155
  kNanos,    // 156/157
  kSeconds,  // 150/151
  kUptime,   // 22/21
  kDelta,    // 158/159
};

struct TimePlan {
  TimeSource start = TimeSource::kNone;
  TimeSource end = TimeSource::kNone;
};

// Chosen once per set from the slots the template writes.
TimePlan PlanTimes(std::uint64_t present) {
  auto pick = [present](Slot millis, Slot micros, Slot nanos, Slot seconds, Slot uptime,
                        Slot delta) {
    auto has = [present](Slot slot) { return (present & SlotBit(slot)) != 0; };
    if (has(millis)) return TimeSource::kMillis;
    if (has(micros)) return TimeSource::kMicros;
    if (has(nanos)) return TimeSource::kNanos;
    if (has(seconds)) return TimeSource::kSeconds;
    if (has(uptime)) return TimeSource::kUptime;
    if (has(delta)) return TimeSource::kDelta;
    return TimeSource::kNone;
  };
  TimePlan plan;
  plan.start = pick(Slot::kStartMillis, Slot::kStartMicros, Slot::kStartNanos, Slot::kStartSeconds,
                    Slot::kStartUptime, Slot::kStartDeltaMicros);
  plan.end = pick(Slot::kEndMillis, Slot::kEndMicros, Slot::kEndNanos, Slot::kEndSeconds,
                  Slot::kEndUptime, Slot::kEndDeltaMicros);
  return plan;
}

// Per data set: what every record of the set shares.
struct SetState {
  const Template* tmpl;
  const ExportHeader* header;
  std::int64_t fallback_ms;  // first/last of records that carry no time
  std::int64_t sys_init_ms;  // IPFIX: the domain's systemInitTimeMilliseconds, 0 unknown
  std::uint32_t set_rate;    // rate of records that carry no sampling information
  TimePlan times;
};

// One time from its slot. False if it cannot be known (IPFIX uptime without a system
// init time).
inline bool ResolveTime(const SetState& set, TimeSource source, std::uint64_t value,
                        std::int64_t sys_init, std::int64_t& out) {
  const ExportHeader& header = *set.header;
  switch (source) {
    case TimeSource::kNone:
      return false;
    case TimeSource::kMillis:
      out = static_cast<std::int64_t>(value);
      return true;
    case TimeSource::kMicros:
      out = NtpToMillis(value, 1000);
      return true;
    case TimeSource::kNanos:
      out = NtpToMillis(value, 1'000'000);
      return true;
    case TimeSource::kSeconds:
      out = static_cast<std::int64_t>(value) * 1000;
      return true;
    case TimeSource::kUptime:
      // v9: relative to the header's uptime at export time, wrap-safe over the 32-bit
      // uptime (RFC 3954 section 5.1). IPFIX: relative to the system init time.
      if (header.family == TemplateFamily::kNetflowV9) {
        out = header.export_ms +
              static_cast<std::int32_t>(static_cast<std::uint32_t>(value) - header.sys_uptime_ms);
        return true;
      }
      if (sys_init != 0) {
        out = sys_init + static_cast<std::int64_t>(value);
        return true;
      }
      return false;
    case TimeSource::kDelta:
      out = header.export_ms - static_cast<std::int64_t>(value / 1000);
      return true;
  }
  return false;
}

constexpr Slot StartSlot(TimeSource source) {
  switch (source) {
    case TimeSource::kMillis: return Slot::kStartMillis;
    case TimeSource::kMicros: return Slot::kStartMicros;
    case TimeSource::kNanos: return Slot::kStartNanos;
    case TimeSource::kSeconds: return Slot::kStartSeconds;
    case TimeSource::kUptime: return Slot::kStartUptime;
    case TimeSource::kDelta: return Slot::kStartDeltaMicros;
    case TimeSource::kNone: break;
  }
  return Slot::kCount;
}

constexpr Slot EndSlot(TimeSource source) {
  switch (source) {
    case TimeSource::kMillis: return Slot::kEndMillis;
    case TimeSource::kMicros: return Slot::kEndMicros;
    case TimeSource::kNanos: return Slot::kEndNanos;
    case TimeSource::kSeconds: return Slot::kEndSeconds;
    case TimeSource::kUptime: return Slot::kEndUptime;
    case TimeSource::kDelta: return Slot::kEndDeltaMicros;
    case TimeSource::kNone: break;
  }
  return Slot::kCount;
}

// Record times from whichever time elements the template carries, else the export time.
void SetTimes(const SetState& set, const Slots& slots, flow::FlowColumns& c, std::size_t row) {
  // The two layouts almost every exporter uses, without the general machinery below.
  if (set.times.start == TimeSource::kUptime && set.times.end == TimeSource::kUptime &&
      set.header->family == TemplateFamily::kNetflowV9) {
    const std::uint32_t uptime = set.header->sys_uptime_ms;
    c.first[row] = set.header->export_ms +
                   static_cast<std::int32_t>(static_cast<std::uint32_t>(slots[Idx(Slot::kStartUptime)]) - uptime);
    c.last[row] = set.header->export_ms +
                  static_cast<std::int32_t>(static_cast<std::uint32_t>(slots[Idx(Slot::kEndUptime)]) - uptime);
    return;
  }
  if (set.times.start == TimeSource::kMillis && set.times.end == TimeSource::kMillis) {
    c.first[row] = static_cast<std::int64_t>(slots[Idx(Slot::kStartMillis)]);
    c.last[row] = static_cast<std::int64_t>(slots[Idx(Slot::kEndMillis)]);
    return;
  }
  const std::uint64_t present = set.tmpl->slots;
  auto has = [present](Slot slot) { return (present & SlotBit(slot)) != 0; };
  auto value = [&slots](Slot slot) { return slots[Idx(slot)]; };
  std::int64_t sys_init = set.sys_init_ms;
  if (has(Slot::kSysInitMillis) && value(Slot::kSysInitMillis) != 0) {
    sys_init = static_cast<std::int64_t>(value(Slot::kSysInitMillis));
  }
  std::int64_t first = 0;
  std::int64_t last = 0;
  const TimePlan plan = set.times;
  bool has_first = plan.start != TimeSource::kNone &&
                   ResolveTime(set, plan.start, slots[Idx(StartSlot(plan.start))], sys_init, first);
  bool has_last = plan.end != TimeSource::kNone &&
                  ResolveTime(set, plan.end, slots[Idx(EndSlot(plan.end))], sys_init, last);
  if (has_first && has_last) {
    c.first[row] = first;
    c.last[row] = last;
    return;
  }
  // IPFIX sysUpTime without a known system init time: assume the flow ended at export
  // time and keep its duration.
  if (!has_first && !has_last && plan.end == TimeSource::kUptime) {
    last = set.header->export_ms;
    has_last = true;
    if (plan.start == TimeSource::kUptime) {
      first = last - (static_cast<std::int64_t>(value(Slot::kEndUptime)) -
                      static_cast<std::int64_t>(value(Slot::kStartUptime)));
      has_first = true;
    }
  }
  if (has_first != has_last) {
    std::int64_t duration = -1;
    if (has(Slot::kDurationMillis)) {
      duration = static_cast<std::int64_t>(value(Slot::kDurationMillis));
    } else if (has(Slot::kDurationMicros)) {
      duration = static_cast<std::int64_t>(value(Slot::kDurationMicros) / 1000);
    }
    if (has_first) {
      last = duration >= 0 ? first + duration : first;
    } else {
      first = duration >= 0 ? last - duration : last;
    }
  } else if (!has_first) {
    // Event records (NSEL) carry only an observation time.
    if (has(Slot::kObsTimeMillis)) {
      first = static_cast<std::int64_t>(value(Slot::kObsTimeMillis));
    } else if (has(Slot::kObsTimeMicros)) {
      first = NtpToMillis(value(Slot::kObsTimeMicros), 1000);
    } else if (has(Slot::kObsTimeNanos)) {
      first = NtpToMillis(value(Slot::kObsTimeNanos), 1'000'000);
    } else {
      first = set.fallback_ms;
    }
    last = first;
  }
  c.first[row] = first;
  c.last[row] = last;
}

// RFC 5103 biflow: a record with reverse counters describes two directions. The reverse
// direction becomes a record of its own, a copy of the forward one with source and
// destination swapped (addresses, ports, interfaces, masks, AS numbers, MACs,
// post-NAT addresses and ports) and bytes/packets (and TCP flags, if present) from the
// reverse elements, scaled by the same sampling rate. ICMP ports (type/code) are not
// swapped. REQUIRES: row `to` is a fresh row of the same batch as `from`.
void EmitReverse(const SetState& set, const Slots& slots, flow::FlowColumns& c, std::size_t from,
                 std::size_t to, std::uint32_t rate) {
  c.time_received[to] = c.time_received[from];
  c.first[to] = c.first[from];
  c.last[to] = c.last[from];
  c.exporter[to] = c.exporter[from];
  c.obs_domain[to] = c.obs_domain[from];
  c.sampling_rate[to] = c.sampling_rate[from];
  c.src_addr[to] = c.dst_addr[from];
  c.dst_addr[to] = c.src_addr[from];
  const bool icmp = c.proto[from] == 1 || c.proto[from] == 58;
  c.src_port[to] = icmp ? c.src_port[from] : c.dst_port[from];
  c.dst_port[to] = icmp ? c.dst_port[from] : c.src_port[from];
  c.proto[to] = c.proto[from];
  const bool has_rev_flags = (set.tmpl->slots & SlotBit(Slot::kRevTcpFlags)) != 0;
  c.tcp_flags[to] = has_rev_flags ? static_cast<std::uint8_t>(slots[Idx(Slot::kRevTcpFlags)])
                                  : c.tcp_flags[from];
  c.tos[to] = c.tos[from];
  c.icmp_type[to] = c.icmp_type[from];
  c.icmp_code[to] = c.icmp_code[from];
  const std::uint64_t present = set.tmpl->slots;
  const std::uint64_t scale = rate > 1 ? rate : 1;
  c.bytes[to] = (present & SlotBit(Slot::kRevOctets)) != 0 ? slots[Idx(Slot::kRevOctets)] * scale : 0;
  c.packets[to] =
      (present & SlotBit(Slot::kRevPackets)) != 0 ? slots[Idx(Slot::kRevPackets)] * scale : 0;
  c.in_if[to] = c.out_if[from];
  c.out_if[to] = c.in_if[from];
  c.src_as[to] = c.dst_as[from];
  c.dst_as[to] = c.src_as[from];
  c.src_mask[to] = c.dst_mask[from];
  c.dst_mask[to] = c.src_mask[from];
  c.next_hop[to] = c.next_hop[from];
  c.vlan[to] = c.vlan[from];
  c.src_mac[to] = c.dst_mac[from];
  c.dst_mac[to] = c.src_mac[from];
  c.direction[to] = c.direction[from];
  c.flow_end_reason[to] = c.flow_end_reason[from];
  c.mpls_label[to] = c.mpls_label[from];
  c.xlate_src_addr[to] = c.xlate_dst_addr[from];
  c.xlate_dst_addr[to] = c.xlate_src_addr[from];
  c.xlate_src_port[to] = c.xlate_dst_port[from];
  c.xlate_dst_port[to] = c.xlate_src_port[from];
  c.fw_event[to] = c.fw_event[from];
  c.src_country[to] = c.dst_country[from];
  c.dst_country[to] = c.src_country[from];
  c.subscriber[to] = c.subscriber[from];
  c.site[to] = c.site[from];
  c.reseller[to] = c.reseller[from];
  c.cir[to] = c.cir[from];
  c.app[to] = c.app[from];
  c.bgp_next_hop[to] = c.bgp_next_hop[from];
}

// Everything after the ops of one flow record: slots, sampling, shared fields, biflow.
// Returns the records emitted (1 or 2).
inline std::uint32_t FinishFlow(DecodeContext& ctx, const SetState& set, const Slots& slots,
                         std::size_t row) {
  const Template& tmpl = *set.tmpl;
  flow::FlowColumns& c = ctx.out.cols();
  std::uint32_t rate = set.set_rate;
  if (tmpl.slots != 0) {
    if (tmpl.has_time) {
      SetTimes(set, slots, c, row);
    } else {
      c.first[row] = set.fallback_ms;
      c.last[row] = set.fallback_ms;
    }
    if ((tmpl.slots & SlotBit(Slot::kNatEvent)) != 0 && c.fw_event[row] == 0) {
      c.fw_event[row] = NatEventToFwEvent(slots[Idx(Slot::kNatEvent)]);
    }
    if (tmpl.has_record_sampling) {
      std::optional<std::uint32_t> sampler_id;
      if ((tmpl.slots & SlotBit(Slot::kSamplerId)) != 0) {
        sampler_id = static_cast<std::uint32_t>(slots[Idx(Slot::kSamplerId)]);
      } else if ((tmpl.slots & SlotBit(Slot::kSelectorId)) != 0) {
        sampler_id = static_cast<std::uint32_t>(slots[Idx(Slot::kSelectorId)]);
      }
      rate = ResolveRate(ctx.override_rate, RateFromSlots(tmpl.slots, slots),
                         ctx.exporter.samplers.Lookup(set.header->domain, sampler_id));
    }
  } else {
    c.first[row] = set.fallback_ms;
    c.last[row] = set.fallback_ms;
  }
  FinishRecord(ctx, row, set.header->domain, rate, tmpl.has_icmp_type);
  if (tmpl.has_reverse && (slots[Idx(Slot::kRevOctets)] != 0 || slots[Idx(Slot::kRevPackets)] != 0)) {
    // The caller made room for two rows, so this never flushes `row` away.
    const std::size_t reverse_row = ctx.out.NewRow();
    EmitReverse(set, slots, c, row, reverse_row, rate);
    return 2;
  }
  return 1;
}

// Room for the record (and its reverse twin) in the current batch.
std::size_t NewFlowRow(DecodeContext& ctx, const Template& tmpl) {
  if (tmpl.has_reverse && ctx.out.batch().size() + 2 > flow::FlowBatch::kCapacity) {
    ctx.out.Flush();
  }
  return ctx.out.NewRow();
}

// Reads the length of a variable-length field at `pos` (RFC 7011 section 7: one byte,
// or 255 followed by a two-byte length). Advances `pos`. False if it runs past `end`.
inline bool ReadVariableLength(const std::uint8_t* data, std::size_t& pos, std::size_t end,
                               std::size_t& length) {
  if (pos >= end) {
    return false;
  }
  length = data[pos++];
  if (length == 255) {
    if (end - pos < 2) {
      return false;
    }
    length = LoadBe16(data + pos);
    pos += 2;
  }
  return true;
}

// Decodes the flow records of a data set. Returns the records of the set (biflows
// once); `emitted` gets the rows appended.
std::uint32_t DecodeFlowRecords(DecodeContext& ctx, const SetState& set,
                                std::span<const std::uint8_t> body, std::size_t offset,
                                SoftErrors& errors, std::uint64_t& emitted) {
  const Template& tmpl = *set.tmpl;
  const std::uint8_t* data = body.data();
  const std::size_t end = body.size();
  std::size_t pos = 0;
  std::uint32_t records = 0;
  Slots slots{};
  if (!tmpl.variable_length) {
    const std::size_t record_length = tmpl.record_length;
    if (record_length == 0) {
      return 0;  // fields of length 0 only: nothing to decode, and no progress possible
    }
    for (; end - pos >= record_length; pos += record_length) {
      const std::uint8_t* rec = data + pos;
      const std::size_t row = NewFlowRow(ctx, tmpl);
      char* base = reinterpret_cast<char*>(&ctx.out.cols());
      for (const IntOp& op : tmpl.u8_ops) {
        Put(base, op.target, row, static_cast<std::uint8_t>(LoadTail(rec, op)));
      }
      for (const IntOp& op : tmpl.u16_ops) {
        Put(base, op.target, row, static_cast<std::uint16_t>(LoadTail(rec, op)));
      }
      for (const IntOp& op : tmpl.u32_ops) {
        Put(base, op.target, row, static_cast<std::uint32_t>(LoadTail(rec, op)));
      }
      for (const IntOp& op : tmpl.u64_ops) {
        Put(base, op.target, row, LoadTail(rec, op));
      }
      for (const IntOp& op : tmpl.slot_ops) {
        slots[op.target] = LoadTail(rec, op);
      }
      for (const FieldOp& op : tmpl.ipv4_ops) {
        Put(base, op.target, row, flow::IpAddress::FromV4(LoadBe32(rec + op.offset)));
      }
      for (const FieldOp& op : tmpl.ipv6_ops) {
        // :: is "this family is not used" in templates that carry both families.
        const std::uint8_t* p = rec + op.offset;
        if ((LoadBe64(p) | LoadBe64(p + 8)) != 0) {
          Put(base, op.target, row, flow::IpAddress::FromV6(p));
        }
      }
      for (const FieldOp& op : tmpl.other_ops) {
        ApplyDataOp<false>(op, rec + op.offset, op.length, base, row, slots, ctx.out.batch());
      }
      emitted += FinishFlow(ctx, set, slots, row);
      ++records;
    }
    return records;
  }
  while (end - pos >= tmpl.record_length && !AllZero(body.subspan(pos))) {
    const std::size_t row = NewFlowRow(ctx, tmpl);
    char* base = reinterpret_cast<char*>(&ctx.out.cols());
    const std::size_t record_start = pos;
    bool ok = true;
    for (const FieldOp& op : tmpl.ops) {
      std::size_t length = op.length;
      if (length == kVariableLength && !ReadVariableLength(data, pos, end, length)) {
        ok = false;
        break;
      }
      if (end - pos < length) {
        ok = false;
        break;
      }
      if (op.kind != OpKind::kSkip) {
        ApplyDataOp<true>(op, data + pos, length, base, row, slots, ctx.out.batch());
      }
      pos += length;
    }
    if (!ok) {
      ctx.out.DiscardRow();
      errors.Add(DecodeErrorKind::kTruncated, offset + record_start);
      break;
    }
    emitted += FinishFlow(ctx, set, slots, row);
    ++records;
  }
  return records;
}

// Options record values beyond the slots.
struct OptionStrings {
  std::string_view if_name;
  std::string_view if_description;
};

inline void ApplyOptionOp(const FieldOp& op, const std::uint8_t* p, std::size_t length,
                          Slots& slots, OptionStrings& strings) {
  if (!FieldLengthFits(op.kind, length)) {
    return;
  }
  switch (op.kind) {
    case OpKind::kSlot:
      slots[op.target] = LoadBeN(p, length);
      break;
    case OpKind::kFloatSlot:
      slots[op.target] = length == 8 ? LoadBe64(p)
                                     : std::bit_cast<std::uint64_t>(static_cast<double>(
                                           std::bit_cast<float>(LoadBe32(p))));
      break;
    case OpKind::kIfName:
      strings.if_name = TrimmedText(p, length);
      break;
    case OpKind::kIfDescription:
      strings.if_description = TrimmedText(p, length);
      break;
    default:
      break;
  }
}

// What an options record teaches: interface names (scope ifIndex), sampler rates (per
// sampler/selector id, 0 = the domain default), the system init time.
void ApplyOptionsRecord(DecodeContext& ctx, const SetState& set, const Slots& slots,
                        const OptionStrings& strings) {
  const Template& tmpl = *set.tmpl;
  const std::uint64_t present = tmpl.slots;
  auto has = [present](Slot slot) { return (present & SlotBit(slot)) != 0; };
  const std::uint32_t domain = set.header->domain;
  ++ctx.exporter.counters.option_records;
  if (has(Slot::kIfIndex) && (!strings.if_name.empty() || !strings.if_description.empty())) {
    InterfaceInfo* info =
        ctx.exporter.interfaces.FindOrAdd(static_cast<std::uint32_t>(slots[Idx(Slot::kIfIndex)]));
    if (info != nullptr) {
      if (!strings.if_name.empty()) {
        info->name.assign(strings.if_name);
      }
      if (!strings.if_description.empty()) {
        info->description.assign(strings.if_description);
      }
    }
  }
  if (tmpl.has_record_sampling) {
    const std::uint32_t rate = RateFromSlots(present, slots);
    if (rate != 0) {
      std::uint32_t sampler_id = 0;
      if (has(Slot::kSamplerId)) {
        sampler_id = static_cast<std::uint32_t>(slots[Idx(Slot::kSamplerId)]);
      } else if (has(Slot::kSelectorId)) {
        sampler_id = static_cast<std::uint32_t>(slots[Idx(Slot::kSelectorId)]);
      }
      if (!ctx.exporter.samplers.Set(domain, sampler_id, rate)) {
        ++ctx.exporter.counters.samplers_refused;
      }
    }
  }
  if (has(Slot::kSysInitMillis) && set.header->family == TemplateFamily::kIpfix &&
      slots[Idx(Slot::kSysInitMillis)] != 0) {
    ctx.exporter.templates.SetSystemInit(domain,
                                         static_cast<std::int64_t>(slots[Idx(Slot::kSysInitMillis)]));
  }
}

std::uint32_t DecodeOptionsRecords(DecodeContext& ctx, const SetState& set,
                                   std::span<const std::uint8_t> body, std::size_t offset,
                                   SoftErrors& errors) {
  const Template& tmpl = *set.tmpl;
  const std::uint8_t* data = body.data();
  const std::size_t end = body.size();
  std::size_t pos = 0;
  std::uint32_t records = 0;
  if (tmpl.record_length == 0) {
    return 0;
  }
  Slots slots{};
  while (end - pos >= tmpl.record_length) {
    if (tmpl.variable_length && AllZero(body.subspan(pos))) {
      break;
    }
    OptionStrings strings;
    if (!tmpl.variable_length) {
      for (const FieldOp& op : tmpl.ops) {
        ApplyOptionOp(op, data + pos + op.offset, op.length, slots, strings);
      }
      pos += tmpl.record_length;
    } else {
      const std::size_t record_start = pos;
      bool ok = true;
      for (const FieldOp& op : tmpl.ops) {
        std::size_t length = op.length;
        if ((length == kVariableLength && !ReadVariableLength(data, pos, end, length)) ||
            end - pos < length) {
          ok = false;
          break;
        }
        ApplyOptionOp(op, data + pos, length, slots, strings);
        pos += length;
      }
      if (!ok) {
        errors.Add(DecodeErrorKind::kTruncated, offset + record_start);
        break;
      }
    }
    ApplyOptionsRecord(ctx, set, slots, strings);
    ++records;
  }
  return records;
}

std::uint32_t DecodeWithTemplate(DecodeContext& ctx, const Template& tmpl,
                                 const ExportHeader& header, std::span<const std::uint8_t> body,
                                 std::size_t offset, SoftErrors& errors) {
  SetState set{&tmpl, &header, header.export_ms != 0 ? header.export_ms : ctx.datagram.time_received,
               0, 1, PlanTimes(tmpl.slots)};
  if (tmpl.is_options) {
    return DecodeOptionsRecords(ctx, set, body, offset, errors);
  }
  if (!tmpl.has_record_sampling) {
    set.set_rate = ResolveRate(ctx.override_rate, 0,
                               ctx.exporter.samplers.Lookup(header.domain, std::nullopt));
  }
  if (header.family == TemplateFamily::kIpfix &&
      (tmpl.slots & (SlotBit(Slot::kStartUptime) | SlotBit(Slot::kEndUptime))) != 0) {
    set.sys_init_ms = ctx.exporter.templates.SystemInit(header.domain);
  }
  std::uint64_t emitted = 0;
  const std::uint32_t records = DecodeFlowRecords(ctx, set, body, offset, errors, emitted);
  ctx.exporter.counters.records += emitted;
  return records;
}

}  // namespace

bool AllZero(std::span<const std::uint8_t> bytes) {
  for (const std::uint8_t byte : bytes) {
    if (byte != 0) {
      return false;
    }
  }
  return true;
}

void AcceptTemplate(DecodeContext& ctx, Template tmpl, std::size_t offset, SoftErrors& errors) {
  ExporterCounters& counters = ctx.exporter.counters;
  TemplateCache& cache = ctx.exporter.templates;
  tmpl.last_seen = ctx.datagram.time_received;
  const TemplateFamily family = tmpl.family;
  const std::uint32_t domain = tmpl.domain;
  const std::uint16_t id = tmpl.id;
  const TemplateCache::AddOutcome outcome = cache.Add(std::move(tmpl));
  if (outcome.result == TemplateCache::AddResult::kRefused) {
    ++counters.templates_refused;
    errors.Add(outcome.error, offset);
    return;
  }
  ++counters.templates_received;
  if (cache.pending_sets() == 0) {
    return;
  }
  for (const PendingSet& held : cache.TakePending(family, domain, id)) {
    const Template* current = cache.Find(family, domain, id);
    if (current == nullptr) {
      break;
    }
    const std::span<const std::uint8_t> held_body = std::span(held.body).subspan(kLoadSlack);
    flow::Datagram datagram = ctx.datagram;
    datagram.time_received = held.time_received;
    datagram.payload = held_body;
    DecodeContext held_ctx{datagram, ctx.exporter, ctx.options, ctx.out, ctx.override_rate};
    (void)DecodeWithTemplate(held_ctx, *current, held.header, held_body, offset, errors);
    ++counters.pending_sets_decoded;
  }
}

std::uint32_t DecodeDataSet(DecodeContext& ctx, const ExportHeader& header,
                            std::uint16_t template_id, std::span<const std::uint8_t> body,
                            std::size_t offset, SoftErrors& errors) {
  const Template* tmpl = ctx.exporter.templates.Find(header.family, header.domain, template_id);
  if (tmpl != nullptr) {
    return DecodeWithTemplate(ctx, *tmpl, header, body, offset, errors);
  }
  ++ctx.exporter.counters.sets_without_template;
  PendingSet held;
  held.header = header;
  held.template_id = template_id;
  held.time_received = ctx.datagram.time_received;
  held.body.assign(kLoadSlack, 0);
  held.body.insert(held.body.end(), body.begin(), body.end());
  ctx.exporter.counters.pending_sets_dropped += ctx.exporter.templates.HoldPending(std::move(held));
  return 0;
}

}  // namespace sluice::decode
