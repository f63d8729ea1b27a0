// SPDX-License-Identifier: Apache-2.0
// SequenceTracker: turns export sequence numbers into counts of lost packets or records.

#pragma once

#include <cstdint>

namespace sluice::decode {

// One stream's sequence numbers (a v5 engine, a v9 source id, an IPFIX observation
// domain, an sFlow sub-agent). Units depend on the protocol: v5 and IPFIX number
// records, v9 and sFlow number datagrams; the caller says how far a datagram advances.
class SequenceTracker {
 public:
  struct Gap {
    std::uint64_t lost = 0;  // units missing before this datagram
    bool reset = false;      // the number went backwards or jumped absurdly: restarted
  };

  // `sequence` is the datagram's number, `advance` how many units it carries.
  Gap Observe(std::uint32_t sequence, std::uint32_t advance) {
    Gap gap;
    if (initialized_ && sequence != expected_) {
      const std::uint32_t ahead = sequence - expected_;  // modulo 2^32
      if (ahead < kMaxPlausibleGap) {
        gap.lost = ahead;
      } else {
        gap.reset = true;
      }
    }
    initialized_ = true;
    expected_ = sequence + advance;
    return gap;
  }

 private:
  // A jump forward bigger than this is treated as an exporter restart, not a loss.
  static constexpr std::uint32_t kMaxPlausibleGap = 1U << 24;

  bool initialized_ = false;
  std::uint32_t expected_ = 0;
};

}  // namespace sluice::decode
