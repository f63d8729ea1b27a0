// SPDX-License-Identifier: Apache-2.0
// Pure NetFlow v5 decode speed: full 30-record datagrams from one exporter, in memory.

#include <benchmark/benchmark.h>

#include <vector>

#include "bench_util.h"
#include "common/byte_order.h"
#include "decode/decoder.h"

namespace sluice::bench {
namespace {

std::vector<std::uint8_t> MakeV5Datagram(std::uint32_t sequence) {
  constexpr std::size_t kCount = 30;
  std::vector<std::uint8_t> bytes(24 + kCount * 48);
  std::uint8_t* p = bytes.data();
  StoreBe16(p, 5);
  StoreBe16(p + 2, kCount);
  StoreBe32(p + 4, 360'000'000);
  StoreBe32(p + 8, 1'700'000'000);
  StoreBe32(p + 16, sequence);
  for (std::size_t idx = 0; idx < kCount; ++idx) {
    std::uint8_t* rec = p + 24 + idx * 48;
    StoreBe32(rec, 0x0A000000 + static_cast<std::uint32_t>(idx));
    StoreBe32(rec + 4, 0xC0000200 + static_cast<std::uint32_t>(idx * 7));
    StoreBe16(rec + 12, 1);
    StoreBe16(rec + 14, 2);
    StoreBe32(rec + 16, 10);
    StoreBe32(rec + 20, 12000);
    StoreBe32(rec + 24, 359'990'000);
    StoreBe32(rec + 28, 359'999'000);
    StoreBe16(rec + 32, static_cast<std::uint16_t>(40000 + idx));
    StoreBe16(rec + 34, 443);
    rec[37] = 0x1b;
    rec[38] = 6;
  }
  return bytes;
}

void BM_DecodeNetflowV5(benchmark::State& state) {
  const std::vector<std::uint8_t> bytes = MakeV5Datagram(0);
  decode::Decoder decoder(decode::DecoderOptions{});
  CountingSink sink;
  flow::BatchWriter writer(sink);
  flow::Datagram datagram;
  datagram.exporter = flow::IpAddress::FromV4(0xC0000201);
  datagram.time_received = 1'700'000'000'000;
  datagram.payload = bytes;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decoder.Decode(datagram, writer));
  }
  writer.Flush();
  state.SetItemsProcessed(static_cast<std::int64_t>(sink.records()));
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(sink.records()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeNetflowV5);

}  // namespace
}  // namespace sluice::bench
