// SPDX-License-Identifier: Apache-2.0
// The generic endpoints, which expose what `sluice query` can do:
//   POST /api/v1/query   {filter, from, to | period, stat, aggregate, order, limit, bucket,
//                         format}  -> {"command": "sluice query ...", "result": <the -o json
//                         document of docs/query.md>}, or with format "csv" the -o csv text
//   GET  /api/v1/flows?filter=&from=&to=&limit=&cursor=   raw flows, a page at a time
//   GET  /api/v1/series?metric=&filter=&from=&to=&step=&group=&top=   per-step rates
// Pure over QueryContext and RequestParams (a JSON body is turned into RequestParams by
// the caller); docs/api.md has every parameter.

#pragma once

#include <string>

#include "api/api_error.h"
#include "api/query_context.h"
#include "api/request_params.h"

namespace sluice::api {

struct Body {
  std::string content_type = "application/json";
  std::string text;
};

ApiResult<Body> GenericQuery(const QueryContext& context, const RequestParams& params);

// {"result": <-o json document with "records">, "next_cursor": "..." | null}
ApiResult<Body> ListFlows(const QueryContext& context, const RequestParams& params);

// {"metric", "step_s", "from", "to", "series": [{"name", "key"?, "other"?,
//   "points": [[epoch_ms, per_second], ...]}]}: "total" alone without `group`; with it one
//   series per top group (by the metric over the window) and "other" for the rest.
ApiResult<Body> Series(const QueryContext& context, const RequestParams& params);

// "sluice query --data DIR ..." for `spec` (shell-quoted), as the API reports it.
std::string CommandLineOf(const std::vector<std::string>& args);

}  // namespace sluice::api
