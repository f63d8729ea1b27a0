// SPDX-License-Identifier: Apache-2.0
// sluice-blast's capture output: PcapWriter files read back through the collector's own
// capture reader byte for byte, and the optional v9 ICMP_TYPE field decodes to the same
// type and code as the L4_DST_PORT convention.

#include "pcap_writer.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "decode/decoder.h"
#include "flow/flow_sink.h"
#include "flow_encoder.h"
#include "net/capture_reader.h"
#include "testing/hex.h"
#include "testing/process.h"

namespace sluice::tools {
namespace {

struct Captured {
  std::vector<std::uint8_t> payload;
  std::string exporter;
  std::uint16_t exporter_port;
  std::uint16_t dst_port;
  std::int64_t time_ms;
};

TEST(PcapWriterTest, DatagramsReadBackUnchanged) {
  test::TempDir dir;
  const std::string path = dir.File("out.pcap");
  const std::vector<std::vector<std::uint8_t>> payloads = {
      test::Hex("000a 0010 0000 0001"), std::vector<std::uint8_t>(1400, 0x5A), {}};
  PcapWriter writer;
  ASSERT_TRUE(writer.Open(path));
  for (std::size_t idx = 0; idx < payloads.size(); ++idx) {
    ASSERT_TRUE(writer.Write(1'763'899'200'000'000 + static_cast<std::int64_t>(idx) * 1500,
                             0x7F000101u + static_cast<std::uint32_t>(idx),
                             static_cast<std::uint16_t>(40000 + idx), 0x7F000001u, 2055,
                             payloads[idx]));
  }
  ASSERT_TRUE(writer.Close());

  ASSERT_TRUE(net::IsCaptureFile(path));
  std::vector<Captured> read;
  const auto stats = net::ReadCapture(
      path, net::CaptureOptions{}, [&](const flow::Datagram& datagram, std::uint16_t dst_port) {
        read.push_back(Captured{{datagram.payload.begin(), datagram.payload.end()},
                                datagram.exporter.ToString(), datagram.exporter_port, dst_port,
                                datagram.time_received});
      });
  ASSERT_TRUE(stats.has_value()) << stats.error().Message();
  EXPECT_EQ(stats->frames, payloads.size());
  EXPECT_EQ(stats->skipped_malformed, 0u);
  ASSERT_EQ(read.size(), payloads.size());
  for (std::size_t idx = 0; idx < payloads.size(); ++idx) {
    EXPECT_EQ(read[idx].payload, payloads[idx]);
    EXPECT_EQ(read[idx].exporter, "127.0.1." + std::to_string(idx + 1));
    EXPECT_EQ(read[idx].exporter_port, 40000 + idx);
    EXPECT_EQ(read[idx].dst_port, 2055);
    EXPECT_EQ(read[idx].time_ms, 1'763'899'200'000 + static_cast<std::int64_t>(idx) + idx / 2);
  }
}

class IcmpSink final : public flow::FlowSink {
 public:
  void Consume(flow::FlowBatch& batch) override {
    const flow::FlowColumns& c = batch.cols();
    for (std::size_t row = 0; row < batch.size(); ++row) {
      if (c.proto[row] == 1 || c.proto[row] == 58) {
        ++icmp;
        mismatched += c.icmp_type[row] != c.dst_port[row] >> 8 ||
                      c.icmp_code[row] != (c.dst_port[row] & 0xFF);
      }
      ++rows;
    }
  }

  std::size_t rows = 0;
  std::size_t icmp = 0;
  std::size_t mismatched = 0;
};

TEST(FlowEncoderIcmpTypeTest, V9IcmpTypeFieldAgreesWithDestinationPort) {
  FlowEncoderOptions options;
  options.protocol = ExportProtocol::kNetflowV9;
  options.distinct_datagrams = 64;
  options.seed = 3;
  options.now_ms = 1'763'899'200'000;
  options.icmp_type_field = true;
  FlowEncoder encoder(options);
  FlowEncoderOptions plain_options = options;
  plain_options.icmp_type_field = false;
  EXPECT_EQ(encoder.records_per_datagram(), FlowEncoder(plain_options).records_per_datagram());

  decode::Decoder decoder{decode::DecoderOptions{}};
  IcmpSink sink;
  flow::BatchWriter writer{sink};
  const auto feed = [&](std::span<const std::uint8_t> bytes) {
    const decode::DecodeOutcome outcome =
        decoder.Decode(test::MakeDatagram(bytes, options.now_ms), writer);
    EXPECT_FALSE(outcome.error.has_value());
  };
  feed(encoder.TemplateDatagram());
  for (int datagram_idx = 0; datagram_idx < 64; ++datagram_idx) {
    feed(encoder.NextData());
  }
  writer.Flush();
  EXPECT_EQ(sink.rows, 64 * encoder.records_per_datagram());
  EXPECT_GT(sink.icmp, 0u);
  EXPECT_EQ(sink.mismatched, 0u);
}

}  // namespace
}  // namespace sluice::tools
