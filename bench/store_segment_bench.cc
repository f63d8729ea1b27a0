// SPDX-License-Identifier: Apache-2.0
// SegmentWriter throughput (flows appended per second on one core, encoding, statistics,
// compression and the write() calls included) and size on disk (bytes_per_flow counter:
// file size over rows) with the writer's default options (131072 rows per block;
// SLUICE_BENCH_ROWS_PER_BLOCK=n overrides it).
//
// The traffic is synthetic but shaped like an enterprise edge seen by a few exporters
// (seeded, 256 pre-generated batches of FlowBatch::kCapacity rows, replayed in order):
// - time: export datagrams of 20-39 flows from one of 4 exporters (skewed: one sends
//   5/8 of them), 0-2 ms apart; time_received ascends. A flow ends 0.1-2.1 s before it
//   is exported; 3/4 of flows last under 200 ms, 1/4 up to 60 s (active timeout).
// - addresses: 25 % IPv6. One side is an internal host (Zipf s=1.1 over 4000 hosts in
//   10.0.0.0/16 or 2001:db8:1::/48), the other an external one (Zipf s=1.0 over 200000
//   hosts scattered over the IPv4 space or in 2a00:1450::/32); half the flows are
//   outbound (internal = source), half inbound.
// - ports: the server side uses one of 12 real service ports (Zipf s=1.3: 443, 80, 53,
//   123, 22, ...), the client side a uniform ephemeral port (32768-60999); ICMP (2 %)
//   has port 0 and type/code 8/0 (also in dst_port, as NetFlow v5/v9 exporters do).
// - proto from the service (UDP for 53/123/3478 and 1/5 of 443 (QUIC), else TCP);
//   TCP flags from 6 common combinations (Zipf); DSCP AF11 on 10 % of flows.
// - packets 1 + Zipf s=1.2 over 3000, bytes = packets x 40-1499; sampling 1; flows 1.
// - input interfaces 1-4 (LAN) / 10-11 (uplinks), output the other side; the remote AS
//   Zipf s=1.2 over 800 ASes, the local AS 64512; masks by family and direction; two
//   next hops; direction; end reason (idle or active timeout).
// Apart from time and the exporter (one per datagram), rows are drawn independently, so
// the data is no easier to compress than real traffic, which also repeats 5-tuples
// across active-timeout exports and talks to few servers per client.

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "flow/field.h"
#include "flow/flow_batch.h"
#include "store/column_codec.h"
#include "store/segment_reader.h"
#include "store/segment_writer.h"

namespace sluice::bench {
namespace {

using flow::FlowBatch;
using flow::IpAddress;

// Draws ranks 0..n-1 with probability proportional to 1 / (rank + 1)^s.
class Zipf {
 public:
  Zipf(std::size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (std::size_t rank = 0; rank < n; ++rank) {
      sum += 1.0 / std::pow(static_cast<double>(rank + 1), s);
      cdf_[rank] = sum;
    }
    for (double& c : cdf_) {
      c /= sum;
    }
  }

  std::size_t operator()(std::mt19937_64& rng) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return static_cast<std::size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin()) %
           cdf_.size();
  }

 private:
  std::vector<double> cdf_;
};

IpAddress V6(std::uint64_t hi, std::uint64_t lo) {
  IpAddress a;
  for (int byte_idx = 0; byte_idx < 8; ++byte_idx) {
    a.bytes[byte_idx] = static_cast<std::uint8_t>(hi >> (56 - 8 * byte_idx));
    a.bytes[8 + byte_idx] = static_cast<std::uint8_t>(lo >> (56 - 8 * byte_idx));
  }
  return a;
}

// Pre-generated traffic: kBatches full batches, time-ordered.
class Traffic {
 public:
  static constexpr std::size_t kBatches = 256;

  Traffic() {
    std::mt19937_64 rng(20261123);
    const Zipf internal_hosts(4000, 1.1);
    const Zipf external_hosts(200000, 1.0);
    const Zipf services(12, 1.3);
    const Zipf ases(800, 1.2);
    const Zipf flags(6, 1.0);
    const Zipf sizes(3000, 1.2);
    constexpr std::uint16_t kPorts[] = {443, 80, 53, 123, 22, 25, 993, 8080, 3478, 5223, 1194, 587};
    constexpr std::uint8_t kFlags[] = {0x1b, 0x1f, 0x02, 0x10, 0x18, 0x19};
    const std::array<IpAddress, 4> exporters = {
        IpAddress::FromV4(0xc0000201), IpAddress::FromV4(0xc0000202),
        IpAddress::FromV4(0xc0000203), IpAddress::FromV4(0xc0000204)};
    std::int64_t now_ms = 1'763'900'000'000;
    for (std::size_t batch_idx = 0; batch_idx < kBatches; ++batch_idx) {
      auto batch = std::make_unique<FlowBatch>();
      auto& c = batch->cols();
      std::size_t exporter_idx = 0;
      std::uint32_t datagram_left = 0;
      while (!batch->full()) {
        if (datagram_left == 0) {
          // A datagram of ~30 flows from one exporter, 0-2 ms after the previous one.
          datagram_left = 20 + static_cast<std::uint32_t>(rng() % 20);
          exporter_idx = std::min<std::size_t>(rng() % 8, 3);
          now_ms += static_cast<std::int64_t>(rng() % 3);
        }
        --datagram_left;
        const std::size_t row = batch->AppendRow();
        c.time_received[row] = now_ms;
        c.last[row] = now_ms - 100 - static_cast<std::int64_t>(rng() % 2000);
        const bool long_flow = rng() % 4 == 0;
        c.first[row] = c.last[row] - static_cast<std::int64_t>(long_flow ? rng() % 60000 : rng() % 200);
        c.exporter[row] = exporters[exporter_idx];
        c.obs_domain[row] = static_cast<std::uint32_t>(exporter_idx);
        c.sampling_rate[row] = 1;
        const bool v6 = rng() % 4 == 0;
        const std::size_t inside = internal_hosts(rng);
        const std::size_t outside = external_hosts(rng);
        IpAddress client = v6 ? V6(0x20010db800010000ULL | (inside >> 8), 0x1000 + inside)
                              : IpAddress::FromV4(0x0a000000u | static_cast<std::uint32_t>(inside * 7 % 65536));
        IpAddress server = v6 ? V6(0x2a00145000000000ULL + (outside << 20), 0x200e + outside % 7)
                              : IpAddress::FromV4(static_cast<std::uint32_t>((outside * 2654435761u) % 0xdf000000u) + 0x01000000u);
        const std::uint16_t service = kPorts[services(rng)];
        const std::uint16_t ephemeral = static_cast<std::uint16_t>(32768 + rng() % 28232);
        const bool outbound = rng() % 2 == 0;
        c.src_addr[row] = outbound ? client : server;
        c.dst_addr[row] = outbound ? server : client;
        c.src_port[row] = outbound ? ephemeral : service;
        c.dst_port[row] = outbound ? service : ephemeral;
        const bool icmp = rng() % 50 == 0;
        c.proto[row] = icmp ? (v6 ? 58 : 1) : (service == 53 || service == 123 || service == 3478 || (service == 443 && rng() % 5 == 0)) ? 17 : 6;
        if (icmp) {
          c.src_port[row] = 0;
          c.dst_port[row] = 0x0800;  // type 8 (echo request), code 0
          c.icmp_type[row] = 8;
        }
        c.tcp_flags[row] = c.proto[row] == 6 ? kFlags[flags(rng)] : 0;
        c.tos[row] = rng() % 10 == 0 ? 0x28 : 0;
        const std::uint64_t packets = 1 + sizes(rng);
        c.packets[row] = packets;
        c.bytes[row] = packets * (40 + rng() % 1460);
        c.in_if[row] = outbound ? 1 + static_cast<std::uint32_t>(rng() % 4) : 10 + static_cast<std::uint32_t>(rng() % 2);
        c.out_if[row] = outbound ? 10 + static_cast<std::uint32_t>(rng() % 2) : 1 + static_cast<std::uint32_t>(rng() % 4);
        const std::uint32_t remote_as = 1000 + static_cast<std::uint32_t>(ases(rng) * 37);
        c.src_as[row] = outbound ? 64512 : remote_as;
        c.dst_as[row] = outbound ? remote_as : 64512;
        c.src_mask[row] = v6 ? 48 : (outbound ? 24 : 16);
        c.dst_mask[row] = v6 ? 32 : (outbound ? 16 : 24);
        c.next_hop[row] = IpAddress::FromV4(0x0a0000fe + static_cast<std::uint32_t>(rng() % 2));
        c.direction[row] = outbound ? 1 : 0;
        c.flow_end_reason[row] = long_flow ? 2 : 1;
        c.flows[row] = 1;
      }
      batches_.push_back(std::move(batch));
    }
  }

  const FlowBatch& operator[](std::size_t idx) const { return *batches_[idx % kBatches]; }

 private:
  std::vector<std::unique_ptr<FlowBatch>> batches_;
};

const Traffic& SharedTraffic() {
  static const Traffic traffic;
  return traffic;
}

// With SLUICE_BENCH_COLUMNS set: bytes per flow of each column, to see where size goes.
void PrintColumnSizes(const std::string& path) {
  auto reader = store::SegmentReader::Open(path);
  if (!reader) {
    return;
  }
  std::array<double, flow::kFieldCount> stored{};
  std::array<double, flow::kFieldCount> raw{};
  std::array<std::uint16_t, flow::kFieldCount> encodings{};
  for (const store::BlockInfo& block : (*reader)->blocks()) {
    for (const store::ColumnChunk& chunk : block.chunks) {
      stored[static_cast<std::size_t>(chunk.field)] += chunk.stored_length;
      raw[static_cast<std::size_t>(chunk.field)] += chunk.raw_length;
      encodings[static_cast<std::size_t>(chunk.field)] |=
          static_cast<std::uint16_t>(1u << static_cast<unsigned>(chunk.encoding));
    }
  }
  const auto rows = static_cast<double>((*reader)->summary().row_count);
  for (std::size_t field_idx = 0; field_idx < flow::kFieldCount; ++field_idx) {
    if (stored[field_idx] > 0) {
      std::fprintf(stderr, "  %-16s %6.3f B/flow (%6.3f encoded)  encodings 0x%04x\n",
                   std::string(flow::Info(static_cast<flow::FieldId>(field_idx)).name).c_str(),
                   stored[field_idx] / rows, raw[field_idx] / rows, encodings[field_idx]);
    }
  }
}

void BM_SegmentWriterAppend(benchmark::State& state) {
  const Traffic& traffic = SharedTraffic();
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("sluice_store_bench_" + std::to_string(::getpid()) + ".seg"))
                               .string();
  store::SegmentWriterOptions options;
  options.compression = static_cast<store::Compression>(state.range(0));
  options.zstd_level = static_cast<int>(state.range(1));
  options.sync = false;
  if (const char* rows = std::getenv("SLUICE_BENCH_ROWS_PER_BLOCK")) {  // for experiments
    options.rows_per_block = static_cast<std::uint32_t>(std::strtoul(rows, nullptr, 10));
  }
  if (const char* rows = std::getenv("SLUICE_BENCH_CLUSTER_ROWS")) {  // for experiments
    options.cluster_rows = static_cast<std::uint32_t>(std::strtoul(rows, nullptr, 10));
  }
  auto writer = store::SegmentWriter::Create(path, options);
  if (!writer) {
    state.SkipWithError(std::string(writer.error().Message()).c_str());
    return;
  }
  std::size_t batch_idx = 0;
  for (auto _ : state) {
    if (!(*writer)->Append(traffic[batch_idx++])) {
      state.SkipWithError("append failed");
      break;
    }
  }
  if (!(*writer)->Finish()) {
    state.SkipWithError("finish failed");
  }
  const auto flows = static_cast<double>((*writer)->row_count());
  state.SetItemsProcessed(static_cast<std::int64_t>(flows));
  state.counters["bytes_per_flow"] = static_cast<double>((*writer)->file_size()) / flows;
  state.SetLabel(std::string(store::CompressionName(options.compression)));
  if (std::getenv("SLUICE_BENCH_COLUMNS") != nullptr) {
    PrintColumnSizes(path);
  }
  std::filesystem::remove(path);
}

// The address encoder alone on a block of the traffic's source addresses (131072 rows,
// the writer's default block), to aim at its cost without the rest of the writer.
void BM_EncodeSourceAddresses(benchmark::State& state) {
  const Traffic& traffic = SharedTraffic();
  constexpr std::size_t kRows = 131072;
  std::vector<IpAddress> values;
  values.reserve(kRows);
  for (std::size_t batch_idx = 0; values.size() < kRows; ++batch_idx) {
    const FlowBatch& batch = traffic[batch_idx];
    for (std::size_t row = 0; row < batch.size() && values.size() < kRows; ++row) {
      values.push_back(batch.cols().src_addr[row]);
    }
  }
  store::ColumnEncoder encoder;
  store::Buffer out;
  std::size_t encoded_bytes = 0;
  for (auto _ : state) {
    out.clear();
    const auto encoded = encoder.Encode(flow::FieldType::kIpAddress,
                                        reinterpret_cast<const std::uint8_t*>(values.data()), kRows,
                                        {}, nullptr, out);
    benchmark::DoNotOptimize(encoded);
    encoded_bytes = out.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kRows));
  state.counters["encoded_bytes_per_row"] = static_cast<double>(encoded_bytes) / kRows;
}

BENCHMARK(BM_EncodeSourceAddresses);

// With SLUICE_BENCH_SEGMENT=FILE: the bytes per flow of each column of that segment (one
// written by `sluice serve`, say), e.g. `SLUICE_BENCH_SEGMENT=data/.../1435.seg store_bench
// --benchmark_filter=ColumnSizes`; skipped without it.
void BM_ColumnSizes(benchmark::State& state) {
  const char* path = std::getenv("SLUICE_BENCH_SEGMENT");
  if (path == nullptr) {
    state.SkipWithError("SLUICE_BENCH_SEGMENT is not set");
    return;
  }
  for (auto _ : state) {
    PrintColumnSizes(path);
  }
}

BENCHMARK(BM_ColumnSizes)->Iterations(1);

BENCHMARK(BM_SegmentWriterAppend)
    ->ArgNames({"compression", "level"})
    ->Args({static_cast<int>(store::Compression::kZstd), store::kDefaultZstdLevel})
    ->Args({static_cast<int>(store::Compression::kZstd), 1})
    ->Args({static_cast<int>(store::Compression::kZstd), 2})
    ->Args({static_cast<int>(store::Compression::kZstd), 3})
    ->Args({static_cast<int>(store::Compression::kZstd), -1})
    ->Args({static_cast<int>(store::Compression::kZstd), -3})
    ->Args({static_cast<int>(store::Compression::kLz4), 0})
    ->Args({static_cast<int>(store::Compression::kNone), 0})
    ->MinTime(1.0);

// A fixed amount of work (Traffic::kBatches batches: 2 blocks of 131072 rows, at the
// default zstd level and at level 1), for instruction counts that compare builds on a busy
// machine: `valgrind --tool=callgrind store_bench --benchmark_filter=Fixed/.*level:1/`
// against the same for the default level (whole-program counts: the traffic generation
// costs the same in both, so the difference is the writer's).
BENCHMARK(BM_SegmentWriterAppend)
    ->Name("BM_SegmentWriterAppendFixed")
    ->ArgNames({"compression", "level"})
    ->Args({static_cast<int>(store::Compression::kZstd), store::kDefaultZstdLevel})
    ->Args({static_cast<int>(store::Compression::kZstd), 1})
    ->Iterations(Traffic::kBatches);

}  // namespace
}  // namespace sluice::bench
