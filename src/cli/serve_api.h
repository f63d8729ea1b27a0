// SPDX-License-Identifier: Apache-2.0
// The HTTP API inside `sluice serve`: opens the token store (creating and printing the
// initial admin token on a first start), the HTTP ingest path into the store, and the
// ApiServer on [http] listen. serve_command.cc calls StartServeApi once, after the store
// and the pipeline are up.

#pragma once

#include <functional>
#include <memory>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_server.h"
#include "api/http_ingest.h"
#include "api/service_snapshot.h"
#include "api/token_store.h"
#include "cli/serve_config.h"
#include "common/clock.h"
#include "common/result.h"
#include "flow/flow_sink.h"

namespace sluice::cli {

struct ServeApi {
  std::unique_ptr<api::TokenStore> tokens;
  std::unique_ptr<api::HttpIngest> ingest;
  std::unique_ptr<api::ViewStore> views;   // the dashboard's saved views
  std::unique_ptr<api::ApiServer> server;  // null when [http] listen = "off"
};

struct ServeApiHooks {
  std::function<std::string()> metrics_text;
  std::function<std::string()> exporters_json;
  std::function<std::pair<bool, std::string>()> health;
  std::function<void(double)> observe_query_latency;
};

// The version `sluice_build_info` reports.
inline constexpr std::string_view kSluiceVersion = "0.1.0";

// The top sources by bytes over the last five minutes of flows (for
// netflow_top_talker_bytes), at most api::kMaxTopTalkers; empty if the query fails or
// takes more than two seconds.
std::vector<api::TopTalker> CurrentTopTalkers(const std::string& data_dir, std::int64_t now_ms);

// Errors (a corrupt token file, a bad TLS file, the port taken) are for the log; serve
// exits on them.
// `ingest_sink` takes the records of POST /api/v1/netflow/v5-ingest (the same enrichment
// and store as the UDP pipeline's).
Result<ServeApi> StartServeApi(const ServeConfig& config, std::unique_ptr<flow::FlowSink> ingest_sink,
                               const Clock& clock, ServeApiHooks hooks);

}  // namespace sluice::cli
