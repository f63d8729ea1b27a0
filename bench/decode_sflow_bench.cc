// SPDX-License-Identifier: Apache-2.0
// Pure sFlow v5 decode speed: datagrams of the size a switch sends (six flow samples,
// each a 128-byte Ethernet/802.1Q/IPv4/TCP sampled header plus extended_switch and
// extended_router records, about 1470 bytes), from one exporter, in memory. One item =
// one flow sample = one record.

#include <vector>

#include <benchmark/benchmark.h>

#include "bench_util.h"
#include "common/byte_order.h"
#include "decode/decoder.h"

namespace sluice::bench {
namespace {

class Writer {
 public:
  void U32(std::uint32_t v) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + 4);
    StoreBe32(bytes_.data() + at, v);
  }

  // Reserves a 32-bit length to be filled by EndLength().
  std::size_t BeginLength() {
    U32(0);
    return bytes_.size();
  }

  void EndLength(std::size_t start) {
    StoreBe32(bytes_.data() + start - 4, static_cast<std::uint32_t>(bytes_.size() - start));
  }

  void Bytes(const std::vector<std::uint8_t>& b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
  }

  std::vector<std::uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
};

// A 128-byte sampled header: Ethernet, 802.1Q, IPv4, TCP, payload.
std::vector<std::uint8_t> PacketHeader(std::uint32_t idx, bool ipv6) {
  std::vector<std::uint8_t> h(128);
  std::uint8_t* p = h.data();
  StoreBe32(p, 0x00112233);
  StoreBe16(p + 4, 0x4455);
  StoreBe32(p + 6, 0x66778899);
  StoreBe16(p + 10, static_cast<std::uint16_t>(0xaa00 + idx));
  StoreBe16(p + 12, 0x8100);
  StoreBe16(p + 14, 100);
  std::uint8_t* ip = p + 18;
  std::uint8_t* tcp;
  if (ipv6) {
    StoreBe16(p + 16, 0x86DD);
    StoreBe32(ip, 0x60000000);
    StoreBe16(ip + 4, 1460);
    ip[6] = 6;
    ip[7] = 64;
    StoreBe32(ip + 8, 0x20010db8);
    StoreBe32(ip + 20, idx);
    StoreBe32(ip + 24, 0x20010db8);
    StoreBe32(ip + 36, 0x100 + idx);
    tcp = ip + 40;
  } else {
    StoreBe16(p + 16, 0x0800);
    ip[0] = 0x45;
    StoreBe16(ip + 2, 1500);
    ip[8] = 64;
    ip[9] = 6;
    StoreBe32(ip + 12, 0x0A000000 + idx);
    StoreBe32(ip + 16, 0xC0000200 + idx * 7);
    tcp = ip + 20;
  }
  StoreBe16(tcp, static_cast<std::uint16_t>(40000 + idx));
  StoreBe16(tcp + 2, 443);
  tcp[12] = 0x50;
  tcp[13] = 0x18;
  return h;
}

std::vector<std::uint8_t> MakeSflowDatagram(std::size_t samples, bool ipv6) {
  Writer w;
  w.U32(5);            // version
  w.U32(1);            // agent address: IPv4
  w.U32(0xC0000201);   // 192.0.2.1
  w.U32(0);            // sub_agent_id
  w.U32(1);            // sequence_number
  w.U32(360'000'000);  // uptime
  w.U32(static_cast<std::uint32_t>(samples));
  for (std::size_t idx = 0; idx < samples; ++idx) {
    w.U32(1);  // flow_sample
    const std::size_t sample = w.BeginLength();
    w.U32(static_cast<std::uint32_t>(idx));  // sequence_number
    w.U32(3);                                // source_id: ifIndex 3
    w.U32(2048);                             // sampling_rate
    w.U32(2048 * 1000);                      // sample_pool
    w.U32(0);                                // drops
    w.U32(3);                                // input
    w.U32(7);                                // output
    w.U32(3);                                // flow records
    w.U32(1);                                // sampled_header
    const std::size_t header = w.BeginLength();
    w.U32(1);     // header_protocol: Ethernet
    w.U32(1518);  // frame_length
    w.U32(4);     // stripped
    w.U32(128);   // header length
    w.Bytes(PacketHeader(static_cast<std::uint32_t>(idx), ipv6));
    w.EndLength(header);
    w.U32(1001);  // extended_switch
    const std::size_t sw = w.BeginLength();
    w.U32(100);
    w.U32(0);
    w.U32(100);
    w.U32(0);
    w.EndLength(sw);
    w.U32(1002);  // extended_router
    const std::size_t router = w.BeginLength();
    w.U32(1);
    w.U32(0x0A0000FE);
    w.U32(24);
    w.U32(16);
    w.EndLength(router);
    w.EndLength(sample);
  }
  return std::move(w.bytes());
}

void DecodeLoop(benchmark::State& state, bool ipv6) {
  const std::vector<std::uint8_t> bytes = MakeSflowDatagram(6, ipv6);
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
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(sink.records()), benchmark::Counter::kIsRate);
}

void BM_DecodeSflowV5(benchmark::State& state) {
  DecodeLoop(state, false);
}

BENCHMARK(BM_DecodeSflowV5);

void BM_DecodeSflowV5Ipv6(benchmark::State& state) {
  DecodeLoop(state, true);
}

BENCHMARK(BM_DecodeSflowV5Ipv6);

}  // namespace
}  // namespace sluice::bench
