// SPDX-License-Identifier: Apache-2.0

#include "decode/netflow_v5.h"

#include <gtest/gtest.h>

#include "decode/decoder.h"
#include "testing/collecting_sink.h"
#include "testing/hex.h"

namespace sluice::decode {
namespace {

// One v5 datagram: header (count 2, uptime 10000 ms, export time 1700000000.5 s, sequence
// 100, engine type 1 id 2, sampling mode 1 interval 100) and two records (TCP, ICMP echo).
std::vector<std::uint8_t> TwoRecordDatagram() {
  return test::Hex(R"(
    0005 0002 00002710 6553f100 1dcd6500 00000064 01 02 4064
    # record 1: 10.0.0.1 -> 192.0.2.7 via 10.0.0.254, if 3 -> 4, 10 pkts, 1500 bytes
    0a000001 c0000207 0a0000fe 0003 0004 0000000a 000005dc
    00001f40 00002328 c350 01bb 00 1b 06 10 fde8 0001 18 10 0000
    # record 2: ICMP echo request (type 8 code 0 carried in dst port)
    0a000002 c0000208 00000000 0001 0002 00000001 00000054
    00002328 00002328 0000 0800 00 00 01 00 0000 0000 00 00 0000
  )");
}

TEST(NetflowV5Test, DecodesEveryField) {
  const auto bytes = TwoRecordDatagram();
  Decoder decoder(DecoderOptions{});
  test::CollectingSink sink;
  flow::BatchWriter writer(sink);
  const DecodeOutcome outcome = decoder.Decode(test::MakeDatagram(bytes), writer);
  writer.Flush();
  ASSERT_FALSE(outcome.error.has_value());
  ASSERT_EQ(sink.size(), 2u);
  const auto& r = sink[0];
  const auto& c = r.cols();
  EXPECT_EQ(c.src_addr[r.row].ToString(), "10.0.0.1");
  EXPECT_EQ(c.dst_addr[r.row].ToString(), "192.0.2.7");
  EXPECT_EQ(c.next_hop[r.row].ToString(), "10.0.0.254");
  EXPECT_EQ(c.in_if[r.row], 3u);
  EXPECT_EQ(c.out_if[r.row], 4u);
  // Sampled 1 in 100 by the header: counters are scaled and the rate kept.
  EXPECT_EQ(c.sampling_rate[r.row], 100u);
  EXPECT_EQ(c.packets[r.row], 1000u);
  EXPECT_EQ(c.bytes[r.row], 150000u);
  // export time 1700000000.5 s at uptime 10000 ms: first at uptime 8000 = 2 s earlier.
  EXPECT_EQ(c.first[r.row], 1'700'000'000'500 - 2000);
  EXPECT_EQ(c.last[r.row], 1'700'000'000'500 - 1000);
  EXPECT_EQ(c.src_port[r.row], 50000u);
  EXPECT_EQ(c.dst_port[r.row], 443u);
  EXPECT_EQ(c.tcp_flags[r.row], 0x1bu);
  EXPECT_EQ(c.proto[r.row], 6u);
  EXPECT_EQ(c.tos[r.row], 0x10u);
  EXPECT_EQ(c.src_as[r.row], 65000u);
  EXPECT_EQ(c.dst_as[r.row], 1u);
  EXPECT_EQ(c.src_mask[r.row], 24u);
  EXPECT_EQ(c.dst_mask[r.row], 16u);
  EXPECT_EQ(c.obs_domain[r.row], 0x0102u);
  EXPECT_EQ(c.exporter[r.row].ToString(), "192.0.2.1");
  EXPECT_EQ(c.time_received[r.row], 1'700'000'000'000);

  const auto& icmp = sink[1];
  EXPECT_EQ(icmp.cols().proto[icmp.row], 1u);
  EXPECT_EQ(icmp.cols().icmp_type[icmp.row], 8u);
  EXPECT_EQ(icmp.cols().icmp_code[icmp.row], 0u);
  EXPECT_EQ(icmp.cols().dst_port[icmp.row], 0x0800u);
}

TEST(NetflowV5Test, CountsSequenceGaps) {
  auto bytes = TwoRecordDatagram();
  Decoder decoder(DecoderOptions{});
  test::CollectingSink sink;
  flow::BatchWriter writer(sink);
  (void)decoder.Decode(test::MakeDatagram(bytes), writer);
  bytes[19] = 100 + 2 + 5;  // sequence jumps 5 records ahead of what was expected
  (void)decoder.Decode(test::MakeDatagram(bytes), writer);
  const ExporterState* exporter = decoder.exporters().Find(*flow::IpAddress::Parse("192.0.2.1"));
  ASSERT_NE(exporter, nullptr);
  EXPECT_EQ(exporter->counters.sequence_lost, 5u);
  EXPECT_EQ(exporter->counters.records, 4u);
}

TEST(NetflowV5Test, RejectsDatagramShorterThanItsCount) {
  auto bytes = TwoRecordDatagram();
  bytes.resize(24 + 48 + 10);
  Decoder decoder(DecoderOptions{});
  test::CollectingSink sink;
  flow::BatchWriter writer(sink);
  const DecodeOutcome outcome = decoder.Decode(test::MakeDatagram(bytes), writer);
  writer.Flush();
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, DecodeErrorKind::kTruncated);
  EXPECT_EQ(sink.size(), 0u);
}

TEST(NetflowV5Test, SamplingOverrideReplacesHeaderRate) {
  const auto bytes = TwoRecordDatagram();
  DecoderOptions options;
  options.sampling_overrides[*flow::IpAddress::Parse("192.0.2.1")] = 10;
  Decoder decoder(options);
  test::CollectingSink sink;
  flow::BatchWriter writer(sink);
  (void)decoder.Decode(test::MakeDatagram(bytes), writer);
  writer.Flush();
  ASSERT_EQ(sink.size(), 2u);
  EXPECT_EQ(sink[0].cols().sampling_rate[sink[0].row], 10u);
  EXPECT_EQ(sink[0].cols().packets[sink[0].row], 100u);
}

TEST(NetflowV5Test, TruncatedPrefixesNeverCrash) {
  const auto bytes = TwoRecordDatagram();
  Decoder decoder(DecoderOptions{});
  test::CollectingSink sink;
  flow::BatchWriter writer(sink);
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    (void)decoder.Decode(test::MakeDatagram(std::span(bytes).first(length)), writer);
  }
  writer.Flush();
  EXPECT_EQ(sink.size(), 0u);
}

}  // namespace
}  // namespace sluice::decode
