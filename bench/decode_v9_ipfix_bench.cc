// SPDX-License-Identifier: Apache-2.0
// NetFlow v9 and IPFIX decode speed with known templates: a softflowd/Cisco-like
// 18-field IPv4 template, 30 records per datagram, one exporter, in memory.

#include <benchmark/benchmark.h>

#include <vector>

#include "bench_util.h"
#include "common/byte_order.h"
#include "decode/decoder.h"

namespace sluice::bench {
namespace {

constexpr std::size_t kRecords = 30;
constexpr std::uint32_t kUnixSecs = 1'700'000'000;
constexpr std::uint32_t kUptime = 360'000'000;

struct Field {
  std::uint16_t ie;
  std::uint16_t length;
};

// srcaddr dstaddr nexthop srcport dstport proto tcp_flags tos bytes packets input output
// src_as dst_as src_mask dst_mask + two times (v9: FIRST/LAST_SWITCHED uptimes, IPFIX:
// flowStart/EndMilliseconds).
std::vector<Field> Fields(bool ipfix) {
  return {{8, 4},  {12, 4}, {15, 4}, {7, 2},  {11, 2}, {4, 1},
          {6, 1},  {5, 1},  {1, 4},  {2, 4},  {10, 2}, {14, 2},
          {16, 2}, {17, 2}, {9, 1},  {13, 1}, {ipfix ? std::uint16_t{152} : std::uint16_t{22}, ipfix ? std::uint16_t{8} : std::uint16_t{4}},
          {ipfix ? std::uint16_t{153} : std::uint16_t{21}, ipfix ? std::uint16_t{8} : std::uint16_t{4}}};
}

class Writer {
 public:
  void U8(std::uint8_t v) { bytes.push_back(v); }
  void U16(std::uint16_t v) {
    bytes.resize(bytes.size() + 2);
    StoreBe16(bytes.data() + bytes.size() - 2, v);
  }
  void U32(std::uint32_t v) {
    bytes.resize(bytes.size() + 4);
    StoreBe32(bytes.data() + bytes.size() - 4, v);
  }
  void U64(std::uint64_t v) {
    bytes.resize(bytes.size() + 8);
    StoreBe64(bytes.data() + bytes.size() - 8, v);
  }
  void Patch16(std::size_t at, std::uint16_t v) { StoreBe16(bytes.data() + at, v); }

  std::vector<std::uint8_t> bytes;
};

void Header(Writer& w, bool ipfix, std::uint16_t count) {
  if (ipfix) {
    w.U16(10);
    w.U16(0);  // length, patched
    w.U32(kUnixSecs);
    w.U32(0);
    w.U32(1);
  } else {
    w.U16(9);
    w.U16(count);
    w.U32(kUptime);
    w.U32(kUnixSecs);
    w.U32(0);
    w.U32(1);
  }
}

std::vector<std::uint8_t> TemplatePacket(bool ipfix) {
  Writer w;
  Header(w, ipfix, 1);
  const std::size_t set = w.bytes.size();
  w.U16(ipfix ? 2 : 0);
  w.U16(0);
  const std::vector<Field> fields = Fields(ipfix);
  w.U16(256);
  w.U16(static_cast<std::uint16_t>(fields.size()));
  for (const Field& f : fields) {
    w.U16(f.ie);
    w.U16(f.length);
  }
  w.Patch16(set + 2, static_cast<std::uint16_t>(w.bytes.size() - set));
  if (ipfix) {
    w.Patch16(2, static_cast<std::uint16_t>(w.bytes.size()));
  }
  return w.bytes;
}

std::vector<std::uint8_t> DataPacket(bool ipfix) {
  Writer w;
  Header(w, ipfix, kRecords);
  const std::size_t set = w.bytes.size();
  w.U16(256);
  w.U16(0);
  const std::int64_t export_ms = std::int64_t{kUnixSecs} * 1000;
  for (std::size_t idx = 0; idx < kRecords; ++idx) {
    w.U32(0x0A000000 + static_cast<std::uint32_t>(idx));
    w.U32(0xC0000200 + static_cast<std::uint32_t>(idx * 7));
    w.U32(0x0A0000FE);
    w.U16(static_cast<std::uint16_t>(40000 + idx));
    w.U16(443);
    w.U8(6);
    w.U8(0x1b);
    w.U8(0);
    w.U32(12000);
    w.U32(10);
    w.U16(1);
    w.U16(2);
    w.U16(65000);
    w.U16(64512);
    w.U8(24);
    w.U8(16);
    if (ipfix) {
      w.U64(static_cast<std::uint64_t>(export_ms - 10'000));
      w.U64(static_cast<std::uint64_t>(export_ms - 1'000));
    } else {
      w.U32(kUptime - 10'000);
      w.U32(kUptime - 1'000);
    }
  }
  while ((w.bytes.size() - set) % 4 != 0) {
    w.U8(0);
  }
  w.Patch16(set + 2, static_cast<std::uint16_t>(w.bytes.size() - set));
  if (ipfix) {
    w.Patch16(2, static_cast<std::uint16_t>(w.bytes.size()));
  }
  return w.bytes;
}

void RunDecode(benchmark::State& state, bool ipfix) {
  const std::vector<std::uint8_t> templates = TemplatePacket(ipfix);
  std::vector<std::uint8_t> data = DataPacket(ipfix);
  decode::Decoder decoder(decode::DecoderOptions{});
  CountingSink sink;
  flow::BatchWriter writer(sink);
  flow::Datagram datagram;
  datagram.exporter = flow::IpAddress::FromV4(0xC0000201);
  datagram.time_received = 1'700'000'000'000;
  datagram.payload = templates;
  (void)decoder.Decode(datagram, writer);
  datagram.payload = data;
  std::uint32_t sequence = 0;
  for (auto _ : state) {
    // Keep the sequence numbers in step so loss accounting takes its common path.
    StoreBe32(data.data() + (ipfix ? 8 : 12), sequence);
    sequence += ipfix ? static_cast<std::uint32_t>(kRecords) : 1;
    benchmark::DoNotOptimize(decoder.Decode(datagram, writer));
  }
  writer.Flush();
  state.SetItemsProcessed(static_cast<std::int64_t>(sink.records()));
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(sink.records()), benchmark::Counter::kIsRate);
}

void BM_DecodeNetflowV9(benchmark::State& state) { RunDecode(state, false); }
BENCHMARK(BM_DecodeNetflowV9);

void BM_DecodeIpfix(benchmark::State& state) { RunDecode(state, true); }
BENCHMARK(BM_DecodeIpfix);

}  // namespace
}  // namespace sluice::bench
