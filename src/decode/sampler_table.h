// SPDX-License-Identifier: Apache-2.0
// SamplerTable: the one sampling model for every protocol. Rates learnt from v9/IPFIX
// options data (per observation domain and sampler/selector id) or from a NetFlow v5
// header; the rate for a record is resolved by ResolveRate().

#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

namespace sluice::decode {

// Thread-safety: none (owned by one exporter's state).
class SamplerTable {
 public:
  explicit SamplerTable(std::uint32_t max_entries) : max_entries_(max_entries) {}

  // Records that sampler `sampler_id` of `domain` keeps 1 packet in `rate`. Sampler id 0
  // is the domain-wide default (options data that names no sampler). Returns false if
  // the table is full and the entry is new.
  bool Set(std::uint32_t domain, std::uint32_t sampler_id, std::uint32_t rate);

  // The rate of `sampler_id` in `domain`, else the domain's default, else 0 (unknown).
  std::uint32_t Lookup(std::uint32_t domain, std::optional<std::uint32_t> sampler_id) const;

  std::size_t size() const { return rates_.size(); }

  // Visits every entry: fn(domain, sampler_id, rate).
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [key, rate] : rates_) {
      fn(static_cast<std::uint32_t>(key >> 32), static_cast<std::uint32_t>(key), rate);
    }
  }

 private:
  static std::uint64_t Key(std::uint32_t domain, std::uint32_t sampler_id) {
    return (std::uint64_t{domain} << 32) | sampler_id;
  }

  std::uint32_t max_entries_;
  std::unordered_map<std::uint64_t, std::uint32_t> rates_;
};

// Picks the rate that applies to one record: the configured override, else the rate
// carried in the record itself, else the sampler table's, else 1 (unsampled).
inline std::uint32_t ResolveRate(std::uint32_t override_rate, std::uint32_t record_rate,
                                 std::uint32_t table_rate) {
  if (override_rate != 0) {
    return override_rate;
  }
  if (record_rate != 0) {
    return record_rate;
  }
  return table_rate != 0 ? table_rate : 1;
}

}  // namespace sluice::decode
