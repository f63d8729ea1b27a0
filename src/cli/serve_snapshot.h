// SPDX-License-Identifier: Apache-2.0
// TakeServiceSnapshot: what `sluice serve` reads from its running parts for /metrics and
// /api/v1/exporters (api/service_snapshot.h).

#pragma once

#include <string>
#include <utility>
#include <vector>

#include "api/prometheus_text.h"
#include "api/service_snapshot.h"
#include "common/clock.h"
#include "flow/ip_address.h"
#include "ingest/pipeline.h"
#include "store/housekeeper.h"
#include "store/store_writer.h"

namespace sluice::cli {

// What the snapshot cannot read from the pipeline and the store. `query_latency` may be
// null (then the histogram is empty but has its buckets).
struct ServiceInfo {
  UnixMillis started_at = 0;
  std::string version;
  std::string build_type;
  // Exporter -> store source name, as in store::StoreWriterOptions::sources; exporters
  // not listed are shown with store::kDefaultSource.
  std::vector<std::pair<flow::IpAddress, std::string>> sources;
  const LatencyHistogram* query_latency = nullptr;
};

// Reads the counters of every part (each Stats() is thread-safe) and the exporter reports
// the decode workers last published (DecodeWorkers::RequestSnapshots() keeps them fresh;
// serve asks every second). Exporters come sorted by address; top_talkers is left empty
// for the caller to fill.
// Thread-safety: any thread, while the parts are alive.
api::ServiceSnapshot TakeServiceSnapshot(const ingest::Pipeline& pipeline,
                                         const store::StoreWriter& store,
                                         const store::Housekeeper& housekeeper,
                                         const ServiceInfo& info, const Clock& clock);

}  // namespace sluice::cli
