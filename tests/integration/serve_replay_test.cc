// SPDX-License-Identifier: Apache-2.0
// End to end through real UDP sockets: the `sluice serve` binary receives what
// `sluice replay` (real captures) and `sluice-blast` (synthetic v5/v9/IPFIX) send.

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "testing/hex.h"
#include "testing/process.h"

namespace sluice {
namespace {

const std::string kSluice = SLUICE_BINARY_DIR "/apps/sluice/sluice";
const std::string kBlast = SLUICE_BINARY_DIR "/tools/flowblast/sluice-blast";

using test::Child;
using test::ReadText;
using test::RunCommand;
using test::TempDir;

// Reads `"key":NUMBER` from a flat JSON object.
std::uint64_t JsonNumber(const std::string& json, const std::string& key) {
  const auto pos = json.find("\"" + key + "\":");
  if (pos == std::string::npos) {
    ADD_FAILURE() << "no " << key << " in " << json.substr(0, 400);
    return 0;
  }
  return std::strtoull(json.c_str() + pos + key.size() + 3, nullptr, 10);
}

// `sluice serve` on 127.0.0.1, a free port; stops on SIGTERM.
class Collector {
 public:
  explicit Collector(const TempDir& dir, std::vector<std::string> extra = {})
      : ready_(dir.File("ready")), stats_(dir.File("stats.json")) {
    std::vector<std::string> argv = {
        kSluice, "serve",        "--listen", "127.0.0.1:0",      "--ready-file",
        ready_,  "--stats-file", stats_,     "--stats-interval", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child_ = std::make_unique<Child>(argv, dir.File("serve.out"), dir.File("serve.err"));
  }

  // The address it listens on, once it does ("" after 10 s without).
  std::string WaitReady() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = ReadText(ready_);
      if (!text.empty() && text.back() == '\n') {
        return text.substr(0, text.find('\n'));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return "";
  }

  // SIGTERM, then the final counters (JSON); "" if it did not exit 0.
  std::string StopAndReadStats() {
    child_->Signal(SIGTERM);
    const int status = child_->Wait(std::chrono::seconds(20));
    EXPECT_EQ(status, 0) << child_->Err();
    return status == 0 ? ReadText(stats_) : "";
  }

  std::string Log() const { return child_->Err(); }

 private:
  std::string ready_;
  std::string stats_;
  std::unique_ptr<Child> child_;
};

TEST(ServeReplayTest, EveryRecordOfRealCapturesArrivesThroughUdp) {
  const std::vector<std::string> files = {
      test::SharedTestData("flows/akvorado/netflow/nfv5.pcap"),
      test::SharedTestData(
          "flows/pmacct-test-automation/101-NFv9-CISCO-cust_primitives/traffic-00.pcap"),
      test::SharedTestData("flows/pmacct-test-automation/100-IPFIXv10-CISCO/traffic-00.pcap"),
  };
  TempDir dir;
  // What the offline decoder gives for the same files.
  std::vector<std::string> decode_argv = {kSluice, "decode"};
  decode_argv.insert(decode_argv.end(), files.begin(), files.end());
  std::string ndjson;
  ASSERT_EQ(RunCommand(decode_argv, dir, "decode", &ndjson), 0);
  std::uint64_t expected = 0;
  for (const char ch : ndjson) {
    expected += ch == '\n' ? 1 : 0;
  }
  ASSERT_GT(expected, 50u);

  Collector collector(dir);
  const std::string address = collector.WaitReady();
  ASSERT_FALSE(address.empty()) << collector.Log();
  EXPECT_NE(collector.Log().find("listening on udp " + address), std::string::npos)
      << collector.Log();

  std::vector<std::string> replay_argv = {kSluice,  "replay", "--to",   address,
                                          "--loop", "3",      "--rate", "20000"};
  replay_argv.insert(replay_argv.end(), files.begin(), files.end());
  std::string replay_log;
  ASSERT_EQ(RunCommand(replay_argv, dir, "replay", nullptr, &replay_log), 0) << replay_log;
  EXPECT_NE(replay_log.find("sent "), std::string::npos) << replay_log;

  const std::string stats = collector.StopAndReadStats();
  ASSERT_FALSE(stats.empty());
  EXPECT_EQ(JsonNumber(stats, "records"), 3 * expected) << stats.substr(0, 600);
  EXPECT_EQ(JsonNumber(stats, "decode_errors"), 0u);
  EXPECT_EQ(JsonNumber(stats, "kernel_drops"), 0u);
  EXPECT_EQ(JsonNumber(stats, "dropped_queue_full"), 0u);
  EXPECT_EQ(JsonNumber(stats, "datagrams"), JsonNumber(stats, "datagrams_decoded"));
  EXPECT_NE(collector.Log().find("final: datagrams="), std::string::npos);
}

TEST(ServeReplayTest, EveryFlowTheLoadGeneratorSendsIsDecoded) {
  for (const std::string protocol : {"v5", "v9", "ipfix"}) {
    SCOPED_TRACE(protocol);
    TempDir dir;
    Collector collector(dir, {"--decode-threads", "2"});
    const std::string address = collector.WaitReady();
    ASSERT_FALSE(address.empty()) << collector.Log();
    std::string summary;
    ASSERT_EQ(RunCommand({kBlast, "--to", address, "--protocol", protocol, "--rate", "100000",
                          "--duration", "0.3", "--exporters", "3", "--json"},
                         dir, "blast", &summary),
              0);
    const std::uint64_t flows = JsonNumber(summary, "flows");
    ASSERT_GT(flows, 10'000u) << summary;
    const std::string stats = collector.StopAndReadStats();
    EXPECT_EQ(JsonNumber(stats, "records"), flows) << summary << "\n" << stats.substr(0, 600);
    EXPECT_EQ(JsonNumber(stats, "datagrams"), JsonNumber(summary, "datagrams"));
    EXPECT_EQ(JsonNumber(stats, "decode_errors"), 0u);
    // The encoder numbers its packets as an exporter must: no loss seen by the decoder.
    EXPECT_NE(stats.find("\"sequence_lost\":0"), std::string::npos);
    EXPECT_EQ(stats.find("\"sequence_lost\":1"), std::string::npos);
  }
}

TEST(ServeReplayTest, ServeFailsClearlyWhenThePortIsTaken) {
  TempDir dir;
  Collector first(dir);
  const std::string address = first.WaitReady();
  ASSERT_FALSE(address.empty());
  std::string err;
  EXPECT_EQ(RunCommand({kSluice, "serve", "--listen", address}, dir, "second", nullptr, &err), 1);
  EXPECT_NE(err.find("cannot bind udp " + address), std::string::npos) << err;
}

TEST(ServeReplayTest, ServeStopsByItselfAfterExitAfter) {
  TempDir dir;
  std::string err;
  EXPECT_EQ(RunCommand({kSluice, "serve", "--listen", "127.0.0.1:0", "--exit-after", "1",
                        "--stats-file", dir.File("stats.json")},
                       dir, "serve", nullptr, &err),
            0)
      << err;
  EXPECT_NE(ReadText(dir.File("stats.json")).find("\"final\":true"), std::string::npos);
}

TEST(ServeReplayTest, CommandsRejectBadArguments) {
  TempDir dir;
  EXPECT_EQ(RunCommand({kSluice, "serve", "--listen", "nowhere"}, dir, "a"), 2);
  EXPECT_EQ(RunCommand({kSluice, "serve", "--allow", "10.0.0.0/99"}, dir, "b"), 2);
  EXPECT_EQ(
      RunCommand({kSluice, "replay", test::SharedTestData("flows/akvorado/netflow/nfv5.pcap")}, dir,
                 "c"),
      2);
  EXPECT_EQ(
      RunCommand({kSluice, "replay", "--to", "127.0.0.1:9", "/nonexistent/file.pcap"}, dir, "d"),
      1);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// Templates learnt before a restart decode the data that arrives after it.
TEST(ServeReplayTest, TemplatesSurviveARestartThroughTheDataDirectory) {
  const std::string templates =
      test::SharedTestData("flows/logstash-codec-netflow/netflow9_test_cisco_asa_1_tpl.dat");
  const std::string data =
      test::SharedTestData("flows/logstash-codec-netflow/netflow9_test_cisco_asa_1_data.dat");
  TempDir dir;
  std::string ndjson;
  ASSERT_EQ(RunCommand({kSluice, "decode", templates, data}, dir, "decode", &ndjson), 0);
  std::uint64_t expected = 0;
  for (const char ch : ndjson) {
    expected += ch == '\n' ? 1 : 0;
  }
  ASSERT_GT(expected, 0u);
  const std::string data_dir = dir.File("data");

  {
    TempDir run;
    Collector collector(run, {"--data", data_dir});
    const std::string address = collector.WaitReady();
    ASSERT_FALSE(address.empty()) << collector.Log();
    ASSERT_EQ(RunCommand({kSluice, "replay", "--to", address, templates}, run, "replay"), 0);
    const std::string stats = collector.StopAndReadStats();
    EXPECT_EQ(JsonNumber(stats, "records"), 0u);
  }
  {
    // A collector without the saved state cannot decode the data alone.
    TempDir run;
    Collector collector(run);
    const std::string address = collector.WaitReady();
    ASSERT_FALSE(address.empty()) << collector.Log();
    ASSERT_EQ(RunCommand({kSluice, "replay", "--to", address, data}, run, "replay"), 0);
    EXPECT_EQ(JsonNumber(collector.StopAndReadStats(), "records"), 0u);
  }
  {
    TempDir run;
    Collector collector(run, {"--data", data_dir});
    const std::string address = collector.WaitReady();
    ASSERT_FALSE(address.empty()) << collector.Log();
    EXPECT_NE(collector.Log().find("restored templates"), std::string::npos) << collector.Log();
    ASSERT_EQ(RunCommand({kSluice, "replay", "--to", address, data}, run, "replay"), 0);
    const std::string stats = collector.StopAndReadStats();
    EXPECT_EQ(JsonNumber(stats, "records"), expected) << stats.substr(0, 800);
    EXPECT_EQ(JsonNumber(stats, "sets_without_template"), 0u);
  }
}

}  // namespace
}  // namespace sluice
