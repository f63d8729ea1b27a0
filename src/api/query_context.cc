// SPDX-License-Identifier: Apache-2.0

#include "api/query_context.h"

#include <utility>

namespace sluice::api {

std::int64_t NowMs(const QueryContext& context) {
  if (context.now_ms) {
    return context.now_ms();
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ApiResult<query::QueryResult> RunApiQuery(const QueryContext& context, query::QuerySpec spec,
                                          query::RecordSink* records) {
  spec.data_dir = context.data_dir;
  spec.files.clear();
  spec.threads = context.threads;
  spec.memory_budget_bytes = context.memory_budget_bytes;
  const auto started = std::chrono::steady_clock::now();
  spec.deadline = started + context.timeout;
  auto result = query::RunQuery(spec, records);
  if (context.observe_latency) {
    context.observe_latency(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  if (!result) {
    return tl::unexpected(FromEngineError(result.error()));
  }
  return std::move(*result);
}

}  // namespace sluice::api
