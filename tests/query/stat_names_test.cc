// SPDX-License-Identifier: Apache-2.0
// nfdump's -s, -A, -a and -O names mapped onto the field catalogue.

#include "query/stat_names.h"

#include <gtest/gtest.h>

namespace sluice::query {
namespace {

using flow::FieldId;

StatSpec One(std::string_view text) {
  auto specs = ParseStat(text);
  EXPECT_TRUE(specs) << text << ": " << (specs ? "" : specs.error().Message());
  if (!specs || specs->size() != 1) {
    ADD_FAILURE() << text << " did not give one statistic";
    return {};
  }
  return specs->front();
}

TEST(StatNamesTest, EveryNfdumpStatisticWithAField) {
  struct Case {
    const char* name;
    FieldId field;
    bool paired;
  };

  const Case cases[] = {
      {"srcip", FieldId::kSrcAddr, false},
      {"dstip", FieldId::kDstAddr, false},
      {"ip", FieldId::kSrcAddr, true},
      {"nhip", FieldId::kNextHop, false},
      {"nhbip", FieldId::kBgpNextHop, false},
      {"router", FieldId::kExporter, false},
      {"srcport", FieldId::kSrcPort, false},
      {"dstport", FieldId::kDstPort, false},
      {"port", FieldId::kSrcPort, true},
      {"tos", FieldId::kTos, false},
      {"srctos", FieldId::kTos, false},
      {"dir", FieldId::kDirection, false},
      {"srcas", FieldId::kSrcAs, false},
      {"dstas", FieldId::kDstAs, false},
      {"as", FieldId::kSrcAs, true},
      {"inif", FieldId::kInIf, false},
      {"outif", FieldId::kOutIf, false},
      {"if", FieldId::kInIf, true},
      {"srcmask", FieldId::kSrcMask, false},
      {"dstmask", FieldId::kDstMask, false},
      {"mask", FieldId::kSrcMask, true},
      {"srcvlan", FieldId::kVlan, false},
      {"vlan", FieldId::kVlan, false},
      {"proto", FieldId::kProto, false},
      {"srcmac", FieldId::kSrcMac, false},
      {"dstmac", FieldId::kDstMac, false},
      {"insrcmac", FieldId::kSrcMac, false},
      {"indstmac", FieldId::kDstMac, false},
      {"inmac", FieldId::kSrcMac, false},  // nfdump 1.7.1: the in source MAC only
      {"mpls1", FieldId::kMplsLabel, false},
      {"srcgeo", FieldId::kSrcCountry, false},
      {"dstgeo", FieldId::kDstCountry, false},
      {"xsrcip", FieldId::kXlateSrcAddr, false},
      {"event", FieldId::kFwEvent, false},
      {"flags", FieldId::kTcpFlags, false},
      // Sluice's own fields by catalogue name.
      {"exporter", FieldId::kExporter, false},
      {"src_country", FieldId::kSrcCountry, false},
      {"obs_domain", FieldId::kObsDomain, false},
  };
  for (const Case& c : cases) {
    const StatSpec spec = One(c.name);
    EXPECT_EQ(spec.name, c.name);
    ASSERT_EQ(spec.key.size(), 1u) << c.name;
    EXPECT_EQ(spec.key[0].field, c.field) << c.name;
    EXPECT_EQ(spec.paired_key.size(), c.paired ? 1u : 0u) << c.name;
    EXPECT_EQ(spec.order, OrderBy::kFlows);
    EXPECT_FALSE(spec.records);
  }
  EXPECT_EQ(One("ip").paired_key[0].field, FieldId::kDstAddr);
  EXPECT_EQ(One("port").paired_key[0].field, FieldId::kDstPort);
  EXPECT_EQ(One("if").paired_key[0].field, FieldId::kOutIf);
  EXPECT_EQ(StatTitle(One("srcip")), "Src IP Addr");
  EXPECT_EQ(StatTitle(One("dstport")), "Dst Port");
  EXPECT_EQ(StatTitle(One("exporter")), "exporter");
}

TEST(StatNamesTest, OrdersProtocolSplitAndRecords) {
  auto specs = ParseStat("ip/flows/bytes");
  ASSERT_TRUE(specs);
  ASSERT_EQ(specs->size(), 2u);
  EXPECT_EQ((*specs)[0].order, OrderBy::kFlows);
  EXPECT_EQ((*specs)[1].order, OrderBy::kBytes);

  const StatSpec split = One("dstport:p/bps");
  ASSERT_EQ(split.key.size(), 2u);
  EXPECT_EQ(split.key[0].field, FieldId::kProto);
  EXPECT_EQ(split.key[1].field, FieldId::kDstPort);
  EXPECT_EQ(split.order, OrderBy::kBps);

  const StatSpec record = One("record/bytes");
  EXPECT_TRUE(record.records);
  EXPECT_EQ(record.key, FiveTupleKey());
  EXPECT_EQ(record.order, OrderBy::kBytes);
}

TEST(StatNamesTest, NetworksTakePrefixLengths) {
  const StatSpec net = One("srcnet");
  ASSERT_EQ(net.key.size(), 1u);
  EXPECT_EQ(net.key[0].v4_prefix, 24);
  EXPECT_EQ(net.key[0].v6_prefix, 64);
  const StatSpec cut = One("dstnet/16/48/bytes");
  EXPECT_EQ(cut.key[0].field, FieldId::kDstAddr);
  EXPECT_EQ(cut.key[0].v4_prefix, 16);
  EXPECT_EQ(cut.key[0].v6_prefix, 48);
  EXPECT_EQ(cut.order, OrderBy::kBytes);
  const StatSpec both = One("net/8");
  EXPECT_EQ(both.paired_key[0].field, FieldId::kDstAddr);
  EXPECT_EQ(both.paired_key[0].v4_prefix, 8);
}

TEST(StatNamesTest, Errors) {
  for (const char* text : {"", "nosuch", "srcip/nosuch", "srcip/tstart", "srcip/24", "srcnet/33",
                           "dsttos", "prevas", "subscriber", "bytes", "first", "srcnet/1/2/3"}) {
    auto specs = ParseStat(text);
    EXPECT_FALSE(specs) << text;
    if (!specs) {
      EXPECT_EQ(specs.error().Code(), ErrorCode::kInvalidArgument);
    }
  }
  auto unsupported = ParseStat("nextas");
  ASSERT_FALSE(unsupported);
  EXPECT_NE(unsupported.error().Message().find("no such field"), std::string_view::npos);
}

TEST(StatNamesTest, OutMacsAreRefused) {
  // src_mac/dst_mac hold the in MACs (an out one only as a fallback): no column holds
  // nfdump's out MACs.
  for (const char* name : {"outsrcmac", "outdstmac", "outmac"}) {
    auto stat = ParseStat(std::string(name) + "/bytes");
    ASSERT_FALSE(stat) << name;
    EXPECT_EQ(stat.error().Code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(stat.error().Message().find("fallback"), std::string_view::npos) << name;
  }
  for (const char* name : {"outsrcmac", "outdstmac", "srcip,outdstmac"}) {
    auto keys = ParseAggregation(name);
    ASSERT_FALSE(keys) << name;
    EXPECT_NE(keys.error().Message().find("fallback"), std::string_view::npos) << name;
  }
  auto in = ParseAggregation("insrcmac,indstmac");
  ASSERT_TRUE(in);
  EXPECT_EQ(*in, (std::vector<KeyField>{{FieldId::kSrcMac}, {FieldId::kDstMac}}));
}

TEST(StatNamesTest, AggregateByFlowMask) {
  // nfdump -A srcnet/dstnet: each address cut to the flow's own mask.
  auto keys = ParseAggregation("srcnet,dstnet,proto");
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].field, FieldId::kSrcAddr);
  EXPECT_TRUE((*keys)[0].flow_mask);
  EXPECT_EQ((*keys)[0].v4_prefix, 32);
  EXPECT_EQ((*keys)[1].field, FieldId::kDstAddr);
  EXPECT_TRUE((*keys)[1].flow_mask);
  EXPECT_FALSE((*keys)[2].flow_mask);
  // With srcip4/N on the same column: one key part, both cuts.
  auto merged = ParseAggregation("srcip4/16,srcnet");
  ASSERT_TRUE(merged);
  ASSERT_EQ(merged->size(), 1u);
  EXPECT_TRUE((*merged)[0].flow_mask);
  EXPECT_EQ((*merged)[0].v4_prefix, 16);
  EXPECT_FALSE(ParseAggregation("srcnet/24"));
  auto plain = ParseAggregation("srcip");
  ASSERT_TRUE(plain);
  EXPECT_FALSE((*plain)[0].flow_mask);
}

TEST(StatNamesTest, Aggregations) {
  auto keys = ParseAggregation("srcip,dstip,srcport,dstport,proto");
  ASSERT_TRUE(keys);
  EXPECT_EQ(*keys, (std::vector<KeyField>{{FieldId::kSrcAddr},
                                          {FieldId::kDstAddr},
                                          {FieldId::kSrcPort},
                                          {FieldId::kDstPort},
                                          {FieldId::kProto}}));

  auto prefixes = ParseAggregation("srcip4/24,srcip6/64,dstip4/16,inif,srcas,exporter");
  ASSERT_TRUE(prefixes);
  ASSERT_EQ(prefixes->size(), 5u);
  EXPECT_EQ((*prefixes)[0].field, FieldId::kSrcAddr);
  EXPECT_EQ((*prefixes)[0].v4_prefix, 24);
  EXPECT_EQ((*prefixes)[0].v6_prefix, 64);
  EXPECT_EQ((*prefixes)[1].field, FieldId::kDstAddr);
  EXPECT_EQ((*prefixes)[1].v4_prefix, 16);
  EXPECT_EQ((*prefixes)[1].v6_prefix, 128);
  EXPECT_EQ((*prefixes)[2].field, FieldId::kInIf);
  EXPECT_EQ((*prefixes)[3].field, FieldId::kSrcAs);
  EXPECT_EQ((*prefixes)[4].field, FieldId::kExporter);

  for (const char* text :
       {"", "srcip,", "nosuch", "srcip4", "srcip4/33", "srcip/24", "bytes", "app"}) {
    EXPECT_FALSE(ParseAggregation(text)) << text;
  }
  EXPECT_EQ(FiveTupleKey().size(), 5u);
}

TEST(StatNamesTest, Orders) {
  EXPECT_EQ(*ParseOrder("tstart"), OrderBy::kTstart);
  EXPECT_EQ(*ParseOrder("bpp"), OrderBy::kBpp);
  EXPECT_FALSE(ParseOrder("size"));
  for (OrderBy order : {OrderBy::kFlows, OrderBy::kPackets, OrderBy::kBytes, OrderBy::kPps,
                        OrderBy::kBps, OrderBy::kBpp, OrderBy::kTstart, OrderBy::kTend}) {
    EXPECT_EQ(*ParseOrder(OrderName(order)), order);
  }
}

}  // namespace
}  // namespace sluice::query
