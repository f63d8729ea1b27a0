// SPDX-License-Identifier: Apache-2.0
// ApiServer: the HTTP API of `sluice serve` (docs/api.md), on Debian's cpp-httplib.
//
// Every route is in one table (Routes()) that also produces /api/v1/openapi.json, so the
// description cannot drift from what is served. Requests need `Authorization: Bearer
// TOKEN` (api/token_store.h) except /api/v1/health, /api/v1/openapi.json and, unless
// configured otherwise, /metrics; a token without the route's role gets 403. Errors are
// {"error":{"code","message","position"?}} with the matching status.
//
// Ownership: owns its listening socket and threads; the services' objects must outlive
// it. Thread-safety: Start/Stop from one control thread.

#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_error.h"
#include "api/http_ingest.h"
#include "api/query_context.h"
#include "api/token_store.h"
#include "api/view_store.h"
#include "common/result.h"
#include "flow/ip_address.h"

namespace sluice::api {

struct ApiServerOptions {
  std::string host = "127.0.0.1";  // numeric address to listen on
  std::uint16_t port = 8080;        // 0 = any free port (tests)
  std::string tls_cert_file;        // both set = HTTPS
  std::string tls_key_file;
  std::size_t max_body_bytes = std::size_t{4} << 20;
  std::size_t threads = 8;          // request handler threads
  bool metrics_need_token = false;  // [http] metrics_auth = "token"
};

struct ApiServices {
  TokenStore* tokens = nullptr;  // required
  QueryContext query;
  // Bodies of /metrics (Prometheus text) and /api/v1/exporters (JSON).
  std::function<std::string()> metrics_text;
  std::function<std::string()> exporters_json;
  // {"status":"ok"|..., ...} and whether the service is healthy (200) or not (503).
  std::function<std::pair<bool, std::string>()> health;
  HttpIngest* ingest = nullptr;  // null = the ingest route answers 503
  ViewStore* views = nullptr;    // the dashboard's saved views; null = those routes answer 503
};

enum class Access : std::uint8_t { kOpen, kRead, kAdmin, kMetrics };

struct RouteParam {
  std::string_view name;
  std::string_view in;  // "query", "path" or "body"
  std::string_view type;  // "string", "integer"
  std::string_view description;
};

struct RouteInfo {
  std::string_view method;  // "GET", "POST", "PUT", "DELETE"
  std::string_view path;    // OpenAPI form: "/api/v1/netflow/subscriber/{subscriber_id}/usage"
  Access access;
  std::string_view summary;
  std::vector<RouteParam> params;
  std::string_view content_type = "application/json";
};

// Every route served, in the order of the OpenAPI document.
const std::vector<RouteInfo>& Routes();

// The OpenAPI 3.0 document of Routes().
std::string OpenApiJson();

class ApiServer {
 public:
  // Binds (the error names the address) and starts serving on its own threads.
  static Result<std::unique_ptr<ApiServer>> Start(ApiServerOptions options, ApiServices services);
  ~ApiServer();

  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  std::uint16_t port() const { return port_; }
  bool tls() const { return tls_; }

  // Stops accepting, finishes the requests in flight, joins the threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  ApiServer() = default;

  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  bool tls_ = false;
};

}  // namespace sluice::api
