// SPDX-License-Identifier: Apache-2.0
// The /api/v1/netflow/... endpoints of the deployment Sluice was specified for: each
// validates its parameters, asks the engine, and answers a JSON body (docs/api.md has
// the shapes). Pure over QueryContext and RequestParams: no HTTP here.

#pragma once

#include <string>
#include <string_view>

#include "api/api_error.h"
#include "api/query_context.h"
#include "api/request_params.h"

namespace sluice::api {

// GET top-talkers?period=24h&limit=10[&filter=]
//   {"items":[{"src_ip","bytes_sent","packets","flows"}],"total":DISTINCT_SOURCES}
ApiResult<std::string> TopTalkers(const QueryContext& context, const RequestParams& params);

// GET bandwidth-trend?from=&to=&interval=1h[&filter=]   (or period=)
//   {"items":[{"timestamp","bytes_in","bytes_out","bytes_internal","bytes_external",
//              "bytes","pkts"}],"total":N,"interval_s":S}
// Every step of the window is listed (zeros where no flow started). in/out are relative
// to networks.local: bytes_in = to a local address from a non-local one, bytes_out the
// reverse, internal = local to local, external = neither.
ApiResult<std::string> BandwidthTrend(const QueryContext& context, const RequestParams& params);

// GET protocol-breakdown?period=7d[&nas_id=][&limit=20][&filter=]
//   {"items":[{"protocol","protocol_number","dst_port","bytes_pct","packets_pct","bytes",
//              "packets","flows"}],"total":DISTINCT,"bytes_total","packets_total"}
ApiResult<std::string> ProtocolBreakdown(const QueryContext& context, const RequestParams& params);

// GET subscriber/{id}/usage?period=24h[&limit=10]
//   {"subscriber_id","bytes_total","pkts_total","flows_total",
//    "top_ports":[{"port","protocol","bytes"}]}
ApiResult<std::string> SubscriberUsage(const QueryContext& context, std::string_view subscriber_id,
                                       const RequestParams& params);

}  // namespace sluice::api
