// SPDX-License-Identifier: Apache-2.0

#include "flow/flow_batch.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <tuple>
#include <type_traits>

#include "flow/field.h"

namespace sluice::flow {
namespace {

// Every column of FlowColumns: the one list that whole-row operations walk.
constexpr auto kColumnMembers = std::make_tuple(
    &FlowColumns::time_received,
    &FlowColumns::first,
    &FlowColumns::last,
    &FlowColumns::exporter,
    &FlowColumns::obs_domain,
    &FlowColumns::sampling_rate,
    &FlowColumns::src_addr,
    &FlowColumns::dst_addr,
    &FlowColumns::src_port,
    &FlowColumns::dst_port,
    &FlowColumns::proto,
    &FlowColumns::tcp_flags,
    &FlowColumns::tos,
    &FlowColumns::icmp_type,
    &FlowColumns::icmp_code,
    &FlowColumns::bytes,
    &FlowColumns::packets,
    &FlowColumns::in_if,
    &FlowColumns::out_if,
    &FlowColumns::src_as,
    &FlowColumns::dst_as,
    &FlowColumns::src_mask,
    &FlowColumns::dst_mask,
    &FlowColumns::next_hop,
    &FlowColumns::vlan,
    &FlowColumns::src_mac,
    &FlowColumns::dst_mac,
    &FlowColumns::direction,
    &FlowColumns::flow_end_reason,
    &FlowColumns::mpls_label,
    &FlowColumns::xlate_src_addr,
    &FlowColumns::xlate_dst_addr,
    &FlowColumns::xlate_src_port,
    &FlowColumns::xlate_dst_port,
    &FlowColumns::fw_event,
    &FlowColumns::src_country,
    &FlowColumns::dst_country,
    &FlowColumns::subscriber,
    &FlowColumns::site,
    &FlowColumns::app,
    &FlowColumns::bgp_next_hop,
    &FlowColumns::flows,
    &FlowColumns::reseller,
    &FlowColumns::cir);

template <typename Fn>
void ForEachColumnMember(Fn&& fn) {
  std::apply([&fn](auto... member) { (fn(member), ...); }, kColumnMembers);
}

static_assert(std::tuple_size_v<decltype(kColumnMembers)> == kFieldCount,
              "every catalogue field has a column");
static_assert(std::is_trivially_copyable_v<FlowColumns>);

// FlowColumns is trivially copyable (and all zero is every column's default), so
// zeroed storage from calloc() is a valid FlowColumns.
FlowColumns* AllocateZeroedColumns() {
  void* storage = std::calloc(1, sizeof(FlowColumns));
  if (storage == nullptr) {
    throw std::bad_alloc();
  }
  return static_cast<FlowColumns*>(storage);
}

}  // namespace

void FlowBatch::FreeColumns::operator()(FlowColumns* columns) const { std::free(columns); }

FlowBatch::FlowBatch() : columns_(AllocateZeroedColumns()) {
  arena_.reserve(4096);
}

void FlowBatch::ZeroRow(std::size_t row) {
  FlowColumns& c = *columns_;
  ForEachColumnMember([&c, row](auto member) { (c.*member)[row] = {}; });
}

void FlowBatch::DiscardLastRow() {
  --size_;
  ZeroRow(size_);
}

void FlowBatch::ShrinkTo(std::size_t rows) {
  if (rows >= size_) {
    return;
  }
  const std::size_t dropped = size_ - rows;
  FlowColumns& c = *columns_;
  ForEachColumnMember([&c, rows, dropped](auto member) {
    auto& column = c.*member;
    std::memset(static_cast<void*>(column.data() + rows), 0, dropped * sizeof(column[0]));
  });
  size_ = rows;
}

void FlowBatch::Clear() {
  const std::size_t used = size_;
  FlowColumns& c = *columns_;
  ForEachColumnMember([&c, used](auto member) {
    auto& column = c.*member;
    std::memset(static_cast<void*>(column.data()), 0, used * sizeof(column[0]));
  });
  arena_.clear();
  size_ = 0;
}

void FlowBatch::TouchPages() {
  // Zeroes are what the columns already hold (the invariant); memset writes each page.
  std::memset(static_cast<void*>(columns_.get()), 0, sizeof(FlowColumns));
}

StringRef FlowBatch::AddString(std::string_view text) {
  text = text.substr(0, kMaxStringLength);
  if (text.empty() || arena_.size() + text.size() > kMaxArenaBytes) {
    return {};
  }
  const StringRef ref{static_cast<std::uint32_t>(arena_.size()),
                      static_cast<std::uint32_t>(text.size())};
  arena_.append(text);
  return ref;
}

std::size_t FlowBatch::AppendCopyOf(const FlowBatch& src, std::size_t src_row) {
  const std::size_t row = AppendRow();
  FlowColumns& dst = *columns_;
  const FlowColumns& from = *src.columns_;
  ForEachColumnMember([&](auto member) {
    auto& value = (dst.*member)[row];
    const auto& from_value = (from.*member)[src_row];
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, StringRef>) {
      value = AddString(src.String(from_value));
    } else {
      value = from_value;
    }
  });
  return row;
}

}  // namespace sluice::flow
