// SPDX-License-Identifier: Apache-2.0
// Maps a FieldId to its FlowColumns array at compile time, so the store can walk every
// column with one generic loop and no per-row dispatch. Internal to store/.

#pragma once

#include <cstddef>
#include <tuple>
#include <utility>

#include "flow/field.h"
#include "flow/flow_batch.h"

namespace sluice::store {

// Every FlowColumns member in FieldId order.
inline constexpr auto kColumnMembers = std::make_tuple(
    &flow::FlowColumns::time_received, &flow::FlowColumns::first, &flow::FlowColumns::last,
    &flow::FlowColumns::exporter, &flow::FlowColumns::obs_domain,
    &flow::FlowColumns::sampling_rate, &flow::FlowColumns::src_addr,
    &flow::FlowColumns::dst_addr, &flow::FlowColumns::src_port, &flow::FlowColumns::dst_port,
    &flow::FlowColumns::proto, &flow::FlowColumns::tcp_flags, &flow::FlowColumns::tos,
    &flow::FlowColumns::icmp_type, &flow::FlowColumns::icmp_code, &flow::FlowColumns::bytes,
    &flow::FlowColumns::packets, &flow::FlowColumns::in_if, &flow::FlowColumns::out_if,
    &flow::FlowColumns::src_as, &flow::FlowColumns::dst_as, &flow::FlowColumns::src_mask,
    &flow::FlowColumns::dst_mask, &flow::FlowColumns::next_hop, &flow::FlowColumns::vlan,
    &flow::FlowColumns::src_mac, &flow::FlowColumns::dst_mac, &flow::FlowColumns::direction,
    &flow::FlowColumns::flow_end_reason, &flow::FlowColumns::mpls_label,
    &flow::FlowColumns::xlate_src_addr, &flow::FlowColumns::xlate_dst_addr,
    &flow::FlowColumns::xlate_src_port, &flow::FlowColumns::xlate_dst_port,
    &flow::FlowColumns::fw_event, &flow::FlowColumns::src_country,
    &flow::FlowColumns::dst_country, &flow::FlowColumns::subscriber, &flow::FlowColumns::site,
    &flow::FlowColumns::app, &flow::FlowColumns::bgp_next_hop, &flow::FlowColumns::flows,
    &flow::FlowColumns::reseller, &flow::FlowColumns::cir);

static_assert(std::tuple_size_v<decltype(kColumnMembers)> == flow::kFieldCount,
              "every catalogue field has a column");

// Calls fn(member_pointer) for the column of field number `field_idx` (< kFieldCount).
template <typename Fn>
void VisitColumn(std::size_t field_idx, Fn&& fn) {
  [&]<std::size_t... kIdx>(std::index_sequence<kIdx...>) {
    (void)((field_idx == kIdx ? (fn(std::get<kIdx>(kColumnMembers)), true) : false) || ...);
  }(std::make_index_sequence<flow::kFieldCount>{});
}

}  // namespace sluice::store
