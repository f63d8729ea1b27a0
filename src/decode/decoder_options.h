// SPDX-License-Identifier: Apache-2.0
// DecoderOptions: the limits and overrides every decoder obeys.

#pragma once

#include <cstdint>
#include <unordered_map>

#include "common/clock.h"
#include "flow/ip_address.h"

namespace sluice::decode {

struct DecoderOptions {
  // Exporters tracked at once; datagrams from further exporters are counted and dropped.
  std::uint32_t max_exporters = 4096;
  // Templates (data + options) held per exporter, over all observation domains.
  std::uint32_t max_templates_per_exporter = 1024;
  // Fields a single template may declare (RFC 7011 allows up to 65535; real ones < 100).
  std::uint16_t max_fields_per_template = 256;
  // Data sets held per exporter while their template is unknown, decoded when it arrives.
  std::uint32_t max_pending_sets_per_exporter = 64;
  // Bytes those held sets may take per exporter.
  std::uint32_t max_pending_bytes_per_exporter = 256 * 1024;
  // Templates not refreshed for this long are dropped (UDP template lifetime).
  UnixMillis template_lifetime_ms = 2LL * 60 * 60 * 1000;
  // Sampler entries per exporter.
  std::uint32_t max_samplers_per_exporter = 256;
  // Interfaces (names, counters) per exporter.
  std::uint32_t max_interfaces_per_exporter = 4096;
  // Per-exporter sampling rate that replaces whatever the exporter announces.
  std::unordered_map<flow::IpAddress, std::uint32_t, flow::IpAddressHash> sampling_overrides;
};

}  // namespace sluice::decode
