// SPDX-License-Identifier: Apache-2.0

#include "decode/ipfix.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "decode/decoder.h"
#include "decode/ie_map.h"
#include "decode/template_cache.h"
#include "testing/collecting_sink.h"
#include "testing/decoder_harness.h"
#include "testing/hex.h"
#include "testing/ipfix_builder.h"

namespace sluice::decode {
namespace {

using test::MessageBuilder;

constexpr std::uint32_t kExportTime = 1'700'000'000;  // 2023-11-14T22:13:20Z
constexpr std::int64_t kExportMs = std::int64_t{kExportTime} * 1000;
constexpr std::uint32_t kReverse = 29305;

// The shared harness, with datagrams received 100 s after kExportTime's second.
struct Harness : test::DecoderHarness {
  explicit Harness(DecoderOptions options = {}) : test::DecoderHarness(std::move(options)) {
    time_received = 1'700'000'100'000;
  }
};

// A softflowd-like IPv4 template with every common element.
MessageBuilder& AddIpv4Template(MessageBuilder& m, std::uint16_t id) {
  return m.Template(id, {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {5, 1}, {1, 8}, {2, 8},
                         {10, 4}, {14, 4}, {16, 4}, {17, 4}, {9, 1}, {13, 1}, {15, 4}, {152, 8},
                         {153, 8}, {61, 1}, {136, 1}, {58, 2}, {56, 6}, {80, 6}, {70, 3}, {18, 4}});
}

MessageBuilder& AddIpv4Record(MessageBuilder& m, std::uint32_t bytes = 1500) {
  return m.Addr("10.0.0.1").Addr("192.0.2.7").U16(50000).U16(443).U8(6).U8(0x1b).U8(0x10)
      .U64(bytes).U64(10).U32(3).U32(4).U32(65000).U32(64512).U8(24).U8(16).Addr("10.0.0.254")
      .U64(kExportMs - 5000).U64(kExportMs - 1000).U8(1).U8(3).U16(42)
      .Bytes({0x00, 0x11, 0x22, 0x33, 0x44, 0x55}).Bytes({0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb})
      .U24((24002u << 4) | 1).Addr("10.9.9.9");
}

TEST(IpfixTest, DecodesTemplateAndDataInOneMessage) {
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 7);
  m.Set(2);
  AddIpv4Template(m, 256);
  m.Set(256);
  AddIpv4Record(m);
  AddIpv4Record(m, 3000);
  Harness h;
  const DecodeOutcome outcome = h.Feed(m.Build());
  EXPECT_FALSE(outcome.error.has_value());
  ASSERT_EQ(h.sink.size(), 2u);
  const auto& c = h.cols(0);
  const std::size_t r = h.row(0);
  EXPECT_EQ(c.src_addr[r].ToString(), "10.0.0.1");
  EXPECT_EQ(c.dst_addr[r].ToString(), "192.0.2.7");
  EXPECT_EQ(c.src_port[r], 50000u);
  EXPECT_EQ(c.dst_port[r], 443u);
  EXPECT_EQ(c.proto[r], 6u);
  EXPECT_EQ(c.tcp_flags[r], 0x1bu);
  EXPECT_EQ(c.tos[r], 0x10u);
  EXPECT_EQ(c.bytes[r], 1500u);
  EXPECT_EQ(c.packets[r], 10u);
  EXPECT_EQ(c.in_if[r], 3u);
  EXPECT_EQ(c.out_if[r], 4u);
  EXPECT_EQ(c.src_as[r], 65000u);
  EXPECT_EQ(c.dst_as[r], 64512u);
  EXPECT_EQ(c.src_mask[r], 24u);
  EXPECT_EQ(c.dst_mask[r], 16u);
  EXPECT_EQ(c.next_hop[r].ToString(), "10.0.0.254");
  EXPECT_EQ(c.bgp_next_hop[r].ToString(), "10.9.9.9");
  EXPECT_EQ(c.first[r], kExportMs - 5000);
  EXPECT_EQ(c.last[r], kExportMs - 1000);
  EXPECT_EQ(c.direction[r], 1u);
  EXPECT_EQ(c.flow_end_reason[r], 3u);
  EXPECT_EQ(c.vlan[r], 42u);
  EXPECT_EQ(c.src_mac[r], 0x001122334455u);
  EXPECT_EQ(c.dst_mac[r], 0x66778899aabbu);
  EXPECT_EQ(c.mpls_label[r], 24002u);
  EXPECT_EQ(c.obs_domain[r], 7u);
  EXPECT_EQ(c.sampling_rate[r], 1u);
  EXPECT_EQ(c.exporter[r].ToString(), "192.0.2.1");
  EXPECT_EQ(h.cols(1).bytes[h.row(1)], 3000u);
  EXPECT_EQ(h.exporter().counters.templates_received, 1u);
  EXPECT_EQ(h.exporter().counters.records, 2u);
  EXPECT_EQ(h.exporter().templates.size(), 1u);
}

TEST(IpfixTest, DecodesIpv6AndReducedSizeEncoding) {
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(2).Template(300, {{27, 16}, {28, 16}, {62, 16}, {29, 1}, {30, 1}, {1, 3}, {2, 1},
                          {4, 1}, {139, 2}, {10, 2}});
  m.Set(300).Addr("2001:db8::1").Addr("2001:db8::2").Addr("fe80::1").U8(64).U8(48)
      .U24(0x012345).U8(7).U8(58).U16(0x8000).U16(9);
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 1u);
  const auto& c = h.cols(0);
  EXPECT_EQ(c.src_addr[0].ToString(), "2001:db8::1");
  EXPECT_EQ(c.dst_addr[0].ToString(), "2001:db8::2");
  EXPECT_EQ(c.next_hop[0].ToString(), "fe80::1");
  EXPECT_EQ(c.src_mask[0], 64u);
  EXPECT_EQ(c.dst_mask[0], 48u);
  EXPECT_EQ(c.bytes[0], 0x012345u);
  EXPECT_EQ(c.packets[0], 7u);
  EXPECT_EQ(c.in_if[0], 9u);
  // ICMPv6 echo request: type 128 code 0, also shown in dst_port as nfdump does.
  EXPECT_EQ(c.icmp_type[0], 128u);
  EXPECT_EQ(c.icmp_code[0], 0u);
  EXPECT_EQ(c.dst_port[0], 0x8000u);
}

// Each time representation of RFC 7011/7012, one template per representation.
struct TimeCase {
  const char* name;
  std::vector<std::uint8_t> packet;
  std::int64_t first;
  std::int64_t last;
};

std::uint64_t Ntp(std::int64_t unix_ms) {
  const std::uint64_t seconds = static_cast<std::uint64_t>(unix_ms / 1000) + 2'208'988'800ULL;
  const std::uint64_t fraction = (static_cast<std::uint64_t>(unix_ms % 1000) << 32) / 1000 + 1;
  return (seconds << 32) | fraction;
}

TEST(IpfixTest, DecodesEveryTimeRepresentation) {
  const std::int64_t start = kExportMs - 7250;
  const std::int64_t end = kExportMs - 1500;
  std::vector<TimeCase> cases;
  cases.push_back({"seconds 150/151",
                   MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{150, 4}, {151, 4}})
                       .Set(256).U32(kExportTime - 7).U32(kExportTime - 1).Build(),
                   kExportMs - 7000, kExportMs - 1000});
  cases.push_back({"milliseconds 152/153",
                   MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{152, 8}, {153, 8}})
                       .Set(256).U64(start).U64(end).Build(),
                   start, end});
  cases.push_back({"microseconds 154/155 (NTP)",
                   MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{154, 8}, {155, 8}})
                       .Set(256).U64(Ntp(start)).U64(Ntp(end)).Build(),
                   start, end});
  cases.push_back({"nanoseconds 156/157 (NTP)",
                   MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{156, 8}, {157, 8}})
                       .Set(256).U64(Ntp(start)).U64(Ntp(end)).Build(),
                   start, end});
  cases.push_back({"sysUpTime 22/21 with 160 in the record",
                   MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2)
                       .Template(256, {{22, 4}, {21, 4}, {160, 8}})
                       .Set(256).U32(1000).U32(6750).U64(start - 1000).Build(),
                   start, end});
  cases.push_back({"delta microseconds 158/159",
                   MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{158, 4}, {159, 4}})
                       .Set(256).U32(7'250'000).U32(1'500'000).Build(),
                   start, end});
  cases.push_back({"start ms + duration ms 161",
                   MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{152, 8}, {161, 4}})
                       .Set(256).U64(start).U32(5750).Build(),
                   start, end});
  cases.push_back({"end ms + duration us 162",
                   MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{153, 8}, {162, 4}})
                       .Set(256).U64(end).U32(5'750'000).Build(),
                   start, end});
  cases.push_back({"no time element: export time",
                   MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{4, 1}})
                       .Set(256).U8(17).Build(),
                   kExportMs, kExportMs});
  for (const TimeCase& tc : cases) {
    SCOPED_TRACE(tc.name);
    Harness h;
    EXPECT_FALSE(h.Feed(tc.packet).error.has_value());
    ASSERT_EQ(h.sink.size(), 1u);
    EXPECT_EQ(h.cols(0).first[0], tc.first);
    EXPECT_EQ(h.cols(0).last[0], tc.last);
  }
}

TEST(IpfixTest, SysUpTimeUsesSystemInitTimeFromOptionsData) {
  const std::int64_t init = kExportMs - 3'600'000;
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 5);
  m.Set(3).OptionsTemplate(400, {{149, 4}}, {{160, 8}});
  m.Set(2).Template(256, {{22, 4}, {21, 4}});
  m.Set(400).U32(5).U64(static_cast<std::uint64_t>(init));
  m.Set(256).U32(10'000).U32(20'000);
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.cols(0).first[0], init + 10'000);
  EXPECT_EQ(h.cols(0).last[0], init + 20'000);
  EXPECT_EQ(h.exporter().counters.option_records, 1u);
}

TEST(IpfixTest, DecodesVariableLengthInBothForms) {
  const std::string long_name(300, 'x');
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(2).Template(256, {{4, 1}, {96, 0xFFFF}, {7, 2}});
  m.Set(256).U8(6).VarText("http").U16(1234)
      .U8(17).VarText("dns", /*long_form=*/true).U16(53)
      .U8(17).VarText(long_name).U16(99);
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 3u);
  EXPECT_EQ(h.sink[0].batch->String(h.cols(0).app[h.row(0)]), "http");
  EXPECT_EQ(h.cols(0).src_port[h.row(0)], 1234u);
  EXPECT_EQ(h.sink[1].batch->String(h.cols(1).app[h.row(1)]), "dns");
  EXPECT_EQ(h.cols(1).src_port[h.row(1)], 53u);
  // Strings are cut to the batch's limit; the record after them still lines up.
  EXPECT_EQ(h.sink[2].batch->String(h.cols(2).app[h.row(2)]).size(), flow::FlowBatch::kMaxStringLength);
  EXPECT_EQ(h.cols(2).src_port[h.row(2)], 99u);
}

// Repeated elements (compiled_template.h): when several elements of a template map to
// the same record field, the last one in template order wins, except that an all-zero
// address never overrides a non-zero one. Cisco SRv6 templates name the outer (tunnel)
// addresses, ports and protocol first and the inner (user traffic) ones later.
void AddSrv6Record(MessageBuilder& m, std::string_view inner_src, std::string_view inner_dst,
                   std::uint16_t inner_src_port, std::uint16_t inner_dst_port, std::uint8_t inner_proto) {
  m.Addr("fcba:1::1").Addr("fcba:2::2").U16(0).U16(0).U8(41).U8(0).U32(448)
      .Addr(inner_src).Addr(inner_dst).U16(inner_src_port).U16(inner_dst_port).U8(inner_proto);
}

// Outer addresses, ports, protocol (and flags, counters), then the inner ones;
// `with_apps`: two applicationName elements after them.
MessageBuilder& AddSrv6Template(MessageBuilder& m, std::uint16_t id, bool with_apps = false) {
  if (with_apps) {
    return m.Template(id, {{27, 16}, {28, 16}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {1, 4}, {8, 4},
                           {12, 4}, {7, 2}, {11, 2}, {4, 1}, {96, 0xFFFF}, {96, 0xFFFF}});
  }
  return m.Template(id, {{27, 16}, {28, 16}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {1, 4}, {8, 4},
                         {12, 4}, {7, 2}, {11, 2}, {4, 1}});
}

TEST(IpfixTest, RepeatedElementsLastInTemplateOrderWins) {
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(2);
  AddSrv6Template(m, 256);
  m.Set(256);
  AddSrv6Record(m, "192.0.41.144", "192.0.42.154", 1024, 862, 17);
  // The inner addresses are 0.0.0.0: they do not override the outer ones; the inner
  // ports and protocol (not addresses) win even when zero.
  AddSrv6Record(m, "0.0.0.0", "0.0.0.0", 0, 0, 0);
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 2u);
  const auto& c = h.cols(0);
  EXPECT_EQ(c.src_addr[0].ToString(), "192.0.41.144");
  EXPECT_EQ(c.dst_addr[0].ToString(), "192.0.42.154");
  EXPECT_EQ(c.src_port[0], 1024u);
  EXPECT_EQ(c.dst_port[0], 862u);
  EXPECT_EQ(c.proto[0], 17u);
  EXPECT_EQ(c.bytes[0], 448u);
  EXPECT_EQ(c.src_addr[1].ToString(), "fcba:1::1");
  EXPECT_EQ(c.dst_addr[1].ToString(), "fcba:2::2");
  EXPECT_EQ(c.src_port[1], 0u);
  EXPECT_EQ(c.proto[1], 0u);
}

TEST(IpfixTest, RepeatedElementsInVariableLengthTemplates) {
  // applicationName twice: the second wins.
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(2);
  AddSrv6Template(m, 256, /*with_apps=*/true);
  m.Set(256);
  AddSrv6Record(m, "192.0.41.144", "192.0.42.154", 1024, 862, 17);
  m.VarText("outer").VarText("inner");
  AddSrv6Record(m, "0.0.0.0", "0.0.0.0", 7, 8, 6);
  m.VarText("outer").VarText("");
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.cols(0).src_addr[h.row(0)].ToString(), "192.0.41.144");
  EXPECT_EQ(h.cols(0).dst_addr[h.row(0)].ToString(), "192.0.42.154");
  EXPECT_EQ(h.cols(0).dst_port[h.row(0)], 862u);
  EXPECT_EQ(h.cols(0).proto[h.row(0)], 17u);
  EXPECT_EQ(h.sink[0].batch->String(h.cols(0).app[h.row(0)]), "inner");
  EXPECT_EQ(h.cols(1).src_addr[h.row(1)].ToString(), "fcba:1::1");
  EXPECT_EQ(h.cols(1).src_port[h.row(1)], 7u);
  EXPECT_EQ(h.cols(1).proto[h.row(1)], 6u);
  EXPECT_EQ(h.sink[1].batch->String(h.cols(1).app[h.row(1)]), "");
}

TEST(IpfixTest, AddressAlternativesInEitherOrder) {
  // IPv6 before IPv4 (IPv4 before IPv6 is the Procera case): the family the flow does
  // not use is all-zero and never overrides the other, whatever the order.
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(2).Template(256, {{27, 16}, {28, 16}, {8, 4}, {12, 4}, {8, 4}});
  m.Set(256);
  m.Addr("2001:db8::1").Addr("2001:db8::2").Addr("0.0.0.0").Addr("0.0.0.0").Addr("0.0.0.0");
  m.Addr("::").Addr("::").Addr("10.0.0.1").Addr("10.0.0.2").Addr("0.0.0.0");
  m.Addr("::").Addr("::").Addr("10.0.0.1").Addr("0.0.0.0").Addr("10.0.0.3");
  m.Addr("::").Addr("::").Addr("0.0.0.0").Addr("0.0.0.0").Addr("0.0.0.0");
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 4u);
  auto src = [&h](std::size_t idx) { return h.cols(idx).src_addr[h.row(idx)]; };
  auto dst = [&h](std::size_t idx) { return h.cols(idx).dst_addr[h.row(idx)]; };
  EXPECT_EQ(src(0).ToString(), "2001:db8::1");
  EXPECT_EQ(dst(0).ToString(), "2001:db8::2");
  EXPECT_EQ(src(1).ToString(), "10.0.0.1");  // the repeated 8 is 0.0.0.0
  EXPECT_EQ(dst(1).ToString(), "10.0.0.2");
  EXPECT_EQ(src(2).ToString(), "10.0.0.3");  // the repeated 8 is the last non-zero
  EXPECT_EQ(dst(2).ToString(), "0.0.0.0");
  // All zero: IPv4 0.0.0.0, as with an IPv4-only template.
  EXPECT_EQ(src(3), flow::IpAddress::FromV4(0));
  EXPECT_EQ(dst(3), flow::IpAddress::FromV4(0));
}

TEST(IpfixTest, IcmpTypeCodeResolvesAgainstTypeAndCodeElements) {
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(2).Template(256, {{4, 1}, {32, 2}, {176, 1}}).Template(257, {{4, 1}, {176, 1}, {32, 2}});
  m.Set(256).U8(1).U16(0x0800).U8(3);
  m.Set(257).U8(1).U8(3).U16(0x0800);
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 2u);
  const auto& c = h.cols(0);
  EXPECT_EQ(c.icmp_type[0], 3u);  // icmpTypeIPv4 comes last
  EXPECT_EQ(c.icmp_code[0], 0u);
  EXPECT_EQ(c.dst_port[0], 0x0300u);
  EXPECT_EQ(c.icmp_type[1], 8u);  // icmpTypeCodeIPv4 comes last
  EXPECT_EQ(c.icmp_code[1], 0u);
  EXPECT_EQ(c.dst_port[1], 0x0800u);
}

TEST(CompileTemplateTest, DropsEarlierDuplicatesAtCompileTime) {
  Template tmpl;
  tmpl.family = TemplateFamily::kIpfix;
  tmpl.fields = {{27, 16}, {28, 16}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {1, 4}, {8, 4},
                 {12, 4}, {7, 2}, {11, 2}, {4, 1}};
  ASSERT_FALSE(CompileTemplate(tmpl).has_value());
  // One op per non-address field: the inner ports and protocol.
  ASSERT_EQ(tmpl.u8_ops.size(), 2u);  // tcp flags, inner protocol
  EXPECT_EQ(tmpl.u8_ops[1].end, tmpl.record_length);
  ASSERT_EQ(tmpl.u16_ops.size(), 2u);
  EXPECT_EQ(tmpl.u16_ops[0].end, tmpl.record_length - 3);
  EXPECT_EQ(tmpl.u16_ops[1].end, tmpl.record_length - 1);
  // The addresses of the fields with several elements stay, in template order, the later
  // ones conditional.
  EXPECT_TRUE(tmpl.ipv4_ops.empty());
  EXPECT_TRUE(tmpl.ipv6_ops.empty());
  ASSERT_EQ(tmpl.other_ops.size(), 4u);
  EXPECT_EQ(tmpl.other_ops[0].kind, OpKind::kIpv6);
  EXPECT_EQ(tmpl.other_ops[1].kind, OpKind::kIpv6);
  EXPECT_EQ(tmpl.other_ops[2].kind, OpKind::kIpv4NonZero);
  EXPECT_EQ(tmpl.other_ops[3].kind, OpKind::kIpv4NonZero);
  EXPECT_EQ(tmpl.ops.size(), 9u);

  // Without repeats, nothing moves: the record loop's common case.
  Template plain;
  plain.fields = {{8, 4}, {12, 4}, {4, 1}};
  ASSERT_FALSE(CompileTemplate(plain).has_value());
  EXPECT_EQ(plain.ipv4_ops.size(), 2u);
  EXPECT_TRUE(plain.other_ops.empty());
}

TEST(IpfixTest, SkipsEnterpriseElements) {
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(2).Template(256, {{8, 4}, {100, 4, 9999}, {101, 0xFFFF, 9999}, {12, 4}, {1, 4}});
  m.Set(256).Addr("10.1.1.1").U32(0xdeadbeef).VarText("vendor").Addr("10.2.2.2").U32(77);
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 1u);
  EXPECT_EQ(h.cols(0).src_addr[0].ToString(), "10.1.1.1");
  EXPECT_EQ(h.cols(0).dst_addr[0].ToString(), "10.2.2.2");
  EXPECT_EQ(h.cols(0).bytes[0], 77u);
}

TEST(IpfixTest, WithdrawsTemplates) {
  Harness h;
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{4, 1}})
             .Template(257, {{4, 1}}).Set(3).OptionsTemplate(258, {{149, 4}}, {{34, 4}}).Build());
  EXPECT_EQ(h.exporter().templates.size(), 3u);
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Withdraw(256).Build());
  EXPECT_EQ(h.exporter().templates.size(), 2u);
  EXPECT_EQ(h.exporter().counters.templates_withdrawn, 1u);
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(256).U8(6).Build());
  EXPECT_EQ(h.sink.size(), 0u);
  EXPECT_EQ(h.exporter().counters.sets_without_template, 1u);
  // All-withdrawal: template id = set id (2) drops every data template, not options ones.
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Withdraw(2).Build());
  EXPECT_EQ(h.exporter().templates.size(), 1u);
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(3).Withdraw(3).Build());
  EXPECT_EQ(h.exporter().templates.size(), 0u);
  EXPECT_EQ(h.exporter().counters.templates_withdrawn, 3u);
}

TEST(IpfixTest, RedefinesTemplates) {
  Harness h;
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{4, 1}, {7, 2}})
             .Set(256).U8(6).U16(80).Build());
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{7, 2}, {4, 1}, {1, 4}})
             .Set(256).U16(443).U8(17).U32(99).Build());
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.cols(0).src_port[h.row(0)], 80u);
  EXPECT_EQ(h.cols(1).src_port[h.row(1)], 443u);
  EXPECT_EQ(h.cols(1).proto[h.row(1)], 17u);
  EXPECT_EQ(h.cols(1).bytes[h.row(1)], 99u);
  EXPECT_EQ(h.exporter().templates.size(), 1u);
}

TEST(IpfixTest, TemplatesAreScopedPerObservationDomain) {
  Harness h;
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{7, 2}}).Build());
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 2).Set(256).U16(80).Build());
  EXPECT_EQ(h.sink.size(), 0u);
  EXPECT_EQ(h.exporter().counters.sets_without_template, 1u);
}

TEST(IpfixTest, SamplingFromOptionsInTheSamePacket) {
  // Template, options template (selector 302 + packet interval/space), options data and
  // data all in one message: the rate applies to the data right after it.
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 9);
  m.Set(2).Template(256, {{302, 4}, {1, 4}, {2, 4}});
  m.Set(3).OptionsTemplate(257, {{302, 4}}, {{305, 4}, {306, 4}});
  m.Set(257).U32(5).U32(1).U32(99);   // selector 5: 1 in 100
  m.Set(256).U32(5).U32(1000).U32(2);
  m.Set(256).U32(6).U32(1000).U32(2);  // unknown selector, no default: unsampled
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.cols(0).sampling_rate[h.row(0)], 100u);
  EXPECT_EQ(h.cols(0).bytes[h.row(0)], 100'000u);
  EXPECT_EQ(h.cols(0).packets[h.row(0)], 200u);
  EXPECT_EQ(h.cols(1).sampling_rate[h.row(1)], 1u);
  EXPECT_EQ(h.cols(1).bytes[h.row(1)], 1000u);
  EXPECT_EQ(h.exporter().counters.option_records, 1u);
  EXPECT_EQ(h.exporter().counters.records, 2u);
}

TEST(IpfixTest, SamplingRateFormulas) {
  struct Case {
    const char* name;
    std::vector<std::uint8_t> options;
    std::uint32_t rate;
  };
  const std::vector<Case> cases = {
      {"samplingInterval 34",
       MessageBuilder::Ipfix(kExportTime, 0, 1).Set(3).OptionsTemplate(300, {{149, 4}}, {{34, 4}})
           .Set(300).U32(1).U32(512).Build(), 512},
      {"samplerRandomInterval 50",
       MessageBuilder::Ipfix(kExportTime, 0, 1).Set(3).OptionsTemplate(300, {{149, 4}}, {{50, 2}})
           .Set(300).U32(1).U16(64).Build(), 64},
      {"samplingSize 309 / samplingPopulation 310",
       MessageBuilder::Ipfix(kExportTime, 0, 1).Set(3)
           .OptionsTemplate(300, {{149, 4}}, {{309, 4}, {310, 4}})
           .Set(300).U32(1).U32(10).U32(10'000).Build(), 1000},
      {"samplingProbability 311",
       MessageBuilder::Ipfix(kExportTime, 0, 1).Set(3).OptionsTemplate(300, {{149, 4}}, {{311, 8}})
           .Set(300).U32(1).F64(0.001).Build(), 1000},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    Harness h;
    h.Feed(tc.options);
    h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{2, 4}})
               .Set(256).U32(3).Build());
    ASSERT_EQ(h.sink.size(), 1u);
    EXPECT_EQ(h.cols(0).sampling_rate[0], tc.rate);
    EXPECT_EQ(h.cols(0).packets[0], 3u * tc.rate);
  }
}

TEST(IpfixTest, RecordRateAndOverride) {
  DecoderOptions options;
  options.sampling_overrides[*flow::IpAddress::Parse("192.0.2.1")] = 7;
  Harness overridden(options);
  const auto packet = MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2)
                          .Template(256, {{34, 4}, {2, 4}}).Set(256).U32(100).U32(3).Build();
  overridden.Feed(packet);
  ASSERT_EQ(overridden.sink.size(), 1u);
  EXPECT_EQ(overridden.cols(0).sampling_rate[0], 7u);
  Harness plain;
  plain.Feed(packet);
  ASSERT_EQ(plain.sink.size(), 1u);
  EXPECT_EQ(plain.cols(0).sampling_rate[0], 100u);
  EXPECT_EQ(plain.cols(0).packets[0], 300u);
}

TEST(IpfixTest, EmitsReverseRecordForBiflows) {
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(2).Template(256, {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {10, 4}, {14, 4}, {1, 8},
                          {2, 8}, {1, 8, kReverse}, {2, 8, kReverse}, {6, 1, kReverse}});
  m.Set(256).Addr("10.0.0.1").Addr("10.0.0.2").U16(40000).U16(80).U8(6).U32(1).U32(2)
      .U64(500).U64(5).U64(9000).U64(8).U8(0x12);
  // A record without reverse traffic yields one record.
  m.Addr("10.0.0.3").Addr("10.0.0.4").U16(1).U16(2).U8(17).U32(1).U32(2).U64(10).U64(1)
      .U64(0).U64(0).U8(0);
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 3u);
  const auto& f = h.cols(0);
  const auto& r = h.cols(1);
  const std::size_t fr = h.row(0);
  const std::size_t rr = h.row(1);
  EXPECT_EQ(f.src_addr[fr].ToString(), "10.0.0.1");
  EXPECT_EQ(f.bytes[fr], 500u);
  EXPECT_EQ(r.src_addr[rr].ToString(), "10.0.0.2");
  EXPECT_EQ(r.dst_addr[rr].ToString(), "10.0.0.1");
  EXPECT_EQ(r.src_port[rr], 80u);
  EXPECT_EQ(r.dst_port[rr], 40000u);
  EXPECT_EQ(r.in_if[rr], 2u);
  EXPECT_EQ(r.out_if[rr], 1u);
  EXPECT_EQ(r.bytes[rr], 9000u);
  EXPECT_EQ(r.packets[rr], 8u);
  EXPECT_EQ(r.tcp_flags[rr], 0x12u);
  EXPECT_EQ(r.first[rr], f.first[fr]);
  EXPECT_EQ(h.cols(2).src_addr[h.row(2)].ToString(), "10.0.0.3");
  EXPECT_EQ(h.exporter().counters.records, 3u);
}

TEST(IpfixTest, BiflowAcrossBatchBoundary) {
  // Enough biflow records to cross several batch boundaries: no record lost or torn.
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(2).Template(256, {{7, 2}, {1, 4}, {1, 4, kReverse}});
  m.Set(256);
  constexpr std::uint16_t kRecords = 1500;
  for (std::uint16_t idx = 0; idx < kRecords; ++idx) {
    m.U16(idx).U32(idx).U32(1);
  }
  Harness h;
  h.Feed(m.Build());
  ASSERT_EQ(h.sink.size(), 2u * kRecords);
  for (std::size_t idx = 0; idx < h.sink.size(); idx += 2) {
    ASSERT_EQ(h.cols(idx).src_port[h.row(idx)], idx / 2);
    ASSERT_EQ(h.cols(idx + 1).dst_port[h.row(idx + 1)], idx / 2);
    ASSERT_EQ(h.cols(idx + 1).bytes[h.row(idx + 1)], 1u);
  }
}

TEST(IpfixTest, HoldsDataUntilItsTemplateArrives) {
  Harness h;
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(256).U16(80).U16(81).Build());
  EXPECT_EQ(h.sink.size(), 0u);
  EXPECT_EQ(h.exporter().counters.sets_without_template, 1u);
  EXPECT_EQ(h.exporter().templates.pending_sets(), 1u);
  h.Feed(MessageBuilder::Ipfix(kExportTime, 2, 1).Set(2).Template(256, {{7, 2}}).Build());
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.cols(0).src_port[h.row(0)], 80u);
  EXPECT_EQ(h.cols(1).src_port[h.row(1)], 81u);
  EXPECT_EQ(h.exporter().counters.pending_sets_decoded, 1u);
  EXPECT_EQ(h.exporter().templates.pending_sets(), 0u);
}

TEST(IpfixTest, BoundsHeldSets) {
  DecoderOptions options;
  options.max_pending_sets_per_exporter = 2;
  Harness h(options);
  for (std::uint16_t port = 1; port <= 3; ++port) {
    h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(256).U16(port).Build());
  }
  EXPECT_EQ(h.exporter().counters.sets_without_template, 3u);
  EXPECT_EQ(h.exporter().counters.pending_sets_dropped, 1u);
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{7, 2}}).Build());
  ASSERT_EQ(h.sink.size(), 2u);  // the oldest was dropped
  EXPECT_EQ(h.cols(0).src_port[h.row(0)], 2u);
  EXPECT_EQ(h.exporter().counters.pending_sets_decoded, 2u);

  DecoderOptions tiny;
  tiny.max_pending_bytes_per_exporter = 3;
  Harness small(tiny);
  small.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(256).U16(1).U16(2).Build());
  EXPECT_EQ(small.exporter().counters.pending_sets_dropped, 1u);
  EXPECT_EQ(small.exporter().templates.pending_sets(), 0u);
}

TEST(IpfixTest, RefusesTemplatesOverTheLimitsAndKeepsGoing) {
  DecoderOptions options;
  options.max_templates_per_exporter = 1;
  options.max_fields_per_template = 2;
  Harness h(options);
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(2).Template(256, {{7, 2}}).Template(257, {{7, 2}}).Template(256, {{7, 2}});
  m.Set(2).Template(258, {{7, 2}, {11, 2}, {4, 1}});
  m.Set(256).U16(80);
  const DecodeOutcome outcome = h.Feed(m.Build());
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, DecodeErrorKind::kTooManyTemplates);
  EXPECT_EQ(outcome.records, 1u);
  const ExporterCounters& counters = h.exporter().counters;
  EXPECT_EQ(counters.templates_refused, 2u);
  EXPECT_EQ(counters.templates_received, 2u);  // 256 twice (added, refreshed)
  EXPECT_EQ(counters.errors[static_cast<std::size_t>(DecodeErrorKind::kTooManyTemplates)], 1u);
  EXPECT_EQ(counters.errors[static_cast<std::size_t>(DecodeErrorKind::kTooManyFields)], 1u);
  EXPECT_EQ(counters.datagrams_failed, 1u);
}

TEST(IpfixTest, BadSetBetweenGoodSets) {
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(2).Template(256, {{7, 2}});
  m.Set(256).U16(1);
  m.Set(5).U32(0);  // reserved set id
  m.Set(2).Template(100, {{7, 2}});  // template id below 256
  m.Set(256).U16(2);
  Harness h;
  const DecodeOutcome outcome = h.Feed(m.Build());
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, DecodeErrorKind::kBadSetId);
  EXPECT_EQ(h.sink.size(), 2u);
}

TEST(IpfixTest, PaddingAndSeveralSets) {
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(2).Template(256, {{7, 2}, {4, 1}}).Zeros(4);  // padded template set
  m.Set(2).Template(257, {{11, 2}});
  m.Set(256).U16(1).U8(6).U16(2).U8(17).Zeros(2);  // padding shorter than a record
  m.Set(257).U16(53).U16(54).U16(55);
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  ASSERT_EQ(h.sink.size(), 5u);
  EXPECT_EQ(h.cols(1).proto[h.row(1)], 17u);
  EXPECT_EQ(h.cols(4).dst_port[h.row(4)], 55u);
}

TEST(IpfixTest, ZeroLengthRecordsAndSetsStop) {
  Harness h;
  // A template whose records are 0 bytes long: its data sets must not loop forever.
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{7, 0}})
             .Set(256).U32(0).Build());
  EXPECT_EQ(h.sink.size(), 0u);
  // A set length of 0 inside a message is an error, not an endless loop.
  auto bytes = MessageBuilder::Ipfix(kExportTime, 0, 1).Set(256).U16(1).Build();
  bytes[16 + 2] = 0;
  bytes[16 + 3] = 0;
  const DecodeOutcome outcome = h.Feed(bytes);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->kind, DecodeErrorKind::kBadLength);
}

TEST(IpfixTest, CountsSequenceLossInRecords) {
  Harness h;
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{7, 2}})
             .Set(256).U16(1).U16(2).Build());
  h.Feed(MessageBuilder::Ipfix(kExportTime, 2, 1).Set(256).U16(3).Build());
  EXPECT_EQ(h.exporter().counters.sequence_lost, 0u);
  h.Feed(MessageBuilder::Ipfix(kExportTime, 8, 1).Set(256).U16(4).Build());
  EXPECT_EQ(h.exporter().counters.sequence_lost, 5u);
}

TEST(IpfixTest, InterfaceNamesFromOptionsData) {
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(3).OptionsTemplate(300, {{10, 4}}, {{82, 0xFFFF}, {83, 16}});
  m.Set(300).U32(7).VarText("Gi0/0/1").Text("uplink to ISP").Zeros(3);
  Harness h;
  EXPECT_FALSE(h.Feed(m.Build()).error.has_value());
  EXPECT_EQ(h.sink.size(), 0u);  // options records are not flows
  const auto& interfaces = h.exporter().interfaces.all();
  ASSERT_EQ(interfaces.count(7), 1u);
  EXPECT_EQ(interfaces.at(7).name, "Gi0/0/1");
  EXPECT_EQ(interfaces.at(7).description, "uplink to ISP");
  EXPECT_EQ(h.exporter().counters.option_records, 1u);
}

TEST(IpfixTest, NatAndFirewallEvents) {
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 1);
  m.Set(2).Template(256, {{8, 4}, {225, 4}, {227, 2}, {230, 1}});
  m.Set(2).Template(257, {{233, 1}, {230, 1}});
  m.Set(256).Addr("10.0.0.1").Addr("203.0.113.5").U16(61000).U8(5);  // NAT44 session delete
  m.Set(257).U8(3).U8(4);  // firewall deny wins over NAT create
  Harness h;
  h.Feed(m.Build());
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.cols(0).xlate_src_addr[h.row(0)].ToString(), "203.0.113.5");
  EXPECT_EQ(h.cols(0).xlate_src_port[h.row(0)], 61000u);
  EXPECT_EQ(h.cols(0).fw_event[h.row(0)], 2u);
  EXPECT_EQ(h.cols(1).fw_event[h.row(1)], 3u);
}

TEST(IpfixTest, TotalCountsWhenNoDeltaCounts) {
  Harness h;
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{85, 8}, {86, 8}})
             .Template(257, {{85, 8}, {1, 8}}).Set(256).U64(111).U64(2).Set(257).U64(999).U64(5)
             .Build());
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.cols(0).bytes[h.row(0)], 111u);
  EXPECT_EQ(h.cols(0).packets[h.row(0)], 2u);
  EXPECT_EQ(h.cols(1).bytes[h.row(1)], 5u);  // the delta count wins
}

TEST(IpfixTest, ExpiresTemplates) {
  DecoderOptions options;
  options.template_lifetime_ms = 60'000;
  Harness h(options);
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{7, 2}}).Build(),
         1'000'000);
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(257, {{7, 2}}).Build(),
         1'050'000);
  h.decoder.ExpireTemplates(1'070'000);
  EXPECT_EQ(h.exporter().templates.size(), 1u);
  EXPECT_EQ(h.exporter().counters.templates_expired, 1u);
}

TEST(IpfixTest, TemplateCacheRoundTrips) {
  Harness h;
  MessageBuilder m = MessageBuilder::Ipfix(kExportTime, 0, 3);
  m.Set(2).Template(256, {{8, 4}, {1, 8}, {96, 0xFFFF}, {100, 4, 9999}});
  m.Set(3).OptionsTemplate(300, {{149, 4}}, {{305, 4}, {306, 4}, {160, 8}});
  m.Set(300).U32(3).U32(1).U32(9).U64(1'600'000'000'000);  // domain default: 1 in 10
  h.Feed(m.Build());
  std::string state;
  h.exporter().templates.Serialize(state);
  std::string samplers;
  SerializeSamplers(h.exporter().samplers, samplers);

  // A restarted decoder learns the state and decodes data without new templates.
  Harness restarted;
  restarted.Feed(MessageBuilder::Ipfix(kExportTime, 0, 99).Build());  // creates the exporter
  ExporterState& exporter = const_cast<ExporterState&>(restarted.exporter());
  const std::span<const std::uint8_t> state_bytes(reinterpret_cast<const std::uint8_t*>(state.data()),
                                                  state.size());
  ASSERT_TRUE(exporter.templates.Deserialize(state_bytes).has_value());
  ASSERT_TRUE(DeserializeSamplers({reinterpret_cast<const std::uint8_t*>(samplers.data()),
                                   samplers.size()}, exporter.samplers).has_value());
  EXPECT_EQ(exporter.templates.size(), 2u);
  EXPECT_EQ(exporter.templates.SystemInit(3), 1'600'000'000'000);
  std::string again;
  exporter.templates.Serialize(again);
  EXPECT_EQ(again.size(), state.size());
  restarted.Feed(MessageBuilder::Ipfix(kExportTime, 0, 3).Set(256).Addr("10.0.0.1").U64(5)
                     .VarText("ssh").U32(0).Build());
  ASSERT_EQ(restarted.sink.size(), 1u);
  EXPECT_EQ(restarted.cols(0).bytes[0], 50u);  // the restored sampler applies
}

TEST(IpfixTest, DeserializeRejectsDamagedState) {
  Harness h;
  h.Feed(MessageBuilder::Ipfix(kExportTime, 0, 1).Set(2).Template(256, {{8, 4}, {1, 8}}).Build());
  std::string state;
  h.exporter().templates.Serialize(state);
  const std::vector<std::uint8_t> bytes(state.begin(), state.end());
  ExporterState& exporter = const_cast<ExporterState&>(h.exporter());
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(exporter.templates.Deserialize(std::span(bytes).first(cut)).has_value()) << cut;
  }
  EXPECT_EQ(exporter.templates.size(), 1u);  // unchanged by the failures
  std::vector<std::uint8_t> bad = bytes;
  bad[4] = 0x7f;  // unknown version
  EXPECT_FALSE(exporter.templates.Deserialize(bad).has_value());
}

// Real exporters (logstash-codec-netflow test data, see the MANIFEST).

TEST(IpfixTest, SoftflowdIpfixFile) {
  // The file holds more bytes after the first message; like tshark and Logstash, only
  // the message the header describes is decoded.
  Harness h;
  const DecodeOutcome outcome = h.FeedFile("logstash-codec-netflow/ipfix.dat");
  EXPECT_FALSE(outcome.error.has_value());
  // tshark: 6 data records, 1 options record, 2 templates, 1 options template.
  EXPECT_EQ(h.sink.size(), 6u);
  EXPECT_EQ(h.exporter().counters.option_records, 1u);
  EXPECT_EQ(h.exporter().counters.templates_received, 3u);
  // Expected values from netflow_spec_expected.json ("IPFIX"): first event.
  const auto& c = h.cols(0);
  EXPECT_EQ(c.src_addr[0].ToString(), "192.168.253.1");
  EXPECT_EQ(c.dst_addr[0].ToString(), "192.168.253.128");
  EXPECT_EQ(c.src_port[0], 60560u);
  EXPECT_EQ(c.dst_port[0], 22u);
  EXPECT_EQ(c.proto[0], 6u);
  EXPECT_EQ(c.bytes[0], 260u);
  EXPECT_EQ(c.packets[0], 5u);
}

struct FileSequence {
  const char* name;
  std::vector<const char*> files;
  std::size_t flows;    // tshark data records (Logstash where the MANIFEST prefers it),
                        // plus RFC 5103 reverse records
  std::uint64_t options;  // tshark options records
  std::uint64_t sets_without_template = 0;
};

TEST(IpfixTest, RealExporterFilesDecodeToTsharkCounts) {
  const std::vector<FileSequence> sequences = {
      {"openbsd pflow", {"ipfix_test_openbsd_pflow_tpl.dat", "ipfix_test_openbsd_pflow_data.dat"}, 26, 0},
      {"juniper mx240", {"ipfix_test_juniper_mx240_junos151r6s3_opttpl512.dat",
                         "ipfix_test_juniper_mx240_junos151r6s3_data512.dat"}, 0, 1},
      {"nokia bras", {"ipfix_test_nokia_bras_tpl.dat", "ipfix_test_nokia_bras_data256.dat"}, 1, 0},
      {"procera", {"ipfix_test_procera_tpl52935.dat", "ipfix_test_procera_data52935.dat"}, 8, 0},
      {"barracuda uniflow", {"ipfix_test_barracuda_extended_uniflow_tpl256.dat",
                             "ipfix_test_barracuda_extended_uniflow_data256.dat"}, 2, 0},
      {"mikrotik (IPv6)", {"ipfix_test_mikrotik_tpl.dat", "ipfix_test_mikrotik_data258.dat",
                           "ipfix_test_mikrotik_data259.dat"}, 46, 0},
      // tshark: 3 records and one set whose template is in no file.
      {"netscaler (variable length)", {"ipfix_test_netscaler_tpl.dat", "ipfix_test_netscaler_data.dat"}, 3, 0, 1},
      {"vmware vds", {"ipfix_test_vmware_vds_tpl.dat", "ipfix_test_vmware_vds_data264.dat",
                      "ipfix_test_vmware_vds_data266.dat", "ipfix_test_vmware_vds_data266_267.dat"}, 5, 0},
      {"viptela", {"ipfix_test_viptela_tpl257.dat", "ipfix_test_viptela_data257.dat"}, 1, 0},
      {"barracuda", {"ipfix_test_barracuda_tpl.dat", "ipfix_test_barracuda_data256.dat"}, 8, 0},
      {"yaf", {"ipfix_test_yaf_tpls_option_tpl.dat", "ipfix_test_yaf_tpl45841.dat",
               "ipfix_test_yaf_data45841.dat", "ipfix_test_yaf_data45873.dat",
               "ipfix_test_yaf_data53248.dat"}, 2 + 2, 1},  // YAF biflows: 2 + 2 reverse
      // Logstash decodes 1 event here where tshark gives up (variable-length enterprise fields).
      {"ixia", {"ipfix_test_ixia_tpldata256.dat"}, 1, 0},
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
    EXPECT_EQ(h.exporter().counters.sets_without_template, seq.sets_without_template);
  }
}

TEST(IpfixTest, MikrotikIpv6Values) {
  Harness h;
  h.FeedFile("logstash-codec-netflow/ipfix_test_mikrotik_tpl.dat");
  h.FeedFile("logstash-codec-netflow/ipfix_test_mikrotik_data258.dat");
  h.FeedFile("logstash-codec-netflow/ipfix_test_mikrotik_data259.dat");
  ASSERT_EQ(h.sink.size(), 46u);
  std::size_t v6 = 0;
  for (std::size_t idx = 0; idx < h.sink.size(); ++idx) {
    v6 += h.cols(idx).src_addr[h.row(idx)].IsV4() ? 0 : 1;
  }
  EXPECT_EQ(v6, 18u);
}

TEST(IpfixTest, NetscalerDataAloneIsHeldThenDecoded) {
  Harness h;
  h.FeedFile("logstash-codec-netflow/ipfix_test_netscaler_data.dat");
  EXPECT_EQ(h.sink.size(), 0u);
  EXPECT_EQ(h.exporter().counters.sets_without_template, 4u);
  h.FeedFile("logstash-codec-netflow/ipfix_test_netscaler_tpl.dat");
  EXPECT_EQ(h.sink.size(), 3u);
  EXPECT_EQ(h.exporter().counters.pending_sets_decoded, 3u);
  EXPECT_EQ(h.exporter().templates.pending_sets(), 1u);  // its template never comes
}

TEST(IpfixTest, IpfixFileWithManyMessages) {
  const auto bytes = test::ReadFile(test::SharedTestData("flows/ipfixcol2/example_flows.ipfix"));
  ASSERT_FALSE(bytes.empty());
  // An IPFIX file (RFC 5655) is messages back to back: feed them one by one, as a
  // reader splitting on the header's length does.
  Harness h;
  std::size_t pos = 0;
  std::size_t messages = 0;
  while (bytes.size() - pos >= 16) {
    const std::size_t length = (std::size_t{bytes[pos + 2]} << 8) | bytes[pos + 3];
    ASSERT_GE(length, 16u);
    ASSERT_LE(length, bytes.size() - pos);
    const DecodeOutcome outcome =
        h.Feed(std::vector<std::uint8_t>(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                                         bytes.begin() + static_cast<std::ptrdiff_t>(pos + length)));
    EXPECT_FALSE(outcome.error.has_value());
    pos += length;
    ++messages;
  }
  EXPECT_EQ(messages, 68u);
  EXPECT_EQ(h.sink.size(), 3979u);
  EXPECT_EQ(h.exporter().counters.sets_without_template, 0u);
}

TEST(IpfixTest, TruncationAtEveryByteDoesNotCrash) {
  for (const char* file : {"ipfix.dat", "ipfix_test_netscaler_tpl.dat", "ipfix_test_ixia_tpldata256.dat",
                           "ipfix_test_yaf_tpls_option_tpl.dat"}) {
    const auto bytes = test::ReadFile(test::SharedTestData(std::string("flows/logstash-codec-netflow/") + file));
    ASSERT_FALSE(bytes.empty());
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
      Harness h;
      const std::vector<std::uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
      h.Feed(prefix);
      // Also with the header's length claiming only what is there.
      if (cut >= 4) {
        std::vector<std::uint8_t> relabelled = prefix;
        relabelled[2] = static_cast<std::uint8_t>(cut >> 8);
        relabelled[3] = static_cast<std::uint8_t>(cut);
        h.Feed(relabelled);
      }
    }
  }
}

}  // namespace
}  // namespace sluice::decode
