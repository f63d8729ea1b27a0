// SPDX-License-Identifier: Apache-2.0
// SequenceTracker: turns export sequence numbers into counts of lost packets or records.

#pragma once

#include <cstdint>

namespace sluice::decode {

// One stream's sequence numbers (a v5 engine, a v9 source id, an IPFIX observation
// domain, an sFlow sub-agent). Units depend on the protocol: v5 and IPFIX number
// records, v9 and sFlow number datagrams; the caller says how far a datagram advances.
//
// RFC 7011 (and Cisco's v5) number a datagram by the records sent BEFORE it. Some
// exporters (softflowd's IPFIX among them) number it by the records sent up to and
// including it. The tracker accepts either: when a number fits the other convention
// exactly, the stream switches to it instead of counting a loss.
class SequenceTracker {
 public:
  struct Gap {
    std::uint64_t lost = 0;  // units missing before this datagram
    bool reset = false;      // the number went backwards or jumped absurdly: restarted
  };

  // `sequence` is the datagram's number, `advance` how many units it carries.
  Gap Observe(std::uint32_t sequence, std::uint32_t advance) {
    Gap gap;
    if (initialized_) {
      // Modulo 2^32, as the counters wrap.
      const std::uint32_t before = previous_sequence_ + previous_advance_;
      const std::uint32_t including = previous_sequence_ + advance;
      const std::uint32_t expected = counts_including_ ? including : before;
      if (sequence != expected) {
        if (sequence == (counts_including_ ? before : including)) {
          counts_including_ = !counts_including_;
        } else {
          const std::uint32_t ahead = sequence - expected;
          if (ahead < kMaxPlausibleGap) {
            gap.lost = ahead;
          } else {
            gap.reset = true;
          }
        }
      }
    }
    initialized_ = true;
    previous_sequence_ = sequence;
    previous_advance_ = advance;
    return gap;
  }

 private:
  // A jump forward bigger than this is treated as an exporter restart, not a loss.
  static constexpr std::uint32_t kMaxPlausibleGap = 1U << 24;

  bool initialized_ = false;
  bool counts_including_ = false;  // the stream numbers a datagram after its own records
  std::uint32_t previous_sequence_ = 0;
  std::uint32_t previous_advance_ = 0;
};

}  // namespace sluice::decode
