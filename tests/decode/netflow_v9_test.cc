// SPDX-License-Identifier: Apache-2.0

#include "decode/netflow_v9.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "decode/decoder.h"
#include "testing/collecting_sink.h"
#include "testing/decoder_harness.h"
#include "testing/hex.h"
#include "testing/ipfix_builder.h"

namespace sluice::decode {
namespace {

using test::MessageBuilder;

constexpr std::uint32_t kUnixSecs = 1'700'000'000;
constexpr std::int64_t kExportMs = std::int64_t{kUnixSecs} * 1000;
constexpr std::uint32_t kUptime = 3'600'000;  // the exporter has been up an hour

using Harness = test::DecoderHarness;

TEST(NetflowV9Test, DecodesTemplateAndDataWithUptimeTimes) {
  MessageBuilder m = MessageBuilder::NetflowV9(kUptime, kUnixSecs, 10, 0x0100);
  m.Set(0).Template(256, {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 4}, {2, 4}, {22, 4},
                          {21, 4}, {10, 2}, {14, 2}, {16, 2}, {17, 2}});
  m.Set(256).Addr("10.0.0.1").Addr("10.0.0.2").U16(1024).U16(53).U8(17).U32(76).U32(1)
      .U32(kUptime - 4000).U32(kUptime - 500).U16(1).U16(2).U16(100).U16(200).Zeros(3);
  Harness h;
  const DecodeOutcome outcome = h.Feed(m.Build());
  EXPECT_FALSE(outcome.error.has_value());
  ASSERT_EQ(h.sink.size(), 1u);
  const auto& c = h.cols(0);
  EXPECT_EQ(c.src_addr[0].ToString(), "10.0.0.1");
  EXPECT_EQ(c.dst_port[0], 53u);
  EXPECT_EQ(c.bytes[0], 76u);
  EXPECT_EQ(c.first[0], kExportMs - 4000);
  EXPECT_EQ(c.last[0], kExportMs - 500);
  EXPECT_EQ(c.src_as[0], 100u);
  EXPECT_EQ(c.obs_domain[0], 0x0100u);
}

TEST(NetflowV9Test, RepeatedElementsLastInTemplateOrderWins) {
  // A Cisco SRv6-like v9 template: outer IPv6 addresses and protocol, then the inner
  // IPv4 ones (compiled_template.h, repeated elements).
  MessageBuilder m = MessageBuilder::NetflowV9(kUptime, kUnixSecs, 10, 0);
  m.Set(0).Template(256, {{27, 16}, {28, 16}, {4, 1}, {1, 4}, {8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}});
  m.Set(256).Addr("fcba:1::1").Addr("fcba:2::2").U8(41).U32(100)
      .Addr("192.0.41.144").Addr("192.0.42.154").U16(1024).U16(862).U8(17).Zeros(2);
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 1u);
  const auto& c = h.cols(0);
  EXPECT_EQ(c.src_addr[0].ToString(), "192.0.41.144");
  EXPECT_EQ(c.dst_addr[0].ToString(), "192.0.42.154");
  EXPECT_EQ(c.proto[0], 17u);
  EXPECT_EQ(c.dst_port[0], 862u);
  EXPECT_EQ(c.bytes[0], 100u);
}

TEST(NetflowV9Test, UptimeWrapIsHandled) {
  // The flow started before the 32-bit uptime wrapped; the export is after it.
  MessageBuilder m = MessageBuilder::NetflowV9(1000, kUnixSecs, 1, 0);
  m.Set(0).Template(256, {{22, 4}, {21, 4}});
  m.Set(256).U32(0xFFFFFFFFu - 999).U32(500);
  Harness h;
  h.Feed(m.Build());
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.cols(0).first[0], kExportMs - 2000);
  EXPECT_EQ(h.cols(0).last[0], kExportMs - 500);
}

TEST(NetflowV9Test, AbsoluteTimesAreAccepted) {
  MessageBuilder m = MessageBuilder::NetflowV9(kUptime, kUnixSecs, 1, 0);
  m.Set(0).Template(256, {{152, 8}, {153, 8}}).Template(257, {{150, 4}, {151, 4}});
  m.Set(256).U64(kExportMs - 300).U64(kExportMs - 200);
  m.Set(257).U32(kUnixSecs - 9).U32(kUnixSecs - 3);
  Harness h;
  h.Feed(m.Build());
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.cols(0).first[h.row(0)], kExportMs - 300);
  EXPECT_EQ(h.cols(0).last[h.row(0)], kExportMs - 200);
  EXPECT_EQ(h.cols(1).first[h.row(1)], kExportMs - 9000);
  EXPECT_EQ(h.cols(1).last[h.row(1)], kExportMs - 3000);
}

TEST(NetflowV9Test, SamplerOptionsAndSamplerIdLookup) {
  // Options template (scope: system), sampler 1 at 1:100 and sampler 2 at 1:1000, then
  // flows naming each sampler (FLOW_SAMPLER_ID, 48).
  MessageBuilder m = MessageBuilder::NetflowV9(kUptime, kUnixSecs, 1, 7);
  m.Set(1).OptionsTemplate(300, {{1, 4}}, {{48, 1}, {49, 1}, {50, 4}});
  m.Set(0).Template(256, {{48, 1}, {2, 4}, {1, 4}});
  m.Set(300).U32(0).U8(1).U8(2).U32(100).U32(0).U8(2).U8(2).U32(1000).Zeros(2);
  m.Set(256).U8(1).U32(2).U32(100).U8(2).U32(3).U32(100).U8(9).U32(1).U32(1).Zeros(3);
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 3u);
  EXPECT_EQ(h.cols(0).sampling_rate[h.row(0)], 100u);
  EXPECT_EQ(h.cols(0).packets[h.row(0)], 200u);
  EXPECT_EQ(h.cols(1).sampling_rate[h.row(1)], 1000u);
  EXPECT_EQ(h.cols(1).bytes[h.row(1)], 100'000u);
  EXPECT_EQ(h.cols(2).sampling_rate[h.row(2)], 1u);  // unknown sampler, no default
  EXPECT_EQ(h.exporter().counters.option_records, 2u);
}

TEST(NetflowV9Test, DomainDefaultSamplingInterval) {
  MessageBuilder m = MessageBuilder::NetflowV9(kUptime, kUnixSecs, 1, 7);
  m.Set(1).OptionsTemplate(300, {{1, 4}}, {{34, 4}, {35, 1}});
  m.Set(300).U32(0).U32(64).U8(1);
  m.Set(0).Template(256, {{2, 4}});
  m.Set(256).U32(2);
  Harness h;
  h.Feed(m.Build());
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.cols(0).packets[0], 128u);
  EXPECT_EQ(h.cols(0).sampling_rate[0], 64u);
}

TEST(NetflowV9Test, InterfaceNamesFromOptionsScopedByInterface) {
  MessageBuilder m = MessageBuilder::NetflowV9(kUptime, kUnixSecs, 1, 0);
  m.Set(1).OptionsTemplate(300, {{2, 4}}, {{82, 8}, {83, 12}});
  m.Set(300).U32(12).Text("Gi0/1").Zeros(3).Text("to core").Zeros(5);
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  const auto& interfaces = h.exporter().interfaces.all();
  ASSERT_EQ(interfaces.count(12), 1u);
  EXPECT_EQ(interfaces.at(12).name, "Gi0/1");
  EXPECT_EQ(interfaces.at(12).description, "to core");
}

TEST(NetflowV9Test, TemplatesAreScopedPerSourceId) {
  Harness h;
  h.Feed(MessageBuilder::NetflowV9(kUptime, kUnixSecs, 1, 1).Set(0).Template(256, {{7, 2}}).Build());
  h.Feed(MessageBuilder::NetflowV9(kUptime, kUnixSecs, 1, 2).Set(0).Template(256, {{11, 2}}).Build());
  h.Feed(MessageBuilder::NetflowV9(kUptime, kUnixSecs, 2, 1).Set(256).U16(80).Build());
  h.Feed(MessageBuilder::NetflowV9(kUptime, kUnixSecs, 2, 2).Set(256).U16(81).Build());
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.cols(0).src_port[h.row(0)], 80u);
  EXPECT_EQ(h.cols(1).dst_port[h.row(1)], 81u);
  EXPECT_EQ(h.exporter().templates.size(), 2u);
}

TEST(NetflowV9Test, TemplateRefreshAndRedefinition) {
  Harness h;
  const auto tpl = MessageBuilder::NetflowV9(kUptime, kUnixSecs, 1, 0).Set(0).Template(256, {{7, 2}}).Build();
  h.Feed(tpl);
  h.Feed(tpl);
  EXPECT_EQ(h.exporter().counters.templates_received, 2u);
  EXPECT_EQ(h.exporter().templates.size(), 1u);
  h.Feed(MessageBuilder::NetflowV9(kUptime, kUnixSecs, 2, 0).Set(0).Template(256, {{11, 2}, {4, 1}})
             .Set(256).U16(443).U8(6).Build());
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.cols(0).dst_port[0], 443u);
  EXPECT_EQ(h.cols(0).src_port[0], 0u);
}

TEST(NetflowV9Test, CountsLostPackets) {
  Harness h;
  h.Feed(MessageBuilder::NetflowV9(kUptime, kUnixSecs, 100, 0).Build());
  h.Feed(MessageBuilder::NetflowV9(kUptime, kUnixSecs, 101, 0).Build());
  h.Feed(MessageBuilder::NetflowV9(kUptime, kUnixSecs, 105, 0).Build());
  EXPECT_EQ(h.exporter().counters.sequence_lost, 3u);
  // Another source id is its own stream.
  h.Feed(MessageBuilder::NetflowV9(kUptime, kUnixSecs, 7, 1).Build());
  EXPECT_EQ(h.exporter().counters.sequence_lost, 3u);
}

TEST(NetflowV9Test, DataBeforeTemplateInTheSamePacket) {
  MessageBuilder m = MessageBuilder::NetflowV9(kUptime, kUnixSecs, 1, 0);
  m.Set(256).U16(1).U16(2);
  m.Set(0).Template(256, {{7, 2}});
  m.Set(256).U16(3);
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 3u);
  EXPECT_EQ(h.exporter().counters.sets_without_template, 1u);
  EXPECT_EQ(h.exporter().counters.pending_sets_decoded, 1u);
}

TEST(NetflowV9Test, NselFields) {
  MessageBuilder m = MessageBuilder::NetflowV9(kUptime, kUnixSecs, 1, 0);
  m.Set(0).Template(263, {{8, 4}, {225, 4}, {40001, 4}, {40003, 2}, {40005, 1}, {323, 8}, {231, 4},
                          {298, 4}, {33000, 4}});
  m.Set(263).Addr("10.0.0.1").Addr("0.0.0.0").Addr("198.51.100.9").U16(3333).U8(1)
      .U64(kExportMs - 42).U32(999).U32(3).U32(0xabcdef).Zeros(2);
  Harness h;
  h.Feed(m.Build());
  ASSERT_EQ(h.sink.size(), 1u);
  const auto& c = h.cols(0);
  EXPECT_EQ(c.xlate_src_addr[0].ToString(), "198.51.100.9");  // NSEL id after IE 225
  EXPECT_EQ(c.xlate_src_port[0], 3333u);
  EXPECT_EQ(c.fw_event[0], 1u);
  EXPECT_EQ(c.first[0], kExportMs - 42);
  EXPECT_EQ(c.last[0], kExportMs - 42);
  EXPECT_EQ(c.bytes[0], 999u);
  EXPECT_EQ(c.packets[0], 3u);
}

TEST(NetflowV9Test, ZeroFilledTailIsPadding) {
  MessageBuilder m = MessageBuilder::NetflowV9(kUptime, kUnixSecs, 1, 0);
  m.Set(0).Template(256, {{7, 2}, {11, 2}});
  m.Set(256).U16(1).U16(2);
  auto bytes = m.Build();
  bytes.resize(bytes.size() + 1000, 0);
  Harness h;
  EXPECT_FALSE(h.Feed(bytes).error.has_value());
  EXPECT_EQ(h.sink.size(), 1u);
  bytes.back() = 1;  // not padding any more: a bad flowset length
  const DecodeOutcome outcome = h.Feed(bytes);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, DecodeErrorKind::kBadLength);
  EXPECT_EQ(h.sink.size(), 2u);
}

TEST(NetflowV9Test, RefusesOversizedTemplates) {
  DecoderOptions options;
  options.max_fields_per_template = 3;
  Harness h(options);
  MessageBuilder m = MessageBuilder::NetflowV9(kUptime, kUnixSecs, 1, 0);
  m.Set(0).Template(256, {{7, 2}, {11, 2}, {4, 1}, {1, 4}}).Template(257, {{7, 2}});
  m.Set(257).U16(22);
  const DecodeOutcome outcome = h.Feed(m.Build());
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, DecodeErrorKind::kTooManyFields);
  EXPECT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.exporter().counters.templates_refused, 1u);
}

struct FileSequence {
  const char* name;
  std::vector<const char*> files;
  std::size_t flows;
  std::uint64_t options;
};

// logstash-codec-netflow files, in the MANIFEST's order, against its tshark counts
// (Logstash's where the MANIFEST prefers them).
TEST(NetflowV9Test, RealExporterFilesDecodeToTsharkCounts) {
  const std::vector<FileSequence> sequences = {
      {"softflowd valid01", {"netflow9_test_valid01.dat"}, 7, 0},
      {"macaddr", {"netflow9_test_macaddr_tpl.dat", "netflow9_test_macaddr_data.dat"}, 29, 1},
      {"cisco aci", {"netflow9_test_cisco_aci_tpl256-258.dat", "netflow9_test_cisco_aci_data256.dat"}, 3, 0},
      {"cisco asa (NSEL)", {"netflow9_test_cisco_asa_1_tpl.dat", "netflow9_test_cisco_asa_1_data.dat"}, 14, 0},
      {"cisco asa 2", {"netflow9_test_cisco_asa_2_tpl_26x.dat", "netflow9_test_cisco_asa_2_tpl_27x.dat",
                       "netflow9_test_cisco_asa_2_data.dat"}, 19, 0},
      {"nprobe + softflowd", {"netflow9_test_nprobe_tpl.dat", "netflow9_test_softflowd_tpl_data.dat",
                              "netflow9_test_nprobe_data.dat"}, 8, 1},
      {"IE150/151", {"netflow9_test_unknown_tpl266_292_data.dat"}, 2, 0},
      {"palo alto zero filled", {"netflow9_test_paloalto_81_tpl256-263.dat",
                                 "netflow9_test_paloalto_81_data257_1flowset_in_large_zerofilled_packet.dat"}, 1, 0},
      {"h3c varstring", {"netflow9_test_h3c_netstream_varstring_tpl3281.dat",
                         "netflow9_test_h3c_netstream_varstring_data3281.dat"}, 1, 0},
      {"fortigate 5.4.2", {"netflow9_test_fortigate_fortios_542_appid_tpl258-269.dat",
                           "netflow9_test_fortigate_fortios_542_appid_data258_262.dat"}, 17, 0},
      {"ubnt edgerouter", {"netflow9_test_ubnt_edgerouter_tpl.dat", "netflow9_test_ubnt_edgerouter_data1024.dat",
                           "netflow9_test_ubnt_edgerouter_data1025.dat"}, 16, 0},
      {"nprobe dpi", {"netflow9_test_nprobe_dpi.dat"}, 1, 0},
      {"fortigate 5.2.1", {"netflow9_test_fortigate_fortios_521_tpl.dat", "netflow9_test_fortigate_fortios_521_data256.dat",
                           "netflow9_test_fortigate_fortios_521_data257.dat"}, 1, 1},
      {"streamcore", {"netflow9_test_streamcore_tpl_data256.dat", "netflow9_test_streamcore_tpl_data260.dat"}, 4, 0},
      {"juniper srx", {"netflow9_test_juniper_srx_tplopt.dat"}, 0, 1},
      {"0-length fields", {"netflow9_test_0length_fields_tpl_data.dat"}, 10, 0},
      {"asr9k interface options", {"netflow9_test_cisco_asr9k_opttpl256.dat", "netflow9_test_cisco_asr9k_data256.dat"}, 0, 19},
      {"huawei", {"netflow9_test_huawei_netstream_tpl.dat", "netflow9_test_huawei_netstream_data.dat"}, 1, 0},
      {"layer2segmentid", {"netflow9_test_field_layer2segmentid_tpl.dat", "netflow9_test_field_layer2segmentid_data.dat"}, 1, 0},
      {"asr9k 260", {"netflow9_test_cisco_asr9k_tpl260.dat", "netflow9_test_cisco_asr9k_data260.dat"}, 21, 0},
      {"nbar options", {"netflow9_test_cisco_nbar_opttpl260.dat"}, 0, 15},
      {"nbar 262", {"netflow9_test_cisco_nbar_tpl262.dat", "netflow9_test_cisco_nbar_data262.dat"}, 5, 0},
      {"wlc", {"netflow9_test_cisco_wlc_tpl.dat", "netflow9_test_cisco_wlc_data261.dat"}, 19, 0},
      {"1941K9", {"netflow9_test_cisco_1941K9.dat"}, 29, 0},
      {"asr1001x", {"netflow9_cisco_asr1001x_tpl259.dat"}, 25, 0},
      {"palo alto panos", {"netflow9_test_paloalto_panos_tpl.dat", "netflow9_test_paloalto_panos_data.dat"}, 8, 0},
      // Logstash decodes 16 records where tshark stops at 1 (the MANIFEST prefers Logstash).
      {"h3c", {"netflow9_test_h3c_tpl3281.dat", "netflow9_test_h3c_data3281.dat"}, 16, 0},
  };
  for (const FileSequence& seq : sequences) {
    SCOPED_TRACE(seq.name);
    Harness h;
    for (const char* file : seq.files) {
      const DecodeOutcome outcome = h.FeedFile(std::string("logstash-codec-netflow/") + file);
      EXPECT_FALSE(outcome.error.has_value())
          << file << ": " << Name(outcome.error->kind) << " at " << outcome.error->byte_offset;
    }
    EXPECT_EQ(h.sink.size(), seq.flows);
    EXPECT_EQ(h.exporter().counters.option_records, seq.options);
  }
}

TEST(NetflowV9Test, IptNetflowReducedSizeEncoding) {
  Harness h;
  h.FeedFile("logstash-codec-netflow/netflow9_test_iptnetflow_reduced_size_encoding_tpldata260.dat");
  // 12 records of template 260 with counters in fewer bytes than their type (2-byte
  // packets, ...); 6 sets of templates 259/262 this packet never defines are held.
  EXPECT_EQ(h.sink.size(), 12u);
  EXPECT_EQ(h.exporter().counters.sets_without_template, 6u);
  EXPECT_EQ(h.exporter().templates.pending_sets(), 6u);
  EXPECT_EQ(h.exporter().counters.pending_sets_decoded, 0u);
  // Logstash's expected event (netflow_spec_expected.json, decoded index 11).
  const auto& c = h.cols(11);
  const std::size_t r = h.row(11);
  EXPECT_EQ(c.src_addr[r].ToString(), "2.17.140.47");
  EXPECT_EQ(c.dst_addr[r].ToString(), "10.233.150.21");
  EXPECT_EQ(c.next_hop[r].ToString(), "10.232.5.1");
  EXPECT_EQ(c.src_port[r], 443u);
  EXPECT_EQ(c.dst_port[r], 38164u);
  EXPECT_EQ(c.packets[r], 3u);
  EXPECT_EQ(c.bytes[r], 187u);
  EXPECT_EQ(c.tcp_flags[r], 25u);
  EXPECT_EQ(c.in_if[r], 7u);
  EXPECT_EQ(c.out_if[r], 8u);
  EXPECT_EQ(c.dst_mac[r], 0x001b21bc24ddu);
  EXPECT_EQ(c.src_mac[r], 0x90e2ba2309fcu);
  // Export 05:47:09.000 at uptime 1289283392; first/last 15200 and 15008 ms before.
  // (Logstash shows 54.800/54.992: its seconds/millis split rounds the wrong way.)
  EXPECT_EQ(c.first[r], 1'518'932'813'800);  // 2018-02-18T05:46:53.800Z
  EXPECT_EQ(c.last[r], 1'518'932'813'992);
}

TEST(NetflowV9Test, IcmpTypeElementsAreAuthoritative) {
  // With ICMP type/code elements (176/177 here, as Cisco ASA sends them) the port
  // elements are not ports: an echo reply (type 0, code 0) carries its identifier in
  // L4_DST_PORT. The type elements win, even at 0/0; src_port is 0 and dst_port is
  // type * 256 + code, as nfcapd stores them.
  MessageBuilder m = MessageBuilder::NetflowV9(kUptime, kUnixSecs, 1, 0);
  m.Set(0).Template(300, {{7, 2}, {11, 2}, {4, 1}, {176, 1}, {177, 1}});
  m.Template(301, {{7, 2}, {11, 2}, {4, 1}, {32, 2}});
  m.Template(302, {{7, 2}, {11, 2}, {4, 1}});
  m.Set(300);
  m.U16(17549).U16(0x0800).U8(1).U8(8).U8(0);  // echo request, id in L4_SRC_PORT
  m.U16(0).U16(17549).U8(1).U8(0).U8(0);       // echo reply, id in L4_DST_PORT
  m.U16(443).U16(51000).U8(6).U8(0).U8(0);     // TCP: ports untouched
  m.Set(301);
  m.U16(0).U16(17549).U8(1).U16(0x0000);  // ICMP_TYPE 0: echo reply
  m.Set(302);
  m.U16(0).U16(0x0303).U8(1);  // no type element: read from dst_port
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 5u);

  struct Want {
    std::uint16_t src_port, dst_port;
    std::uint8_t type, code;
  };

  const Want want[] = {
      {0, 0x0800, 8, 0}, {0, 0, 0, 0}, {443, 51000, 0, 0}, {0, 0, 0, 0}, {0, 0x0303, 3, 3}};
  for (std::size_t idx = 0; idx < 5; ++idx) {
    SCOPED_TRACE(idx);
    const auto& c = h.cols(idx);
    const std::size_t r = h.row(idx);
    EXPECT_EQ(c.src_port[r], want[idx].src_port);
    EXPECT_EQ(c.dst_port[r], want[idx].dst_port);
    EXPECT_EQ(c.icmp_type[r], want[idx].type);
    EXPECT_EQ(c.icmp_code[r], want[idx].code);
  }
}

TEST(NetflowV9Test, CiscoAsaValues) {
  Harness h;
  h.FeedFile("logstash-codec-netflow/netflow9_test_cisco_asa_1_tpl.dat");
  h.FeedFile("logstash-codec-netflow/netflow9_test_cisco_asa_1_data.dat");
  ASSERT_EQ(h.sink.size(), 14u);
  EXPECT_EQ(h.exporter().counters.templates_received, 13u);
  // Logstash's expected event (decoded index 1): an ICMP echo flow torn down (event 2).
  const auto& c = h.cols(1);
  const std::size_t r = h.row(1);
  EXPECT_EQ(c.src_addr[r].ToString(), "192.168.23.22");
  EXPECT_EQ(c.dst_addr[r].ToString(), "164.164.37.11");
  EXPECT_EQ(c.xlate_src_addr[r].ToString(), "192.168.23.22");
  EXPECT_EQ(c.xlate_dst_addr[r].ToString(), "164.164.37.11");
  EXPECT_EQ(c.xlate_src_port[r], 17549u);
  EXPECT_EQ(c.proto[r], 1u);
  EXPECT_EQ(c.icmp_type[r], 8u);
  EXPECT_EQ(c.in_if[r], 2u);
  EXPECT_EQ(c.out_if[r], 3u);
  EXPECT_EQ(c.fw_event[r], 2u);
  EXPECT_EQ(c.bytes[r], 56u);
  EXPECT_EQ(c.first[r], 1'444'384'068'169);  // flow_start_msec
  std::size_t with_event = 0;
  for (std::size_t idx = 0; idx < h.sink.size(); ++idx) {
    with_event += h.cols(idx).fw_event[h.row(idx)] != 0 ? 1 : 0;
  }
  EXPECT_EQ(with_event, 14u);
}

TEST(NetflowV9Test, AsrInterfaceNames) {
  Harness h;
  h.FeedFile("logstash-codec-netflow/netflow9_test_cisco_asr9k_opttpl256.dat");
  h.FeedFile("logstash-codec-netflow/netflow9_test_cisco_asr9k_data256.dat");
  // Scope: system; options: ingressInterface (10) and interfaceDescription (83, 64
  // bytes, NUL padded).
  const auto& interfaces = h.exporter().interfaces.all();
  EXPECT_EQ(interfaces.size(), 19u);
  ASSERT_EQ(interfaces.count(74), 1u);
  EXPECT_EQ(interfaces.at(74).description, "TenGigE0_0_1_0");
}

TEST(NetflowV9Test, FluentSamplerThenMplsData) {
  Harness h;
  h.FeedFile("fluent-plugin-netflow/netflow.v9.sampler_template.dump");
  h.FeedFile("fluent-plugin-netflow/netflow.v9.sampler.dump");
  h.FeedFile("fluent-plugin-netflow/netflow.v9.mpls-template.dump");
  h.FeedFile("fluent-plugin-netflow/netflow.v9.mpls-data.dump");
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.cols(0).mpls_label[0], 24002u);
  EXPECT_EQ(h.exporter().counters.option_records, 1u);
}

TEST(NetflowV9Test, FluentTemplateThenData) {
  Harness h;
  h.FeedFile("fluent-plugin-netflow/netflow.v9.template.dump");
  h.FeedFile("fluent-plugin-netflow/netflow.v9.dump");
  ASSERT_EQ(h.sink.size(), 1u);
  const auto& c = h.cols(0);
  EXPECT_EQ(c.src_addr[0].ToString(), "192.168.0.1");
  EXPECT_EQ(c.dst_addr[0].ToString(), "192.168.0.2");
  EXPECT_EQ(c.bgp_next_hop[0].ToString(), "192.168.0.3");
  EXPECT_EQ(c.in_if[0], 54u);
  EXPECT_EQ(c.out_if[0], 29u);
  EXPECT_EQ(c.dst_as[0], 65000u);
  EXPECT_EQ(c.src_port[0], 80u);
  EXPECT_EQ(c.dst_port[0], 32822u);
  EXPECT_EQ(c.tcp_flags[0], 18u);
  EXPECT_EQ(c.bytes[0], 60u);
  EXPECT_EQ(c.first[0], 1'455'249'729'053);  // 2016-02-12T04:02:09.053Z
  EXPECT_EQ(c.last[0], 1'455'249'729'053);
}

TEST(NetflowV9Test, TruncationAtEveryByteDoesNotCrash) {
  for (const char* file : {"netflow9_test_cisco_asa_1_tpl.dat", "netflow9_test_valid01.dat",
                           "netflow9_test_h3c_netstream_varstring_tpl3281.dat",
                           "netflow9_test_nprobe_tpl.dat"}) {
    const auto bytes = test::ReadFile(test::SharedTestData(std::string("flows/logstash-codec-netflow/") + file));
    ASSERT_FALSE(bytes.empty());
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
      Harness h;
      h.Feed(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)));
    }
  }
}

}  // namespace
}  // namespace sluice::decode
