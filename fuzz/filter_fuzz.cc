// SPDX-License-Identifier: Apache-2.0
// Fuzzes the filter language: Filter::Parse over arbitrary text; when it parses, the
// program runs over a small batch (Select) and is judged against blocks with and without
// column statistics (MayMatch), and Describe() must produce text.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "flow/field.h"
#include "flow/flow_batch.h"
#include "query/filter.h"
#include "store/format.h"

namespace {

// Eight rows whose values come from the fuzz input's bytes (cycled).
void FillBatch(sluice::flow::FlowBatch& batch, const std::uint8_t* data, std::size_t size) {
  auto byte = [&](std::size_t idx) -> std::uint8_t { return size == 0 ? 0 : data[idx % size]; };
  auto& c = batch.cols();
  for (std::size_t n = 0; n < 8 && !batch.full(); ++n) {
    const std::size_t row = batch.AppendRow();
    const std::uint8_t b = byte(n);
    c.src_addr[row] = (b & 1) != 0 ? sluice::flow::IpAddress::FromV4(0x0a000000U | b)
                                   : sluice::flow::IpAddress{};
    if ((b & 2) != 0) {
      c.dst_addr[row].bytes[0] = 0x20;
      c.dst_addr[row].bytes[15] = b;
    }
    c.src_port[row] = static_cast<std::uint16_t>(b * 257U);
    c.dst_port[row] = static_cast<std::uint16_t>(80 + (b & 7));
    c.proto[row] = static_cast<std::uint8_t>((b & 4) != 0 ? 6 : 17);
    c.tcp_flags[row] = b;
    c.bytes[row] = std::uint64_t{b} << (b & 63);
    c.packets[row] = b & 15;
    c.first[row] = static_cast<std::int64_t>(b) * 1000 - 5000;
    c.last[row] = c.first[row] + static_cast<std::int64_t>(byte(n + 1)) * 10;
    c.flows[row] = 1;
    c.subscriber[row] = batch.AddString((b & 8) != 0 ? "acme" : "");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto filter = sluice::query::Filter::Parse(text);
  if (!filter) {
    if (filter.error().message.empty() || filter.error().column == 0 || filter.error().column > size + 1) {
      __builtin_trap();  // every error says where and what
    }
    return 0;
  }
  if (filter->Describe().empty()) {
    __builtin_trap();
  }
  sluice::flow::FlowBatch batch;
  FillBatch(batch, data, size);
  std::vector<std::uint32_t> rows(batch.size());
  for (std::uint32_t row = 0; row < rows.size(); ++row) {
    rows[row] = row;
  }
  const std::size_t kept = filter->Select(batch, rows.data(), rows.size());
  if (kept > batch.size()) {
    __builtin_trap();
  }
  for (std::size_t idx = 1; idx < kept; ++idx) {
    if (rows[idx - 1] >= rows[idx]) {
      __builtin_trap();  // the selection stays ascending
    }
  }

  // A block without chunks (every column default) and one whose every column has a chunk
  // with statistics taken from the input.
  sluice::store::BlockInfo empty;
  empty.row_count = 8;
  empty.chunk_of_field.fill(-1);
  (void)filter->MayMatch(empty);
  sluice::store::BlockInfo full = empty;
  for (std::size_t field = 0; field < sluice::flow::kFieldCount; ++field) {
    sluice::store::ColumnChunk chunk;
    chunk.field = static_cast<sluice::flow::FieldId>(field);
    const std::uint8_t b = size == 0 ? 0 : data[field % size];
    chunk.stats.min = b & 0x0f;
    chunk.stats.max = b;
    chunk.stats.time_min = -static_cast<std::int64_t>(b);
    chunk.stats.time_max = static_cast<std::int64_t>(b) * 1000;
    chunk.stats.has_unset = (b & 1) != 0;
    chunk.stats.has_v4 = (b & 2) != 0;
    chunk.stats.has_v6 = (b & 4) != 0;
    chunk.stats.v4_min = 0x0a000000U;
    chunk.stats.v4_max = 0x0a000000U | b;
    chunk.stats.has_v6_range = chunk.stats.has_v6 && (b & 8) != 0;
    chunk.stats.v6_min = {0x20, 0x01, 0x0d, 0xb8};
    chunk.stats.v6_max = {0x20, 0x01, 0x0d, 0xb8, b};
    std::memset(chunk.stats.bloom.data(), b, sizeof chunk.stats.bloom);
    full.chunk_of_field[field] = static_cast<std::int16_t>(full.chunks.size());
    full.chunks.push_back(chunk);
  }
  (void)filter->MayMatch(full);
  return 0;
}
