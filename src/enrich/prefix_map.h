// SPDX-License-Identifier: Apache-2.0
// PrefixMap: which subscriber, reseller and site (NAS) an address belongs to, and the
// subscriber's committed rate, from a map of prefixes kept by the operator (a CSV or TOML
// file: docs/enrichment.md). Looked up by longest prefix, IPv4 and IPv6 alike.
//
// Ownership: a value; immutable once built, so one map is shared by every decode worker
// (through a PrefixMapSource) without locks.

#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "flow/ip_address.h"
#include "flow/ip_prefix.h"

namespace sluice::enrich {

// What one prefix of the map says. Every id is 1 to 64 of `A-Z a-z 0-9 . _ : @ / -`
// (the characters the HTTP API accepts in an id), or empty where the map leaves it out.
struct SubscriberInfo {
  std::string subscriber;    // subscriber_id
  std::string reseller;      // reseller_id
  std::string site;          // nas_id / site
  std::uint64_t cir_bps = 0;  // committed information rate, bits/s; 0 = none
};

struct PrefixEntry {
  flow::IpPrefix prefix;
  SubscriberInfo info;
};

class PrefixMap {
 public:
  PrefixMap() = default;

  // Builds the map. Fails (kInvalidArgument) when a prefix is given twice.
  static Result<PrefixMap> Build(std::vector<PrefixEntry> entries);

  // CSV with a header line naming the columns: `prefix` and `subscriber_id` are required;
  // `reseller_id`, `nas_id` (or `site`) and `cir` are optional. `#` starts a comment line;
  // fields may be quoted ("a,b" with "" for a quote). Errors name `file_name` and the line.
  static Result<PrefixMap> ParseCsv(std::string_view text, std::string_view file_name);

  // TOML: an array of tables `[[prefix]]` with the same keys (`prefix = "10.1.0.0/16"`,
  // `subscriber_id = "..."`, ...); `cir` is a number of bits/s or a string like "100M".
  static Result<PrefixMap> ParseToml(std::string_view text, std::string_view file_name);

  // Reads `path`: ParseToml for a name ending in .toml, ParseCsv otherwise.
  static Result<PrefixMap> Load(const std::string& path);

  // The entry of the longest prefix that holds `address`, or nullptr.
  const PrefixEntry* Find(const flow::IpAddress& address) const;

  // The index of that entry in entries(), or kNoEntry.
  static constexpr std::uint32_t kNoEntry = 0xFFFFFFFFu;
  std::uint32_t FindIndex(const flow::IpAddress& address) const;

  const std::vector<PrefixEntry>& entries() const { return entries_; }

  std::size_t size() const { return entries_.size(); }

 private:
  // The networks of one prefix length, sorted, as two 64-bit halves for quick compares.
  struct Key {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    std::uint32_t entry = 0;
  };
  struct LengthTable {
    std::uint8_t length = 0;  // bits, in the 128-bit space
    std::uint64_t mask_high = 0;
    std::uint64_t mask_low = 0;
    std::vector<Key> keys;  // sorted by (high, low)
    // A large table is indexed by the 16 bits that follow what all its keys share (bit
    // `shared_bits` on), so that a lookup searches one bucket, and a miss in an empty one
    // costs one load. `buckets[b]..buckets[b + 1]` are the keys of bucket b; empty: none.
    std::uint8_t shared_bits = 0;
    std::uint64_t shared_mask_high = 0;
    std::uint64_t shared_mask_low = 0;
    std::vector<std::uint32_t> buckets;
  };

  static void IndexTable(LengthTable& table);
  static std::uint32_t BucketOf(const LengthTable& table, std::uint64_t high, std::uint64_t low);

  std::vector<PrefixEntry> entries_;
  std::vector<LengthTable> tables_;  // longest length first
};

// Parses a rate in bits/s: digits with an optional decimal suffix k, M, G or T (x1000).
std::optional<std::uint64_t> ParseBitRate(std::string_view text);

// True for 1 to 64 of `A-Z a-z 0-9 . _ : @ / -`.
bool IsValidId(std::string_view id);

}  // namespace sluice::enrich
