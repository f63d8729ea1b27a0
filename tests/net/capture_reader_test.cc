// SPDX-License-Identifier: Apache-2.0

#include "net/capture_reader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "testing/hex.h"

namespace sluice::net {
namespace {

bool HaveSharedData() { return std::filesystem::exists(test::SharedTestData("flows/MANIFEST.md")); }

TEST(CaptureReaderTest, ReadsUdpPayloadsOfAPcap) {
  if (!HaveSharedData()) {
    GTEST_SKIP() << "../shared/testdata is not there";
  }
  std::size_t datagrams = 0;
  std::uint16_t port = 0;
  const auto stats = ReadCapture(test::SharedTestData("flows/akvorado/netflow/nfv5.pcap"), {},
                                 [&](const flow::Datagram& datagram, std::uint16_t dst_port) {
                                   ++datagrams;
                                   port = dst_port;
                                   EXPECT_GE(datagram.payload.size(), 24u);
                                   EXPECT_EQ(datagram.payload[1], 5);  // NetFlow v5
                                   EXPECT_GT(datagram.time_received, 1'600'000'000'000);
                                 });
  ASSERT_TRUE(stats) << stats.error().Message();
  EXPECT_EQ(stats->datagrams, datagrams);
  EXPECT_GE(datagrams, 1u);
  EXPECT_NE(port, 0);
}

TEST(CaptureReaderTest, SkipsNonUdpFramesOfAMixedCapture) {
  if (!HaveSharedData()) {
    GTEST_SKIP() << "../shared/testdata is not there";
  }
  // pmacct's BMP test captures carry TCP (BMP/BGP) next to the IPFIX datagrams.
  const auto stats = ReadCapture(
      test::SharedTestData("flows/pmacct-test-automation/400-IPFIXv10-BMP-CISCO-SRv6-multiple-sources/traffic-00.pcap"),
      {}, [](const flow::Datagram&, std::uint16_t) {});
  ASSERT_TRUE(stats) << stats.error().Message();
  EXPECT_GT(stats->skipped_not_udp, 0u);
  EXPECT_GT(stats->datagrams, 0u);
}

TEST(CaptureReaderTest, TreatsAnyOtherFileAsOneDatagram) {
  const std::string path = ::testing::TempDir() + "/raw_payload.dat";
  {
    std::ofstream out(path, std::ios::binary);
    const char bytes[8] = {0, 5, 0, 0, 'r', 'e', 's', 't'};
    out.write(bytes, sizeof bytes);
  }
  std::size_t datagrams = 0;
  CaptureOptions options;
  options.raw_exporter = *flow::IpAddress::Parse("2001:db8::7");
  options.raw_time_received = 1234;
  const auto stats = ReadCapture(path, options, [&](const flow::Datagram& datagram, std::uint16_t) {
    ++datagrams;
    EXPECT_EQ(datagram.payload.size(), 8u);
    EXPECT_EQ(datagram.exporter.ToString(), "2001:db8::7");
    EXPECT_EQ(datagram.time_received, 1234);
  });
  ASSERT_TRUE(stats);
  EXPECT_EQ(datagrams, 1u);
}

TEST(CaptureReaderTest, SplitsIpfixFilesIntoMessages) {
  const std::string path = ::testing::TempDir() + "/two_messages.ipfix";
  const auto bytes = test::Hex(R"(
    000a 0010 00000001 00000000 00000000
    000a 0014 00000002 00000000 00000000 deadbeef
  )");
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  std::vector<std::size_t> sizes;
  const auto stats = ReadCapture(path, {}, [&](const flow::Datagram& datagram, std::uint16_t) {
    sizes.push_back(datagram.payload.size());
  });
  ASSERT_TRUE(stats);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{16, 20}));
}

TEST(CaptureReaderTest, MissingFileIsAClearError) {
  const auto stats = ReadCapture("/nonexistent/capture.pcap", {},
                                 [](const flow::Datagram&, std::uint16_t) {});
  ASSERT_FALSE(stats);
  EXPECT_NE(std::string(stats.error().Message()).find("/nonexistent/capture.pcap"),
            std::string::npos);
}

TEST(CaptureReaderTest, TruncatedCaptureIsAnErrorAfterItsGoodFrames) {
  if (!HaveSharedData()) {
    GTEST_SKIP() << "../shared/testdata is not there";
  }
  const auto whole = test::ReadFile(test::SharedTestData("flows/akvorado/netflow/nfv5.pcap"));
  ASSERT_GT(whole.size(), 100u);
  const std::string path = ::testing::TempDir() + "/truncated.pcap";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(whole.data()), static_cast<std::streamsize>(whole.size() - 10));
  }
  const auto stats = ReadCapture(path, {}, [](const flow::Datagram&, std::uint16_t) {});
  ASSERT_FALSE(stats);
  EXPECT_NE(std::string(stats.error().Message()).find("truncated"), std::string::npos);
}

TEST(CaptureReaderTest, ParsesVlanTaggedIpv6Frames) {
  // Ethernet + 802.1Q + IPv6 + UDP 40000 -> 2055 with a 4-byte payload.
  const auto frame = test::Hex(R"(
    000000000001 000000000002 8100 0064 86dd
    60000000 000c 11 40  20010db8000000000000000000000001 20010db8000000000000000000000002
    9c40 0807 000c 0000  01020304
  )");
  flow::Datagram datagram;
  std::uint16_t dst_port = 0;
  CaptureStats stats;
  ASSERT_TRUE(ParseFrame(1, frame.data(), frame.size(), datagram, dst_port, stats));
  EXPECT_EQ(datagram.exporter.ToString(), "2001:db8::1");
  EXPECT_EQ(datagram.exporter_port, 40000);
  EXPECT_EQ(dst_port, 2055);
  EXPECT_EQ(datagram.payload.size(), 4u);
}

}  // namespace
}  // namespace sluice::net
