// SPDX-License-Identifier: Apache-2.0
// ApiServer over real HTTP on loopback, in process, against a small store written with
// SegmentWriter: authentication and roles, parameter validation, the error bodies, the
// query time limit, CSV export, and that /api/v1/openapi.json is true of what is served.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "api/api_server.h"
#include "api/token_store.h"
#include "api/view_store.h"
#include "common/clock.h"
#include "query/engine_test_util.h"

namespace sluice::test {
namespace {

using nlohmann::json;

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.AddSegment("core", kHour, flows_);
    api::TokenStoreOptions token_options;
    token_options.data_dir = store_.dir();
    auto tokens = api::TokenStore::Open(token_options, clock_);
    ASSERT_TRUE(tokens) << tokens.error().Message();
    tokens_ = std::move(*tokens);
    auto admin = tokens_->Create(api::Role::kAdmin, "admin");
    auto read = tokens_->Create(api::Role::kRead, "read");
    ASSERT_TRUE(admin && read);
    admin_ = admin->text;
    read_ = read->text;
    auto views = api::ViewStore::Open(store_.dir());
    ASSERT_TRUE(views) << views.error().Message();
    views_ = std::move(*views);
    api::ApiServices services;
    services.tokens = tokens_.get();
    services.views = views_.get();
    services.query.data_dir = store_.dir();
    services.query.now_ms = [] { return kHour + 3'600'000; };
    services.metrics_text = [] { return std::string("sluice_up 1\n"); };
    api::ApiServerOptions options;
    options.port = 0;
    options.max_body_bytes = 64 * 1024;
    auto server = api::ApiServer::Start(options, std::move(services));
    ASSERT_TRUE(server) << server.error().Message();
    server_ = std::move(*server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  httplib::Result Get(const std::string& path, const std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) {
      headers.emplace("Authorization", "Bearer " + token);
    }
    return client_->Get(path.c_str(), headers);
  }

  httplib::Result Post(const std::string& path, const std::string& token, const std::string& body,
                       const char* type = "application/json") {
    httplib::Headers headers = {{"Authorization", "Bearer " + token}};
    return client_->Post(path.c_str(), headers, body, type);
  }

  // The error code of a JSON error body.
  static std::string Code(const httplib::Result& res) {
    const json body = json::parse(res->body, nullptr, false);
    return body.is_discarded() ? "(not JSON: " + res->body + ")" : body["error"]["code"].get<std::string>();
  }

  std::vector<TestFlow> flows_ = MakeFlows(0, 500, kHour);
  TestStore store_;
  SystemClock clock_;
  std::unique_ptr<api::TokenStore> tokens_;
  std::unique_ptr<api::ViewStore> views_;
  std::unique_ptr<api::ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string admin_;
  std::string read_;
};

const std::string kWindow = "from=" + std::to_string(kHour) + "&to=" + std::to_string(kHour + 3'600'000);

TEST_F(ApiServerTest, HealthAndOpenApiNeedNoToken) {
  auto health = Get("/api/v1/health", "");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto openapi = Get("/api/v1/openapi.json", "");
  ASSERT_TRUE(openapi);
  EXPECT_EQ(openapi->status, 200);
  EXPECT_EQ(json::parse(openapi->body)["openapi"], "3.0.3");
  auto metrics = Get("/metrics", "");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->body, "sluice_up 1\n");
}

TEST_F(ApiServerTest, TokensAndRoles) {
  auto none = Get("/api/v1/netflow/top-talkers", "");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(Code(none), "unauthorized");
  EXPECT_EQ(none->get_header_value("WWW-Authenticate").rfind("Bearer", 0), 0u);
  // The real token with its last hex digit changed.
  std::string mistyped = read_;
  mistyped.back() = mistyped.back() == '0' ? '1' : '0';
  auto wrong = Get("/api/v1/netflow/top-talkers", mistyped);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto garbage = Get("/api/v1/netflow/top-talkers", "x");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 401);
  auto read = Get("/api/v1/netflow/top-talkers?" + kWindow, read_);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200) << read->body;
  auto forbidden = Post("/api/v1/netflow/v5-ingest", read_, "x", "application/octet-stream");
  ASSERT_TRUE(forbidden);
  EXPECT_EQ(forbidden->status, 403);
  EXPECT_EQ(Code(forbidden), "forbidden");
  auto admin = Get("/api/v1/netflow/top-talkers?" + kWindow, admin_);
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->status, 200);
}

TEST_F(ApiServerTest, TopTalkersMatchTheEngine) {
  auto res = Get("/api/v1/netflow/top-talkers?limit=3&" + kWindow, read_);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  query::QuerySpec spec;
  spec.data_dir = store_.dir();
  spec.window = query::TimeWindow{kHour, kHour + 3'600'000};
  spec.top_n = 3;
  spec.stats.push_back({"srcip", {{flow::FieldId::kSrcAddr}}, {}, false, query::OrderBy::kBytes});
  auto expected = query::RunQuery(spec, nullptr);
  ASSERT_TRUE(expected);
  const auto& rows = expected->stats[0].rows;
  ASSERT_EQ(body["items"].size(), rows.size());
  EXPECT_EQ(body["total"], expected->stats[0].distinct);
  for (std::size_t idx = 0; idx < rows.size(); ++idx) {
    EXPECT_EQ(body["items"][idx]["src_ip"], rows[idx].key[0].address.ToString());
    EXPECT_EQ(body["items"][idx]["bytes_sent"], rows[idx].counters.bytes);
    EXPECT_EQ(body["items"][idx]["packets"], rows[idx].counters.packets);
    EXPECT_EQ(body["items"][idx]["flows"], rows[idx].counters.flows);
  }
}

TEST_F(ApiServerTest, BadParametersAreNamed) {
  struct Case {
    std::string path;
    std::string code;
    std::string in_message;
  };
  const std::vector<Case> cases = {
      {"/api/v1/netflow/top-talkers?period=abc", "bad_parameter", "'period'"},
      {"/api/v1/netflow/top-talkers?period=0h", "bad_parameter", "'period'"},
      {"/api/v1/netflow/top-talkers?period=99999999d", "bad_parameter", "'period'"},
      {"/api/v1/netflow/top-talkers?limit=0", "bad_parameter", "'limit'"},
      {"/api/v1/netflow/top-talkers?limit=1001", "bad_parameter", "'limit'"},
      {"/api/v1/netflow/top-talkers?limit=-1", "bad_parameter", "'limit'"},
      {"/api/v1/netflow/top-talkers?limit=1&limit=2", "bad_parameter", "more than once"},
      {"/api/v1/netflow/top-talkers?colour=red", "bad_parameter", "unknown parameter 'colour'"},
      {"/api/v1/netflow/top-talkers?period=1h&from=0", "bad_parameter", "not both"},
      {"/api/v1/netflow/top-talkers?from=20&to=10", "bad_parameter", "after"},
      {"/api/v1/netflow/top-talkers?from=yesterday", "bad_parameter", "'from'"},
      {"/api/v1/netflow/bandwidth-trend?interval=1s&period=7d", "bad_parameter", "steps"},
      {"/api/v1/netflow/protocol-breakdown?nas_id=a%22b", "bad_parameter", "'nas_id'"},
      {"/api/v1/netflow/subscriber/x%20or%20proto%20tcp/usage", "bad_parameter", "'subscriber_id'"},
      {"/api/v1/flows?cursor=zzz", "bad_parameter", "'cursor'"},
      {"/api/v1/series?metric=joules", "bad_parameter", "'metric'"},
      {"/api/v1/series?group=nosuchfield", "bad_parameter", "'group'"},
      {"/api/v1/exporters?x=1", "bad_parameter", "unknown parameter"},
  };
  for (const Case& c : cases) {
    auto res = Get(c.path, read_);
    ASSERT_TRUE(res) << c.path;
    EXPECT_EQ(res->status, 400) << c.path << ": " << res->body;
    EXPECT_EQ(Code(res), c.code) << c.path;
    EXPECT_NE(res->body.find(c.in_message), std::string::npos) << c.path << ": " << res->body;
  }
}

TEST_F(ApiServerTest, FilterSyntaxErrorCarriesItsPosition) {
  auto res = Get("/api/v1/flows?filter=proto%20tcp%20and%20port", read_);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  const json body = json::parse(res->body);
  EXPECT_EQ(body["error"]["code"], "bad_filter");
  EXPECT_EQ(body["error"]["position"], 19);
  EXPECT_NE(body["error"]["message"].get<std::string>().find("column 19"), std::string::npos);
  auto posted = Post("/api/v1/query", read_, R"({"filter": "host 10.0.0.300"})");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 400);
  EXPECT_EQ(Code(posted), "bad_filter");
}

TEST_F(ApiServerTest, BadBodies) {
  auto not_json = Post("/api/v1/query", read_, "{nope");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  EXPECT_EQ(Code(not_json), "bad_json");
  auto wrong_type = Post("/api/v1/query", read_, R"({"limit": -3})");
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(wrong_type->status, 400);
  auto too_large = Post("/api/v1/query", read_, std::string(100 * 1024, ' '));
  ASSERT_TRUE(too_large);
  EXPECT_EQ(too_large->status, 413);
  auto not_flows = Post("/api/v1/netflow/v5-ingest", admin_, "hello", "application/octet-stream");
  ASSERT_TRUE(not_flows);
  EXPECT_EQ(not_flows->status, 503);  // no ingest configured in this test
}

TEST_F(ApiServerTest, UnknownRoutesAndMethods) {
  auto missing = Get("/api/v1/nothing", read_);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(Code(missing), "not_found");
  auto method = client_->Delete("/api/v1/flows");
  ASSERT_TRUE(method);
  EXPECT_EQ(method->status, 405);
  EXPECT_EQ(method->get_header_value("Allow"), "GET");
}

TEST_F(ApiServerTest, QueryAnswersCommandAndCsv) {
  const std::string window = R"("from": ")" + std::to_string(kHour) + R"(", "to": )" + std::to_string(kHour + 3'600'000);
  auto res = Post("/api/v1/query", read_, "{" + window + R"(, "stat": ["dstport/bytes", "srcip"], "limit": 2})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  EXPECT_NE(body["command"].get<std::string>().find("-s dstport/bytes -s srcip -n 2"), std::string::npos);
  EXPECT_EQ(body["result"]["stats"].size(), 2u);
  EXPECT_EQ(body["result"]["summary"]["flows"], Totals(flows_).flows);
  auto csv = Post("/api/v1/query", read_, "{" + window + R"(, "limit": 5, "format": "csv"})");
  ASSERT_TRUE(csv);
  ASSERT_EQ(csv->status, 200);
  EXPECT_EQ(csv->get_header_value("Content-Type").rfind("text/csv", 0), 0u);
  EXPECT_EQ(csv->body.rfind("ts,te,td,sa,da", 0), 0u) << csv->body.substr(0, 200);
}

TEST_F(ApiServerTest, FlowsPageWithCursors) {
  std::size_t seen = 0;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    auto res = Get("/api/v1/flows?limit=200&" + kWindow + (cursor.empty() ? "" : "&cursor=" + cursor), read_);
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const json body = json::parse(res->body);
    seen += body["result"]["records"].size();
    if (body["next_cursor"].is_null()) {
      break;
    }
    cursor = body["next_cursor"];
  }
  EXPECT_EQ(seen, flows_.size());
}

TEST_F(ApiServerTest, SeriesSumsToTheTotals) {
  auto res = Get("/api/v1/series?metric=bytes&step=5m&" + kWindow, read_);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  ASSERT_EQ(body["series"].size(), 1u);
  double bytes = 0;
  for (const json& point : body["series"][0]["points"]) {
    bytes += point[1].get<double>() * 300;
  }
  EXPECT_NEAR(bytes, static_cast<double>(Totals(flows_).bytes), 1.0);
  auto grouped = Get("/api/v1/series?metric=flows&step=1h&group=proto&top=1&" + kWindow, read_);
  ASSERT_TRUE(grouped);
  ASSERT_EQ(grouped->status, 200) << grouped->body;
  const json split = json::parse(grouped->body);
  ASSERT_EQ(split["series"].size(), 2u);  // the top protocol and "other"
  EXPECT_EQ(split["series"][1]["name"], "other");
}

TEST_F(ApiServerTest, AQueryPastItsTimeLimitIsCancelled) {
  // A zero time limit: every query is past it before its first block.
  server_.reset();
  api::ApiServices services;
  services.tokens = tokens_.get();
  services.query.data_dir = store_.dir();
  services.query.timeout = std::chrono::milliseconds(0);
  api::ApiServerOptions options;
  options.port = 0;
  auto server = api::ApiServer::Start(options, std::move(services));
  ASSERT_TRUE(server);
  server_ = std::move(*server);
  client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  auto res = Get("/api/v1/netflow/top-talkers?" + kWindow, read_);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(Code(res), "query_timeout");
}

// Every route and parameter the OpenAPI document lists is served and accepted; every
// served route is in it (Routes() is the only table the server registers from).
TEST_F(ApiServerTest, OpenApiIsTrue) {
  const json doc = json::parse(Get("/api/v1/openapi.json", "")->body);
  std::size_t operations = 0;
  for (const auto& [path, methods] : doc["paths"].items()) {
    for (const auto& [method, operation] : methods.items()) {
      ++operations;
      std::string url = path;
      const auto brace = url.find('{');
      if (brace != std::string::npos) {
        url = url.substr(0, brace) + "someone" + url.substr(url.find('}') + 1);
      }
      if (method == "get") {
        auto res = Get(url, admin_);
        ASSERT_TRUE(res) << url;
        EXPECT_NE(res->status, 405) << url;
        if (res->status == 404) {  // only an unknown item (a view) may be missing, never the route
          EXPECT_EQ(res->body.find("no such route"), std::string::npos) << url;
        }
        for (const json& param : operation.value("parameters", json::array())) {
          if (param["in"] != "query") {
            continue;
          }
          auto with = Get(url + "?" + param["name"].get<std::string>() + "=1", admin_);
          ASSERT_TRUE(with);
          EXPECT_EQ(with->body.find("unknown parameter"), std::string::npos) << url << " " << param["name"];
        }
      } else {
        httplib::Headers headers = {{"Authorization", "Bearer " + admin_}};
        auto res = method == "put"      ? client_->Put(url.c_str(), headers, "{}", "application/json")
                   : method == "delete" ? client_->Delete(url.c_str(), headers)
                                        : Post(url, admin_, "{}");
        ASSERT_TRUE(res) << url;
        EXPECT_NE(res->status, 405) << method << " " << url;
        if (res->status == 404) {
          EXPECT_EQ(res->body.find("no such route"), std::string::npos) << method << " " << url;
        }
      }
    }
  }
  EXPECT_EQ(operations, api::Routes().size());
}

TEST_F(ApiServerTest, SavedViewsNeedAdminToChange) {
  const std::string body = R"({"name": "web", "filter": "proto tcp and port 443", "description": "HTTPS"})";
  auto refused = Post("/api/v1/views", read_, body);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  auto created = Post("/api/v1/views", admin_, body);
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  const json view = json::parse(created->body);
  EXPECT_EQ(view["name"], "web");
  EXPECT_EQ(view["filter"], "proto tcp and port 443");
  const std::string id = view["id"];

  auto listed = Get("/api/v1/views", read_);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200);
  EXPECT_EQ(json::parse(listed->body)["total"], 1);
  auto one = Get("/api/v1/views/" + id, read_);
  ASSERT_TRUE(one);
  EXPECT_EQ(json::parse(one->body)["description"], "HTTPS");

  httplib::Headers admin = {{"Authorization", "Bearer " + admin_}};
  httplib::Headers read = {{"Authorization", "Bearer " + read_}};
  auto bad = client_->Put(("/api/v1/views/" + id).c_str(), admin, R"({"name": "web", "filter": "src port"})",
                          "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(Code(bad), "bad_filter");
  EXPECT_EQ(json::parse(bad->body)["error"]["position"], 9);
  auto unknown_member = Post("/api/v1/views", admin_, R"({"name": "x", "colour": "red"})");
  ASSERT_TRUE(unknown_member);
  EXPECT_EQ(Code(unknown_member), "bad_parameter");
  auto duplicate = Post("/api/v1/views", admin_, body);
  ASSERT_TRUE(duplicate);
  EXPECT_EQ(duplicate->status, 409);
  auto renamed = client_->Put(("/api/v1/views/" + id).c_str(), admin, R"({"name": "https", "filter": "port 443"})",
                              "application/json");
  ASSERT_TRUE(renamed);
  ASSERT_EQ(renamed->status, 200) << renamed->body;
  EXPECT_EQ(json::parse(renamed->body)["name"], "https");

  auto not_yours = client_->Delete(("/api/v1/views/" + id).c_str(), read);
  ASSERT_TRUE(not_yours);
  EXPECT_EQ(not_yours->status, 403);
  auto deleted = client_->Delete(("/api/v1/views/" + id).c_str(), admin);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200);
  auto gone = Get("/api/v1/views/" + id, read_);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  auto method = client_->Patch("/api/v1/views", admin, "{}", "application/json");
  ASSERT_TRUE(method);
  EXPECT_EQ(method->status, 405);
  EXPECT_EQ(method->get_header_value("Allow"), "GET, POST");
}

// The embedded dashboard: no token needed, the right types and cache headers, index.html
// for UI routes, and never in the way of the API.
TEST_F(ApiServerTest, ServesTheWebDashboard) {
  auto index = Get("/", "");
  ASSERT_TRUE(index);
  ASSERT_EQ(index->status, 200);
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index->get_header_value("Cache-Control"), "no-cache");
  EXPECT_NE(index->get_header_value("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_NE(index->body.find("<div id=\"app\">"), std::string::npos);
  // The script the page loads is served, cacheable for good (its name holds its hash).
  const std::size_t at = index->body.find("/assets/");
  ASSERT_NE(at, std::string::npos);
  const std::string script = index->body.substr(at, index->body.find('"', at) - at);
  auto asset = Get(script, "");
  ASSERT_TRUE(asset);
  EXPECT_EQ(asset->status, 200) << script;
  EXPECT_EQ(asset->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_NE(asset->get_header_value("Content-Type").find("javascript"), std::string::npos) << script;

  auto route = Get("/host/192.0.2.1", "");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->status, 200);
  EXPECT_EQ(route->body, index->body);
  auto missing_file = Get("/assets/nothing-here.js", "");
  ASSERT_TRUE(missing_file);
  EXPECT_EQ(missing_file->status, 404);
  auto api = Get("/api/v1/not-a-route", read_);
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 404);
  EXPECT_EQ(Code(api), "not_found");
  auto api_root = Get("/api", "");
  ASSERT_TRUE(api_root);
  EXPECT_EQ(api_root->status, 404);
}

}  // namespace
}  // namespace sluice::test
