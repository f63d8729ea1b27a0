// SPDX-License-Identifier: Apache-2.0
// FlowBatch: a fixed-capacity, columnar batch of normalized flow records.
//
// Records never travel one heap object per flow: decoders append rows to a batch, and
// every later stage (enrich, store, detect, count) receives whole batches. A batch owns
// one array per field (FlowColumns) and a small string arena; Clear() makes it reusable
// without freeing anything.
//
// Invariant: every row at or past size() is all zeros, so AppendRow() returns a row
// whose fields are already "unset" (0, ::, empty string) and a decoder writes only the
// fields it has.
//
// Ownership: owns its columns. Thread-safety: none; a batch belongs to one thread at a
// time and is handed on whole.

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "flow/ip_address.h"

#ifndef SLUICE_BATCH_CAPACITY
#define SLUICE_BATCH_CAPACITY 1024
#endif

namespace sluice::flow {

inline constexpr std::size_t kBatchCapacity = SLUICE_BATCH_CAPACITY;
static_assert((kBatchCapacity & (kBatchCapacity - 1)) == 0, "batch capacity must be a power of two");

// A string held in the batch's arena; length 0 means unset.
struct StringRef {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

template <typename T>
using Column = std::array<T, kBatchCapacity>;

// One array per catalogue field (flow/field.h), in catalogue order. Units as in the
// catalogue: times in ms since the epoch, addresses 128-bit, MACs in the low 48 bits.
struct FlowColumns {
  Column<std::int64_t> time_received;
  Column<std::int64_t> first;
  Column<std::int64_t> last;
  Column<IpAddress> exporter;
  Column<std::uint32_t> obs_domain;
  Column<std::uint32_t> sampling_rate;
  Column<IpAddress> src_addr;
  Column<IpAddress> dst_addr;
  Column<std::uint16_t> src_port;
  Column<std::uint16_t> dst_port;
  Column<std::uint8_t> proto;
  Column<std::uint8_t> tcp_flags;
  Column<std::uint8_t> tos;
  Column<std::uint8_t> icmp_type;
  Column<std::uint8_t> icmp_code;
  Column<std::uint64_t> bytes;
  Column<std::uint64_t> packets;
  Column<std::uint32_t> in_if;
  Column<std::uint32_t> out_if;
  Column<std::uint32_t> src_as;
  Column<std::uint32_t> dst_as;
  Column<std::uint8_t> src_mask;
  Column<std::uint8_t> dst_mask;
  Column<IpAddress> next_hop;
  Column<std::uint16_t> vlan;
  Column<std::uint64_t> src_mac;
  Column<std::uint64_t> dst_mac;
  Column<std::uint8_t> direction;
  Column<std::uint8_t> flow_end_reason;
  Column<std::uint32_t> mpls_label;
  Column<IpAddress> xlate_src_addr;
  Column<IpAddress> xlate_dst_addr;
  Column<std::uint16_t> xlate_src_port;
  Column<std::uint16_t> xlate_dst_port;
  Column<std::uint8_t> fw_event;
  Column<std::uint16_t> src_country;
  Column<std::uint16_t> dst_country;
  Column<StringRef> subscriber;
  Column<StringRef> site;
  Column<StringRef> app;
  Column<IpAddress> bgp_next_hop;
  Column<std::uint64_t> flows;
  Column<StringRef> reseller;
  Column<std::uint64_t> cir;
};

class FlowBatch {
 public:
  static constexpr std::size_t kCapacity = kBatchCapacity;
  // Strings longer than this are cut; the arena holds at most kMaxArenaBytes.
  static constexpr std::size_t kMaxStringLength = 255;
  // Room for a few ids per row (app names, and subscriber, reseller and site from the
  // prefix map); the arena grows only as far as it is used.
  static constexpr std::size_t kMaxArenaBytes = kCapacity * 256 < 16384 ? 16384 : kCapacity * 256;

  FlowBatch();

  FlowBatch(const FlowBatch&) = delete;
  FlowBatch& operator=(const FlowBatch&) = delete;
  FlowBatch(FlowBatch&&) noexcept = default;
  FlowBatch& operator=(FlowBatch&&) noexcept = default;

  std::size_t size() const { return size_; }

  bool empty() const { return size_ == 0; }

  bool full() const { return size_ == kCapacity; }

  // Returns the index of a new all-zero row. REQUIRES: !full().
  std::size_t AppendRow() { return size_++; }

  // Zeroes and removes the last row (a record that failed half-way). REQUIRES: !empty().
  void DiscardLastRow();

  // Zeroes and removes the rows from `rows` on, a column at a time (the arena is kept).
  // REQUIRES: rows <= size().
  void ShrinkTo(std::size_t rows);

  // Empties the batch, zeroing the rows used, keeping the buffers.
  void Clear();

  // Writes every page of the (empty) batch's columns, so that the kernel maps them now
  // rather than with a page fault each when the batch is first filled.
  // REQUIRES: empty().
  void TouchPages();

  FlowColumns& cols() { return *columns_; }

  const FlowColumns& cols() const { return *columns_; }

  // Copies `text` (cut to kMaxStringLength) into the arena. Returns an unset ref if the
  // text is empty or the arena is full.
  StringRef AddString(std::string_view text);

  std::string_view String(StringRef ref) const {
    return std::string_view(arena_).substr(ref.offset, ref.length);
  }

  // Copies row `src_row` of `src` (strings included) to a new row here. REQUIRES: !full().
  std::size_t AppendCopyOf(const FlowBatch& src, std::size_t src_row);

 private:
  void ZeroRow(std::size_t row);

  struct FreeColumns {
    void operator()(FlowColumns* columns) const;
  };

  // Zeroed by calloc(), which takes fresh pages from the kernel for a block this size:
  // a batch costs memory only once rows are written to it (pools hold hundreds).
  std::unique_ptr<FlowColumns, FreeColumns> columns_;
  std::string arena_;
  std::size_t size_ = 0;
};

}  // namespace sluice::flow
