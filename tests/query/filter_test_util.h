// SPDX-License-Identifier: Apache-2.0
// Twelve hand-built rows with known values for the filter tests, and a helper that runs
// a filter over them.

#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "flow/flow_batch.h"
#include "flow/ip_address.h"
#include "query/filter.h"

namespace sluice::test {

inline flow::IpAddress Ip(const char* text) {
  const std::optional<flow::IpAddress> a = flow::IpAddress::Parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(flow::IpAddress{});
}

inline std::uint16_t Country(const char code[3]) {
  return static_cast<std::uint16_t>(code[0] << 8 | code[1]);
}

// The test rows, in as many batches as the batch capacity needs.
struct FilterRows {
  std::vector<std::unique_ptr<flow::FlowBatch>> batches;
};

// Row by row (see the comments): the expectations of filter_eval_test.cc depend on them.
inline void FillFilterRows(FilterRows& rows) {
  flow::FlowBatch* batch = nullptr;
  flow::FlowColumns* c = nullptr;
  // A new row, in a new batch when the last one is full (the tiny-batch build holds 2).
  auto append = [&]() {
    if (rows.batches.empty() || rows.batches.back()->full()) {
      rows.batches.push_back(std::make_unique<flow::FlowBatch>());
    }
    batch = rows.batches.back().get();
    c = &batch->cols();
    return batch->AppendRow();
  };
  auto row = [&](const char* src, const char* dst, std::uint8_t proto, std::uint16_t sport,
                 std::uint16_t dport) {
    const std::size_t r = append();
    if (src[0] != '\0') {
      c->src_addr[r] = Ip(src);
    }
    if (dst[0] != '\0') {
      c->dst_addr[r] = Ip(dst);
    }
    c->proto[r] = proto;
    c->src_port[r] = sport;
    c->dst_port[r] = dport;
    c->flows[r] = 1;
    c->sampling_rate[r] = 1;
    return r;
  };
  // 0: TCP web request, SYN+ACK, 1 s long.
  std::size_t r = row("10.0.0.1", "192.168.1.10", 6, 12345, 80);
  c->tcp_flags[r] = 0x12;
  c->bytes[r] = 1500;
  c->packets[r] = 10;
  c->first[r] = 1000;
  c->last[r] = 2000;
  c->in_if[r] = 1;
  c->out_if[r] = 2;
  c->src_as[r] = 100;
  c->dst_as[r] = 200;
  c->vlan[r] = 10;
  c->src_mac[r] = 0x001122334455;
  c->dst_mac[r] = 0x66778899aabb;
  c->obs_domain[r] = 1 << 8 | 2;
  c->exporter[r] = Ip("192.0.2.1");
  c->src_mask[r] = 8;
  c->dst_mask[r] = 24;
  c->subscriber[r] = batch->AddString("acme");
  c->src_country[r] = Country("DE");
  c->next_hop[r] = Ip("10.0.0.254");
  c->mpls_label[r] = 16;
  // 1: DNS query, zero duration.
  r = row("10.1.2.3", "8.8.8.8", 17, 53000, 53);
  c->tos[r] = 0x10;
  c->bytes[r] = 80;
  c->packets[r] = 1;
  c->first[r] = 5000;
  c->last[r] = 5000;
  c->in_if[r] = 2;
  c->out_if[r] = 1;
  c->dst_as[r] = 15169;
  c->dst_country[r] = Country("US");
  c->exporter[r] = Ip("192.0.2.1");
  c->site[r] = batch->AddString("x");
  // 2: IPv6 TCP SYN.
  r = row("2001:db8::1", "2001:db8:1::2", 6, 443, 51000);
  c->tcp_flags[r] = 0x02;
  c->bytes[r] = 60;
  c->packets[r] = 1;
  c->first[r] = 100;
  c->last[r] = 150;
  c->exporter[r] = Ip("2001:db8::fe");
  c->sampling_rate[r] = 100;
  // 3: ICMPv6 neighbour solicitation.
  r = row("fe80::1", "ff02::1", 58, 0, 135 * 256);
  c->icmp_type[r] = 135;
  c->bytes[r] = 72;
  c->packets[r] = 1;
  // 4: long SSH transfer, all of FSRPAU.
  r = row("172.16.5.4", "172.31.255.255", 6, 22, 2222);
  c->tcp_flags[r] = 0x3f;
  c->bytes[r] = 1000000;
  c->packets[r] = 1000;
  c->first[r] = 0;
  c->last[r] = 10000;  // 10 s: pps 100, bps 800000, bpp 1000
  c->src_as[r] = 65000;
  c->dst_mask[r] = 12;
  // 5: the web reply of row 0.
  r = row("192.168.1.10", "10.0.0.1", 6, 80, 12345);
  c->tcp_flags[r] = 0x18;
  c->bytes[r] = 3000;
  c->packets[r] = 3;
  c->first[r] = 1000;
  c->last[r] = 1500;
  c->in_if[r] = 2;
  c->out_if[r] = 1;
  c->src_as[r] = 200;
  c->dst_as[r] = 100;
  c->direction[r] = 1;
  c->dst_mac[r] = 0x001122334455;
  // 6: ICMP echo between the extreme IPv4 addresses.
  r = row("0.0.0.0", "255.255.255.255", 1, 0, 8 * 256);
  c->icmp_type[r] = 8;
  c->bytes[r] = 84;
  c->packets[r] = 1;
  // 7: an all-default row (addresses ::, every number 0).
  r = append();
  // 8: NAT'd UDP with a create event.
  r = row("100.64.0.1", "1.1.1.1", 17, 1024, 443);
  c->xlate_src_addr[r] = Ip("203.0.113.5");
  c->xlate_dst_addr[r] = Ip("1.1.1.1");
  c->xlate_src_port[r] = 40000;
  c->xlate_dst_port[r] = 443;
  c->fw_event[r] = 1;
  c->bytes[r] = 500;
  c->packets[r] = 5;
  c->bgp_next_hop[r] = Ip("198.51.100.1");
  c->subscriber[r] = batch->AddString("other");
  c->src_country[r] = Country("FR");
  c->dst_country[r] = Country("AU");
  // 9: GRE with the largest byte count, 1 ms long.
  r = row("10.255.255.255", "11.0.0.0", 47, 0, 0);
  c->bytes[r] = std::numeric_limits<std::uint64_t>::max();
  c->packets[r] = 2;
  c->first[r] = 7;
  c->last[r] = 8;
  c->flows[r] = 7;
  // 10: IPv6 loopback TCP with ECE+CWR, engine type 5 / id 7, egress.
  r = row("::1", "2001:db8::ffff", 6, 1, 65535);
  c->tcp_flags[r] = 0xc0;
  c->obs_domain[r] = 5 << 8 | 7;
  c->direction[r] = 1;
  c->mpls_label[r] = 1000;
  c->bytes[r] = 40;
  c->packets[r] = 1;
  c->src_mac[r] = 0xffffffffffff;
  // 11: DNS reply with extreme AS / interface / VLAN / ToS values.
  r = row("8.8.4.4", "10.0.0.1", 17, 53, 33000);
  c->tos[r] = 255;
  c->vlan[r] = 4095;
  c->src_as[r] = 4294967295U;
  c->dst_as[r] = 65000;
  c->in_if[r] = 4294967295U;
  c->bytes[r] = 120;
  c->packets[r] = 1;
  c->first[r] = 20;
  c->last[r] = 10;  // reversed: duration 0
  c->src_mask[r] = 32;
}

inline constexpr std::size_t kFilterBatchRows = 12;

// The rows (numbered across batches) that `filter` keeps of those `wanted` says.
template <typename Wanted>
std::vector<std::uint32_t> Matches(const query::Filter& filter, const FilterRows& rows, Wanted wanted) {
  std::vector<std::uint32_t> out;
  std::uint32_t base = 0;
  for (const auto& batch : rows.batches) {
    std::vector<std::uint32_t> selection;
    for (std::uint32_t row = 0; row < batch->size(); ++row) {
      if (wanted(base + row)) {
        selection.push_back(row);
      }
    }
    selection.resize(filter.Select(*batch, selection.data(), selection.size()));
    for (const std::uint32_t row : selection) {
      out.push_back(base + row);
    }
    base += static_cast<std::uint32_t>(batch->size());
  }
  return out;
}

inline std::vector<std::uint32_t> Matches(const query::Filter& filter, const FilterRows& rows) {
  return Matches(filter, rows, [](std::uint32_t) { return true; });
}

}  // namespace sluice::test
