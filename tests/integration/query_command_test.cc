// SPDX-License-Identifier: Apache-2.0
// `sluice query` end to end: a small data directory written with SegmentWriter (two
// sources), read by the real binary with nfdump's flags.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "flow/flow_batch.h"
#include "flow/ip_address.h"
#include "store/layout.h"
#include "store/segment_writer.h"
#include "testing/process.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

const std::string kSluice = SLUICE_BINARY_DIR "/apps/sluice/sluice";

constexpr UnixMillis kDay = 1'795'392'000'000;                       // 2026-11-23 00:00:00 UTC
constexpr UnixMillis kCoreSlot = kDay + 10 * store::kMillisPerHour;  // 10:00
constexpr UnixMillis kEdgeSlot = kCoreSlot + 5 * store::kMillisPerMinute;  // 10:05

// `rows` flows from 10.0.0.<first_host + n> to 198.51.100.1, one a second from the slot
// start, each 2 s long; even hosts to port 443, odd hosts to port 80.
void WriteSegment(const std::string& data, const std::string& source, UnixMillis slot,
                  int first_host, int rows) {
  const std::string path = store::DetailSegmentPath(data, source, slot, 0);
  fs::create_directories(fs::path(path).parent_path());
  store::SegmentWriterOptions options;
  options.rows_per_block = 8;
  options.sync = false;
  auto writer = store::SegmentWriter::Create(path, options);
  ASSERT_TRUE(writer) << writer.error().Message();
  flow::FlowBatch batch;
  for (int n = 0; n < rows; ++n) {
    const int host = first_host + n;
    const std::size_t row = batch.AppendRow();
    auto& cols = batch.cols();
    cols.time_received[row] = slot + n * 1000 + 3000;
    cols.first[row] = slot + n * 1000;
    cols.last[row] = slot + n * 1000 + 2000;
    cols.exporter[row] = flow::IpAddress::FromV4(0xc0000201u);
    cols.src_addr[row] = flow::IpAddress::FromV4(0x0a000000u + static_cast<std::uint32_t>(host));
    cols.dst_addr[row] = flow::IpAddress::FromV4(0xc6336401u);
    cols.src_port[row] = static_cast<std::uint16_t>(40000 + host);
    cols.dst_port[row] = host % 2 == 0 ? 443 : 80;
    cols.proto[row] = 6;
    cols.bytes[row] = 1000 + static_cast<std::uint64_t>(host);
    cols.packets[row] = 2;
    cols.flows[row] = 1;
    if (batch.full()) {
      ASSERT_TRUE((*writer)->Append(batch));
      batch.Clear();
    }
  }
  if (!batch.empty()) {
    ASSERT_TRUE((*writer)->Append(batch));
  }
  ASSERT_TRUE((*writer)->Finish());
}

std::size_t Lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

class QueryCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.File("data");
    WriteSegment(data_, "core", kCoreSlot, 0, 20);
    WriteSegment(data_, "edge", kEdgeSlot, 100, 10);
  }

  // Runs `sluice query --data DIR ARGS...`; returns the exit status.
  int Query(std::vector<std::string> args, std::string* out, std::string* err = nullptr) {
    std::vector<std::string> argv = {kSluice, "query", "--data", data_};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string ignored;
    return test::RunCommand(argv, dir_, "query" + std::to_string(++runs_), out,
                            err != nullptr ? err : &ignored);
  }

  test::TempDir dir_;
  std::string data_;
  int runs_ = 0;
};

TEST_F(QueryCommandTest, ListsEveryFlowAndFiltersBySource) {
  std::string out;
  ASSERT_EQ(Query({"-q", "-N"}, &out), 0) << out;
  EXPECT_EQ(Lines(out), 30u) << out;
  EXPECT_NE(out.find("2026-11-23 10:00:00.000     00:00:02.000 TCP           10.0.0.0:40000 ->     "
                     "198.51.100.1:443"),
            std::string::npos)
      << out;

  ASSERT_EQ(Query({"-q", "--source", "edge"}, &out), 0);
  EXPECT_EQ(Lines(out), 10u) << out;

  // -O orders a listing; -n cuts it as nfdump does.
  ASSERT_EQ(Query({"-q", "-N", "-O", "bytes", "-n", "2", "-o", "fmt:%sa %byt"}, &out), 0) << out;
  EXPECT_EQ(out, "      10.0.0.109     1109\n      10.0.0.108     1108\n");

  ASSERT_EQ(Query({"-c", "3"}, &out), 0);
  EXPECT_EQ(out.rfind("Date first seen             Duration     Proto", 0), 0u) << out;
  EXPECT_NE(out.find("Summary: total flows: "), std::string::npos);
  EXPECT_EQ(Lines(out.substr(0, out.find("Summary"))), 4u) << out;
}

TEST_F(QueryCommandTest, FilterWordsAndJsonSummary) {
  std::string out;
  ASSERT_EQ(Query({"-o", "json", "dst", "port", "80"}, &out), 0) << out;
  EXPECT_EQ(Lines(out), 1u);
  EXPECT_EQ(out.rfind("{\"records\":[{", 0), 0u) << out;
  EXPECT_NE(out.find("\"summary\":{\"flows\":15,\"packets\":30,"), std::string::npos) << out;

  const std::string filter_file = dir_.File("filter.txt");
  {
    std::FILE* file = std::fopen(filter_file.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fputs("dst port 443\n and src net 10.0.0.0/26\n", file);
    std::fclose(file);
  }
  ASSERT_EQ(Query({"-o", "ndjson", "-f", filter_file}, &out), 0) << out;
  EXPECT_EQ(Lines(out), 11u) << out;
  EXPECT_NE(out.find("{\"summary\":{\"flows\":10,"), std::string::npos) << out;
}

TEST_F(QueryCommandTest, StatisticsAndAggregation) {
  std::string out;
  ASSERT_EQ(Query({"-s", "dstport/bytes", "-o", "json"}, &out), 0) << out;
  EXPECT_NE(
      out.find(
          "\"stats\":[{\"stat\":\"dstport\",\"order\":\"bytes\",\"distinct\":2,\"rows\":[{\"key\":"
          "{\"dst_port\":80},\"flows\":15,\"packets\":30,\"bytes\":15625,"),
      std::string::npos)
      << out;

  ASSERT_EQ(Query({"-s", "dstport/bytes", "-n", "1"}, &out), 0) << out;
  EXPECT_NE(out.find("Top 1 Dst Port ordered by bytes:\n"), std::string::npos) << out;

  ASSERT_EQ(Query({"-A", "srcip4/24,proto", "-o", "json"}, &out), 0) << out;
  EXPECT_NE(
      out.find("\"records\":[{\"key\":{\"src_addr\":\"10.0.0.0/24\",\"proto\":6},\"flows\":30,"),
      std::string::npos)
      << out;

  ASSERT_EQ(Query({"-A", "dstport", "-O", "bytes", "-q"}, &out), 0) << out;
  EXPECT_EQ(Lines(out), 2u) << out;
}

TEST_F(QueryCommandTest, TimeWindows) {
  std::string out;
  ASSERT_EQ(Query({"-t", "2026-11-23T10:00:00Z/2026-11-23T10:04:59Z", "-o", "json"}, &out), 0)
      << out;
  EXPECT_NE(out.find("\"summary\":{\"flows\":20,"), std::string::npos) << out;
  ASSERT_EQ(Query({"-t", "2026/11/23.10:05-2026/11/23.11", "-o", "json"}, &out), 0) << out;
  EXPECT_NE(out.find("\"summary\":{\"flows\":10,"), std::string::npos) << out;
}

TEST_F(QueryCommandTest, UsageAndFilterErrorsExitTwo) {
  std::string out;
  std::string err;
  EXPECT_EQ(Query({"src", "port", "and", "proto", "tcp"}, &out, &err), 2);
  EXPECT_NE(err.find("sluice query: filter: at column "), std::string::npos) << err;
  EXPECT_NE(err.find("\n  src port and proto tcp\n"), std::string::npos) << err;
  EXPECT_NE(err.find('^'), std::string::npos) << err;

  EXPECT_EQ(Query({"--bogus"}, &out, &err), 2);
  EXPECT_NE(err.find("unknown option '--bogus'"), std::string::npos) << err;
  EXPECT_EQ(Query({"-o", "fmt:%ts %nosuch"}, &out, &err), 2);
  EXPECT_NE(err.find("unknown token '%nosuch'"), std::string::npos) << err;
  EXPECT_EQ(Query({"-t", "yesterday"}, &out, &err), 2);
  EXPECT_NE(err.find("time window 'yesterday'"), std::string::npos) << err;
  EXPECT_EQ(Query({"-s", "nosuch"}, &out, &err), 2);
  EXPECT_EQ(Query({"-n"}, &out, &err), 2);
}

TEST_F(QueryCommandTest, QueryFailuresExitOne) {
  std::string out;
  std::string err;
  EXPECT_EQ(Query({"--memory-budget", "1K", "-A", "srcip"}, &out, &err), 1);
  EXPECT_NE(err.find("memory budget"), std::string::npos) << err;
  EXPECT_EQ(test::RunCommand({kSluice, "query", "--data", dir_.File("nosuch")}, dir_, "nosuch",
                             &out, &err),
            1);
  EXPECT_NE(err.find("no data directory"), std::string::npos) << err;
}

TEST_F(QueryCommandTest, StoreSummary) {
  std::string out;
  ASSERT_EQ(Query({"-I"}, &out), 0) << out;
  EXPECT_NE(out.find("core"), std::string::npos) << out;
  EXPECT_NE(out.find("edge"), std::string::npos) << out;
}

}  // namespace
}  // namespace sluice
