// SPDX-License-Identifier: Apache-2.0
// Prefix-map enrichment speed: a full batch of flows tagged from a map of N subscriber
// prefixes (a WISP's /32 and /29 customers and /24 pools, plus IPv6 /56s), about half of
// the flows' addresses mapped.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "enrich/prefix_enricher.h"
#include "enrich/prefix_map.h"

namespace sluice::bench {
namespace {

enrich::PrefixMap MakeMap(std::size_t prefixes) {
  std::vector<enrich::PrefixEntry> entries;
  for (std::size_t idx = 0; idx < prefixes; ++idx) {
    enrich::PrefixEntry entry;
    const auto base = static_cast<std::uint32_t>(0x64400000u + idx * 8);  // 100.64.0.0 + 8 per customer
    const std::uint8_t length = idx % 3 == 0 ? 32 : idx % 3 == 1 ? 29 : 24;
    entry.prefix = flow::IpPrefix(flow::IpAddress::FromV4(base), static_cast<std::uint8_t>(96 + length));
    entry.info.subscriber = "cust-" + std::to_string(idx);
    entry.info.reseller = "res-" + std::to_string(idx % 20);
    entry.info.site = "nas-" + std::to_string(idx % 50);
    entry.info.cir_bps = 100'000'000;
    entries.push_back(entry);
  }
  for (std::size_t idx = 0; idx < prefixes / 10; ++idx) {
    enrich::PrefixEntry entry;
    flow::IpAddress address = *flow::IpAddress::Parse("2001:db8::");
    address.bytes[5] = static_cast<std::uint8_t>(idx >> 8);
    address.bytes[6] = static_cast<std::uint8_t>(idx);
    entry.prefix = flow::IpPrefix(address, 56);
    entry.info.subscriber = "cust6-" + std::to_string(idx);
    entries.push_back(entry);
  }
  auto map = enrich::PrefixMap::Build(std::move(entries));
  return std::move(*map);
}

void BM_EnrichBatch(benchmark::State& state) {
  const auto prefixes = static_cast<std::size_t>(state.range(0));
  const enrich::PrefixMap map = MakeMap(prefixes);
  std::mt19937 random(7);
  std::vector<flow::IpAddress> sources;
  std::vector<flow::IpAddress> destinations;
  for (std::size_t idx = 0; idx < flow::FlowBatch::kCapacity; ++idx) {
    // Half the flows from a customer's first address, the others to one; the far side random.
    const auto customer = static_cast<std::uint32_t>(0x64400000u + (random() % prefixes) * 8);
    const auto remote = flow::IpAddress::FromV4(static_cast<std::uint32_t>(random()) | 0x01000000u);
    sources.push_back(idx % 2 == 0 ? flow::IpAddress::FromV4(customer) : remote);
    destinations.push_back(idx % 2 == 0 ? remote : flow::IpAddress::FromV4(customer));
  }
  flow::FlowBatch batch;
  enrich::PrefixEnricher enricher;
  std::size_t matched = 0;
  for (auto _ : state) {
    state.PauseTiming();
    batch.Clear();
    for (std::size_t idx = 0; idx < sources.size(); ++idx) {
      const std::size_t row = batch.AppendRow();
      batch.cols().src_addr[row] = sources[idx];
      batch.cols().dst_addr[row] = destinations[idx];
    }
    state.ResumeTiming();
    matched += enricher.Enrich(map, batch);
  }
  benchmark::DoNotOptimize(matched);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * sources.size()));
}
BENCHMARK(BM_EnrichBatch)->Arg(100)->Arg(10'000)->Arg(200'000);

}  // namespace
}  // namespace sluice::bench
