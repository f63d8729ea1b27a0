// SPDX-License-Identifier: Apache-2.0
// Subscriber/site enrichment in a real `sluice serve`: a prefix map given with
// --prefix-map fills the subscriber, reseller, site and cir columns of replayed flows;
// `sluice query` filters on them and the API's subscriber usage, protocol breakdown by
// NAS id and bandwidth trend (with --local-net) agree with `sluice query`; SIGHUP puts an
// edited map in force; a broken map stops serve at start with the file and line.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
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

constexpr const char* kMap =
    "# test subscribers\n"
    "prefix,subscriber_id,reseller_id,nas_id,cir\n"
    "61.6.0.0/16,cust-61,res-a,nas-1,100M\n"
    "202.160.0.0/16,cust-202,res-b,nas-2,20M\n"
    "192.0.2.0/24,cust-http,res-a,nas-1,1G\n";

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

class EnrichServeTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra) {
    port_ = FreeTcpPort();
    std::vector<std::string> argv = {kSluice, "serve", "--listen", "127.0.0.1:0", "--data", data_,
                                     "--http", "127.0.0.1:" + std::to_string(port_), "--ready-file",
                                     dir_.File("ready"), "--stats-interval", "0", "--flush-interval", "1s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    serve_ = std::make_unique<Child>(argv, dir_.File("serve.out"), dir_.File("serve.err"));
    udp_ = test::WaitForReadyAddress(dir_.File("ready"), std::chrono::seconds(15));
    ASSERT_FALSE(udp_.empty()) << serve_->Err();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    token_ = FindToken(serve_->Err());
    ASSERT_FALSE(token_.empty()) << serve_->Err();
  }

  void TearDown() override {
    if (serve_ != nullptr) {
      serve_->Signal(SIGTERM);
      EXPECT_EQ(serve_->Wait(std::chrono::seconds(20)), 0) << serve_->Err();
    }
  }

  json Get(const std::string& path) {
    auto res = client_->Get(path.c_str(), {{"Authorization", "Bearer " + token_}});
    EXPECT_TRUE(res) << path;
    if (!res) {
      return {};
    }
    EXPECT_EQ(res->status, 200) << path << ": " << res->body;
    return json::parse(res->body, nullptr, false);
  }

  json Query(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kSluice, "query", "--data", data_, "-t", kAllTime, "-o", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    EXPECT_EQ(RunCommand(argv, dir_, "query", &out), 0);
    return json::parse(out, nullptr, false);
  }

  // flows, bytes and packets of the flows matching `filter`.
  json Summary(const std::string& filter) {
    const json summary = Query({filter})["summary"];
    return json{{"flows", summary["flows"]}, {"bytes", summary["bytes"]}, {"packets", summary["packets"]}};
  }

  void WaitForFlows(const std::string& filter, std::uint64_t flows) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::uint64_t seen = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const json result = Query({filter});
      seen = result.is_discarded() ? 0 : result["summary"]["flows"].get<std::uint64_t>();
      if (seen >= flows) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ASSERT_EQ(seen, flows) << filter;
  }

  // Waits up to 10 s for `text` in serve's log.
  bool WaitForLog(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (serve_->Err().find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }

  bool Post(const std::string& body) {
    auto res = client_->Post("/api/v1/netflow/v5-ingest?exporter=192.0.2.1",
                             {{"Authorization", "Bearer " + token_}}, body, "application/octet-stream");
    return res && res->status == 200;
  }

  TempDir dir_;
  std::string data_ = dir_.File("data");
  std::string map_ = dir_.File("subscribers.csv");
  std::uint16_t port_ = 0;
  std::unique_ptr<Child> serve_;
  std::unique_ptr<httplib::Client> client_;
  std::string udp_;
  std::string token_;
};

TEST_F(EnrichServeTest, MapFillsColumnsAndTheApiAgreesWithQuery) {
  WriteFile(map_, kMap);
  ASSERT_NO_FATAL_FAILURE(Start({"--prefix-map", map_, "--local-net", "61.6.0.0/16", "--local-net",
                                 "202.160.0.0/16"}));
  EXPECT_NE(serve_->Err().find("subscriber map: 3 prefixes"), std::string::npos) << serve_->Err();
  const std::string capture = test::SharedTestData("flows/akvorado/netflow/nfv5.pcap");
  std::string records;
  ASSERT_EQ(RunCommand({kSluice, "decode", capture}, dir_, "decode", &records), 0);
  const auto decoded = static_cast<std::uint64_t>(std::count(records.begin(), records.end(), '\n'));
  ASSERT_EQ(RunCommand({kSluice, "replay", "--to", udp_, capture}, dir_, "replay"), 0);
  WaitForFlows("any", decoded);

  // A flow is its source's subscriber if mapped, else its destination's.
  const json cust61 = Summary("subscriber \"cust-61\"");
  const json cust202 = Summary("subscriber \"cust-202\"");
  const json by_net61 = Summary("src net 61.6.0.0/16 or (dst net 61.6.0.0/16 and not src net 202.160.0.0/16)");
  const json by_net202 = Summary("src net 202.160.0.0/16 or (dst net 202.160.0.0/16 and not src net 61.6.0.0/16)");
  ASSERT_GT(cust61["flows"].get<std::uint64_t>(), 0u);
  ASSERT_GT(cust202["flows"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(cust61, by_net61);
  EXPECT_EQ(cust202, by_net202);
  EXPECT_EQ(Summary("site nas-1"), cust61);
  EXPECT_EQ(Summary("reseller \"res-b\""), cust202);
  EXPECT_EQ(Summary("cir 100000000"), cust61);
  EXPECT_EQ(Summary("cir > 10m and cir < 50m"), cust202);
  const json unmapped = Summary("not subscriber \"cust-61\" and not subscriber \"cust-202\"");
  EXPECT_EQ(unmapped["flows"].get<std::uint64_t>() + cust61["flows"].get<std::uint64_t>() +
                cust202["flows"].get<std::uint64_t>(),
            decoded);

  // The columns come out in JSON listings.
  const json listed = Query({"-c", "1", "subscriber \"cust-202\""});
  ASSERT_EQ(listed["records"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["records"][0]["subscriber"], "cust-202");
  EXPECT_EQ(listed["records"][0]["reseller"], "res-b");
  EXPECT_EQ(listed["records"][0]["site"], "nas-2");
  EXPECT_EQ(listed["records"][0]["cir"], 20000000);

  // subscriber usage = its totals and top ports from sluice query.
  const json usage = Get("/api/v1/netflow/subscriber/cust-61/usage?" + kAllTimeParams);
  EXPECT_EQ(usage["bytes_total"], cust61["bytes"]);
  EXPECT_EQ(usage["pkts_total"], cust61["packets"]);
  EXPECT_EQ(usage["flows_total"], cust61["flows"]);
  ASSERT_FALSE(usage["top_ports"].empty());
  // protocol breakdown of one NAS = the flows of that site.
  const json breakdown = Get("/api/v1/netflow/protocol-breakdown?nas_id=nas-2&limit=1000&" + kAllTimeParams);
  EXPECT_EQ(breakdown["bytes_total"], cust202["bytes"]);

  // bandwidth trend relative to the local networks.
  const json trend = Get("/api/v1/netflow/bandwidth-trend?interval=1d&from=1680566400000&to=1680739200000");
  std::uint64_t in = 0;
  std::uint64_t out = 0;
  std::uint64_t internal = 0;
  std::uint64_t all = 0;
  for (const json& item : trend["items"]) {
    in += item["bytes_in"].get<std::uint64_t>();
    out += item["bytes_out"].get<std::uint64_t>();
    internal += item["bytes_internal"].get<std::uint64_t>();
    all += item["bytes"].get<std::uint64_t>();
  }
  ASSERT_EQ(trend["local_networks"].size(), 2u) << trend.dump();
  const std::string local = "(net 61.6.0.0/16 or net 202.160.0.0/16)";
  const std::string src_local = "(src net 61.6.0.0/16 or src net 202.160.0.0/16)";
  const std::string dst_local = "(dst net 61.6.0.0/16 or dst net 202.160.0.0/16)";
  EXPECT_EQ(in, Summary(dst_local + " and not " + src_local)["bytes"].get<std::uint64_t>());
  EXPECT_EQ(out, Summary(src_local + " and not " + dst_local)["bytes"].get<std::uint64_t>());
  EXPECT_EQ(internal, Summary(src_local + " and " + dst_local)["bytes"].get<std::uint64_t>());
  EXPECT_EQ(all, Summary("any")["bytes"].get<std::uint64_t>());
  EXPECT_GT(in, 0u);

  // /metrics counts what the map matched.
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  const std::uint64_t matched = cust61["flows"].get<std::uint64_t>() + cust202["flows"].get<std::uint64_t>();
  EXPECT_NE(metrics->body.find("sluice_enrich_flows_total{result=\"matched\"} " + std::to_string(matched) + "\n"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("sluice_enrich_flows_total{result=\"unmatched\"} " +
                               std::to_string(decoded - matched) + "\n"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("sluice_prefix_map_prefixes 3\n"), std::string::npos);

  // SIGHUP re-reads the map file: new flows get the edited ids.
  ASSERT_TRUE(Post(test::OneRecordV5Packet()));
  WaitForFlows("subscriber \"cust-http\"", 1);
  WriteFile(map_, "prefix,subscriber_id\n192.0.2.0/24,cust-renamed\n");
  serve_->Signal(SIGHUP);
  ASSERT_TRUE(WaitForLog("subscriber map: 1 prefixes")) << serve_->Err();
  ASSERT_TRUE(Post(test::OneRecordV5Packet()));
  WaitForFlows("subscriber \"cust-renamed\"", 1);
  EXPECT_EQ(Summary("subscriber \"cust-http\"")["flows"], 1);

  // A broken map on SIGHUP keeps the running one.
  WriteFile(map_, "prefix,subscriber_id\n192.0.2.0/40,broken\n");
  serve_->Signal(SIGHUP);
  EXPECT_TRUE(WaitForLog("keeping the running prefix map")) << serve_->Err();
  EXPECT_NE(serve_->Err().find("subscribers.csv:2: prefix '192.0.2.0/40'"), std::string::npos)
      << serve_->Err();
  ASSERT_TRUE(Post(test::OneRecordV5Packet()));
  WaitForFlows("subscriber \"cust-renamed\"", 2);
}

TEST_F(EnrichServeTest, ABrokenMapStopsServeWithTheFileAndLine) {
  WriteFile(map_, "prefix,subscriber_id\n10.0.0.0/8,ok\nnot-a-prefix,x\n");
  std::string out;
  std::string err;
  const int status = RunCommand({kSluice, "serve", "--listen", "127.0.0.1:0", "--data", data_, "--http", "off",
                                 "--prefix-map", map_, "--exit-after", "5"},
                                dir_, "serve-bad", &out, &err);
  EXPECT_NE(status, 0);
  EXPECT_NE(err.find("subscribers.csv:3: prefix 'not-a-prefix'"), std::string::npos) << err;
  std::string missing_err;
  EXPECT_NE(RunCommand({kSluice, "serve", "--listen", "127.0.0.1:0", "--data", data_, "--http", "off",
                        "--prefix-map", dir_.File("nope.csv"), "--exit-after", "5"},
                       dir_, "serve-missing", &out, &missing_err),
            0);
  EXPECT_NE(missing_err.find("cannot read the prefix map"), std::string::npos) << missing_err;
}

}  // namespace
}  // namespace sluice
