// SPDX-License-Identifier: Apache-2.0
// Table-driven: each filter is evaluated over the rows of filter_test_util.h and must keep
// exactly the listed rows.

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "flow/flow_batch.h"
#include "query/filter.h"
#include "query/filter_test_util.h"

namespace sluice::query {
namespace {

using Rows = std::vector<std::uint32_t>;

struct Case {
  const char* filter;
  Rows rows;
};

const Rows kAll{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

class FilterEvalTest : public ::testing::TestWithParam<Case> {};

TEST_P(FilterEvalTest, KeepsExactlyTheExpectedRows) {
  const Case& c = GetParam();
  test::FilterRows rows;
  test::FillFilterRows(rows);
  ASSERT_EQ(test::Matches(Filter(), rows).size(), test::kFilterBatchRows);
  const auto filter = Filter::Parse(c.filter);
  ASSERT_TRUE(filter) << c.filter << ": " << filter.error().ToString();
  EXPECT_EQ(test::Matches(*filter, rows), c.rows) << c.filter << " -> " << filter->Describe();

  // Starting from a subset (the odd rows) keeps the subset of the expectation.
  const Rows odd = test::Matches(*filter, rows, [](std::uint32_t row) { return row % 2 == 1; });
  Rows want;
  for (const std::uint32_t row : c.rows) {
    if (row % 2 == 1) {
      want.push_back(row);
    }
  }
  EXPECT_EQ(odd, want) << c.filter << " over the odd rows";
}

const Case kCases[] = {
    {"", kAll},
    {"any", kAll},
    {"proto tcp", {0, 2, 4, 5, 10}},
    {"proto udp", {1, 8, 11}},
    {"proto icmp", {6}},
    {"proto icmp6", {3}},
    {"proto 47", {9}},
    {"proto gre", {9}},
    {"proto 0", {7}},
    {"proto in [tcp udp]", {0, 1, 2, 4, 5, 8, 10, 11}},
    {"not proto tcp", {1, 3, 6, 7, 8, 9, 11}},
    {"ip 10.0.0.1", {0, 5, 11}},
    {"src ip 10.0.0.1", {0}},
    {"dst ip 10.0.0.1", {5, 11}},
    {"src and dst ip 10.0.0.1", {}},
    {"src or dst ip 10.0.0.1", {0, 5, 11}},
    {"src ip != 10.0.0.1", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
    {"host 8.8.8.8", {1}},
    {"ip 0.0.0.0", {6}},
    {"net 10.0.0.0/8", {0, 1, 5, 9, 11}},
    {"net 10/8", {0, 1, 5, 9, 11}},
    {"src net 10.0.0.0 255.0.0.0", {0, 1, 9}},
    {"net 172.16/12", {4}},
    {"dst net 172.31.255.255/32", {4}},
    {"net 0.0.0.0/0", {0, 1, 4, 5, 6, 8, 9, 11}},
    {"net 2001:db8::/32", {2, 10}},
    {"ip 2001:db8::1", {2}},
    {"net fe80::/10", {3}},
    {"ip ::1", {10}},
    {"net ::/0", kAll},
    {"ip in [10.0.0.1 8.8.8.8]", {0, 1, 5, 11}},
    {"src ip in [10.0.0.0/8, 2001:db8::/32]", {0, 1, 2, 9}},
    {"ip 10.0.0.1 or ip 8.8.4.4 or net 2001:db8::/32", {0, 2, 5, 10, 11}},
    {"inet", {0, 1, 4, 5, 6, 8, 9, 11}},
    {"ipv6", {2, 3, 10}},
    {"not inet and not inet6", {7}},
    {"port 80", {0, 5}},
    {"src port 80", {5}},
    {"dst port 80", {0}},
    {"port > 60000", {10}},
    {"port < 2", {3, 6, 7, 9, 10}},
    {"port eq 53", {1, 11}},
    {"port gt 50000", {1, 2, 10}},
    {"dst port >= 51000", {2, 10}},
    {"src port <= 22", {3, 4, 6, 7, 9, 10}},
    {"port in [22 443]", {2, 4, 8}},
    {"dst port in [53, 80, 443]", {0, 1, 8}},
    {"port 65535", {10}},
    {"flags S", {0, 2, 4}},
    {"flags SA", {0, 4}},
    // nfdump 1.7.1 tests "all given flags set", but under an odd number of negations "any
    // of them set" (checked against nfdump): `not flags AFRPU` keeps TCP rows with none.
    {"flags S and not flags AFRPU", {2}},
    {"not not flags SA", {0, 4}},
    {"flags S and not (flags A or flags F or flags R or flags P or flags U)", {2}},
    {"flags X", {4}},
    {"flags CE", {10}},
    {"flags PA", {4, 5}},
    {"tos 16", {1}},
    {"tos > 100", {11}},
    {"src tos 255", {11}},
    {"packets > 5", {0, 4}},
    {"packets >= 1k", {4}},
    {"bytes > 1m", {9}},
    {"bytes >= 1M", {4, 9}},
    {"bytes < 100", {1, 2, 3, 6, 7, 10}},
    {"bytes > 18446744073709551614", {9}},
    {"duration > 100", {0, 4, 5}},
    {"duration == 0", {1, 3, 6, 7, 8, 10, 11}},
    {"duration 50", {2}},
    {"pps > 1000", {9}},
    {"pps 100", {4}},
    {"bps > 1m", {9}},
    {"bps >= 800k", {4, 9}},
    {"bpp 1000", {4, 5}},
    {"bpp > 1000", {9}},
    {"bpp < 1", {7}},
    {"as 100", {0, 5}},
    {"src as 200", {5}},
    {"dst as 65000", {11}},
    {"as > 65000", {11}},
    {"as in [15169 65000]", {1, 4, 11}},
    {"if 2", {0, 1, 5}},
    {"in if 1", {0}},
    {"out if 1", {1, 5}},
    {"in if 4294967295", {11}},
    {"vlan 10", {0}},
    {"vlan 4095", {11}},
    {"mask 24", {0}},
    {"src mask 32", {11}},
    {"dst mask > 10", {0, 4}},
    {"mac 00:11:22:33:44:55", {0, 5}},
    {"in src mac 00:11:22:33:44:55", {0}},
    {"out dst mac 00:11:22:33:44:55", {5}},
    {"src mac ff:ff:ff:ff:ff:ff", {10}},
    {"engine-type 5", {10}},
    {"engine-id 2", {0}},
    {"engine-type 1 and engine-id 2", {0}},
    {"icmp-type 8", {6}},
    {"icmp-type 135", {3}},
    {"icmp-code 0", {3, 6}},
    {"next ip 10.0.0.254", {0}},
    {"bgpnext ip 198.51.100.1", {8}},
    {"router ip 192.0.2.1", {0, 1}},
    {"exporter 2001:db8::fe", {2}},
    {"src xip 203.0.113.5", {8}},
    {"xip 1.1.1.1", {8}},
    {"src xport 40000", {8}},
    {"dst nport 443", {8}},
    {"xnet 203.0.113.0/24", {8}},
    {"asa event create", {8}},
    {"nat event add", {8}},
    {"flowdir egress", {5, 10}},
    {"flowdir ingress", {0, 1, 2, 3, 4, 6, 7, 8, 9, 11}},
    {"mpls label1 1000", {10}},
    {"mpls label1 > 10", {0, 10}},
    {"flows > 1", {9}},
    {"flows 0", {7}},
    {"sampling_rate > 1", {2}},
    {"src_country DE", {0}},
    {"dst_country us", {1}},
    {"geo AU", {8}},
    {"src geo FR", {8}},
    {"subscriber \"acme\"", {0}},
    {"subscriber acme or subscriber 'other'", {0, 8}},
    {"subscriber in [acme other]", {0, 8}},
    {"site x", {1}},
    {"site != x", {0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
    {"observation domain id 258", {0}},
    {"obs_domain 1287", {10}},
    {"first >= 1000", {0, 1, 5}},
    {"last < 100", {3, 6, 7, 8, 9, 10, 11}},
    {"src_port = 80 or dst_port = 80", {0, 5}},
    {"src_port != 0", {0, 1, 2, 4, 5, 8, 10, 11}},
    {"tcp_flags 0x12", {0}},
    {"direction 1", {5, 10}},
    {"src_mac 00:00:00:00:00:00", {1, 2, 3, 4, 5, 6, 7, 8, 9, 11}},
    {"proto tcp and (port 80 or port 22)", {0, 4, 5}},
    {"proto tcp and not (port 80 or port 22)", {2, 10}},
    {"(proto udp or proto icmp) and bytes > 80", {6, 8, 11}},
    {"not not proto udp", {1, 8, 11}},
    {"! proto tcp && ! proto udp", {3, 6, 7, 9}},
    {"proto tcp || proto udp && port 53", {0, 1, 2, 4, 5, 10, 11}},
    {"PROTO TCP AND PORT 80", {0, 5}},
    {"port 80 # web\n", {0, 5}},
    {"not any", {}},
    {"proto tcp and proto udp", {}},
    {"not (ip 10.0.0.1 or not (proto udp or proto icmp6)) and bytes > 70", {1, 3, 8}},
};

INSTANTIATE_TEST_SUITE_P(Table, FilterEvalTest, ::testing::ValuesIn(kCases));

TEST(FilterEvalTest2, EmptySelectionStaysEmpty) {
  test::FilterRows rows;
  test::FillFilterRows(rows);
  const auto filter = Filter::Parse("proto tcp or not port 80");
  ASSERT_TRUE(filter);
  std::uint32_t selection[1] = {0};
  EXPECT_EQ(filter->Select(*rows.batches[0], selection, 0), 0U);
  EXPECT_EQ(test::Matches(*filter, rows, [](std::uint32_t) { return false; }), Rows{});
}

}  // namespace
}  // namespace sluice::query
