// SPDX-License-Identifier: Apache-2.0
// Prefix-map enrichment speed: a full batch of flows tagged from a map of N subscriber
// prefixes (a WISP's /32 and /29 customers, /24 pools, IPv6 /56s), one side of every
// flow mapped.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "enrich/prefix_enricher.h"
#include "enrich/prefix_map.h"

namespace sluice::bench {
namespace {

// `prefixes` customers, each in its own 8-address slot from 100.64.0.0 (every other one a
// /29, the rest a /32), a /24 pool per 100 customers in 172.16.0.0/12, and an IPv6 /56 per
// 10 customers.
enrich::PrefixMap MakeMap(std::size_t prefixes) {
  std::vector<enrich::PrefixEntry> entries;
  auto add = [&entries](const flow::IpAddress& network, unsigned length, std::string id) {
    enrich::PrefixEntry entry;
    entry.prefix = flow::IpPrefix(network, static_cast<std::uint8_t>(length));
    entry.info.subscriber = std::move(id);
    entry.info.reseller = "res-" + std::to_string(entries.size() % 20);
    entry.info.site = "nas-" + std::to_string(entries.size() % 50);
    entry.info.cir_bps = 100'000'000;
    entries.push_back(std::move(entry));
  };
  for (std::size_t idx = 0; idx < prefixes; ++idx) {
    add(flow::IpAddress::FromV4(static_cast<std::uint32_t>(0x64400000u + idx * 8)), idx % 2 == 0 ? 96 + 29 : 96 + 32,
        "cust-" + std::to_string(idx));
  }
  for (std::size_t idx = 0; idx < prefixes / 100 + 1; ++idx) {
    add(flow::IpAddress::FromV4(static_cast<std::uint32_t>(0xAC100000u + idx * 256)), 96 + 24,
        "pool-" + std::to_string(idx));
  }
  for (std::size_t idx = 0; idx < prefixes / 10 + 1; ++idx) {
    flow::IpAddress address = *flow::IpAddress::Parse("2001:db8::");
    address.bytes[5] = static_cast<std::uint8_t>(idx >> 8);
    address.bytes[6] = static_cast<std::uint8_t>(idx);
    add(address, 56, "cust6-" + std::to_string(idx));
  }
  auto map = enrich::PrefixMap::Build(std::move(entries));
  if (!map) {
    std::fprintf(stderr, "enrich_bench: %s\n", std::string(map.error().Message()).c_str());
    std::abort();
  }
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
