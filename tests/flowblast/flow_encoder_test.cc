// SPDX-License-Identifier: Apache-2.0
// FlowEncoder (sluice-blast's traffic): every datagram decodes with sluice's own decoder,
// the traffic has the intended mix (IPv4/IPv6, protocols, service ports, skewed addresses,
// heavy-tailed sizes, interfaces, ASes), times follow the clock, no datagram repeats byte
// for byte, and the same seed gives the same bytes.

#include "flow_encoder.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

#include "decode/decoder.h"
#include "flow/flow_sink.h"
#include "testing/hex.h"

namespace sluice::tools {
namespace {

constexpr std::int64_t kNowMs = 1'763'900'000'123;

// The fields of a decoded record that the tests look at.
struct Row {
  flow::IpAddress src_addr;
  flow::IpAddress dst_addr;
  std::uint16_t src_port;
  std::uint16_t dst_port;
  std::uint8_t proto;
  std::uint64_t bytes;
  std::uint64_t packets;
  std::int64_t first;
  std::int64_t last;
  std::uint32_t in_if;
  std::uint32_t out_if;
  std::uint32_t src_as;
  std::uint32_t dst_as;
};

class RowSink final : public flow::FlowSink {
 public:
  void Consume(flow::FlowBatch& batch) override {
    const flow::FlowColumns& c = batch.cols();
    for (std::size_t row = 0; row < batch.size(); ++row) {
      rows.push_back(Row{c.src_addr[row], c.dst_addr[row], c.src_port[row], c.dst_port[row],
                         c.proto[row], c.bytes[row], c.packets[row], c.first[row], c.last[row],
                         c.in_if[row], c.out_if[row], c.src_as[row], c.dst_as[row]});
    }
  }

  std::vector<Row> rows;
};

// Decodes what an encoder sends: the template, then `datagrams` data datagrams.
class Receiver {
 public:
  void Feed(std::span<const std::uint8_t> bytes) {
    const decode::DecodeOutcome outcome =
        decoder_.Decode(test::MakeDatagram(bytes, kNowMs), writer_);
    writer_.Flush();
    EXPECT_FALSE(outcome.error.has_value());
  }

  void Receive(FlowEncoder& encoder, std::size_t datagrams) {
    if (const auto tmpl = encoder.TemplateDatagram(); !tmpl.empty()) {
      Feed(tmpl);
    }
    for (std::size_t datagram_idx = 0; datagram_idx < datagrams; ++datagram_idx) {
      Feed(encoder.NextData());
    }
  }

  std::vector<Row>& rows() { return sink_.rows; }

 private:
  decode::Decoder decoder_{decode::DecoderOptions{}};
  RowSink sink_;
  flow::BatchWriter writer_{sink_};
};

FlowEncoderOptions Options(ExportProtocol protocol, std::size_t distinct) {
  FlowEncoderOptions options;
  options.protocol = protocol;
  options.distinct_datagrams = distinct;
  options.seed = 7;
  options.now_ms = kNowMs;
  return options;
}

const char* Name(ExportProtocol protocol) {
  switch (protocol) {
    case ExportProtocol::kNetflowV5:
      return "v5";
    case ExportProtocol::kNetflowV9:
      return "v9";
    case ExportProtocol::kIpfix:
      return "ipfix";
  }
  return "?";
}

// The service side of a TCP/UDP flow: the port that is not ephemeral.
std::uint16_t ServicePort(const Row& row) {
  return row.src_port < 32768 && row.src_port < row.dst_port ? row.src_port
         : row.dst_port < 32768                              ? row.dst_port
                                                             : row.src_port;
}

TEST(FlowEncoderTest, EveryRecordDecodes) {
  for (const ExportProtocol protocol :
       {ExportProtocol::kNetflowV5, ExportProtocol::kNetflowV9, ExportProtocol::kIpfix}) {
    SCOPED_TRACE(Name(protocol));
    FlowEncoder encoder(Options(protocol, 64));
    Receiver receiver;
    receiver.Receive(encoder, 200);  // more than one pass
    EXPECT_EQ(receiver.rows().size(), 200 * encoder.records_per_datagram());
    EXPECT_EQ(encoder.records_sent(), 200 * encoder.records_per_datagram());
    EXPECT_LE(encoder.data_datagram_bytes(), 1464u);
    EXPECT_GE(encoder.records_per_datagram(), 17u);
  }
}

TEST(FlowEncoderTest, IpfixAndV9MixIpv4AndIpv6InEveryDatagram) {
  for (const ExportProtocol protocol : {ExportProtocol::kNetflowV9, ExportProtocol::kIpfix}) {
    SCOPED_TRACE(Name(protocol));
    FlowEncoder encoder(Options(protocol, 16));
    const double share = static_cast<double>(encoder.ipv6_records_per_datagram()) /
                         static_cast<double>(encoder.records_per_datagram());
    EXPECT_GE(share, 0.20);
    EXPECT_LE(share, 0.30);
    Receiver receiver;
    receiver.Receive(encoder, 16);
    std::size_t ipv6 = 0;
    for (const Row& row : receiver.rows()) {
      EXPECT_EQ(row.src_addr.IsV4(), row.dst_addr.IsV4());
      ipv6 += row.src_addr.IsV4() ? 0 : 1;
    }
    EXPECT_EQ(ipv6, 16 * encoder.ipv6_records_per_datagram());
  }
}

TEST(FlowEncoderTest, WithoutIpv6TheLayoutIsTheClassicOne) {
  FlowEncoderOptions options = Options(ExportProtocol::kNetflowV9, 4);
  options.ipv6_percent = 0;
  EXPECT_EQ(FlowEncoder(options).records_per_datagram(), 27u);
  options.protocol = ExportProtocol::kIpfix;
  EXPECT_EQ(FlowEncoder(options).records_per_datagram(), 20u);
  options.ipv6_percent = 100;
  FlowEncoder all_v6(options);
  EXPECT_EQ(all_v6.ipv6_records_per_datagram(), all_v6.records_per_datagram());
  Receiver receiver;
  receiver.Receive(all_v6, 4);
  ASSERT_FALSE(receiver.rows().empty());
  EXPECT_FALSE(receiver.rows().front().src_addr.IsV4());
}

TEST(FlowEncoderTest, TrafficHasARealisticMix) {
  for (const ExportProtocol protocol :
       {ExportProtocol::kNetflowV5, ExportProtocol::kNetflowV9, ExportProtocol::kIpfix}) {
    SCOPED_TRACE(Name(protocol));
    FlowEncoder encoder(Options(protocol, 2000));
    Receiver receiver;
    receiver.Receive(encoder, 2000);
    const std::vector<Row>& rows = receiver.rows();
    const double total = static_cast<double>(rows.size());
    ASSERT_GT(rows.size(), 30'000u);

    std::map<std::uint8_t, std::size_t> protos;
    std::map<std::uint16_t, std::size_t> services;
    std::set<std::uint16_t> ephemeral;
    std::set<
        std::tuple<flow::IpAddress, flow::IpAddress, std::uint16_t, std::uint16_t, std::uint8_t>>
        five_tuples;
    std::unordered_map<flow::IpAddress, std::size_t, flow::IpAddressHash> addresses;
    std::set<std::uint32_t> interfaces;
    std::set<std::uint32_t> ases;
    std::vector<std::uint64_t> packets;
    std::vector<std::uint64_t> bytes;
    for (const Row& row : rows) {
      ++protos[row.proto];
      if (row.proto == 6 || row.proto == 17) {
        ++services[ServicePort(row)];
        for (const std::uint16_t port : {row.src_port, row.dst_port}) {
          if (port >= 32768) {
            ephemeral.insert(port);
          }
        }
      }
      five_tuples.emplace(row.src_addr, row.dst_addr, row.src_port, row.dst_port, row.proto);
      ++addresses[row.src_addr];
      ++addresses[row.dst_addr];
      interfaces.insert(row.in_if);
      interfaces.insert(row.out_if);
      ases.insert(row.src_as);
      ases.insert(row.dst_as);
      packets.push_back(row.packets);
      bytes.push_back(row.bytes);
      // Times: a finished flow is exported within the 15 s inactive timeout, and no
      // record is longer than the 60 s active timeout.
      EXPECT_LE(row.first, row.last);
      EXPECT_LE(row.last, kNowMs);
      EXPECT_GE(row.last, kNowMs - 16'000);
      EXPECT_LE(row.last - row.first, 60'000);
    }
    // Protocols: TCP most, then UDP, a little ICMP.
    const double tcp = static_cast<double>(protos[6]) / total;
    const double udp = static_cast<double>(protos[17]) / total;
    const double icmp = static_cast<double>(protos[1] + protos[58]) / total;
    EXPECT_GT(tcp, 0.50);
    EXPECT_LT(tcp, 0.72);
    EXPECT_GT(udp, 0.25);
    EXPECT_LT(udp, 0.45);
    EXPECT_GT(icmp, 0.01);
    EXPECT_LT(icmp, 0.06);
    // Real service ports, 443 the most common; clients use many ephemeral ports.
    for (const std::uint16_t port : {443, 80, 53, 22, 25, 123, 3389, 993, 8080}) {
      EXPECT_GT(services[port], 0u) << port;
    }
    const auto busiest =
        std::max_element(services.begin(), services.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    EXPECT_EQ(busiest->first, 443);
    EXPECT_GT(ephemeral.size(), 15'000u);
    // Nearly every flow is its own conversation.
    EXPECT_GT(static_cast<double>(five_tuples.size()), 0.99 * total);
    // Skewed addresses: a few very popular ones, a long tail seen once.
    std::vector<std::size_t> counts;
    for (const auto& [address, count] : addresses) {
      counts.push_back(count);
    }
    std::sort(counts.rbegin(), counts.rend());
    EXPECT_GT(static_cast<double>(counts[0]), 0.01 * total);
    EXPECT_LT(static_cast<double>(counts[0]), 0.2 * total);
    const auto seen_once = std::count(counts.begin(), counts.end(), std::size_t{1});
    EXPECT_GT(static_cast<double>(seen_once), 0.2 * total);
    // A few interfaces, many ASes (0 is the local network), the big content networks first.
    EXPECT_GE(interfaces.size(), 6u);
    EXPECT_LE(interfaces.size(), 7u);
    EXPECT_GT(ases.size(), 100u);
    EXPECT_TRUE(ases.contains(0));
    EXPECT_TRUE(ases.contains(15169));
    // Heavy tails: most flows are small, a few are huge.
    std::sort(packets.begin(), packets.end());
    std::sort(bytes.begin(), bytes.end());
    EXPECT_LE(packets[packets.size() / 2], 10u);
    EXPECT_GE(packets.back(), 10'000u);
    EXPECT_GT(bytes[bytes.size() * 99 / 100], 50 * bytes[bytes.size() / 2]);
    if (protocol == ExportProtocol::kNetflowV5) {
      // 16-bit AS fields: 32-bit AS numbers become AS_TRANS.
      EXPECT_TRUE(ases.contains(23456));
      EXPECT_LE(*ases.rbegin(), 0xFFFFu);
    } else {
      EXPECT_GT(*ases.rbegin(), 0xFFFFu);
    }
  }
}

TEST(FlowEncoderTest, TimesFollowTheClockAndClientPortsChangeEachPass) {
  for (const ExportProtocol protocol :
       {ExportProtocol::kNetflowV5, ExportProtocol::kNetflowV9, ExportProtocol::kIpfix}) {
    SCOPED_TRACE(Name(protocol));
    constexpr std::size_t kDistinct = 8;
    FlowEncoder encoder(Options(protocol, kDistinct));
    Receiver receiver;
    receiver.Receive(encoder, kDistinct);
    encoder.SetNow(kNowMs + 90'000);
    receiver.Receive(encoder, kDistinct);
    const std::vector<Row>& rows = receiver.rows();
    const std::size_t pass = kDistinct * encoder.records_per_datagram();
    ASSERT_EQ(rows.size(), 2 * pass);
    std::size_t new_ports = 0;
    std::size_t client_ports = 0;
    for (std::size_t row_idx = 0; row_idx < pass; ++row_idx) {
      const Row& before = rows[row_idx];
      const Row& after = rows[pass + row_idx];
      EXPECT_EQ(after.first, before.first + 90'000);
      EXPECT_EQ(after.last, before.last + 90'000);
      EXPECT_EQ(after.src_addr, before.src_addr);
      EXPECT_EQ(after.dst_addr, before.dst_addr);
      if (before.proto != 6 && before.proto != 17) {
        EXPECT_EQ(after.dst_port, before.dst_port);  // ICMP type and code
      } else {
        EXPECT_EQ(std::min(after.src_port, after.dst_port),
                  std::min(before.src_port, before.dst_port));
      }
      if ((before.proto == 6 || before.proto == 17) &&
          (before.src_port >= 32768 || before.dst_port >= 32768)) {
        ++client_ports;
        new_ports += before.src_port != after.src_port || before.dst_port != after.dst_port;
      }
    }
    EXPECT_GT(client_ports, pass / 2);
    EXPECT_GT(new_ports, client_ports * 9 / 10);
  }
}

TEST(FlowEncoderTest, NoDatagramRepeatsByteForByteAcrossPasses) {
  for (const ExportProtocol protocol :
       {ExportProtocol::kNetflowV5, ExportProtocol::kNetflowV9, ExportProtocol::kIpfix}) {
    SCOPED_TRACE(Name(protocol));
    constexpr std::size_t kDistinct = 50;
    FlowEncoder encoder(Options(protocol, kDistinct));
    const std::size_t header = protocol == ExportProtocol::kNetflowV5   ? 24
                               : protocol == ExportProtocol::kNetflowV9 ? 20
                                                                        : 16;
    std::unordered_set<std::string> bodies;  // datagrams without their header
    for (std::size_t datagram_idx = 0; datagram_idx < 4 * kDistinct; ++datagram_idx) {
      const auto datagram = encoder.NextData();  // the clock stands still
      bodies.emplace(datagram.begin() + static_cast<std::ptrdiff_t>(header), datagram.end());
    }
    EXPECT_EQ(bodies.size(), 4 * kDistinct);
  }
}

TEST(FlowEncoderTest, TheSeedDecidesTheBytes) {
  auto first_datagrams = [](std::uint64_t seed) {
    FlowEncoderOptions options = Options(ExportProtocol::kIpfix, 32);
    options.seed = seed;
    FlowEncoder encoder(options);
    std::string bytes;
    for (std::size_t datagram_idx = 0; datagram_idx < 40; ++datagram_idx) {
      const auto datagram = encoder.NextData();
      bytes.append(datagram.begin(), datagram.end());
    }
    return bytes;
  };
  EXPECT_EQ(first_datagrams(3), first_datagrams(3));
  EXPECT_NE(first_datagrams(3), first_datagrams(4));
}

TEST(FlowEncoderTest, RunsStopWhereTheCycleWraps) {
  FlowEncoder encoder(Options(ExportProtocol::kNetflowV9, 10));
  std::size_t count = 8;
  EXPECT_EQ(encoder.NextDataRun(count).size(), 8 * encoder.data_datagram_bytes());
  count = 8;
  EXPECT_EQ(encoder.NextDataRun(count).size(), 2 * encoder.data_datagram_bytes());
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(encoder.datagrams_sent(), 10u);
}

}  // namespace
}  // namespace sluice::tools
