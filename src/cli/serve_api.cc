// SPDX-License-Identifier: Apache-2.0

#include "cli/serve_api.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include "common/log.h"
#include "query/engine.h"

namespace sluice::cli {

std::vector<api::TopTalker> CurrentTopTalkers(const std::string& data_dir, std::int64_t now_ms) {
  query::QuerySpec spec;
  spec.data_dir = data_dir;
  spec.window = query::TimeWindow{now_ms - 5 * 60'000, now_ms};
  spec.top_n = api::kMaxTopTalkers;
  query::StatSpec stat;
  stat.name = "srcip";
  stat.key = {{flow::FieldId::kSrcAddr}};
  stat.order = query::OrderBy::kBytes;
  spec.stats.push_back(stat);
  spec.threads = 1;
  spec.memory_budget_bytes = std::size_t{64} << 20;
  spec.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  std::vector<api::TopTalker> talkers;
  auto result = query::RunQuery(spec, nullptr);
  if (result) {
    for (const query::GroupRow& row : result->stats.front().rows) {
      talkers.push_back({row.key[0].address, row.counters.bytes});
    }
  }
  return talkers;
}

Result<ServeApi> StartServeApi(const ServeConfig& config, std::unique_ptr<flow::FlowSink> ingest_sink,
                               const Clock& clock, ServeApiHooks hooks) {
  ServeApi api;
  if (!config.http.enabled) {
    return api;
  }
  api::TokenStoreOptions token_options;
  token_options.data_dir = config.store.data_dir;
  auto tokens = api::TokenStore::Open(token_options, clock);
  if (!tokens) {
    return tl::unexpected(tokens.error());
  }
  api.tokens = std::move(*tokens);
  auto initial = api::EnsureAdminToken(*api.tokens, config.http.admin_token);
  if (!initial) {
    return tl::unexpected(initial.error());
  }
  if (*initial) {
    // Printed once, to stderr only; the file keeps its hash.
    std::fprintf(stderr,
                 "\nNo API token existed, so an admin token was created. It is shown this once:\n\n"
                 "    %s\n\n"
                 "Use it as 'Authorization: Bearer TOKEN'; make read-only ones with\n"
                 "'sluice token create --data %s --role read'.\n\n",
                 (*initial)->c_str(), config.store.data_dir.c_str());
    std::fflush(stderr);
  }
  api.ingest = std::make_unique<api::HttpIngest>(config.pipeline.decoder, std::move(ingest_sink));
  auto views = api::ViewStore::Open(config.store.data_dir);
  if (!views) {
    return tl::unexpected(views.error());
  }
  api.views = std::move(*views);

  api::ApiServerOptions options;
  options.host = config.http.listen.address.ToString();
  options.port = config.http.listen.port;
  options.tls_cert_file = config.http.tls_cert;
  options.tls_key_file = config.http.tls_key;
  options.threads = config.http.threads;
  options.metrics_need_token = config.http.metrics_need_token;

  api::ApiServices services;
  services.tokens = api.tokens.get();
  services.ingest = api.ingest.get();
  services.views = api.views.get();
  services.query.data_dir = config.store.data_dir;
  services.query.timeout = config.http.query_timeout;
  services.query.max_rows = config.http.max_rows;
  for (const flow::IpPrefix& prefix : config.local_networks) {
    services.query.local_networks.push_back(prefix.ToString());
  }
  services.query.observe_latency = std::move(hooks.observe_query_latency);
  services.metrics_text = std::move(hooks.metrics_text);
  services.exporters_json = std::move(hooks.exporters_json);
  services.health = std::move(hooks.health);
  auto server = api::ApiServer::Start(options, std::move(services));
  if (!server) {
    return tl::unexpected(server.error());
  }
  api.server = std::move(*server);
  Log(LogLevel::kInfo, std::string("HTTP API on ") + (api.server->tls() ? "https://" : "http://") +
                           config.http.listen.ToString() + " (token required; docs/api.md); web dashboard at /");
  return api;
}

}  // namespace sluice::cli
