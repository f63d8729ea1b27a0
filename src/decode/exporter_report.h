// SPDX-License-Identifier: Apache-2.0
// ExporterReport: a plain copy of what the decoders know about one exporter, for readers
// on other threads (/metrics, /api/v1/exporters). The structured twin of exporter_json.h.

#pragma once

#include <cstdint>
#include <vector>

#include "common/clock.h"
#include "decode/exporter_state.h"
#include "decode/interface_table.h"
#include "flow/ip_address.h"

namespace sluice::decode {

// One sampler an exporter announced (v9/IPFIX options data, or sFlow's sampling rate).
struct SamplerReport {
  std::uint32_t obs_domain = 0;
  std::uint32_t sampler_id = 0;
  std::uint32_t rate = 0;  // 1 in `rate` packets
};

struct InterfaceReport {
  std::uint32_t index = 0;  // ifIndex
  InterfaceInfo info;
};

// Ownership: a value; copies everything, refers to nothing.
struct ExporterReport {
  flow::IpAddress address;
  Protocol protocol = Protocol::kNetflowV5;  // of the last datagram
  UnixMillis first_seen = 0;
  UnixMillis last_seen = 0;
  ExporterCounters counters;
  std::uint64_t templates = 0;  // (options) templates known now
  std::vector<SamplerReport> samplers;
  std::vector<InterfaceReport> interfaces;  // by ascending index
};

ExporterReport MakeExporterReport(const ExporterState& exporter);

}  // namespace sluice::decode
