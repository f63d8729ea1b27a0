// SPDX-License-Identifier: Apache-2.0
// Parser acceptance of every primitive, Describe(), fields() and the golden file of
// syntax errors (tests/data/query/filter_errors.txt; SLUICE_UPDATE_GOLDEN=1 rewrites it).

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "flow/field.h"
#include "query/filter.h"

namespace sluice::query {
namespace {

using flow::FieldId;

// Every primitive of nfdump 1.7's filter language that Sluice stores, in each form.
const char* const kAccepted[] = {
    "any",
    "ANY",
    "inet",
    "ipv4",
    "inet6",
    "ipv6",
    "proto tcp",
    "proto UDP",
    "proto icmp",
    "proto icmp6",
    "proto ipv6-icmp",
    "proto gre",
    "proto esp",
    "proto ah",
    "proto sctp",
    "proto 255",
    "proto in [6, 17]",
    "ip 1.2.3.4",
    "host 1.2.3.4",
    "src ip 1.2.3.4",
    "dst ip 1.2.3.4",
    "src or dst ip 1.2.3.4",
    "src and dst ip 1.2.3.4",
    "src host fe80::1",
    "ip 2001:db8::1",
    "ip ::ffff:1.2.3.4",
    "ip in [1.2.3.4 10.0.0.0/8, 2001:db8::/32]",
    "src ip in [1.2.3.4]",
    "dst host in [1.2.3.4]",
    "net 10.0.0.0/8",
    "net 10/8",
    "net 172.16/12",
    "net 192.168.1/24",
    "net 10.0.0.0 255.0.0.0",
    "src net 10.0.0.0/8",
    "dst net 2001:db8::/32",
    "src and dst net 10/8",
    "port 80",
    "port = 80",
    "port == 80",
    "port > 1024",
    "port < 1024",
    "port >= 1024",
    "port <= 1024",
    "port eq 80",
    "port gt 80",
    "port lt 80",
    "port ge 80",
    "port le 80",
    "port != 80",
    "src port 80",
    "dst port 80",
    "src or dst port 80",
    "port in [80 443]",
    "dst port in [80, 443, 8080]",
    "flags S",
    "flags SA",
    "flags safrpuec",
    "flags X",
    "flags 18",
    "tos 16",
    "tos > 16",
    "src tos 16",
    "packets 10",
    "packets > 1k",
    "in packets > 1m",
    "bytes > 1g",
    "in bytes 100",
    "flows > 1",
    "flow 1",
    "pps > 10k",
    "bps > 1m",
    "bpp < 100",
    "duration > 1000",
    "as 65000",
    "src as 65000",
    "dst as > 64512",
    "as in [1 2 3]",
    "src as in [15169]",
    "if 3",
    "in if 3",
    "out if 3",
    "vlan 100",
    "src vlan 100",
    "mask 24",
    "src mask 24",
    "dst mask > 16",
    "mac 00:11:22:33:44:55",
    "src mac 00:11:22:33:44:55",
    "dst mac 00-11-22-33-44-55",
    "in mac 00:11:22:33:44:55",
    "out mac 00:11:22:33:44:55",
    "in src mac 00:11:22:33:44:55",
    "out dst mac 00:11:22:33:44:55",
    "mpls label1 100",
    "mpls label1 > 100",
    "next ip 10.0.0.1",
    "bgpnext ip 10.0.0.1",
    "router ip 10.0.0.1",
    "engine-type 1",
    "engine-id 2",
    "observation domain id 7",
    "icmp-type 8",
    "icmp-code 0",
    "flowdir ingress",
    "flowdir egress",
    "flowdir 1",
    "geo DE",
    "src geo DE",
    "dst geo us",
    "xip 1.2.3.4",
    "src xip 1.2.3.4",
    "dst xip 1.2.3.4",
    "nip 1.2.3.4",
    "xnet 10/8",
    "xport 80",
    "src xport 80",
    "dst nport 80",
    "asa event create",
    "asa event deny",
    "asa event > 2",
    "nat event add",
    "nat event delete",
    "port 80 and proto tcp",
    "port 80 && proto tcp",
    "port 80 or port 443",
    "port 80 || port 443",
    "not port 80",
    "! port 80",
    "!port 80",
    "(port 80)",
    "((port 80 or port 443) and not (proto udp))",
    "port 80 # a comment\nand proto tcp",
    "proto tcp and\n  port 80",
    // Sluice's catalogue fields.
    "exporter 10.0.0.1",
    "exporter != 10.0.0.1",
    "exporter in [10.0.0.1 10.0.0.2]",
    "sampling_rate > 1",
    "src_country DE",
    "dst_country != US",
    "src_country in [DE FR]",
    "subscriber \"acme\"",
    "subscriber 'acme corp'",
    "subscriber != acme",
    "site x",
    "app in [https \"dns\"]",
    "time_received > 1700000000000",
    "first >= 0",
    "last < -5",
    "obs_domain 3",
    "in_if 7",
    "tcp_flags 0x12",
    "src_mac 00:11:22:33:44:55",
    "flow_end_reason 2",
    "fw_event 3",
    "xlate_src_port 1024",
    "bgp_next_hop 10.0.0.1",
    "next_hop 2001:db8::/32",
    "direction 0",
    "vlan > 1",
    "flows >= 1",
};

TEST(FilterParseTest, AcceptsEveryPrimitive) {
  for (const char* text : kAccepted) {
    const auto filter = Filter::Parse(text);
    EXPECT_TRUE(filter) << text << ": " << (filter ? "" : filter.error().ToString());
  }
}

TEST(FilterParseTest, EveryCatalogueFieldHasAPrimitive) {
  for (const flow::FieldInfo& info : flow::FieldCatalogue()) {
    std::string value = "1";
    switch (info.type) {
      case flow::FieldType::kIpAddress:
        value = "10.0.0.1";
        break;
      case flow::FieldType::kMacAddress:
        value = "00:00:00:00:00:01";
        break;
      case flow::FieldType::kCountry:
        value = "DE";
        break;
      case flow::FieldType::kString:
        value = "\"x\"";
        break;
      default:
        break;
    }
    const std::string text = std::string(info.name) + " " + value;
    const auto filter = Filter::Parse(text);
    ASSERT_TRUE(filter) << text << ": " << filter.error().ToString();
    ASSERT_EQ(filter->fields().size(), 1U) << text;
    EXPECT_EQ(filter->fields()[0], info.id) << text;
  }
}

TEST(FilterParseTest, EmptyAndBlankMatchAll) {
  for (const char* text : {"", "   ", "\n\t", "any", "# only a comment", "any or port 80", "(any)"}) {
    const auto filter = Filter::Parse(text);
    ASSERT_TRUE(filter) << text;
    EXPECT_TRUE(filter->MatchesAll()) << text;
    EXPECT_TRUE(filter->fields().empty()) << text;
    EXPECT_EQ(filter->Describe(), "any") << text;
  }
  const auto filter = Filter::Parse("port 80");
  ASSERT_TRUE(filter);
  EXPECT_FALSE(filter->MatchesAll());
}

struct DescribeCase {
  const char* text;
  const char* described;
};

TEST(FilterParseTest, DescribesTheNormalizedExpression) {
  const DescribeCase cases[] = {
      {"proto tcp and port 80", "(proto = 6 and (src_port = 80 or dst_port = 80))"},
      {"src ip 10.0.0.1", "src_addr = 10.0.0.1"},
      {"dst net 10/8", "dst_addr = 10.0.0.0/8"},
      {"src net 10.1.2.3 255.255.0.0", "src_addr = 10.1.0.0/16"},
      {"src net 2001:db8::1/32", "src_addr = 2001:db8::/32"},
      {"src and dst port > 1000", "(src_port > 1000 and dst_port > 1000)"},
      {"packets > 2k", "packets > 2000"},
      {"bytes > 1M", "bytes > 1000000"},
      {"flags SA", "(proto = 6 and tcp_flags has AS)"},  // nfdump's order: CEUAPRSF
      {"not not port 80", "(src_port = 80 or dst_port = 80)"},
      {"not (port 80 or port 443)",
       "not (src_port = 80 or dst_port = 80 or src_port = 443 or dst_port = 443)"},
      {"not proto tcp", "not (proto = 6)"},
  };
  for (const DescribeCase& c : cases) {
    const auto filter = Filter::Parse(c.text);
    ASSERT_TRUE(filter) << c.text;
    EXPECT_EQ(filter->Describe(), c.described) << c.text;
  }
  const DescribeCase more[] = {
      {"port in [443 80 80]", "(src_port in [80 443] or dst_port in [80 443])"},
      {"ip in [10/8 ::1]", "(src_addr in [10.0.0.0/8 ::1] or dst_addr in [10.0.0.0/8 ::1])"},
      {"engine-type 3", "engine_type = 3"},
      {"duration >= 100", "duration >= 100"},
      {"inet6", "(src_addr is ipv6 and dst_addr is ipv6)"},
      {"src mac 00:11:22:33:44:55", "src_mac = 00:11:22:33:44:55"},
      {"src_country de", "src_country in [DE]"},
      {"port 80 and any", "(src_port = 80 or dst_port = 80)"},
      {"port 80 and not any", "none"},
      {"port 80 or not any", "(src_port = 80 or dst_port = 80)"},
      {"(port 1 and (port 2 and port 3))",
       "((src_port = 1 or dst_port = 1) and (src_port = 2 or dst_port = 2) and (src_port = 3 or dst_port = 3))"},
      {"site x", "site = \"x\""},
  };
  for (const DescribeCase& c : more) {
    const auto filter = Filter::Parse(c.text);
    ASSERT_TRUE(filter) << c.text;
    EXPECT_EQ(filter->Describe(), c.described) << c.text;
  }
}

TEST(FilterParseTest, FieldsListsExactlyTheColumnsRead) {
  const auto filter = Filter::Parse("proto tcp and port 80 or duration > 5 or bpp > 1 or src ip 1.2.3.4");
  ASSERT_TRUE(filter);
  std::vector<FieldId> fields(filter->fields().begin(), filter->fields().end());
  const std::vector<FieldId> want{FieldId::kFirst,   FieldId::kLast,  FieldId::kSrcAddr, FieldId::kSrcPort,
                                  FieldId::kDstPort, FieldId::kProto, FieldId::kBytes,   FieldId::kPackets};
  EXPECT_EQ(fields, want);
}

// ---- the golden file of syntax errors ----

struct GoldenCase {
  std::string filter;
  std::string message;
};

std::string GoldenPath() { return std::string(SLUICE_SOURCE_DIR) + "/tests/data/query/filter_errors.txt"; }

// The file: '#' comment lines; then cases of two lines, "filter: TEXT" and "error: MESSAGE".
// "\n" in TEXT stands for a newline.
std::vector<GoldenCase> ReadGolden(std::string& header) {
  std::ifstream in(GoldenPath());
  std::vector<GoldenCase> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("filter: ", 0) == 0) {
      GoldenCase c;
      std::string text = line.substr(8);
      for (std::size_t pos = 0; (pos = text.find("\\n", pos)) != std::string::npos;) {
        text.replace(pos, 2, "\n");
      }
      c.filter = text;
      cases.push_back(c);
    } else if (line.rfind("error: ", 0) == 0 && !cases.empty()) {
      cases.back().message = line.substr(7);
    } else if (cases.empty() && line.rfind('#', 0) == 0) {
      header += line + "\n";
    }
  }
  return cases;
}

std::string Escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

TEST(FilterParseTest, SyntaxErrorsMatchTheGoldenFile) {
  std::string header;
  std::vector<GoldenCase> cases = ReadGolden(header);
  ASSERT_GE(cases.size(), 40U) << GoldenPath();
  std::ostringstream rewritten;
  rewritten << header;
  for (const GoldenCase& c : cases) {
    const auto filter = Filter::Parse(c.filter);
    const std::string actual = filter ? "(parsed: " + filter->Describe() + ")" : filter.error().ToString();
    EXPECT_EQ(actual, c.message) << "filter: " << Escape(c.filter);
    rewritten << "\nfilter: " << Escape(c.filter) << "\nerror: " << actual << "\n";
  }
  const char* update = std::getenv("SLUICE_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(GoldenPath(), std::ios::trunc) << rewritten.str();
  }
}

TEST(FilterParseTest, ErrorToErrorCarriesTheText) {
  const auto filter = Filter::Parse("port x");
  ASSERT_FALSE(filter);
  EXPECT_EQ(filter.error().ToError().Code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(std::string(filter.error().ToError().Message()), filter.error().ToString());
}

TEST(FilterParseTest, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = std::string(10000, '(') + "port 80" + std::string(10000, ')');
  EXPECT_FALSE(Filter::Parse(deep));
  const std::string nots(10000, '!');
  EXPECT_FALSE(Filter::Parse(nots + "port 80"));
  const std::string ok = std::string(40, '(') + "port 80" + std::string(40, ')');
  EXPECT_TRUE(Filter::Parse(ok));
}

}  // namespace
}  // namespace sluice::query
