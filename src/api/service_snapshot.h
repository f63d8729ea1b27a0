// SPDX-License-Identifier: Apache-2.0
// ServiceSnapshot: the state of a running `sluice serve`, gathered once per request and
// rendered by RenderMetrics() (prometheus_text.h) and RenderExportersJson()
// (exporters_json.h). Plain data: no pointers into the live service.

#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/latency_histogram.h"
#include "decode/exporter_report.h"
#include "flow/ip_address.h"
#include "ingest/pipeline.h"
#include "store/housekeeper.h"
#include "store/store_writer.h"

namespace sluice::api {

// One exporter as the decoders see it, plus the store source it is written to.
struct ExporterSnapshot {
  decode::ExporterReport report;
  std::string source;  // store source name ("default" when the config names none)
};

// A current top talker (filled by the API from a query); at most kMaxTopTalkers are shown.
struct TopTalker {
  flow::IpAddress address;
  std::uint64_t bytes = 0;
};

inline constexpr std::size_t kMaxTopTalkers = 10;

struct ServiceSnapshot {
  UnixMillis now = 0;         // when the snapshot was taken
  UnixMillis started_at = 0;  // when the service started
  double uptime_s = 0;        // seconds since start
  std::string version;        // sluice_build_info{version=...}
  std::string build_type;     // e.g. "Release"; may be empty

  ingest::PipelineStats pipeline;
  std::vector<ExporterSnapshot> exporters;  // sorted by address
  store::StoreWriterStats store;
  store::StoreWriteLatency store_latency;  // append, flush, seal durations
  store::HousekeeperStats housekeeper;
  HistogramSnapshot query_duration;    // API query latency
  // Prefix-map enrichment (enrich/): flows seen and flows given a subscriber; the
  // prefixes of the map in force (0: none).
  std::uint64_t enrich_flows = 0;
  std::uint64_t enrich_matched = 0;
  std::uint64_t prefix_map_prefixes = 0;
  std::vector<TopTalker> top_talkers;  // by descending bytes; rendering stops at 10
};

}  // namespace sluice::api
