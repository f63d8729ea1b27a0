// SPDX-License-Identifier: Apache-2.0
// InterfaceTable: what an exporter told us about its interfaces: names and descriptions
// from v9/IPFIX options data, and counters from sFlow counter samples.

#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/clock.h"

namespace sluice::decode {

// Generic interface counters (sFlow counters_sample format 1, RFC 2863 ifTable).
struct InterfaceCounters {
  std::uint64_t speed_bps = 0;
  std::uint32_t if_type = 0;
  std::uint32_t direction = 0;  // 0 unknown, 1 full duplex, 2 half, 3 in, 4 out
  std::uint32_t status = 0;     // bit 0 admin up, bit 1 oper up
  std::uint64_t in_octets = 0;
  std::uint32_t in_ucast_pkts = 0;
  std::uint32_t in_multicast_pkts = 0;
  std::uint32_t in_broadcast_pkts = 0;
  std::uint32_t in_discards = 0;
  std::uint32_t in_errors = 0;
  std::uint32_t in_unknown_protos = 0;
  std::uint64_t out_octets = 0;
  std::uint32_t out_ucast_pkts = 0;
  std::uint32_t out_multicast_pkts = 0;
  std::uint32_t out_broadcast_pkts = 0;
  std::uint32_t out_discards = 0;
  std::uint32_t out_errors = 0;
  std::uint32_t promiscuous_mode = 0;
};

struct InterfaceInfo {
  std::string name;         // ifName (IE 82) or sFlow/options-provided name
  std::string description;  // ifDescription (IE 83)
  bool has_counters = false;
  InterfaceCounters counters;
  UnixMillis counters_time = 0;  // when the last counter sample arrived
};

// Thread-safety: none (owned by one exporter's state). Bounded by `max_entries`.
class InterfaceTable {
 public:
  explicit InterfaceTable(std::uint32_t max_entries) : max_entries_(max_entries) {}

  // Returns the entry for `if_index`, creating it; nullptr if the table is full.
  InterfaceInfo* FindOrAdd(std::uint32_t if_index) {
    auto it = interfaces_.find(if_index);
    if (it != interfaces_.end()) {
      return &it->second;
    }
    if (interfaces_.size() >= max_entries_) {
      return nullptr;
    }
    return &interfaces_[if_index];
  }

  const std::map<std::uint32_t, InterfaceInfo>& all() const { return interfaces_; }

 private:
  std::uint32_t max_entries_;
  std::map<std::uint32_t, InterfaceInfo> interfaces_;
};

}  // namespace sluice::decode
