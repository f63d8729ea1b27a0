// SPDX-License-Identifier: Apache-2.0

#include "decode/netflow_v5.h"

#include "common/byte_order.h"

namespace sluice::decode {
namespace {

// NetFlow v5 header (Cisco "NetFlow Export Datagram Format", version 5), 24 bytes:
//   0 version(2) 2 count(2) 4 sys_uptime_ms(4) 8 unix_secs(4) 12 unix_nsecs(4)
//  16 flow_sequence(4) 20 engine_type(1) 21 engine_id(1) 22 sampling(2: mode 2 bits,
//     interval 14 bits)
constexpr std::size_t kHeaderSize = 24;
// Record, 48 bytes:
//   0 srcaddr 4 dstaddr 8 nexthop 12 input(2) 14 output(2) 16 dPkts(4) 20 dOctets(4)
//  24 first(4, sysuptime ms) 28 last(4) 32 srcport(2) 34 dstport(2) 36 pad1 37 tcp_flags
//  38 prot 39 tos 40 src_as(2) 42 dst_as(2) 44 src_mask 45 dst_mask 46 pad2(2)
constexpr std::size_t kRecordSize = 48;
// Cisco caps v5 datagrams at 30 records.
constexpr std::uint16_t kMaxCount = 30;

}  // namespace

DecodeStatus DecodeNetflowV5(DecodeContext& ctx) {
  const std::span<const std::uint8_t> data = ctx.datagram.payload;
  if (data.size() < kHeaderSize) {
    return Fail(DecodeErrorKind::kTruncated, 0);
  }
  const std::uint8_t* header = data.data();
  const std::uint16_t count = LoadBe16(header + 2);
  if (count == 0 || count > kMaxCount) {
    return Fail(DecodeErrorKind::kBadCount, 2);
  }
  if (data.size() < kHeaderSize + std::size_t{count} * kRecordSize) {
    return Fail(DecodeErrorKind::kTruncated, kHeaderSize);
  }
  const std::uint32_t sys_uptime = LoadBe32(header + 4);
  const std::int64_t unix_secs = LoadBe32(header + 8);
  const std::int64_t unix_nsecs = LoadBe32(header + 12);
  const std::uint32_t sequence = LoadBe32(header + 16);
  const std::uint32_t engine = LoadBe16(header + 20);  // type << 8 | id
  const std::uint32_t sampling_interval = LoadBe16(header + 22) & 0x3FFF;

  ctx.exporter.ObserveSequence(Protocol::kNetflowV5, engine, sequence, count);
  // The export time in ms, minus uptime, is when the exporter booted; record times are
  // uptime offsets from there. (Uptime wraps after 49.7 days; the signed difference of
  // two uint32 values keeps flows that straddle the wrap right.)
  const std::int64_t export_ms = unix_secs * 1000 + unix_nsecs / 1'000'000;

  std::uint32_t table_rate = 0;
  if (sampling_interval > 1) {
    table_rate = sampling_interval;
  }
  const std::uint32_t rate = ResolveRate(ctx.override_rate, 0, table_rate);

  const std::uint8_t* rec = header + kHeaderSize;
  for (std::uint16_t record_idx = 0; record_idx < count; ++record_idx, rec += kRecordSize) {
    const std::size_t row = ctx.out.NewRow();
    flow::FlowColumns& c = ctx.out.cols();
    c.src_addr[row] = flow::IpAddress::FromV4(LoadBe32(rec));
    c.dst_addr[row] = flow::IpAddress::FromV4(LoadBe32(rec + 4));
    c.next_hop[row] = flow::IpAddress::FromV4(LoadBe32(rec + 8));
    c.in_if[row] = LoadBe16(rec + 12);
    c.out_if[row] = LoadBe16(rec + 14);
    c.packets[row] = LoadBe32(rec + 16);
    c.bytes[row] = LoadBe32(rec + 20);
    const auto first_offset = static_cast<std::int32_t>(LoadBe32(rec + 24) - sys_uptime);
    const auto last_offset = static_cast<std::int32_t>(LoadBe32(rec + 28) - sys_uptime);
    c.first[row] = export_ms + first_offset;
    c.last[row] = export_ms + last_offset;
    c.src_port[row] = LoadBe16(rec + 32);
    c.dst_port[row] = LoadBe16(rec + 34);
    c.tcp_flags[row] = rec[37];
    c.proto[row] = rec[38];
    c.tos[row] = rec[39];
    c.src_as[row] = LoadBe16(rec + 40);
    c.dst_as[row] = LoadBe16(rec + 42);
    c.src_mask[row] = rec[44];
    c.dst_mask[row] = rec[45];
    FinishRecord(ctx, row, engine, rate);
  }
  ctx.exporter.counters.records += count;
  return {};
}

}  // namespace sluice::decode
