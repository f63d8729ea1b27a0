// SPDX-License-Identifier: Apache-2.0

#include "decode/sflow.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/byte_order.h"
#include "decode/decoder.h"
#include "decode/packet_header.h"
#include "net/capture_reader.h"
#include "testing/collecting_sink.h"
#include "testing/hex.h"

namespace sluice::decode {
namespace {

using Bytes = std::vector<std::uint8_t>;

// XDR (RFC 4506) writer for hand-built sFlow datagrams.
class Xdr {
 public:
  Xdr& U32(std::uint32_t v) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + 4);
    StoreBe32(bytes_.data() + at, v);
    return *this;
  }

  Xdr& U64(std::uint64_t v) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + 8);
    StoreBe64(bytes_.data() + at, v);
    return *this;
  }

  // Opaque bytes, zero-padded to a multiple of 4.
  Xdr& Opaque(const Bytes& b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    bytes_.resize((bytes_.size() + 3) & ~std::size_t{3});
    return *this;
  }

  Xdr& Append(const Xdr& other) { return Opaque(other.bytes_); }

  // A sample_record / flow_record / counter_record: data_format, length, data.
  Xdr& Record(std::uint32_t format, const Xdr& body) {
    U32(format);
    U32(static_cast<std::uint32_t>(body.bytes_.size()));
    return Append(body);
  }

  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
};

// sample_datagram_v5 with an IPv4 agent 10.0.0.1, uptime 1000 ms and `samples` (each
// already a Record()).
Bytes Datagram(const std::vector<Xdr>& samples, std::uint32_t sequence = 1,
               std::uint32_t sub_agent = 0) {
  Xdr d;
  d.U32(5).U32(1).U32(0x0A000001).U32(sub_agent).U32(sequence).U32(1000);
  d.U32(static_cast<std::uint32_t>(samples.size()));
  for (const Xdr& s : samples) {
    d.Append(s);
  }
  return d.bytes();
}

// A compact flow_sample (format 1) record.
Xdr FlowSample(std::uint32_t source_index, std::uint32_t rate, std::uint32_t input,
               std::uint32_t output, const std::vector<Xdr>& records) {
  Xdr body;
  body.U32(7).U32(source_index).U32(rate).U32(12345).U32(0).U32(input).U32(output);
  body.U32(static_cast<std::uint32_t>(records.size()));
  for (const Xdr& r : records) {
    body.Append(r);
  }
  return Xdr().Record(1, body);
}

// A sampled_header flow record.
Xdr SampledHeader(std::uint32_t protocol, std::uint32_t frame_length, const Bytes& header) {
  Xdr body;
  body.U32(protocol).U32(frame_length).U32(4).U32(static_cast<std::uint32_t>(header.size()));
  body.Opaque(header);
  return Xdr().Record(1, body);
}

constexpr std::string_view kEthernetVlanIpv4Tcp = R"(
  001122334455 66778899aabb        # dst, src MAC
  8100 0064 0800                   # 802.1Q VLAN 100, IPv4
  45 b8 0028 0001 0000 40 06 0000  # IPv4, tos 0xb8, TCP
  0a000001 c0000207                # 10.0.0.1 -> 192.0.2.7
  c350 01bb 00000000 00000000 50 12 ffff 0000 0000  # TCP 50000 -> 443, SYN+ACK
)";

struct SflowRun {
  Decoder decoder{DecoderOptions{}};
  test::CollectingSink sink;
  flow::BatchWriter writer{sink};

  explicit SflowRun(DecoderOptions options = {}) : decoder(std::move(options)) {}

  DecodeOutcome Decode(const Bytes& bytes) {
    DecodeOutcome outcome = decoder.Decode(test::MakeDatagram(bytes), writer);
    writer.Flush();
    return outcome;
  }

  const ExporterState& exporter() const {
    return *decoder.exporters().Find(*flow::IpAddress::Parse("192.0.2.1"));
  }
};

TEST(SflowTest, FlowSampleWithEthernetVlanIpv4Tcp) {
  SflowRun run;
  const auto outcome = run.Decode(Datagram(
      {FlowSample(5, 512, 5, 9, {SampledHeader(1, 1518, test::Hex(kEthernetVlanIpv4Tcp))})}));
  ASSERT_FALSE(outcome.error.has_value());
  ASSERT_EQ(run.sink.size(), 1u);
  const auto& r = run.sink[0];
  const auto& c = r.cols();
  EXPECT_EQ(c.dst_mac[r.row], 0x001122334455u);
  EXPECT_EQ(c.src_mac[r.row], 0x66778899aabbu);
  EXPECT_EQ(c.vlan[r.row], 100u);
  EXPECT_EQ(c.src_addr[r.row].ToString(), "10.0.0.1");
  EXPECT_EQ(c.dst_addr[r.row].ToString(), "192.0.2.7");
  EXPECT_EQ(c.tos[r.row], 0xb8u);
  EXPECT_EQ(c.proto[r.row], 6u);
  EXPECT_EQ(c.src_port[r.row], 50000u);
  EXPECT_EQ(c.dst_port[r.row], 443u);
  EXPECT_EQ(c.tcp_flags[r.row], 0x12u);
  EXPECT_EQ(c.in_if[r.row], 5u);
  EXPECT_EQ(c.out_if[r.row], 9u);
  EXPECT_EQ(c.obs_domain[r.row], 5u);
  EXPECT_EQ(c.sampling_rate[r.row], 512u);
  EXPECT_EQ(c.bytes[r.row], 1518u * 512);
  EXPECT_EQ(c.packets[r.row], 512u);
  EXPECT_EQ(c.first[r.row], 1'700'000'000'000);
  EXPECT_EQ(c.last[r.row], 1'700'000'000'000);
  EXPECT_EQ(c.time_received[r.row], 1'700'000'000'000);
  EXPECT_EQ(c.exporter[r.row].ToString(), "192.0.2.1");
  EXPECT_EQ(c.direction[r.row], 0u);
  EXPECT_EQ(run.exporter().counters.records, 1u);
}

TEST(SflowTest, ExpandedFlowSampleAndIpv6Agent) {
  Xdr body;
  body.U32(7).U32(0).U32(0x01000001).U32(100).U32(1).U32(0);  // seq, source 0/16777217
  body.U32(0).U32(0x01000002);                                // input format 0
  body.U32(0).U32(0x01000003);                                // output format 0
  body.U32(1).Append(SampledHeader(1, 100, test::Hex(kEthernetVlanIpv4Tcp)));
  Xdr d;
  d.U32(5).U32(2).Opaque(test::Hex("20010db8000000000000000000000001"));
  d.U32(3).U32(1).U32(1000).U32(1).Record(3, body);
  SflowRun run;
  ASSERT_FALSE(run.Decode(d.bytes()).error.has_value());
  ASSERT_EQ(run.sink.size(), 1u);
  const auto& r = run.sink[0];
  EXPECT_EQ(r.cols().obs_domain[r.row], 0x01000001u);
  EXPECT_EQ(r.cols().in_if[r.row], 0x01000002u);
  EXPECT_EQ(r.cols().out_if[r.row], 0x01000003u);
  EXPECT_EQ(r.cols().packets[r.row], 100u);
  EXPECT_EQ(r.cols().dst_port[r.row], 443u);
}

TEST(SflowTest, InterfaceFormats) {
  // Output: discarded (format 1), several interfaces (format 2), internal 0x3FFFFFFF.
  const Bytes header = test::Hex(kEthernetVlanIpv4Tcp);
  SflowRun run;
  ASSERT_FALSE(run.Decode(Datagram({FlowSample(1, 1, 3, 0x40000102, {SampledHeader(1, 64, header)}),
                                    FlowSample(1, 1, 3, 0x80000004, {SampledHeader(1, 64, header)}),
                                    FlowSample(1, 1, 0x3FFFFFFF, 0x3FFFFFFF,
                                               {SampledHeader(1, 64, header)})}))
                   .error.has_value());
  ASSERT_EQ(run.sink.size(), 3u);
  EXPECT_EQ(run.sink[0].cols().in_if[run.sink[0].row], 3u);
  EXPECT_EQ(run.sink[0].cols().out_if[run.sink[0].row], 0u);
  EXPECT_EQ(run.sink[1].cols().out_if[run.sink[1].row], 0u);
  EXPECT_EQ(run.sink[2].cols().in_if[run.sink[2].row], 0u);
  EXPECT_EQ(run.sink[2].cols().out_if[run.sink[2].row], 0u);
}

TEST(SflowTest, QinQTakesTheOuterTag) {
  const Bytes header = test::Hex(R"(
    001122334455 66778899aabb
    88a8 20c8 8100 0064 0800         # S-tag VLAN 200 (PCP 1), C-tag VLAN 100
    45 00 0028 0001 0000 40 11 0000 0a000001 0a000002
    1f90 0035 0014 0000              # UDP 8080 -> 53
  )");
  SflowRun run;
  ASSERT_FALSE(run.Decode(Datagram({FlowSample(1, 1, 1, 2, {SampledHeader(1, 80, header)})}))
                   .error.has_value());
  ASSERT_EQ(run.sink.size(), 1u);
  const auto& r = run.sink[0];
  EXPECT_EQ(r.cols().vlan[r.row], 200u);
  EXPECT_EQ(r.cols().proto[r.row], 17u);
  EXPECT_EQ(r.cols().src_port[r.row], 8080u);
  EXPECT_EQ(r.cols().dst_port[r.row], 53u);
}

TEST(SflowTest, MplsTopLabelAndInnerIpv6) {
  const Bytes header = test::Hex(R"(
    001122334455 66778899aabb 8847
    003e8040                          # label 1000, TC 0, not bottom, TTL 64
    00011140                          # label 17, bottom of stack
    60000000 0008 11 40               # IPv6, payload 8, UDP
    20010db8000000000000000000000001 20010db8000000000000000000000002
    04d2 0035 0008 0000               # UDP 1234 -> 53
  )");
  SflowRun run;
  ASSERT_FALSE(run.Decode(Datagram({FlowSample(1, 1, 1, 2, {SampledHeader(1, 80, header)})}))
                   .error.has_value());
  ASSERT_EQ(run.sink.size(), 1u);
  const auto& r = run.sink[0];
  EXPECT_EQ(r.cols().mpls_label[r.row], 1000u);
  EXPECT_EQ(r.cols().src_addr[r.row].ToString(), "2001:db8::1");
  EXPECT_EQ(r.cols().dst_addr[r.row].ToString(), "2001:db8::2");
  EXPECT_EQ(r.cols().proto[r.row], 17u);
  EXPECT_EQ(r.cols().src_port[r.row], 1234u);
}

TEST(SflowTest, Ipv6ExtensionHeaders) {
  // Hop-by-hop, first fragment, destination options, then TCP.
  const Bytes header = test::Hex(R"(
    001122334455 66778899aabb 86dd
    6 2a 00000 0030 00 40             # traffic class 0x2a; hop-by-hop follows
    20010db8000000000000000000000001 20010db8000000000000000000000002
    2c 00 01 04 00000000              # hop-by-hop -> fragment, PadN
    3c 00 0001 12345678               # fragment -> dest opts, offset 0, more fragments
    06 00 01 04 00000000              # dest opts -> TCP
    01bb c350 00000000 00000000 50 02 ffff 0000 0000  # TCP 443 -> 50000, SYN
  )");
  SflowRun run;
  ASSERT_FALSE(run.Decode(Datagram({FlowSample(1, 1, 1, 2, {SampledHeader(1, 120, header)})}))
                   .error.has_value());
  ASSERT_EQ(run.sink.size(), 1u);
  const auto& r = run.sink[0];
  EXPECT_EQ(r.cols().tos[r.row], 0x2au);
  EXPECT_EQ(r.cols().proto[r.row], 6u);
  EXPECT_EQ(r.cols().src_port[r.row], 443u);
  EXPECT_EQ(r.cols().dst_port[r.row], 50000u);
  EXPECT_EQ(r.cols().tcp_flags[r.row], 0x02u);
}

TEST(SflowTest, Ipv6LaterFragmentHasNoPorts) {
  flow::FlowBatch batch;
  const std::size_t row = batch.AppendRow();
  const Bytes header = test::Hex(R"(
    60000000 0010 2c 40
    20010db8000000000000000000000001 20010db8000000000000000000000002
    11 00 05c8 12345678               # fragment -> UDP, offset 185
    04d2 0035 0008 0000
  )");
  EXPECT_EQ(ParsePacketHeader(12, header, batch.cols(), row), HeaderParse::kNetwork);
  EXPECT_EQ(batch.cols().proto[row], 17u);
  EXPECT_EQ(batch.cols().src_port[row], 0u);
  EXPECT_EQ(batch.cols().dst_port[row], 0u);
}

TEST(SflowTest, Icmpv6TypeAndCode) {
  const Bytes header = test::Hex(R"(
    60000000 0008 3a 40               # raw IPv6 (header_protocol 12), ICMPv6
    20010db8000000000000000000000001 20010db8000000000000000000000002
    80 00 1234 0001 0001              # echo request
  )");
  SflowRun run;
  ASSERT_FALSE(run.Decode(Datagram({FlowSample(1, 1, 1, 2, {SampledHeader(12, 48, header)})}))
                   .error.has_value());
  ASSERT_EQ(run.sink.size(), 1u);
  const auto& r = run.sink[0];
  EXPECT_EQ(r.cols().proto[r.row], 58u);
  EXPECT_EQ(r.cols().icmp_type[r.row], 128u);
  EXPECT_EQ(r.cols().icmp_code[r.row], 0u);
  EXPECT_EQ(r.cols().dst_port[r.row], 0x8000u);  // nfdump's type * 256 + code
  EXPECT_EQ(r.cols().src_mac[r.row], 0u);
}

TEST(SflowTest, RawIpv4IcmpHeader) {
  const Bytes header = test::Hex(R"(
    45 00 001c 0001 0000 40 01 0000 0a000001 0a000002
    03 03 0000 00000000               # port unreachable
  )");
  SflowRun run;
  ASSERT_FALSE(run.Decode(Datagram({FlowSample(1, 1, 1, 2, {SampledHeader(11, 28, header)})}))
                   .error.has_value());
  ASSERT_EQ(run.sink.size(), 1u);
  const auto& r = run.sink[0];
  EXPECT_EQ(r.cols().proto[r.row], 1u);
  EXPECT_EQ(r.cols().icmp_type[r.row], 3u);
  EXPECT_EQ(r.cols().icmp_code[r.row], 3u);
  EXPECT_EQ(r.cols().bytes[r.row], 28u);
}

TEST(SflowTest, TruncatedHeaderKeepsWhatWasParsed) {
  Bytes header = test::Hex(kEthernetVlanIpv4Tcp);
  header.resize(18 + 20 + 2);  // Ethernet + 802.1Q, IPv4, then only 2 bytes of TCP
  SflowRun run;
  ASSERT_FALSE(run.Decode(Datagram({FlowSample(1, 1, 1, 2, {SampledHeader(1, 1500, header)})}))
                   .error.has_value());
  ASSERT_EQ(run.sink.size(), 1u);
  const auto& r = run.sink[0];
  EXPECT_EQ(r.cols().dst_addr[r.row].ToString(), "192.0.2.7");
  EXPECT_EQ(r.cols().proto[r.row], 6u);
  EXPECT_EQ(r.cols().src_port[r.row], 0u);
  EXPECT_EQ(r.cols().bytes[r.row], 1500u);
}

TEST(SflowTest, SampledEthernetIpv4Ipv6Records) {
  Xdr eth;
  eth.U32(1000).Opaque(test::Hex("0a0b0c0d0e0f")).Opaque(test::Hex("010203040506")).U32(0x0800);
  Xdr v4;
  v4.U32(980).U32(17).U32(0x0A000001).U32(0x0A000002).U32(5000).U32(53).U32(0).U32(0x28);
  Xdr v6;
  v6.U32(60).U32(6);
  v6.Opaque(test::Hex("20010db8000000000000000000000001 20010db8000000000000000000000002"));
  v6.U32(22).U32(40000).U32(0x18).U32(0);
  SflowRun run;
  ASSERT_FALSE(
      run.Decode(Datagram({FlowSample(1, 10, 1, 2, {Xdr().Record(2, eth), Xdr().Record(3, v4)}),
                           FlowSample(1, 10, 1, 2, {Xdr().Record(4, v6)})}))
          .error.has_value());
  ASSERT_EQ(run.sink.size(), 2u);
  const auto& a = run.sink[0];
  EXPECT_EQ(a.cols().src_mac[a.row], 0x0a0b0c0d0e0fu);
  EXPECT_EQ(a.cols().dst_mac[a.row], 0x010203040506u);
  EXPECT_EQ(a.cols().bytes[a.row], 10000u);  // the Ethernet length wins over the IP one
  EXPECT_EQ(a.cols().src_addr[a.row].ToString(), "10.0.0.1");
  EXPECT_EQ(a.cols().proto[a.row], 17u);
  EXPECT_EQ(a.cols().dst_port[a.row], 53u);
  EXPECT_EQ(a.cols().tos[a.row], 0x28u);
  const auto& b = run.sink[1];
  EXPECT_EQ(b.cols().dst_addr[b.row].ToString(), "2001:db8::2");
  EXPECT_EQ(b.cols().src_port[b.row], 22u);
  EXPECT_EQ(b.cols().tcp_flags[b.row], 0x18u);
  EXPECT_EQ(b.cols().bytes[b.row], 600u);
}

TEST(SflowTest, ExtendedSwitchRouterGateway) {
  Xdr sw;
  sw.U32(300).U32(0).U32(301).U32(0);
  Xdr router;
  router.U32(1).U32(0xC0000201).U32(24).U32(16);
  Xdr gateway;
  gateway.U32(1).U32(0xC6336401).U32(65000).U32(64500).U32(64501);
  gateway.U32(2);                              // two AS path segments
  gateway.U32(2).U32(2).U32(64501).U32(3356);  // AS_SEQUENCE 64501 3356
  gateway.U32(2).U32(1).U32(15169);            // AS_SEQUENCE 15169
  gateway.U32(1).U32(0xFDE80001).U32(100);     // one community, localpref
  Xdr empty_path;
  empty_path.U32(2).Opaque(test::Hex("20010db8000000000000000000000009"));
  empty_path.U32(65000).U32(0).U32(0).U32(0).U32(0).U32(0);
  SflowRun run;
  // The switch record comes first; its VLAN wins over the header's 802.1Q tag.
  ASSERT_FALSE(
      run.Decode(Datagram({FlowSample(1, 1, 1, 2,
                                      {Xdr().Record(1001, sw),
                                       SampledHeader(1, 64, test::Hex(kEthernetVlanIpv4Tcp)),
                                       Xdr().Record(1002, router), Xdr().Record(1003, gateway)}),
                           FlowSample(1, 1, 1, 2, {Xdr().Record(1003, empty_path)})}))
          .error.has_value());
  ASSERT_EQ(run.sink.size(), 2u);
  const auto& r = run.sink[0];
  EXPECT_EQ(r.cols().vlan[r.row], 300u);
  EXPECT_EQ(r.cols().next_hop[r.row].ToString(), "192.0.2.1");
  EXPECT_EQ(r.cols().src_mask[r.row], 24u);
  EXPECT_EQ(r.cols().dst_mask[r.row], 16u);
  EXPECT_EQ(r.cols().bgp_next_hop[r.row].ToString(), "198.51.100.1");
  EXPECT_EQ(r.cols().src_as[r.row], 64500u);
  EXPECT_EQ(r.cols().dst_as[r.row], 15169u);
  const auto& local = run.sink[1];
  EXPECT_EQ(local.cols().bgp_next_hop[local.row].ToString(), "2001:db8::9");
  EXPECT_EQ(local.cols().dst_as[local.row], 65000u);
}

TEST(SflowTest, UnknownSamplesAndRecordsAreSkipped) {
  Xdr opaque;
  opaque.U32(0xdeadbeef).U32(1);
  SflowRun run;
  const auto outcome = run.Decode(
      Datagram({Xdr().Record(5, opaque),                  // discarded packet event: skipped
                Xdr().Record((4300u << 12) | 1, opaque),  // another enterprise's format 1
                FlowSample(1, 1, 1, 2,
                           {Xdr().Record(1036, opaque), Xdr().Record((9u << 12) | 1, opaque),
                            SampledHeader(1, 64, test::Hex(kEthernetVlanIpv4Tcp)),
                            Xdr().Record(1001, Xdr())})}));
  // A known record (extended_switch) of length 0 is too short: the sample fails.
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, DecodeErrorKind::kBadLength);
  EXPECT_EQ(run.sink.size(), 0u);

  SflowRun ok;
  ASSERT_FALSE(
      ok.Decode(Datagram({Xdr().Record(5, opaque), Xdr().Record((4300u << 12) | 1, opaque),
                          FlowSample(1, 1, 1, 2,
                                     {Xdr().Record(1036, opaque), Xdr().Record(2000, Xdr()),
                                      Xdr().Record((9u << 12) | 1, opaque),
                                      SampledHeader(1, 64, test::Hex(kEthernetVlanIpv4Tcp))})}))
          .error.has_value());
  ASSERT_EQ(ok.sink.size(), 1u);
  EXPECT_EQ(ok.sink[0].cols().dst_port[ok.sink[0].row], 443u);
}

Xdr GenericCounters(std::uint32_t if_index) {
  Xdr c;
  c.U32(if_index).U32(6).U64(10'000'000'000ULL).U32(1).U32(3);
  c.U64(123456789012ULL).U32(1).U32(2).U32(3).U32(4).U32(5).U32(6);
  c.U64(987654321098ULL).U32(11).U32(12).U32(13).U32(14).U32(15).U32(1);
  return c;
}

TEST(SflowTest, CountersSamplesFillTheInterfaceTable) {
  Xdr ethernet;
  for (int word = 0; word < 13; ++word) {
    ethernet.U32(0);
  }
  Xdr compact;
  compact.U32(1).U32(7).U32(2).Record(2, ethernet).Record(1, GenericCounters(7));
  Xdr expanded;
  expanded.U32(1).U32(0).U32(0x01000000).U32(1).Record(1, GenericCounters(0x01000000));
  SflowRun run;
  const auto outcome = run.Decode(Datagram({Xdr().Record(2, compact), Xdr().Record(4, expanded)}));
  ASSERT_FALSE(outcome.error.has_value());
  EXPECT_EQ(run.sink.size(), 0u);
  const ExporterState& exporter = run.exporter();
  EXPECT_EQ(exporter.counters.counter_samples, 2u);
  EXPECT_EQ(exporter.counters.records, 0u);
  const auto& interfaces = exporter.interfaces.all();
  ASSERT_EQ(interfaces.size(), 2u);
  const InterfaceInfo& info = interfaces.at(7);
  EXPECT_TRUE(info.has_counters);
  EXPECT_EQ(info.counters_time, 1'700'000'000'000);
  EXPECT_EQ(info.counters.if_type, 6u);
  EXPECT_EQ(info.counters.speed_bps, 10'000'000'000ULL);
  EXPECT_EQ(info.counters.direction, 1u);
  EXPECT_EQ(info.counters.status, 3u);
  EXPECT_EQ(info.counters.in_octets, 123456789012ULL);
  EXPECT_EQ(info.counters.in_ucast_pkts, 1u);
  EXPECT_EQ(info.counters.in_multicast_pkts, 2u);
  EXPECT_EQ(info.counters.in_broadcast_pkts, 3u);
  EXPECT_EQ(info.counters.in_discards, 4u);
  EXPECT_EQ(info.counters.in_errors, 5u);
  EXPECT_EQ(info.counters.in_unknown_protos, 6u);
  EXPECT_EQ(info.counters.out_octets, 987654321098ULL);
  EXPECT_EQ(info.counters.out_ucast_pkts, 11u);
  EXPECT_EQ(info.counters.out_multicast_pkts, 12u);
  EXPECT_EQ(info.counters.out_broadcast_pkts, 13u);
  EXPECT_EQ(info.counters.out_discards, 14u);
  EXPECT_EQ(info.counters.out_errors, 15u);
  EXPECT_EQ(info.counters.promiscuous_mode, 1u);
  EXPECT_TRUE(interfaces.at(0x01000000).has_counters);
}

TEST(SflowTest, SequenceGapsPerSubAgent) {
  const Xdr sample =
      FlowSample(1, 1, 1, 2, {SampledHeader(1, 64, test::Hex(kEthernetVlanIpv4Tcp))});
  SflowRun run;
  (void)run.Decode(Datagram({sample}, 10, 0));
  (void)run.Decode(Datagram({sample}, 500, 1));  // another sub-agent: its own stream
  (void)run.Decode(Datagram({sample}, 11, 0));
  (void)run.Decode(Datagram({sample}, 15, 0));  // 3 datagrams lost
  EXPECT_EQ(run.exporter().counters.sequence_lost, 3u);
  EXPECT_EQ(run.exporter().counters.records, 4u);
}

TEST(SflowTest, SamplingOverrideReplacesSampleRate) {
  DecoderOptions options;
  options.sampling_overrides[*flow::IpAddress::Parse("192.0.2.1")] = 10;
  SflowRun run(options);
  (void)run.Decode(Datagram(
      {FlowSample(1, 4096, 1, 2, {SampledHeader(1, 100, test::Hex(kEthernetVlanIpv4Tcp))})}));
  ASSERT_EQ(run.sink.size(), 1u);
  EXPECT_EQ(run.sink[0].cols().sampling_rate[run.sink[0].row], 10u);
  EXPECT_EQ(run.sink[0].cols().bytes[run.sink[0].row], 1000u);
}

TEST(SflowTest, ImpossibleSampleCountIsRejected) {
  Bytes bytes =
      Datagram({FlowSample(1, 1, 1, 2, {SampledHeader(1, 64, test::Hex(kEthernetVlanIpv4Tcp))})});
  StoreBe32(bytes.data() + 24, 0xFFFFFFFF);  // num_samples
  SflowRun run;
  const auto outcome = run.Decode(bytes);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, DecodeErrorKind::kBadCount);
  EXPECT_EQ(run.sink.size(), 0u);
  EXPECT_EQ(run.exporter().counters.errors[static_cast<std::size_t>(DecodeErrorKind::kBadCount)],
            1u);
}

TEST(SflowTest, BadSampleInTheMiddleKeepsTheOnesBefore) {
  const Xdr good = FlowSample(1, 1, 1, 2, {SampledHeader(1, 64, test::Hex(kEthernetVlanIpv4Tcp))});
  // A flow sample whose sampled_header claims more header bytes than its record holds.
  Xdr lying_header;
  lying_header.U32(1).U32(64).U32(0).U32(1000).U32(0);
  const Xdr bad = FlowSample(1, 1, 1, 2, {Xdr().Record(1, lying_header)});
  SflowRun run;
  const auto outcome = run.Decode(Datagram({good, bad, good}));
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, DecodeErrorKind::kBadLength);
  EXPECT_EQ(outcome.records, 1u);
  ASSERT_EQ(run.sink.size(), 1u);
  EXPECT_EQ(run.exporter().counters.records, 1u);
  EXPECT_EQ(run.exporter().counters.datagrams_failed, 1u);
}

TEST(SflowTest, LyingLengthsNeverLoopOrOverrun) {
  const Xdr good = FlowSample(1, 1, 1, 2, {SampledHeader(1, 64, test::Hex(kEthernetVlanIpv4Tcp))});
  // Zero-length flow sample: shorter than its fixed part.
  {
    SflowRun run;
    const auto outcome = run.Decode(Datagram({good, Xdr().Record(1, Xdr())}));
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, DecodeErrorKind::kBadLength);
    EXPECT_EQ(run.sink.size(), 1u);
  }
  // A sample length past the end of the datagram.
  {
    Bytes bytes = Datagram({good, good});
    StoreBe32(bytes.data() + 28 + 4, 0x7FFFFFF0);
    SflowRun run;
    const auto outcome = run.Decode(bytes);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, DecodeErrorKind::kTruncated);
    EXPECT_EQ(run.sink.size(), 0u);
  }
  // A flow record count that cannot fit its sample.
  {
    Bytes bytes = Datagram({good});
    StoreBe32(bytes.data() + 28 + 8 + 28, 1'000'000);
    SflowRun run;
    const auto outcome = run.Decode(bytes);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, DecodeErrorKind::kBadCount);
  }
  // A bad agent address type.
  {
    Bytes bytes = Datagram({good});
    StoreBe32(bytes.data() + 4, 7);
    SflowRun run;
    const auto outcome = run.Decode(bytes);
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->kind, DecodeErrorKind::kBadRecord);
  }
}

// --- Real datagrams from the shared test data (see its MANIFEST.md). -----------------

class SflowFileTest : public ::testing::Test {
 protected:
  // Decodes every datagram of a capture or raw payload file.
  void DecodeFile(std::string_view relative) {
    net::CaptureOptions options;
    options.raw_time_received = 1'700'000'000'000;
    const auto stats =
        net::ReadCapture(test::SharedTestData(relative), options,
                         [&](const flow::Datagram& datagram, std::uint16_t /*dst_port*/) {
                           ++datagrams_;
                           const DecodeOutcome outcome = decoder_.Decode(datagram, writer_);
                           if (outcome.error) {
                             ++failed_;
                           }
                         });
    ASSERT_TRUE(stats.has_value()) << relative;
    writer_.Flush();
  }

  // Sums a counter over every sFlow exporter.
  template <typename Fn>
  std::uint64_t Sum(Fn&& fn) const {
    std::uint64_t total = 0;
    decoder_.exporters().ForEach([&](const ExporterState& e) {
      if (e.last_protocol == Protocol::kSflowV5) {
        total += fn(e.counters);
      }
    });
    return total;
  }

  std::uint64_t Records() const {
    return Sum([](const ExporterCounters& c) { return c.records; });
  }

  std::uint64_t CounterSamples() const {
    return Sum([](const ExporterCounters& c) { return c.counter_samples; });
  }

  const flow::FlowColumns& Cols(std::size_t idx) const { return sink_[idx].cols(); }

  std::size_t Row(std::size_t idx) const { return sink_[idx].row; }

  Decoder decoder_{DecoderOptions{}};
  test::CollectingSink sink_;
  flow::BatchWriter writer_{sink_};
  std::uint64_t datagrams_ = 0;
  std::uint64_t failed_ = 0;
};

// Sample counts are MANIFEST.md's tshark counts.
TEST_F(SflowFileTest, AkvoradoCaptures) {
  struct Case {
    std::string_view file;
    std::size_t flow_samples;
  };

  for (const Case& c :
       {Case{"data-1140.pcap", 5}, Case{"data-discard-interface.pcap", 1},
        Case{"data-encap-vxlan.pcap", 1}, Case{"data-icmpv4.pcap", 1}, Case{"data-icmpv6.pcap", 1},
        Case{"data-local-interface.pcap", 1}, Case{"data-multiple-interfaces.pcap", 1},
        Case{"data-qinq.pcap", 1}, Case{"data-sflow-expanded-sample.pcap", 1},
        Case{"data-sflow-ipv4-data.pcap", 1}, Case{"data-sflow-raw-ipv4.pcap", 2},
        Case{"data-vlan-interfaces.pcap", 7}}) {
    SCOPED_TRACE(c.file);
    const std::size_t before = sink_.size();
    DecodeFile(std::string("flows/akvorado/sflow/") + std::string(c.file));
    EXPECT_EQ(sink_.size() - before, c.flow_samples);
  }
  EXPECT_EQ(failed_, 0u);
  EXPECT_EQ(Records(), 5u + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 2 + 7);
}

TEST_F(SflowFileTest, AkvoradoFields) {
  DecodeFile("flows/akvorado/sflow/data-icmpv4.pcap");
  DecodeFile("flows/akvorado/sflow/data-icmpv6.pcap");
  DecodeFile("flows/akvorado/sflow/data-qinq.pcap");
  DecodeFile("flows/akvorado/sflow/data-multiple-interfaces.pcap");
  ASSERT_EQ(sink_.size(), 4u);
  EXPECT_EQ(Cols(0).proto[Row(0)], 1u);
  EXPECT_EQ(Cols(0).icmp_type[Row(0)], 8u);  // echo request
  EXPECT_EQ(Cols(0).src_addr[Row(0)].ToString(), "203.0.113.4");
  EXPECT_EQ(Cols(1).proto[Row(1)], 58u);
  EXPECT_EQ(Cols(1).icmp_type[Row(1)], 135u);  // neighbour solicitation
  EXPECT_EQ(Cols(1).dst_addr[Row(1)].ToString(), "2001:db8::");
  // 802.1Q in 802.1Q: outer VLAN 1062, inner 1493.
  EXPECT_EQ(Cols(2).vlan[Row(2)], 1062u);
  EXPECT_EQ(Cols(2).src_addr[Row(2)].ToString(), "49.49.49.2");
  EXPECT_EQ(Cols(2).dst_port[Row(2)], 443u);
  EXPECT_EQ(Cols(2).sampling_rate[Row(2)], 4096u);
  EXPECT_EQ(Cols(3).in_if[Row(3)], 27u);
  EXPECT_EQ(Cols(3).out_if[Row(3)], 0u);  // format 2: several output interfaces
}

// tcpdump/sflow_expanded.out (tcpdump -v): idx 11001, rate 1000, input 29001, output
// 1285816721, raw packet length 126; gateway and router records.
TEST_F(SflowFileTest, TcpdumpExpanded) {
  DecodeFile("flows/tcpdump/sflow_expanded.pcap");
  ASSERT_EQ(sink_.size(), 1u);
  const auto& c = Cols(0);
  const std::size_t row = Row(0);
  EXPECT_EQ(c.obs_domain[row], 11001u);
  EXPECT_EQ(c.sampling_rate[row], 1000u);
  EXPECT_EQ(c.in_if[row], 29001u);
  EXPECT_EQ(c.out_if[row], 1285816721u);
  EXPECT_EQ(c.bytes[row], 126u * 1000);
  EXPECT_EQ(c.packets[row], 1000u);
  EXPECT_EQ(c.src_addr[row].ToString(), "52.52.52.52");
  EXPECT_EQ(c.dst_addr[row].ToString(), "53.53.53.53");
  EXPECT_EQ(c.src_as[row], 203476u);
  EXPECT_EQ(c.dst_as[row], 203361u);
  EXPECT_EQ(c.next_hop[row].ToString(), "54.54.54.54");
  EXPECT_EQ(c.src_mask[row], 32u);
  EXPECT_EQ(c.dst_mask[row], 22u);
}

// tcpdump/sflow-print-v6.out (-vvv): 25 datagrams over IPv6 and IPv4, IPv6 agent;
// 13 flow samples (idx 7001, input 7001, output 0x80000000 = several, src vlan 10,
// Ethernet lengths 64, 250, 500, ...) and 48 counter samples.
TEST_F(SflowFileTest, TcpdumpIpv6Agent) {
  DecodeFile("flows/tcpdump/sflow-print-v6.pcap");
  EXPECT_EQ(datagrams_, 25u);
  EXPECT_EQ(failed_, 0u);
  ASSERT_EQ(sink_.size(), 13u);
  EXPECT_EQ(Records(), 13u);
  EXPECT_EQ(CounterSamples(), 48u);
  const std::uint64_t lengths[] = {64, 250, 500};
  for (std::size_t idx = 0; idx < 3; ++idx) {
    EXPECT_EQ(Cols(idx).bytes[Row(idx)], lengths[idx]);
    EXPECT_EQ(Cols(idx).obs_domain[Row(idx)], 7001u);
    EXPECT_EQ(Cols(idx).in_if[Row(idx)], 7001u);
    EXPECT_EQ(Cols(idx).out_if[Row(idx)], 0u);
    EXPECT_EQ(Cols(idx).vlan[Row(idx)], 10u);
  }
  const ExporterState* exporter = decoder_.exporters().Find(*flow::IpAddress::Parse("30::1:1:1"));
  ASSERT_NE(exporter, nullptr);
  const InterfaceInfo& info = exporter->interfaces.all().at(23001);
  EXPECT_TRUE(info.has_counters);
  EXPECT_EQ(info.counters.speed_bps, 400'000'000'000ULL);
  EXPECT_EQ(info.counters.status, 3u);
}

// tcpdump/sflow_multiple_counter_30_pdus.out: 25 sFlow datagrams with 2 counter and 142
// expanded counter samples, plus 5 NetFlow v5 datagrams on the same port.
TEST_F(SflowFileTest, TcpdumpCountersAndMixedPort) {
  DecodeFile("flows/tcpdump/sflow_multiple_counter_30_pdus.pcap");
  EXPECT_EQ(datagrams_, 30u);
  EXPECT_EQ(failed_, 0u);
  EXPECT_EQ(CounterSamples(), 144u);
  EXPECT_EQ(Records(), 0u);
  // Agent 15.184.8.4 (sent from 15.184.1.76), ifindex 55.
  const ExporterState* exporter = decoder_.exporters().Find(*flow::IpAddress::Parse("15.184.1.76"));
  ASSERT_NE(exporter, nullptr);
  const InterfaceCounters& k = exporter->interfaces.all().at(55).counters;
  EXPECT_EQ(k.if_type, 117u);
  EXPECT_EQ(k.speed_bps, 1'000'000'000u);
  EXPECT_EQ(k.direction, 1u);
  EXPECT_EQ(k.in_octets, 820721u);
  EXPECT_EQ(k.in_ucast_pkts, 9601u);
  EXPECT_EQ(k.in_broadcast_pkts, 1302u);
  EXPECT_EQ(k.out_octets, 178785248u);
  EXPECT_EQ(k.out_ucast_pkts, 9736u);
  EXPECT_EQ(k.out_multicast_pkts, 132958u);
  EXPECT_EQ(k.out_broadcast_pkts, 2213534u);
  EXPECT_EQ(k.promiscuous_mode, 2u);
}

// tcpdump/sflow_print-segv.out: "[length 8 < 28] (invalid)".
TEST_F(SflowFileTest, TcpdumpMalformedIsRejected) {
  DecodeFile("flows/tcpdump/sflow_print-segv.pcap");
  EXPECT_EQ(datagrams_, 1u);
  EXPECT_EQ(failed_, 1u);
  EXPECT_EQ(sink_.size(), 0u);
}

TEST_F(SflowFileTest, CisternDumps) {
  struct Case {
    std::string_view file;
    std::size_t flow_samples;
    std::uint64_t counter_samples;
  };

  for (const Case& c :
       {Case{"counter_sample.dump", 0, 1}, Case{"event_discarded_packet.dump", 0, 0},
        Case{"flow_sample.dump", 1, 0}, Case{"flow_sample_3.dump", 3, 0},
        Case{"flow_samples_2.dump", 2, 0}, Case{"host_sample.dump", 0, 1}}) {
    SCOPED_TRACE(c.file);
    const std::size_t before = sink_.size();
    const std::uint64_t counters_before = CounterSamples();
    DecodeFile(std::string("flows/cistern-sflow/") + std::string(c.file));
    EXPECT_EQ(sink_.size() - before, c.flow_samples);
    EXPECT_EQ(CounterSamples() - counters_before, c.counter_samples);
  }
  EXPECT_EQ(failed_, 0u);
}

// telegraf/sflow_issue_15918/expected.out: 6 flow samples (in_snmp there is the data
// source for egress samples; the sample's input field is what in_if holds) + 1 counter.
TEST_F(SflowFileTest, TelegrafFlowSamples) {
  DecodeFile("flows/telegraf/sflow_issue_15918/message.bin");
  EXPECT_EQ(failed_, 0u);
  ASSERT_EQ(sink_.size(), 6u);
  EXPECT_EQ(CounterSamples(), 1u);
  // src="192.168.227.2" dst="192.168.101.2" src_port=49469 dst_port=2055 udp in_snmp=96
  // out_snmp=95 l2_bytes=1286 sampling_interval=200 vlan_src=154
  // in_src_mac="00:09:0f:09:00:01" out_dst_mac="48:21:0b:3b:76:59" src_tos=0
  EXPECT_EQ(Cols(0).src_addr[Row(0)].ToString(), "192.168.227.2");
  EXPECT_EQ(Cols(0).dst_addr[Row(0)].ToString(), "192.168.101.2");
  EXPECT_EQ(Cols(0).src_port[Row(0)], 49469u);
  EXPECT_EQ(Cols(0).dst_port[Row(0)], 2055u);
  EXPECT_EQ(Cols(0).proto[Row(0)], 17u);
  EXPECT_EQ(Cols(0).in_if[Row(0)], 96u);
  EXPECT_EQ(Cols(0).out_if[Row(0)], 95u);
  EXPECT_EQ(Cols(0).bytes[Row(0)], 1286u * 200);
  EXPECT_EQ(Cols(0).packets[Row(0)], 200u);
  EXPECT_EQ(Cols(0).vlan[Row(0)], 154u);
  EXPECT_EQ(Cols(0).src_mac[Row(0)], 0x00090f090001u);
  EXPECT_EQ(Cols(0).dst_mac[Row(0)], 0x48210b3b7659u);
  // src="fe80::f3a8:9738:cab4:2286" dst="ff02::16" protocol="hopopt": past the hop-by-hop
  // header it is ICMPv6 type 143 (MLDv2 report).
  EXPECT_EQ(Cols(2).dst_addr[Row(2)].ToString(), "ff02::16");
  EXPECT_EQ(Cols(2).proto[Row(2)], 58u);
  EXPECT_EQ(Cols(2).icmp_type[Row(2)], 143u);
  EXPECT_EQ(Cols(2).bytes[Row(2)], 114u * 200);
  // src="fe80::f3a8:9738:cab4:2286" dst="ff02::1:3" src_port=49770 dst_port=5355
  EXPECT_EQ(Cols(5).src_addr[Row(5)].ToString(), "fe80::f3a8:9738:cab4:2286");
  EXPECT_EQ(Cols(5).src_port[Row(5)], 49770u);
  EXPECT_EQ(Cols(5).dst_port[Row(5)], 5355u);
  EXPECT_EQ(Cols(5).vlan[Row(5)], 153u);
  // The counter sample: interface=101 speed=1000000000 in_bytes=21286022420858
  // in_mcast_packets_total=81495048 out_unicast_packets_total=3892490465.
  const ExporterState* exporter = decoder_.exporters().Find(*flow::IpAddress::Parse("192.0.2.1"));
  ASSERT_NE(exporter, nullptr);
  const InterfaceCounters& k = exporter->interfaces.all().at(101).counters;
  EXPECT_EQ(k.speed_bps, 1'000'000'000u);
  EXPECT_EQ(k.in_octets, 21286022420858u);
  EXPECT_EQ(k.in_multicast_pkts, 81495048u);
  EXPECT_EQ(k.out_ucast_pkts, 3892490465u);
}

// telegraf/sflow_issue_18876 (expanded counter sample) and sflow_v5_example.
TEST_F(SflowFileTest, TelegrafCounters) {
  DecodeFile("flows/telegraf/sflow_issue_18876/message.bin");
  DecodeFile("flows/telegraf/sflow_v5_example/sflow_v5.bin");
  DecodeFile("flows/telegraf/sflow_issue_15375/sflow_drop_1036.bin");
  EXPECT_EQ(failed_, 0u);
  EXPECT_EQ(sink_.size(), 0u);
  EXPECT_EQ(CounterSamples(), 2u);
  const ExporterState* exporter = decoder_.exporters().Find(*flow::IpAddress::Parse("192.0.2.1"));
  ASSERT_NE(exporter, nullptr);
  const auto& interfaces = exporter->interfaces.all();
  // interface=1258293248 in_bytes=59347538341644 out_bytes=89572325677612 in_errors=58690
  // speed=10000000000 out_mcast_packets_total=4095509374 promiscuous=1
  const InterfaceCounters& big = interfaces.at(1258293248).counters;
  EXPECT_EQ(big.in_octets, 59347538341644u);
  EXPECT_EQ(big.out_octets, 89572325677612u);
  EXPECT_EQ(big.in_errors, 58690u);
  EXPECT_EQ(big.speed_bps, 10'000'000'000u);
  EXPECT_EQ(big.out_multicast_pkts, 4095509374u);
  EXPECT_EQ(big.promiscuous_mode, 1u);
  // interface=3 in_bytes=3910 out_bytes=3946 in_unicast_packets_total=28
  // out_unicast_packets_total=29 interface_type=6
  const InterfaceCounters& small = interfaces.at(3).counters;
  EXPECT_EQ(small.in_octets, 3910u);
  EXPECT_EQ(small.out_octets, 3946u);
  EXPECT_EQ(small.in_ucast_pkts, 28u);
  EXPECT_EQ(small.out_ucast_pkts, 29u);
  EXPECT_EQ(small.if_type, 6u);
}

// Every prefix and every single-byte corruption of real datagrams: no crash, no
// out-of-bounds read (run under ASan), never more records than the whole datagram.
TEST(SflowTest, TruncatedAndCorruptedRealDatagrams) {
  for (const char* file :
       {"flows/telegraf/sflow_issue_15918/message.bin", "flows/cistern-sflow/flow_sample_3.dump",
        "flows/cistern-sflow/host_sample.dump", "flows/telegraf/sflow_issue_18876/message.bin"}) {
    SCOPED_TRACE(file);
    const Bytes bytes = test::ReadFile(test::SharedTestData(file));
    ASSERT_FALSE(bytes.empty());
    SflowRun whole;
    ASSERT_FALSE(whole.Decode(bytes).error.has_value());
    const std::size_t full = whole.sink.size();
    SflowRun run;
    for (std::size_t length = 0; length < bytes.size(); ++length) {
      const Bytes prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
      const DecodeOutcome outcome = run.Decode(prefix);
      EXPECT_TRUE(outcome.error.has_value()) << length;
      EXPECT_LE(outcome.records, full);
    }
    for (std::size_t pos = 0; pos < bytes.size(); ++pos) {
      for (const std::uint8_t value :
           {std::uint8_t{0x00}, std::uint8_t{0xFF}, std::uint8_t{0x80}}) {
        Bytes corrupt = bytes;
        corrupt[pos] = value;
        const DecodeOutcome outcome = run.Decode(corrupt);
        EXPECT_LE(outcome.records, full);
      }
    }
  }
}

}  // namespace
}  // namespace sluice::decode
