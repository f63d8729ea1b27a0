// SPDX-License-Identifier: Apache-2.0
// Query engine throughput (rows scanned per second) over a store of synthetic flows, for
// aiming optimizations (the side-by-side comparison with nfdump is bench/e2e's).
//
// The store is built once under the temporary directory (sluice_query_bench_<flows>, kept
// between runs; SLUICE_QUERY_BENCH_FLOWS sets the flow count, default 4 000 000): two
// hours of 5-minute slots, zstd level 1, the writer's default 131072 rows per block,
// written with SegmentWriter. Traffic: 25 % IPv6; an internal host (skewed over 4000)
// talks to an external one (skewed over 200 000); server ports skewed over 12 services,
// client ports uniform; UDP for 53/123 and a fifth of 443; packets 1..3000 skewed,
// 40..1499 bytes per packet; flows start in their slot and last up to a minute.
//
// Each query runs with 1 and 2 scan threads (Arg): a selective filter (totals only),
// -s srcip/bytes, -A 5-tuple -O bytes -n 10, and a 1-minute bucket series.

#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "flow/field.h"
#include "flow/flow_batch.h"
#include "query/engine.h"
#include "store/layout.h"
#include "store/segment_writer.h"

namespace sluice::bench {
namespace {

using flow::FieldId;
using flow::IpAddress;

constexpr std::int64_t kStart = 1'699'999'200'000;  // an hour start
constexpr std::int64_t kSlotMs = 5 * 60'000;
constexpr int kSlots = 24;

std::uint64_t FlowCount() {
  const char* text = std::getenv("SLUICE_QUERY_BENCH_FLOWS");
  if (text != nullptr) {
    const long long value = std::atoll(text);
    if (value > 0) {
      return static_cast<std::uint64_t>(value);
    }
  }
  return 4'000'000;
}

// A rank in [0, n) skewed towards 0 (roughly Zipf-like, cheap to draw).
std::uint32_t Skewed(std::mt19937_64& rng, std::uint32_t n, double power) {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  return static_cast<std::uint32_t>(std::pow(u, power) * n) % n;
}

IpAddress V6(std::uint64_t hi, std::uint64_t lo) {
  IpAddress a;
  for (int byte_idx = 0; byte_idx < 8; ++byte_idx) {
    a.bytes[byte_idx] = static_cast<std::uint8_t>(hi >> (56 - 8 * byte_idx));
    a.bytes[8 + byte_idx] = static_cast<std::uint8_t>(lo >> (56 - 8 * byte_idx));
  }
  return a;
}

void FillFlow(flow::FlowBatch& batch, std::size_t row, std::mt19937_64& rng, std::int64_t slot_start) {
  static constexpr std::array<std::uint16_t, 12> kServices = {443, 80, 53, 123, 22, 993,
                                                               25, 8080, 3478, 5228, 853, 3389};
  auto& c = batch.cols();
  const bool v6 = rng() % 4 == 0;
  const std::uint32_t internal = Skewed(rng, 4000, 3.0);
  const std::uint32_t external = Skewed(rng, 200'000, 2.0);
  const IpAddress inside = v6 ? V6(0x20010db800010000ULL, internal + 1)
                              : IpAddress::FromV4(0x0a000000u + internal);
  const IpAddress outside = v6 ? V6(0x2a00145000000000ULL + external, 1)
                               : IpAddress::FromV4(0x50000000u + external * 2654435761u % 0x60000000u);
  const bool outbound = rng() % 2 == 0;
  const std::uint16_t service = kServices[Skewed(rng, kServices.size(), 3.0)];
  const auto client_port = static_cast<std::uint16_t>(32768 + rng() % 28232);
  c.src_addr[row] = outbound ? inside : outside;
  c.dst_addr[row] = outbound ? outside : inside;
  c.src_port[row] = outbound ? client_port : service;
  c.dst_port[row] = outbound ? service : client_port;
  c.proto[row] = service == 53 || service == 123 || service == 3478 || (service == 443 && rng() % 5 == 0) ? 17 : 6;
  c.packets[row] = 1 + Skewed(rng, 3000, 6.0);
  c.bytes[row] = c.packets[row] * (40 + rng() % 1460);
  c.first[row] = slot_start + static_cast<std::int64_t>(rng() % kSlotMs);
  c.last[row] = c.first[row] + static_cast<std::int64_t>(rng() % 4 == 0 ? rng() % 60'000 : rng() % 200);
  c.time_received[row] = c.last[row] + 1000;
  c.exporter[row] = IpAddress::FromV4(0xc0000201u + static_cast<std::uint32_t>(rng() % 4));
  c.in_if[row] = outbound ? 1 + static_cast<std::uint32_t>(rng() % 4) : 10;
  c.out_if[row] = outbound ? 10 : 1 + static_cast<std::uint32_t>(rng() % 4);
  c.src_as[row] = outbound ? 64512 : Skewed(rng, 800, 3.0);
  c.dst_as[row] = outbound ? Skewed(rng, 800, 3.0) : 64512;
  c.tcp_flags[row] = c.proto[row] == 6 ? 0x1b : 0;
  c.sampling_rate[row] = 1;
  c.flows[row] = 1;
}

// The data directory, built on first use.
const std::string& DataDir() {
  static const std::string dir = [] {
    const std::uint64_t flows = FlowCount();
    const std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("sluice_query_bench_" + std::to_string(flows));
    const std::filesystem::path done = path / "complete";
    if (std::filesystem::exists(done)) {
      return path.string();
    }
    std::filesystem::remove_all(path);
    std::fprintf(stderr, "building a store of %llu flows in %s ...\n",
                 static_cast<unsigned long long>(flows), path.c_str());
    std::mt19937_64 rng(42);
    store::SegmentWriterOptions options;
    options.sync = false;
    const std::uint64_t per_slot = (flows + kSlots - 1) / kSlots;
    std::uint64_t written = 0;
    flow::FlowBatch batch;
    for (int slot = 0; slot < kSlots && written < flows; ++slot) {
      const std::int64_t slot_start = kStart + slot * kSlotMs;
      const std::string file = store::DetailSegmentPath(path.string(), "bench", slot_start, 0);
      std::filesystem::create_directories(std::filesystem::path(file).parent_path());
      auto writer = store::SegmentWriter::Create(file, options);
      if (!writer) {
        std::fprintf(stderr, "%s\n", std::string(writer.error().Message()).c_str());
        std::abort();
      }
      for (std::uint64_t n = 0; n < per_slot && written < flows; ++n, ++written) {
        FillFlow(batch, batch.AppendRow(), rng, slot_start);
        if (batch.full()) {
          if (!(*writer)->Append(batch)) {
            std::abort();
          }
          batch.Clear();
        }
      }
      if (!batch.empty()) {
        if (!(*writer)->Append(batch)) {
          std::abort();
        }
        batch.Clear();
      }
      if (!(*writer)->Finish()) {
        std::abort();
      }
    }
    std::ofstream(done.string()) << flows << "\n";
    return path.string();
  }();
  return dir;
}

void RunSpec(benchmark::State& state, query::QuerySpec spec) {
  spec.data_dir = DataDir();
  spec.threads = static_cast<std::size_t>(state.range(0));
  std::uint64_t rows = 0;
  std::uint64_t matched = 0;
  for (auto _ : state) {
    auto result = query::RunQuery(spec, nullptr);
    if (!result) {
      state.SkipWithError(std::string(result.error().Message()).c_str());
      return;
    }
    rows += result->scan.rows_scanned;
    matched += result->scan.rows_matched;
    benchmark::DoNotOptimize(result->totals);
  }
  state.counters["rows_per_second"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.counters["matched_per_iter"] =
      benchmark::Counter(static_cast<double>(matched), benchmark::Counter::kAvgIterations);
}

void BM_SelectiveFilter(benchmark::State& state) {
  query::QuerySpec spec;
  spec.filter = "proto udp and dst port 123";
  RunSpec(state, spec);
}

void BM_StatSrcIpBytes(benchmark::State& state) {
  query::QuerySpec spec;
  query::StatSpec stat;
  stat.name = "srcip";
  stat.key = {{FieldId::kSrcAddr}};
  stat.order = query::OrderBy::kBytes;
  spec.stats = {stat};
  RunSpec(state, spec);
}

void BM_Aggregate5Tuple(benchmark::State& state) {
  query::QuerySpec spec;
  spec.aggregate = {{FieldId::kProto}, {FieldId::kSrcAddr}, {FieldId::kSrcPort}, {FieldId::kDstAddr},
                    {FieldId::kDstPort}};
  spec.order = query::OrderBy::kBytes;
  spec.top_n = 10;
  spec.memory_budget_bytes = std::size_t{4} << 30;
  RunSpec(state, spec);
}

void BM_BucketSeries(benchmark::State& state) {
  query::QuerySpec spec;
  spec.bucket_ms = 60'000;
  RunSpec(state, spec);
}

BENCHMARK(BM_SelectiveFilter)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StatSrcIpBytes)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Aggregate5Tuple)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BucketSeries)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace sluice::bench
