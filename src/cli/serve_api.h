// SPDX-License-Identifier: Apache-2.0
// The HTTP API inside `sluice serve`: opens the token store (creating and printing the
// initial admin token on a first start), the HTTP ingest path into the store, and the
// ApiServer on [http] listen. serve_command.cc calls StartServeApi once, after the store
// and the pipeline are up.

#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/api_server.h"
#include "api/http_ingest.h"
#include "api/token_store.h"
#include "cli/serve_config.h"
#include "common/clock.h"
#include "common/result.h"
#include "store/store_writer.h"

namespace sluice::cli {

struct ServeApi {
  std::unique_ptr<api::TokenStore> tokens;
  std::unique_ptr<api::HttpIngest> ingest;
  std::unique_ptr<api::ApiServer> server;  // null when [http] listen = "off"
};

struct ServeApiHooks {
  std::function<std::string()> metrics_text;
  std::function<std::string()> exporters_json;
  std::function<std::pair<bool, std::string>()> health;
  std::function<void(double)> observe_query_latency;
};

// Errors (a corrupt token file, a bad TLS file, the port taken) are for the log; serve
// exits on them.
Result<ServeApi> StartServeApi(const ServeConfig& config, store::StoreWriter& store, const Clock& clock,
                               ServeApiHooks hooks);

}  // namespace sluice::cli
