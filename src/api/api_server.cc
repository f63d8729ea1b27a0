// SPDX-License-Identifier: Apache-2.0

#include "api/api_server.h"

#include <chrono>
#include <thread>
#include <utility>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "api/json_text.h"

#include "api/netflow_endpoints.h"
#include "api/query_endpoints.h"
#include "api/request_params.h"
#include "api/view_endpoints.h"
#include "api/web_assets_route.h"

namespace sluice::api {
namespace {

using nlohmann::json;

constexpr RouteParam kPeriod{"period", "query", "string", "the last PERIOD until now: 15m, 24h, 7d"};
constexpr RouteParam kFrom{"from", "query", "string", "start: epoch ms or ISO 8601"};
constexpr RouteParam kTo{"to", "query", "string", "end: epoch ms or ISO 8601 (default now)"};
constexpr RouteParam kFilter{"filter", "query", "string", "nfdump filter expression"};
constexpr RouteParam kLimit{"limit", "query", "integer", "rows to return"};
constexpr RouteParam kViewId{"id", "path", "string", "the view's id (v1, v2, ...)"};
constexpr RouteParam kViewName{"name", "body", "string", "1 to 64 bytes, unique"};
constexpr RouteParam kViewFilter{"filter", "body", "string", "nfdump filter expression (checked)"};
constexpr RouteParam kViewDescription{"description", "body", "string", "free text, at most 1024 bytes"};

std::vector<RouteInfo> MakeRoutes() {
  return {
      {"GET", "/api/v1/health", Access::kOpen, "Liveness: up, store writable, lag", {}},
      {"GET", "/api/v1/openapi.json", Access::kOpen, "This document", {}},
      {"GET", "/metrics", Access::kMetrics, "Prometheus metrics (text format 0.0.4)", {},
       "text/plain; version=0.0.4"},
      {"GET", "/api/v1/netflow/top-talkers", Access::kRead, "Top sources by bytes",
       {kPeriod, kFrom, kTo, kLimit, kFilter}},
      {"GET", "/api/v1/netflow/bandwidth-trend", Access::kRead,
       "Bytes in/out/internal per interval, relative to networks.local",
       {kPeriod, kFrom, kTo, {"interval", "query", "string", "step: 5m, 1h, 1d (default 1h)"}, kFilter}},
      {"GET", "/api/v1/netflow/protocol-breakdown", Access::kRead, "Bytes and packets by protocol and port",
       {kPeriod, kFrom, kTo, {"nas_id", "query", "string", "only flows of this NAS/site"}, kLimit, kFilter}},
      {"GET", "/api/v1/netflow/subscriber/{subscriber_id}/usage", Access::kRead,
       "A subscriber's totals and top ports",
       {{"subscriber_id", "path", "string", "subscriber id from the prefix map"}, kPeriod, kFrom, kTo, kLimit}},
      {"POST", "/api/v1/netflow/v5-ingest", Access::kAdmin,
       "Decode and store NetFlow v5/v9/IPFIX packets sent as the body",
       {{"exporter", "query", "string", "exporter address to file them under (default: the client)"}},
       "application/octet-stream"},
      {"POST", "/api/v1/query", Access::kRead, "Any sluice query: filter, statistics, aggregation, buckets",
       {{"filter", "body", "string", "nfdump filter expression"},
        {"from", "body", "string", "start: epoch ms or ISO 8601"},
        {"to", "body", "string", "end: epoch ms or ISO 8601"},
        {"period", "body", "string", "the last PERIOD until now"},
        {"stat", "body", "string", "-s statistics, space-separated: \"srcip/bytes dstport\""},
        {"aggregate", "body", "string", "-A fields: \"srcip,dstport\""},
        {"order", "body", "string", "-O order: flows, packets, bytes, pps, bps, bpp, tstart, tend"},
        {"limit", "body", "integer", "top N / records"},
        {"bucket", "body", "string", "time series step: 5m, 1h"},
        {"format", "body", "string", "json (default) or csv"}}},
      {"GET", "/api/v1/flows", Access::kRead, "Raw flows, a page at a time",
       {kFilter, kPeriod, kFrom, kTo, kLimit, {"cursor", "query", "string", "next_cursor of the previous page"}}},
      {"GET", "/api/v1/series", Access::kRead, "Per-step rates for graphs, optionally split by a field",
       {{"metric", "query", "string", "bytes, packets or flows"}, kFilter, kPeriod, kFrom, kTo,
        {"step", "query", "string", "step: 1m, 5m, 1h"},
        {"group", "query", "string", "split by this field (dstport, srcip, proto, ...)"},
        {"top", "query", "integer", "groups kept, the rest summed as other"}}},
      {"GET", "/api/v1/exporters", Access::kRead, "Every exporter: counters, templates, sampling, interfaces", {}},
      {"GET", "/api/v1/views", Access::kRead, "The dashboard's saved views (named filters)", {}},
      {"POST", "/api/v1/views", Access::kAdmin, "Save a view", {kViewName, kViewFilter, kViewDescription}},
      {"GET", "/api/v1/views/{id}", Access::kRead, "One saved view", {kViewId}},
      {"PUT", "/api/v1/views/{id}", Access::kAdmin, "Change a saved view",
       {kViewId, kViewName, kViewFilter, kViewDescription}},
      {"DELETE", "/api/v1/views/{id}", Access::kAdmin, "Delete a saved view", {kViewId}},
  };
}

// "/a/{x}/b" -> "/a/([^/]+)/b"
std::string PathPattern(std::string_view path) {
  std::string pattern;
  for (std::size_t idx = 0; idx < path.size(); ++idx) {
    if (path[idx] == '{') {
      idx = path.find('}', idx);
      pattern += "([^/]+)";
    } else if (path[idx] == '.') {
      pattern += "\\.";
    } else {
      pattern += path[idx];
    }
  }
  return pattern;
}

// Whether `path` fits the route template ("/a/{x}/b": one non-empty segment for {x}).
bool PathMatches(std::string_view route, std::string_view path) {
  while (!route.empty()) {
    const std::size_t brace = route.find('{');
    if (brace == std::string_view::npos) {
      return route == path;
    }
    if (path.substr(0, brace) != route.substr(0, brace)) {
      return false;
    }
    path.remove_prefix(brace);
    route.remove_prefix(route.find('}') + 1);
    const std::size_t segment = std::min(path.find('/'), path.size());
    if (segment == 0) {
      return false;
    }
    path.remove_prefix(segment);
  }
  return path.empty();
}

void SendError(httplib::Response& res, const ApiError& error) {
  res.status = error.status;
  res.set_content(error.ToJson(), "application/json");
}

RequestParams QueryParams(const httplib::Request& req) {
  RequestParams params;
  for (const auto& [name, value] : req.params) {
    params.Set(name, value);
  }
  return params;
}

// A JSON object body as parameters: strings as they are, numbers as decimal text, an
// array of strings joined by spaces (several statistics).
ApiResult<RequestParams> BodyParams(const httplib::Request& req) {
  RequestParams params;
  if (req.body.empty()) {
    return params;
  }
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return tl::unexpected(ApiError{400, "bad_json", "the body is not a JSON object", std::nullopt});
  }
  for (const auto& [name, value] : body.items()) {
    if (value.is_string()) {
      params.Set(name, value.get<std::string>());
    } else if (value.is_number_unsigned()) {
      params.Set(name, std::to_string(value.get<std::uint64_t>()));
    } else if (value.is_boolean()) {
      params.Set(name, value.get<bool>() ? "true" : "false");
    } else if (value.is_array()) {
      std::string joined;
      for (const json& item : value) {
        if (!item.is_string()) {
          return tl::unexpected(BadParameter("member '" + name + "' must be a string or a list of strings"));
        }
        joined += (joined.empty() ? "" : " ") + item.get<std::string>();
      }
      params.Set(name, joined);
    } else if (!value.is_null()) {
      return tl::unexpected(BadParameter("member '" + name + "' must be a string, a whole number or a boolean"));
    }
  }
  // A form-encoded body (curl -d without a Content-Type) was parsed into req.params by
  // the server; the body itself is the JSON, so only real query-string parameters count.
  if (req.get_header_value("Content-Type").find("x-www-form-urlencoded") == std::string::npos) {
    for (const auto& [name, value] : req.params) {
      params.Set(name, value);  // a member given in both places is a duplicate
    }
  }
  return params;
}

}  // namespace

const std::vector<RouteInfo>& Routes() {
  static const std::vector<RouteInfo> routes = MakeRoutes();
  return routes;
}

std::string OpenApiJson() {
  json paths = json::object();
  for (const RouteInfo& route : Routes()) {
    json operation = {{"summary", route.summary}};
    json parameters = json::array();
    json body_properties = json::object();
    for (const RouteParam& param : route.params) {
      if (param.in == "body") {
        body_properties[std::string(param.name)] = {{"type", param.type}, {"description", param.description}};
        continue;
      }
      parameters.push_back({{"name", param.name},
                            {"in", param.in},
                            {"required", param.in == "path"},
                            {"description", param.description},
                            {"schema", {{"type", param.type}}}});
    }
    if (!parameters.empty()) {
      operation["parameters"] = std::move(parameters);
    }
    if (!body_properties.empty()) {
      operation["requestBody"] = {
          {"content", {{"application/json", {{"schema", {{"type", "object"}, {"properties", body_properties}}}}}}}};
    } else if (route.method == "POST") {
      operation["requestBody"] = {{"content", {{route.content_type, {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
    }
    const std::string_view answer = route.method == "POST" ? "application/json" : route.content_type;
    operation["responses"] = {
        {"200", {{"description", "OK"}, {"content", {{answer, json::object()}}}}},
        {"400", {{"description", "a bad parameter: {error: {code, message, position?}}"}}},
    };
    if (route.access != Access::kOpen) {
      operation["responses"]["401"] = {{"description", "no valid token"}};
      operation["security"] = json::array({{{"bearer", json::array()}}});
    }
    if (route.access == Access::kAdmin) {
      operation["responses"]["403"] = {{"description", "the token's role is not admin"}};
    }
    std::string method(route.method);
    for (char& c : method) {
      c = static_cast<char>(c - 'A' + 'a');
    }
    paths[std::string(route.path)][method] = std::move(operation);
  }
  return JsonText(json{{"openapi", "3.0.3"},
              {"info", {{"title", "Sluice API"}, {"version", "1"}}},
              {"components", {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
              {"paths", std::move(paths)}});
}

struct ApiServer::Impl {
  ApiServerOptions options;
  ApiServices services;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  std::string openapi = OpenApiJson();

  // Checks the token for `access`; answers 401/403 itself and returns false when refused.
  bool Allowed(Access access, const httplib::Request& req, httplib::Response& res) const {
    if (access == Access::kOpen || (access == Access::kMetrics && !options.metrics_need_token)) {
      return true;
    }
    const std::string header = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    std::optional<TokenIdentity> who;
    if (header.size() > kBearer.size() && std::string_view(header).substr(0, kBearer.size()) == kBearer) {
      who = services.tokens->Verify(std::string_view(header).substr(kBearer.size()));
    }
    if (!who) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"sluice\"");
      SendError(res, ApiError{401, "unauthorized",
                              header.empty() ? "this route needs Authorization: Bearer TOKEN"
                                             : "the token is not valid (revoked, mistyped or unknown)",
                              std::nullopt});
      return false;
    }
    if (access == Access::kAdmin && who->role != Role::kAdmin) {
      SendError(res, ApiError{403, "forbidden", "this route needs a token with the admin role", std::nullopt});
      return false;
    }
    return true;
  }

  void Answer(const RouteInfo& route, const httplib::Request& req, httplib::Response& res) {
    if (!Allowed(route.access, req, res)) {
      return;
    }
    const std::string_view path = route.path;
    auto send = [&](ApiResult<Body> body) {
      if (!body) {
        SendError(res, body.error());
        return;
      }
      res.status = 200;
      res.set_content(body->text, body->content_type.c_str());
    };
    auto json_body = [](ApiResult<std::string> text) -> ApiResult<Body> {
      if (!text) {
        return tl::unexpected(text.error());
      }
      return Body{"application/json", std::move(*text)};
    };
    if (path == "/api/v1/health") {
      auto [ok, text] = services.health ? services.health() : std::pair<bool, std::string>{true, "{\"status\":\"ok\"}"};
      res.status = ok ? 200 : 503;
      res.set_content(text, "application/json");
    } else if (path == "/api/v1/openapi.json") {
      res.set_content(openapi, "application/json");
    } else if (path == "/metrics") {
      res.set_content(services.metrics_text ? services.metrics_text() : std::string(),
                      "text/plain; version=0.0.4; charset=utf-8");
    } else if (path == "/api/v1/exporters") {
      if (auto known = QueryParams(req).CheckKnown({}); !known) {
        return SendError(res, known.error());
      }
      res.set_content(services.exporters_json ? services.exporters_json() : "{\"items\":[],\"total\":0}",
                      "application/json");
    } else if (path == "/api/v1/netflow/top-talkers") {
      send(json_body(TopTalkers(services.query, QueryParams(req))));
    } else if (path == "/api/v1/netflow/bandwidth-trend") {
      send(json_body(BandwidthTrend(services.query, QueryParams(req))));
    } else if (path == "/api/v1/netflow/protocol-breakdown") {
      send(json_body(ProtocolBreakdown(services.query, QueryParams(req))));
    } else if (path == "/api/v1/netflow/subscriber/{subscriber_id}/usage") {
      send(json_body(SubscriberUsage(services.query, req.matches[1].str(), QueryParams(req))));
    } else if (path == "/api/v1/flows") {
      send(ListFlows(services.query, QueryParams(req)));
    } else if (path == "/api/v1/series") {
      send(Series(services.query, QueryParams(req)));
    } else if (path == "/api/v1/query") {
      auto params = BodyParams(req);
      if (!params) {
        return SendError(res, params.error());
      }
      send(GenericQuery(services.query, *params));
    } else if (path == "/api/v1/netflow/v5-ingest") {
      Ingest(req, res);
    } else if (path.substr(0, 13) == "/api/v1/views") {
      Views(route, req, res);
    }
  }

  void Views(const RouteInfo& route, const httplib::Request& req, httplib::Response& res) {
    if (services.views == nullptr) {
      return SendError(res, ApiError{503, "unavailable", "saved views are not enabled", std::nullopt});
    }
    // The body is the JSON (curl -d sends it as a form, which the server also parsed
    // into req.params); only real query-string parameters count, and none are taken.
    const bool form_body = req.get_header_value("Content-Type").find("x-www-form-urlencoded") != std::string::npos;
    if (auto known = QueryParams(req).CheckKnown({}); !known && !form_body) {
      return SendError(res, known.error());
    }
    const std::string id = req.matches.size() > 1 ? req.matches[1].str() : std::string();
    const std::int64_t now_ms = NowMs(services.query);
    ApiResult<ViewAnswer> answer = route.method == "POST"     ? CreateView(*services.views, req.body, now_ms)
                                   : route.method == "PUT"    ? UpdateView(*services.views, id, req.body, now_ms)
                                   : route.method == "DELETE" ? DeleteView(*services.views, id)
                                   : id.empty()               ? ListViews(*services.views)
                                                              : GetView(*services.views, id);
    if (!answer) {
      return SendError(res, answer.error());
    }
    res.status = answer->status;
    res.set_content(answer->body.text, answer->body.content_type);
  }

  void Ingest(const httplib::Request& req, httplib::Response& res) {
    if (services.ingest == nullptr) {
      return SendError(res, ApiError{503, "unavailable", "ingest over HTTP is not enabled", std::nullopt});
    }
    RequestParams params = QueryParams(req);
    if (auto known = params.CheckKnown({"exporter"}); !known) {
      return SendError(res, known.error());
    }
    std::optional<flow::IpAddress> exporter = flow::IpAddress::Parse(req.remote_addr);
    if (const auto named = params.Get("exporter")) {
      exporter = flow::IpAddress::Parse(*named);
      if (!exporter) {
        return SendError(res, BadParameter("parameter 'exporter': not an IP address"));
      }
    }
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(req.body.data());
    auto report = services.ingest->Ingest(exporter.value_or(flow::IpAddress()), NowMs(services.query),
                                          std::span<const std::uint8_t>(bytes, req.body.size()));
    if (!report) {
      return SendError(res, report.error());
    }
    json answer = {{"accepted", report->records},
                   {"packets", report->packets},
                   {"decode_errors", report->decode_errors}};
    if (!report->first_error.empty()) {
      answer["first_error"] = report->first_error;
    }
    res.set_content(JsonText(answer), "application/json");
  }
};

Result<std::unique_ptr<ApiServer>> ApiServer::Start(ApiServerOptions options, ApiServices services) {
  if (services.tokens == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "the API needs a token store");
  }
  std::unique_ptr<ApiServer> api(new ApiServer());
  api->impl_ = std::make_unique<Impl>();
  Impl& impl = *api->impl_;
  impl.options = std::move(options);
  impl.services = std::move(services);
  const ApiServerOptions& opts = impl.options;
  if (opts.tls_cert_file.empty() != opts.tls_key_file.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "TLS needs both a certificate and a key file");
  }
  if (!opts.tls_cert_file.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(opts.tls_cert_file.c_str(), opts.tls_key_file.c_str());
    if (!tls->is_valid()) {
      return MakeError(ErrorCode::kInvalidArgument, "cannot load the TLS certificate " + opts.tls_cert_file +
                                                        " or key " + opts.tls_key_file);
    }
    impl.server = std::move(tls);
    api->tls_ = true;
  } else {
    impl.server = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *impl.server;
  const std::size_t threads = std::max<std::size_t>(1, opts.threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(opts.max_body_bytes);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(30, 0);
  server.set_keep_alive_max_count(1000);
  for (const RouteInfo& route : Routes()) {
    auto handler = [&impl, &route](const httplib::Request& req, httplib::Response& res) {
      impl.Answer(route, req, res);
    };
    const std::string pattern = PathPattern(route.path);
    if (route.method == "GET") {
      server.Get(pattern, handler);
    } else if (route.method == "PUT") {
      server.Put(pattern, handler);
    } else if (route.method == "DELETE") {
      server.Delete(pattern, handler);
    } else {
      server.Post(pattern, handler);
    }
  }
  // Anything else: the web dashboard's files for GET, 405 for a known path with another
  // method, else 404.
  auto fallback = [](const httplib::Request& req, httplib::Response& res) {
    if ((req.method == "GET" || req.method == "HEAD") && AnswerWebAsset(req, res)) {
      return;
    }
    std::string allowed;
    for (const RouteInfo& route : Routes()) {
      if (PathMatches(route.path, req.path)) {
        allowed += (allowed.empty() ? "" : ", ") + std::string(route.method);
      }
    }
    if (!allowed.empty()) {
      res.set_header("Allow", allowed);
      return SendError(res, ApiError{405, "method_not_allowed", req.method + " is not allowed here; use " + allowed,
                                     std::nullopt});
    }
    SendError(res, ApiError{404, "not_found", "no such route: " + req.path.substr(0, 200), std::nullopt});
  };
  server.Get(".*", fallback);
  server.Post(".*", fallback);
  server.Put(".*", fallback);
  server.Delete(".*", fallback);
  server.Patch(".*", fallback);
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      const std::string code = res.status == 413 ? "body_too_large" : "http_error";
      res.set_content(ApiError{res.status, code, "HTTP status " + std::to_string(res.status), std::nullopt}.ToJson(),
                      "application/json");
    }
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    SendError(res, ApiError{500, "internal", "the request failed inside the server", std::nullopt});
  });
  if (opts.port == 0) {
    const int bound = server.bind_to_any_port(opts.host);
    if (bound <= 0) {
      return MakeError(ErrorCode::kIoError, "cannot listen for HTTP on " + opts.host);
    }
    api->port_ = static_cast<std::uint16_t>(bound);
  } else {
    if (!server.bind_to_port(opts.host, opts.port)) {
      return MakeError(ErrorCode::kIoError,
                       "cannot listen for HTTP on " + opts.host + ":" + std::to_string(opts.port) +
                           " (in use, or not an address of this machine)");
    }
    api->port_ = opts.port;
  }
  impl.thread = std::thread([&server] { server.listen_after_bind(); });
  // stop() only takes effect on a running server: wait for the accept loop to start, so
  // that a Stop() right after Start() cannot leave it running.
  while (!server.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return api;
}

ApiServer::~ApiServer() { Stop(); }

void ApiServer::Stop() {
  if (impl_ && impl_->thread.joinable()) {
    impl_->server->stop();
    impl_->thread.join();
  }
}

}  // namespace sluice::api
