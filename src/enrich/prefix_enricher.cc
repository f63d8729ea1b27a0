// SPDX-License-Identifier: Apache-2.0

#include "enrich/prefix_enricher.h"

#include <utility>

namespace sluice::enrich {

std::size_t PrefixEnricher::Enrich(const PrefixMap& map, flow::FlowBatch& batch) {
  if (map.size() == 0 || batch.empty()) {
    return 0;
  }
  if (strings_.size() != map.size()) {
    strings_.resize(map.size());  // a new map; entries of earlier batches are stale anyway
  }
  ++stamp_;  // strings cached for earlier batches point into their arenas, not this one's
  flow::FlowColumns& c = batch.cols();
  std::size_t matched = 0;
  for (std::size_t row = 0; row < batch.size(); ++row) {
    if (c.subscriber[row].length != 0) {
      continue;
    }
    std::uint32_t idx = map.FindIndex(c.src_addr[row]);
    if (idx == PrefixMap::kNoEntry) {
      idx = map.FindIndex(c.dst_addr[row]);
      if (idx == PrefixMap::kNoEntry) {
        continue;
      }
    }
    BatchStrings& strings = strings_[idx];
    if (strings.stamp != stamp_) {
      const SubscriberInfo& info = map.entries()[idx].info;
      strings.stamp = stamp_;
      strings.subscriber = batch.AddString(info.subscriber);
      strings.reseller = batch.AddString(info.reseller);
      strings.site = batch.AddString(info.site);
    }
    c.subscriber[row] = strings.subscriber;
    if (c.reseller[row].length == 0) {
      c.reseller[row] = strings.reseller;
    }
    if (c.site[row].length == 0) {
      c.site[row] = strings.site;
    }
    c.cir[row] = map.entries()[idx].info.cir_bps;
    ++matched;
  }
  return matched;
}

std::shared_ptr<const PrefixMap> PrefixMapSource::Current() const {
  const std::lock_guard lock(mutex_);
  return map_;
}

void PrefixMapSource::Replace(std::shared_ptr<const PrefixMap> map) {
  const std::lock_guard lock(mutex_);
  map_ = std::move(map);
}

void EnrichingSink::Consume(flow::FlowBatch& batch) {
  // One lock per batch; the map stays alive for this batch even if replaced meanwhile.
  const std::shared_ptr<const PrefixMap> map = source_->Current();
  const std::size_t matched = map != nullptr ? enricher_.Enrich(*map, batch) : 0;
  counters_->Add(batch.size(), matched);
  next_->Consume(batch);
}

}  // namespace sluice::enrich
