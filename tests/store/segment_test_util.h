// SPDX-License-Identifier: Apache-2.0
// Helpers for the segment tests: temporary files, deterministic rows that set every
// field, whole-segment write/read, and row comparison over every column.

#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "flow/field.h"
#include "flow/flow_batch.h"
#include "store/columns.h"
#include "store/segment_reader.h"
#include "store/segment_writer.h"
#include "testing/collecting_sink.h"
#include "testing/process.h"

namespace sluice::test {

// TempDir: testing/process.h (one definition for every test binary).

inline std::vector<std::uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void WriteBytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline flow::IpAddress V6(std::uint64_t hi, std::uint64_t lo) {
  flow::IpAddress a;
  for (int byte_idx = 0; byte_idx < 8; ++byte_idx) {
    a.bytes[byte_idx] = static_cast<std::uint8_t>(hi >> (56 - 8 * byte_idx));
    a.bytes[8 + byte_idx] = static_cast<std::uint8_t>(lo >> (56 - 8 * byte_idx));
  }
  return a;
}

// The address next to `a` in memcmp order (`step` +1 or -1, wrapping).
inline flow::IpAddress Neighbour(flow::IpAddress a, int step) {
  for (int byte_idx = 15; byte_idx >= 0; --byte_idx) {
    const std::uint8_t before = a.bytes[byte_idx];
    a.bytes[byte_idx] = static_cast<std::uint8_t>(before + step);
    if ((step > 0 && before != 0xff) || (step < 0 && before != 0)) {
      break;
    }
  }
  return a;
}

// Sets every field of row `row` of `batch` from `n` (deterministic; every field non-zero
// for most n, with IPv6 rows, extreme values and strings mixed in).
inline void FillEveryField(flow::FlowBatch& batch, std::size_t row, std::uint64_t n) {
  auto& c = batch.cols();
  const bool v6 = n % 3 == 0;
  c.time_received[row] = 1'700'000'000'000 + static_cast<std::int64_t>(n * 7);
  c.first[row] = n % 11 == 5 ? std::numeric_limits<std::int64_t>::min()
                             : -static_cast<std::int64_t>(n * 1'000'003);
  c.last[row] = n % 13 == 7 ? std::numeric_limits<std::int64_t>::max()
                            : c.time_received[row] - static_cast<std::int64_t>(n % 17);
  c.exporter[row] = flow::IpAddress::FromV4(0xc0000200u + static_cast<std::uint32_t>(n % 3));
  c.obs_domain[row] = static_cast<std::uint32_t>(n * 2654435761u);
  c.sampling_rate[row] = n % 2 == 0 ? 1 : 1000;
  c.src_addr[row] = v6 ? V6(0x20010db800000000ULL + n, n * 0x9E3779B97F4A7C15ULL)
                       : flow::IpAddress::FromV4(static_cast<std::uint32_t>(n * 2246822519u));
  c.dst_addr[row] = n % 5 == 0 ? flow::IpAddress{} : flow::IpAddress::FromV4(static_cast<std::uint32_t>(n));
  c.src_port[row] = static_cast<std::uint16_t>(n * 31);
  c.dst_port[row] = n % 7 == 0 ? 65535 : 443;
  c.proto[row] = static_cast<std::uint8_t>(n % 2 == 0 ? 6 : 17);
  c.tcp_flags[row] = static_cast<std::uint8_t>(n);
  c.tos[row] = static_cast<std::uint8_t>(n * 3);
  c.icmp_type[row] = static_cast<std::uint8_t>(n % 255 + 1);
  c.icmp_code[row] = 255;
  c.bytes[row] = n % 4 == 1 ? std::numeric_limits<std::uint64_t>::max() : n * 1500;
  c.packets[row] = n % 9 == 2 ? std::numeric_limits<std::uint64_t>::max() - 1 : n + 1;
  c.in_if[row] = static_cast<std::uint32_t>(n % 4);
  c.out_if[row] = std::numeric_limits<std::uint32_t>::max() - static_cast<std::uint32_t>(n % 2);
  c.src_as[row] = static_cast<std::uint32_t>(n * 977);
  c.dst_as[row] = 4'200'000'000u;
  c.src_mask[row] = static_cast<std::uint8_t>(n % 129);
  c.dst_mask[row] = 24;
  c.next_hop[row] = V6(0xfe80000000000000ULL, n % 2);
  c.vlan[row] = static_cast<std::uint16_t>(n % 4095);
  c.src_mac[row] = 0x0000ffffffffffffULL - n;
  c.dst_mac[row] = 0x001122334455ULL;
  c.direction[row] = static_cast<std::uint8_t>(n % 2);
  c.flow_end_reason[row] = static_cast<std::uint8_t>(n % 5 + 1);
  c.mpls_label[row] = static_cast<std::uint32_t>(n % (1u << 20));
  c.xlate_src_addr[row] = flow::IpAddress::FromV4(0x64400000u + static_cast<std::uint32_t>(n % 1000));
  c.xlate_dst_addr[row] = v6 ? V6(1, 2) : flow::IpAddress::FromV4(0);
  c.xlate_src_port[row] = static_cast<std::uint16_t>(1024 + n % 60000);
  c.xlate_dst_port[row] = 80;
  c.fw_event[row] = static_cast<std::uint8_t>(n % 6);
  c.src_country[row] = static_cast<std::uint16_t>('D' << 8 | 'E');
  c.dst_country[row] = n % 2 == 0 ? static_cast<std::uint16_t>('U' << 8 | 'S') : 0;
  c.subscriber[row] = batch.AddString("sub-" + std::to_string(n));
  c.site[row] = batch.AddString(n % 4 == 0 ? std::string() : "site-a");
  c.app[row] = batch.AddString(n % 10 == 0 ? std::string(255, 'x') : "https");
  c.bgp_next_hop[row] = flow::IpAddress::FromV4(0x0a000001);
  c.flows[row] = n % 8 == 3 ? std::numeric_limits<std::uint64_t>::max() : n % 3 + 1;
}

using RowFiller = std::function<void(flow::FlowBatch&, std::size_t row, std::uint64_t n)>;

// Writes rows 0..rows-1 made by `fill` (appended in batches of FlowBatch::kCapacity).
inline void WriteSegment(const std::string& path, std::uint64_t rows, const RowFiller& fill,
                         const store::SegmentWriterOptions& options, bool finish = true) {
  auto writer = store::SegmentWriter::Create(path, options);
  ASSERT_TRUE(writer) << writer.error().Message();
  flow::FlowBatch batch;
  for (std::uint64_t n = 0; n < rows; ++n) {
    fill(batch, batch.AppendRow(), n);
    if (batch.full()) {
      ASSERT_TRUE((*writer)->Append(batch));
      batch.Clear();
    }
  }
  if (!batch.empty()) {
    ASSERT_TRUE((*writer)->Append(batch));
  }
  if (finish) {
    const Status finished = (*writer)->Finish();
    ASSERT_TRUE(finished) << finished.error().Message();
  } else {
    ASSERT_TRUE((*writer)->Flush());
  }
}

// The expected rows, in a CollectingSink-like store for comparison.
inline CollectingSink ExpectedRows(std::uint64_t rows, const RowFiller& fill) {
  CollectingSink sink;
  flow::FlowBatch batch;
  for (std::uint64_t n = 0; n < rows; ++n) {
    fill(batch, batch.AppendRow(), n);
    if (batch.full()) {
      sink.Consume(batch);
      batch.Clear();
    }
  }
  if (!batch.empty()) {
    sink.Consume(batch);
  }
  return sink;
}

// Compares one field of two rows; strings by content.
inline bool FieldEqual(const CollectingSink::Ref& a, const CollectingSink::Ref& b, std::size_t field_idx) {
  bool equal = false;
  store::VisitColumn(field_idx, [&](auto member) {
    const auto& va = (a.cols().*member)[a.row];
    const auto& vb = (b.cols().*member)[b.row];
    if constexpr (std::is_same_v<std::decay_t<decltype(va)>, flow::StringRef>) {
      equal = a.batch->String(va) == b.batch->String(vb);
    } else {
      equal = va == vb;
    }
  });
  return equal;
}

// Expects `actual` to hold exactly `expected`'s rows, comparing the fields listed (all by
// default) and expecting every other field to be default.
inline void ExpectSameRows(const CollectingSink& expected, const CollectingSink& actual,
                           std::span<const flow::FieldId> fields = store::AllFields()) {
  ASSERT_EQ(expected.size(), actual.size());
  std::vector<bool> compared(flow::kFieldCount, false);
  for (const flow::FieldId field : fields) {
    compared[static_cast<std::size_t>(field)] = true;
  }
  CollectingSink zero;
  flow::FlowBatch zero_batch;
  zero_batch.AppendRow();
  zero.Consume(zero_batch);
  for (std::size_t row = 0; row < expected.size(); ++row) {
    for (std::size_t field_idx = 0; field_idx < flow::kFieldCount; ++field_idx) {
      const auto& want = compared[field_idx] ? expected[row] : zero[0];
      ASSERT_TRUE(FieldEqual(want, actual[row], field_idx))
          << "row " << row << " field " << flow::Info(static_cast<flow::FieldId>(field_idx)).name
          << "\n  expected " << (compared[field_idx] ? expected.Json(row) : zero.Json(0))
          << "\n  actual   " << actual.Json(row);
    }
  }
}

}  // namespace sluice::test
