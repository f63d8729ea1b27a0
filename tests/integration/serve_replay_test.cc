// SPDX-License-Identifier: Apache-2.0
// End to end through real UDP sockets: the `sluice serve` binary receives what
// `sluice replay` (real captures) and `sluice-blast` (synthetic v5/v9/IPFIX) send.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
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
        kSluice, "serve", "--http", "off",        "--listen", "127.0.0.1:0",      "--ready-file",
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
    // ... and stored: every flow is in a sealed segment.
    EXPECT_EQ(JsonNumber(stats, "flows_written"), flows);
    EXPECT_EQ(JsonNumber(stats, "flows_not_written"), 0u);
    EXPECT_EQ(JsonNumber(stats, "open_segments"), 0u);
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
  EXPECT_EQ(RunCommand({kSluice, "serve", "--http", "off", "--listen", address}, dir, "second", nullptr, &err), 1);
  EXPECT_NE(err.find("cannot bind udp " + address), std::string::npos) << err;
}

TEST(ServeReplayTest, ServeStopsByItselfAfterExitAfter) {
  TempDir dir;
  std::string err;
  EXPECT_EQ(RunCommand({kSluice, "serve", "--http", "off", "--listen", "127.0.0.1:0", "--exit-after", "1",
                        "--stats-file", dir.File("stats.json")},
                       dir, "serve", nullptr, &err),
            0)
      << err;
  EXPECT_NE(ReadText(dir.File("stats.json")).find("\"final\":true"), std::string::npos);
}

TEST(ServeReplayTest, CommandsRejectBadArguments) {
  TempDir dir;
  EXPECT_EQ(RunCommand({kSluice, "serve", "--http", "off", "--listen", "nowhere"}, dir, "a"), 2);
  EXPECT_EQ(RunCommand({kSluice, "serve", "--http", "off", "--allow", "10.0.0.0/99"}, dir, "b"), 2);
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

namespace sluice {
namespace {

// Writes a classic pcap of `flows` distinct flows (TCP over IPv4 and UDP over IPv6, three
// packets each) for a real exporter to read.
void WriteTrafficPcap(const std::string& path, int flows) {
  std::string out;
  auto put32 = [&out](std::uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  auto put16 = [&out](std::uint16_t v) { out.append(reinterpret_cast<const char*>(&v), 2); };
  put32(0xa1b2c3d4);  // little-endian pcap, microseconds
  put16(2);
  put16(4);
  put32(0);
  put32(0);
  put32(65535);
  put32(1);  // Ethernet
  for (int packet = 0; packet < flows * 3; ++packet) {
    const int flow = packet % flows;
    const bool v6 = flow % 3 == 2;
    std::string frame(12, '\0');
    frame += v6 ? std::string("\x86\xdd", 2) : std::string("\x08\x00", 2);
    const std::size_t l4_length = v6 ? 8 + 100 : 20 + 100;
    if (v6) {
      const unsigned char header[8] = {0x60, 0, 0, 0, static_cast<unsigned char>(l4_length >> 8),
                                       static_cast<unsigned char>(l4_length & 0xff), 17, 64};
      frame.append(reinterpret_cast<const char*>(header), sizeof header);
      std::string src(16, '\0');
      std::string dst(16, '\0');
      src[0] = dst[0] = 0x20;
      src[1] = dst[1] = 0x01;
      src[15] = static_cast<char>(flow);
      src[14] = static_cast<char>(flow >> 8);
      dst[15] = 1;
      frame += src + dst;
    } else {
      const std::size_t total = 20 + l4_length;
      const unsigned char header[20] = {
          0x45, 0, static_cast<unsigned char>(total >> 8), static_cast<unsigned char>(total & 0xff),
          0, 0, 0, 0, 64, 6, 0, 0, 10, 0, static_cast<unsigned char>(flow >> 8),
          static_cast<unsigned char>(flow), 192, 0, 2, 1};
      frame.append(reinterpret_cast<const char*>(header), sizeof header);
    }
    const std::uint16_t src_port = static_cast<std::uint16_t>(10000 + flow);
    const unsigned char ports[4] = {static_cast<unsigned char>(src_port >> 8),
                                    static_cast<unsigned char>(src_port & 0xff),
                                    static_cast<unsigned char>(v6 ? 0x00 : 0x01),
                                    static_cast<unsigned char>(v6 ? 0x35 : 0xbb)};
    frame.append(reinterpret_cast<const char*>(ports), sizeof ports);
    if (v6) {
      const char rest[4] = {0, 108, 0, 0};
      frame.append(rest, 4);
    } else {
      const unsigned char rest[16] = {0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0x10, 0, 0, 0, 0, 0};
      frame.append(reinterpret_cast<const char*>(rest), sizeof rest);
    }
    frame.append(100, 'x');
    put32(1'700'000'000 + static_cast<std::uint32_t>(packet / flows));
    put32(static_cast<std::uint32_t>(packet % flows) * 100);
    put32(static_cast<std::uint32_t>(frame.size()));
    put32(static_cast<std::uint32_t>(frame.size()));
    out += frame;
  }
  std::ofstream(path, std::ios::binary) << out;
}

// softflowd, a real exporter (the one OPNsense/pfSense run), reads a capture and exports
// its flows as NetFlow v5, v9 and IPFIX to `sluice serve`: every exported flow arrives.
TEST(ServeReplayTest, EveryFlowSoftflowdExportsIsDecoded) {
  const std::string softflowd = "/usr/sbin/softflowd";
  if (::access(softflowd.c_str(), X_OK) != 0) {
    GTEST_SKIP() << "softflowd is not installed (scripts/install-deps installs it)";
  }
  TempDir dir;
  const std::string pcap = dir.File("traffic.pcap");
  WriteTrafficPcap(pcap, 300);
  for (const std::string version : {"5", "9", "10"}) {
    SCOPED_TRACE("softflowd -v " + version);
    TempDir run;
    Collector collector(run);
    const std::string address = collector.WaitReady();
    ASSERT_FALSE(address.empty()) << collector.Log();
    std::string report;
    std::string log;
    ASSERT_EQ(RunCommand({softflowd, "-d", "-r", pcap, "-n", address, "-v", version}, run,
                         "softflowd", &report, &log),
              0);
    report += log;
    const auto pos = report.find("Flows exported: ");
    ASSERT_NE(pos, std::string::npos) << report;
    const std::uint64_t exported = std::strtoull(report.c_str() + pos + 16, nullptr, 10);
    // v5 carries IPv4 only: softflowd exports the 200 IPv4 flows; v9 and IPFIX all 300.
    EXPECT_EQ(exported, version == "5" ? 200u : 300u) << report;
    const std::string stats = collector.StopAndReadStats();
    EXPECT_EQ(JsonNumber(stats, "records"), exported) << stats.substr(0, 600);
    EXPECT_EQ(JsonNumber(stats, "decode_errors"), 0u);
    EXPECT_EQ(stats.find("\"sequence_lost\":1"), std::string::npos);
  }
}

}  // namespace
}  // namespace sluice
