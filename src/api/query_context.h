// SPDX-License-Identifier: Apache-2.0
// QueryContext: what every query-answering endpoint needs to ask the store, and RunApiQuery,
// the one place the API calls the query engine: the data directory, the limits (time,
// memory, threads) and the latency observer are applied there.

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "query/engine.h"
#include "query/query_result.h"
#include "query/query_spec.h"

namespace sluice::api {

struct QueryContext {
  std::string data_dir;
  std::chrono::milliseconds timeout{30'000};  // a query running longer is cancelled (503)
  std::size_t memory_budget_bytes = std::size_t{512} << 20;
  std::size_t threads = 0;                    // 0 = one per core
  std::size_t max_rows = 10'000;              // most rows one answer may hold
  // networks.local prefixes ("10.0.0.0/8"), for in/out/internal traffic.
  std::vector<std::string> local_networks;
  // Told the wall time of every query run (for the latency histogram); may be empty.
  std::function<void(double seconds)> observe_latency;
  // Now, in epoch ms (tests pin it).
  std::function<std::int64_t()> now_ms;
};

// context.now_ms(), or the system clock.
std::int64_t NowMs(const QueryContext& context);

// Runs `spec` with the context's data directory and limits.
ApiResult<query::QueryResult> RunApiQuery(const QueryContext& context, query::QuerySpec spec,
                                          query::RecordSink* records = nullptr);

}  // namespace sluice::api
