// SPDX-License-Identifier: Apache-2.0
// Helpers for the query engine tests: small stores of deterministic flows written with
// SegmentWriter under a temporary data directory, and a brute-force reference computed
// over the same flows (independent of the engine's key encoding and hash tables).

#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "flow/field.h"
#include "flow/flow_batch.h"
#include "flow/ip_address.h"
#include "query/engine.h"
#include "query/query_result.h"
#include "query/query_spec.h"
#include "store/layout.h"
#include "store/rollup.h"
#include "store/segment_test_util.h"
#include "store/segment_writer.h"

namespace sluice::test {

struct TestFlow {
  std::int64_t first = 0;
  std::int64_t last = 0;
  std::int64_t received = 0;
  flow::IpAddress exporter;
  flow::IpAddress src;
  flow::IpAddress dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint8_t proto = 0;
  std::uint64_t bytes = 0;
  std::uint64_t packets = 0;
  std::uint64_t flows = 1;
  std::uint32_t in_if = 0;
  std::uint32_t out_if = 0;
  std::uint32_t src_as = 0;
  std::uint32_t dst_as = 0;
};

// An hour start used by every test (2023-11-14 22:00 UTC).
inline constexpr std::int64_t kHour = 1'699'999'200'000;

// The n-th flow of a deterministic mix: few distinct values (ties, groups), IPv4 and IPv6,
// some flows whose source and destination are the same, times from `base_ms` on.
inline TestFlow MakeFlow(std::uint64_t n, std::int64_t base_ms) {
  TestFlow f;
  f.first = base_ms + static_cast<std::int64_t>(n) * 1000;
  f.last = f.first + static_cast<std::int64_t>(n % 7) * 500;
  f.received = f.last + 1000;
  f.exporter = flow::IpAddress::FromV4(0xc0000201u + static_cast<std::uint32_t>(n % 2));
  if (n % 5 == 4) {
    f.src = V6(0x20010db800000000ULL + n % 3, n % 5 + (n % 2) * 0x10000);
  } else {
    f.src = flow::IpAddress::FromV4(0x0a000000u | static_cast<std::uint32_t>(n % 7) << 8 |
                                    static_cast<std::uint32_t>(n % 13));
  }
  f.dst = n % 17 == 0 ? f.src
                      : flow::IpAddress::FromV4(0xc0a80000u | static_cast<std::uint32_t>(n % 4) << 8 |
                                                static_cast<std::uint32_t>(n % 9));
  static constexpr std::array<std::uint16_t, 4> kPorts = {80, 443, 53, 22};
  f.src_port = static_cast<std::uint16_t>(1024 + n % 50);
  f.dst_port = kPorts[n % 4];
  f.proto = n % 3 == 0 ? 17 : 6;
  f.bytes = 40 + (n * 37) % 1500;
  f.packets = 1 + n % 10;
  f.flows = 1 + (n % 5 == 0 ? 1 : 0);
  f.in_if = static_cast<std::uint32_t>(n % 3);
  f.out_if = 10 + static_cast<std::uint32_t>(n % 2);
  f.src_as = static_cast<std::uint32_t>(n % 6);
  f.dst_as = 64512;
  return f;
}

inline std::vector<TestFlow> MakeFlows(std::uint64_t from, std::uint64_t to, std::int64_t base_ms) {
  std::vector<TestFlow> flows;
  for (std::uint64_t n = from; n < to; ++n) {
    flows.push_back(MakeFlow(n, base_ms));
  }
  return flows;
}

inline void FillRow(flow::FlowBatch& batch, std::size_t row, const TestFlow& f) {
  auto& c = batch.cols();
  c.time_received[row] = f.received;
  c.first[row] = f.first;
  c.last[row] = f.last;
  c.exporter[row] = f.exporter;
  c.src_addr[row] = f.src;
  c.dst_addr[row] = f.dst;
  c.src_port[row] = f.src_port;
  c.dst_port[row] = f.dst_port;
  c.proto[row] = f.proto;
  c.bytes[row] = f.bytes;
  c.packets[row] = f.packets;
  c.flows[row] = f.flows;
  c.in_if[row] = f.in_if;
  c.out_if[row] = f.out_if;
  c.src_as[row] = f.src_as;
  c.dst_as[row] = f.dst_as;
}

inline store::SegmentWriterOptions TestWriterOptions(std::uint32_t rows_per_block = 64) {
  store::SegmentWriterOptions options;
  options.rows_per_block = rows_per_block;
  options.sync = false;
  options.compression = store::Compression::kLz4;
  return options;
}

// Writes `flows` to `path` (finished, or only flushed: a .seg.open file).
inline void WriteFlows(const std::string& path, std::span<const TestFlow> flows,
                       std::uint32_t rows_per_block = 64, bool finish = true) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  WriteSegment(path, flows.size(), [&](flow::FlowBatch& batch, std::size_t row, std::uint64_t n) {
    FillRow(batch, row, flows[n]);
  }, TestWriterOptions(rows_per_block), finish);
}

// A store under a temporary directory.
class TestStore {
 public:
  const std::string& dir() const { return dir_; }

  // Writes a detail segment of `source` for the slot at `slot_start`; returns its path.
  std::string AddSegment(const std::string& source, std::int64_t slot_start, std::span<const TestFlow> flows,
                         std::uint32_t index = 0, bool finish = true, std::uint32_t rows_per_block = 64) {
    std::string path = store::DetailSegmentPath(dir_, source, slot_start, index);
    if (!finish) {
      path = store::OpenPathFor(path);
    }
    WriteFlows(path, flows, rows_per_block, finish);
    return path;
  }

 private:
  TempDir temp_;
  std::string dir_ = temp_.File("data");
};

// ---- The reference ----

using RefPart = std::pair<std::uint64_t, std::array<std::uint8_t, 16>>;
using RefKey = std::vector<RefPart>;

inline flow::IpAddress Masked(flow::IpAddress address, unsigned v4_prefix, unsigned v6_prefix) {
  const bool v4 = address.IsV4();
  const unsigned start = v4 ? 96 : 0;
  const unsigned keep = v4 ? 96 + v4_prefix : v6_prefix;
  for (unsigned bit = start; bit < 128; ++bit) {
    if (bit >= keep) {
      address.bytes[bit / 8] = static_cast<std::uint8_t>(address.bytes[bit / 8] & ~(0x80u >> (bit % 8)));
    }
  }
  return address;
}

inline RefPart PartOf(const TestFlow& f, const query::KeyField& key) {
  using flow::FieldId;
  auto address = [&](const flow::IpAddress& a) {
    return RefPart{0, Masked(a, key.v4_prefix, key.v6_prefix).bytes};
  };
  auto number = [](std::uint64_t v) { return RefPart{v, {}}; };
  switch (key.field) {
    case FieldId::kSrcAddr: return address(f.src);
    case FieldId::kDstAddr: return address(f.dst);
    case FieldId::kExporter: return address(f.exporter);
    case FieldId::kSrcPort: return number(f.src_port);
    case FieldId::kDstPort: return number(f.dst_port);
    case FieldId::kProto: return number(f.proto);
    case FieldId::kInIf: return number(f.in_if);
    case FieldId::kOutIf: return number(f.out_if);
    case FieldId::kSrcAs: return number(f.src_as);
    case FieldId::kDstAs: return number(f.dst_as);
    case FieldId::kBytes: return number(f.bytes);
    default: ADD_FAILURE() << "field not in the test flows"; return number(0);
  }
}

inline RefKey KeyOf(const TestFlow& f, std::span<const query::KeyField> key) {
  RefKey out;
  for (const query::KeyField& field : key) {
    out.push_back(PartOf(f, field));
  }
  return out;
}

inline RefKey KeyOf(const std::vector<query::KeyValue>& values) {
  RefKey out;
  for (const query::KeyValue& value : values) {
    out.push_back({value.number, value.address.bytes});
  }
  return out;
}

inline void AddTo(query::Counters& c, const TestFlow& f) {
  c.flows += f.flows;
  c.packets += f.packets;
  c.bytes += f.bytes;
  if (f.first != 0 && (c.first_ms == 0 || f.first < c.first_ms)) {
    c.first_ms = f.first;
  }
  c.last_ms = std::max(c.last_ms, f.last);
}

inline bool operator==(const query::Counters& a, const query::Counters& b) {
  return a.flows == b.flows && a.packets == b.packets && a.bytes == b.bytes &&
         a.first_ms == b.first_ms && a.last_ms == b.last_ms;
}

inline query::Counters Totals(std::span<const TestFlow> flows) {
  query::Counters c;
  for (const TestFlow& f : flows) {
    AddTo(c, f);
  }
  return c;
}

inline std::vector<TestFlow> InWindow(std::span<const TestFlow> flows, std::int64_t from, std::int64_t to) {
  std::vector<TestFlow> out;
  for (const TestFlow& f : flows) {
    if (f.first >= from && f.last <= to) {
      out.push_back(f);
    }
  }
  return out;
}

using RefGroups = std::map<RefKey, query::Counters>;

inline RefGroups Group(std::span<const TestFlow> flows, std::span<const query::KeyField> key,
                       std::span<const query::KeyField> paired = {}) {
  RefGroups groups;
  for (const TestFlow& f : flows) {
    AddTo(groups[KeyOf(f, key)], f);
    if (!paired.empty()) {
      AddTo(groups[KeyOf(f, paired)], f);
    }
  }
  return groups;
}

// The groups ordered as the engine orders them (flows, packets, bytes descending;
// tstart ascending; ties by key ascending), cut to n (0 = all).
inline std::vector<std::pair<RefKey, query::Counters>> Top(const RefGroups& groups, query::OrderBy order,
                                                           std::size_t n) {
  std::vector<std::pair<RefKey, query::Counters>> rows(groups.begin(), groups.end());
  auto metric = [&](const query::Counters& c) -> std::int64_t {
    switch (order) {
      case query::OrderBy::kFlows: return -static_cast<std::int64_t>(c.flows);
      case query::OrderBy::kPackets: return -static_cast<std::int64_t>(c.packets);
      case query::OrderBy::kBytes: return -static_cast<std::int64_t>(c.bytes);
      case query::OrderBy::kTstart: return c.first_ms;
      case query::OrderBy::kTend: return c.last_ms;
      default: ADD_FAILURE() << "order not in the reference"; return 0;
    }
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
    return metric(a.second) < metric(b.second);
  });
  if (n > 0 && rows.size() > n) {
    rows.resize(n);
  }
  return rows;
}

inline void ExpectRows(const std::vector<std::pair<RefKey, query::Counters>>& want,
                       const std::vector<query::GroupRow>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t idx = 0; idx < want.size(); ++idx) {
    EXPECT_TRUE(want[idx].first == KeyOf(got[idx].key)) << "row " << idx;
    EXPECT_TRUE(want[idx].second == got[idx].counters)
        << "row " << idx << ": want flows " << want[idx].second.flows << " bytes " << want[idx].second.bytes
        << ", got flows " << got[idx].counters.flows << " bytes " << got[idx].counters.bytes;
  }
}

inline query::QuerySpec SpecFor(const TestStore& store) {
  query::QuerySpec spec;
  spec.data_dir = store.dir();
  spec.threads = 2;
  return spec;
}

// Concatenation of spans.
inline std::vector<TestFlow> Concat(std::initializer_list<std::span<const TestFlow>> parts) {
  std::vector<TestFlow> out;
  for (const auto& part : parts) {
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

// ---- Summaries ----

// Writes every summary of detail segment 0 of `slot`, as the store's Maintainer does;
// with `minute_shrinks`, checks that the minute summary has fewer rows than the segment.
inline void SummariseSlot(const TestStore& store, std::int64_t slot, bool minute_shrinks = false) {
  store::SummarySpec summary;
  summary.segment = store::DetailSegmentPath(store.dir(), "core", slot, 0);
  summary.slot_start = slot;
  for (std::size_t kind = 0; kind < store::kSummaryDirs.size(); ++kind) {
    summary.summaries.push_back(kind);
    summary.paths.push_back(store::SummaryPath(store.dir(), "core", kind, slot, 0));
    std::filesystem::create_directories(std::filesystem::path(summary.paths.back()).parent_path());
  }
  summary.writer_options = TestWriterOptions(256);
  auto built = store::BuildSummaries(summary);
  ASSERT_TRUE(built) << built.error().Message();
  ASSERT_FALSE(built->damaged);
  if (minute_shrinks) {
    ASSERT_LT(built->rows[0], built->input_rows);
  }
}

// Merges the slot summaries of `slots` into the hour summaries of `hour` (kHourSummaries),
// as the store's Maintainer does once the hour is complete.
inline void WriteHourSummaries(const TestStore& store, std::int64_t hour, const std::vector<std::int64_t>& slots) {
  for (const std::size_t kind : store::kHourSummaries) {
    store::RollupSpec merge;
    merge.path = store::HourSummaryPath(store.dir(), "core", kind, hour);
    merge.shape = store::kSummaryShapes[kind];
    merge.hour_start = hour;
    for (const std::int64_t slot : slots) {
      merge.segments.push_back(store::SummaryPath(store.dir(), "core", kind, slot, 0));
    }
    merge.writer_options = TestWriterOptions(256);
    auto built = store::BuildRollup(merge);
    ASSERT_TRUE(built) << built.error().Message();
    ASSERT_TRUE(built->skipped.empty());
  }
}

}  // namespace sluice::test
