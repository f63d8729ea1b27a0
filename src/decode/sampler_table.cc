// SPDX-License-Identifier: Apache-2.0

#include "decode/sampler_table.h"

namespace sluice::decode {

bool SamplerTable::Set(std::uint32_t domain, std::uint32_t sampler_id, std::uint32_t rate) {
  const std::uint64_t key = Key(domain, sampler_id);
  auto it = rates_.find(key);
  if (it != rates_.end()) {
    it->second = rate;
    return true;
  }
  if (rates_.size() >= max_entries_) {
    return false;
  }
  rates_.emplace(key, rate);
  return true;
}

std::uint32_t SamplerTable::Lookup(std::uint32_t domain,
                                   std::optional<std::uint32_t> sampler_id) const {
  if (rates_.empty()) {
    return 0;
  }
  if (sampler_id) {
    auto it = rates_.find(Key(domain, *sampler_id));
    if (it != rates_.end()) {
      return it->second;
    }
  }
  auto it = rates_.find(Key(domain, 0));
  return it != rates_.end() ? it->second : 0;
}

}  // namespace sluice::decode
