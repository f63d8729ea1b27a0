// SPDX-License-Identifier: Apache-2.0

#include "cli/serve_snapshot.h"

#include <algorithm>

#include "store/layout.h"

namespace sluice::cli {

api::ServiceSnapshot TakeServiceSnapshot(const ingest::Pipeline& pipeline,
                                         const store::StoreWriter& store,
                                         const store::Housekeeper& housekeeper,
                                         const ServiceInfo& info, const Clock& clock) {
  api::ServiceSnapshot snapshot;
  snapshot.now = clock.NowMillis();
  snapshot.started_at = info.started_at;
  snapshot.uptime_s =
      static_cast<double>(std::max<UnixMillis>(0, snapshot.now - info.started_at)) / 1000.0;
  snapshot.version = info.version;
  snapshot.build_type = info.build_type;
  snapshot.pipeline = pipeline.Stats();
  snapshot.store = store.Stats();
  snapshot.store_latency = store.WriteLatency();
  snapshot.housekeeper = housekeeper.Stats();
  if (info.query_latency != nullptr) {
    snapshot.query_duration = info.query_latency->Snapshot();
  } else {
    snapshot.query_duration = LatencyHistogram().Snapshot();
  }

  std::vector<decode::ExporterReport> reports = pipeline.workers().ExporterSnapshots();
  std::sort(reports.begin(), reports.end(),
            [](const decode::ExporterReport& lhs, const decode::ExporterReport& rhs) {
              return lhs.address < rhs.address;
            });
  snapshot.exporters.reserve(reports.size());
  for (decode::ExporterReport& report : reports) {
    std::string source(store::kDefaultSource);
    for (const auto& [address, name] : info.sources) {
      if (address == report.address) {
        source = name;
        break;
      }
    }
    snapshot.exporters.push_back(api::ExporterSnapshot{std::move(report), std::move(source)});
  }
  return snapshot;
}

}  // namespace sluice::cli
