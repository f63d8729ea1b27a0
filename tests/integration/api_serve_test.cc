// SPDX-License-Identifier: Apache-2.0
// The HTTP API of a real `sluice serve`, fed by real captures replayed over loopback UDP
// and by NetFlow v5 posted to the ingest route: each endpoint's numbers against
// `sluice query` on the same data directory, the first-start admin token, roles with a
// token made by `sluice token create`.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "testing/hex.h"
#include "testing/process.h"
#include "testing/serve_api_util.h"

namespace sluice {
namespace {

using nlohmann::json;
using test::Child;
using test::RunCommand;
using test::FindToken;
using test::FreeTcpPort;
using test::TempDir;

const std::string kSluice = SLUICE_BINARY_DIR "/apps/sluice/sluice";
const std::string kAllTime = "1970-01-01T00:00:00Z/2100-01-01T00:00:00Z";
const std::string kAllTimeParams = "from=0&to=4102444800000";

class ApiServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreeTcpPort();
    serve_ = std::make_unique<Child>(
        std::vector<std::string>{kSluice, "serve", "--listen", "127.0.0.1:0", "--data", data_, "--http",
                                 "127.0.0.1:" + std::to_string(port_), "--ready-file", dir_.File("ready"),
                                 "--stats-interval", "0", "--flush-interval", "1s"},
        dir_.File("serve.out"), dir_.File("serve.err"));
    udp_ = test::WaitForReadyAddress(dir_.File("ready"), std::chrono::seconds(15));
    ASSERT_FALSE(udp_.empty()) << serve_->Err();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    admin_ = FindToken(serve_->Err());
    ASSERT_FALSE(admin_.empty()) << serve_->Err();
  }

  void TearDown() override {
    serve_->Signal(SIGTERM);
    EXPECT_EQ(serve_->Wait(std::chrono::seconds(20)), 0) << serve_->Err();
  }

  json Get(const std::string& path, const std::string& token, int want = 200) {
    auto res = client_->Get(path.c_str(), {{"Authorization", "Bearer " + token}});
    EXPECT_TRUE(res) << path;
    if (!res) {
      return {};
    }
    EXPECT_EQ(res->status, want) << path << ": " << res->body;
    return json::parse(res->body, nullptr, false);
  }

  // `sluice query --data DATA ARGS -o json` as JSON.
  json Query(std::vector<std::string> args) {
    std::vector<std::string> argv = {kSluice, "query", "--data", data_, "-t", kAllTime, "-o", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    EXPECT_EQ(RunCommand(argv, dir_, "query", &out), 0);
    return json::parse(out, nullptr, false);
  }

  // Waits until the store holds `flows` flows (flushed every second).
  void WaitForFlows(std::uint64_t flows) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::uint64_t seen = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const json result = Query({});
      seen = result.is_discarded() ? 0 : result["summary"]["flows"].get<std::uint64_t>();
      if (seen >= flows) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ASSERT_EQ(seen, flows);
  }

  TempDir dir_;
  std::string data_ = dir_.File("data");
  std::uint16_t port_ = 0;
  std::unique_ptr<Child> serve_;
  std::unique_ptr<httplib::Client> client_;
  std::string udp_;
  std::string admin_;
};

TEST_F(ApiServeTest, EndpointsAgreeWithSluiceQuery) {
  const std::vector<std::string> captures = {
      test::SharedTestData("flows/akvorado/netflow/nfv5.pcap"),
      test::SharedTestData("flows/pmacct-test-automation/100-IPFIXv10-CISCO/traffic-00.pcap")};
  std::vector<std::string> decode = {kSluice, "decode"};
  decode.insert(decode.end(), captures.begin(), captures.end());
  std::string records;
  ASSERT_EQ(RunCommand(decode, dir_, "decode", &records), 0);
  const auto decoded = static_cast<std::uint64_t>(std::count(records.begin(), records.end(), '\n'));
  ASSERT_GT(decoded, 0u);
  std::vector<std::string> replay = {kSluice, "replay", "--to", udp_};
  replay.insert(replay.end(), captures.begin(), captures.end());
  ASSERT_EQ(RunCommand(replay, dir_, "replay"), 0);

  // Ingest over HTTP: one v5 record, under a named exporter.
  auto ingested = client_->Post("/api/v1/netflow/v5-ingest?exporter=192.0.2.1",
                                {{"Authorization", "Bearer " + admin_}}, test::OneRecordV5Packet(), "application/octet-stream");
  ASSERT_TRUE(ingested);
  ASSERT_EQ(ingested->status, 200) << ingested->body;
  EXPECT_EQ(json::parse(ingested->body)["accepted"], 1);
  WaitForFlows(decoded + 1);
  const json host = Query({"host 198.51.100.20"});
  EXPECT_EQ(host["summary"]["bytes"], 3000);
  EXPECT_EQ(host["summary"]["packets"], 7);

  // top-talkers = -s srcip/bytes
  const json talkers = Get("/api/v1/netflow/top-talkers?limit=5&" + kAllTimeParams, admin_);
  const json stat = Query({"-s", "srcip/bytes", "-n", "5"})["stats"][0];
  ASSERT_EQ(talkers["items"].size(), stat["rows"].size());
  EXPECT_EQ(talkers["total"], stat["distinct"]);
  for (std::size_t idx = 0; idx < stat["rows"].size(); ++idx) {
    EXPECT_EQ(talkers["items"][idx]["src_ip"], stat["rows"][idx]["key"]["src_addr"]);
    EXPECT_EQ(talkers["items"][idx]["bytes_sent"], stat["rows"][idx]["bytes"]);
    EXPECT_EQ(talkers["items"][idx]["flows"], stat["rows"][idx]["flows"]);
  }
  // protocol-breakdown and bandwidth-trend add up to the summary.
  const json summary = Query({})["summary"];
  const json breakdown = Get("/api/v1/netflow/protocol-breakdown?limit=1000&" + kAllTimeParams, admin_);
  EXPECT_EQ(breakdown["bytes_total"], summary["bytes"]);
  std::uint64_t bytes = 0;
  for (const json& item : breakdown["items"]) {
    bytes += item["bytes"].get<std::uint64_t>();
  }
  EXPECT_EQ(bytes, summary["bytes"].get<std::uint64_t>());
  const json trend = Get("/api/v1/netflow/bandwidth-trend?interval=1d&from=" +
                             std::to_string((::time(nullptr) - 86400 * 400) * 1000LL),
                         admin_);
  std::uint64_t trend_bytes = 0;
  for (const json& item : trend["items"]) {
    trend_bytes += item["bytes"].get<std::uint64_t>();
  }
  // The replayed captures keep their own (old) flow times; the window holds what is recent.
  EXPECT_GE(summary["bytes"].get<std::uint64_t>(), trend_bytes);
  EXPECT_GE(trend_bytes, 3000u);
  // A subscriber nobody maps: zeros, not an error.
  const json usage = Get("/api/v1/netflow/subscriber/nobody/usage?" + kAllTimeParams, admin_);
  EXPECT_EQ(usage["bytes_total"], 0);
  // The generic query names its command line and answers what sluice query answers.
  auto posted = client_->Post("/api/v1/query", {{"Authorization", "Bearer " + admin_}},
                              R"({"from": "0", "to": "4102444800000", "stat": "dstport/bytes", "limit": 3})",
                              "application/json");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 200) << posted->body;
  const json answer = json::parse(posted->body);
  EXPECT_EQ(answer["result"]["stats"][0]["rows"], Query({"-s", "dstport/bytes", "-n", "3"})["stats"][0]["rows"]);
  EXPECT_EQ(answer["command"].get<std::string>().rfind("sluice query --data ", 0), 0u);

  // The exporters and /metrics see the replayed exporter (127.0.0.1), once the decode
  // workers publish their next reports (serve asks every second; docs/api_service.md).
  json exporters;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    exporters = Get("/api/v1/exporters", admin_);
    if (!exporters["items"].empty() && exporters["items"][0]["flows"].get<std::uint64_t>() > 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_GE(exporters["items"].size(), 1u) << exporters.dump();
  EXPECT_EQ(exporters["items"][0]["exporter"], "127.0.0.1");
  EXPECT_GT(exporters["items"][0]["flows"].get<std::uint64_t>(), 0u);
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("netflow_flows_total{exporter=\"127.0.0.1\""), std::string::npos);
  EXPECT_NE(metrics->body.find("sluice_query_duration_seconds_bucket"), std::string::npos);
  if (::access("/usr/bin/promtool", X_OK) == 0) {
    const std::string path = dir_.File("metrics.txt");
    std::FILE* file = std::fopen(path.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fwrite(metrics->body.data(), 1, metrics->body.size(), file);
    std::fclose(file);
    std::string out;
    std::string err;
    EXPECT_EQ(RunCommand({"/bin/sh", "-c", "promtool check metrics < " + path}, dir_, "promtool", &out, &err), 0)
        << out << err;
    EXPECT_EQ(out + err, "") << "promtool lint";
  }
}

TEST_F(ApiServeTest, ReadTokenFromTheCliCannotIngest) {
  std::string out;
  ASSERT_EQ(RunCommand({kSluice, "token", "create", "--data", data_, "--role", "read", "--name", "grafana"}, dir_,
                       "token", &out),
            0);
  const std::string read = FindToken(out);
  ASSERT_FALSE(read.empty()) << out;
  // The running server picks the new token up (the file is re-read within a second).
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  Get("/api/v1/netflow/top-talkers", read);
  Get("/api/v1/exporters", read);
  auto ingest = client_->Post("/api/v1/netflow/v5-ingest", {{"Authorization", "Bearer " + read}}, test::OneRecordV5Packet(),
                              "application/octet-stream");
  ASSERT_TRUE(ingest);
  EXPECT_EQ(ingest->status, 403);
  Get("/api/v1/netflow/top-talkers", "sluice_00000000_" + std::string(64, '0'), 401);
  auto health = client_->Get("/api/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

// A real Prometheus (Debian's package) scrapes /metrics and sees the flow counters.
TEST_F(ApiServeTest, PrometheusScrapesTheMetrics) {
  if (::access("/usr/bin/prometheus", X_OK) != 0) {
    GTEST_SKIP() << "no /usr/bin/prometheus (scripts/install-deps installs it)";
  }
  const std::uint16_t prometheus_port = FreeTcpPort();
  const std::string config = dir_.File("prometheus.yml");
  std::FILE* file = std::fopen(config.c_str(), "w");
  ASSERT_NE(file, nullptr);
  const std::string text = "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                           "scrape_configs:\n  - job_name: sluice\n    static_configs:\n"
                           "      - targets: ['127.0.0.1:" + std::to_string(port_) + "']\n";
  std::fwrite(text.data(), 1, text.size(), file);
  std::fclose(file);
  Child prometheus({"/usr/bin/prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir_.File("tsdb"),
                    "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
                   dir_.File("prometheus.out"), dir_.File("prometheus.err"));
  ASSERT_TRUE(prometheus.started());
  ASSERT_EQ(RunCommand({kSluice, "replay", "--to", udp_, test::SharedTestData("flows/akvorado/netflow/nfv5.pcap")},
                       dir_, "replay"),
            0);
  httplib::Client client("127.0.0.1", prometheus_port);
  double flows = 0;
  std::string last;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && flows <= 0) {
    auto res = client.Get("/api/v1/query?query=sum(netflow_flows_total)%20and%20on()%20up%7Bjob%3D%22sluice%22%7D%3D%3D1");
    if (res && res->status == 200) {
      last = res->body;
      const json answer = json::parse(res->body, nullptr, false);
      if (!answer.is_discarded() && !answer["data"]["result"].empty()) {
        flows = std::stod(answer["data"]["result"][0]["value"][1].get<std::string>());
      }
    }
    if (flows <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  prometheus.Signal(SIGTERM);
  prometheus.Wait(std::chrono::seconds(20));
  EXPECT_GT(flows, 0) << last << "\n" << prometheus.Err();
}

}  // namespace
}  // namespace sluice
