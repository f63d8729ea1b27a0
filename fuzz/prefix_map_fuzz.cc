// SPDX-License-Identifier: Apache-2.0
// Fuzzes the prefix map parsers (enrich/prefix_map.h): an operator's CSV or TOML file.
// The first byte picks the format. A map that parses must answer a lookup of each of its
// own networks with an entry whose prefix holds that network, and enrich a batch.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "enrich/prefix_enricher.h"
#include "enrich/prefix_map.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice;
  if (size == 0) {
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Result<enrich::PrefixMap> map = (data[0] & 1) != 0 ? enrich::PrefixMap::ParseToml(text, "fuzz.toml")
                                                           : enrich::PrefixMap::ParseCsv(text, "fuzz.csv");
  if (!map) {
    return 0;
  }
  flow::FlowBatch batch;
  for (const enrich::PrefixEntry& entry : map->entries()) {
    const enrich::PrefixEntry* found = map->Find(entry.prefix.network());
    if (found == nullptr || !found->prefix.Contains(entry.prefix.network()) ||
        found->prefix.length() < entry.prefix.length() || !enrich::IsValidId(found->info.subscriber)) {
      __builtin_trap();
    }
    if (!batch.full()) {
      batch.cols().src_addr[batch.AppendRow()] = entry.prefix.network();
    }
  }
  enrich::PrefixEnricher enricher;
  if (enricher.Enrich(*map, batch) != batch.size()) {
    __builtin_trap();
  }
  return 0;
}
