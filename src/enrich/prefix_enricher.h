// SPDX-License-Identifier: Apache-2.0
// The subscriber/site enrichment of the ingest pipeline: PrefixEnricher fills the
// subscriber, reseller, site and cir columns of a FlowBatch from a PrefixMap;
// PrefixMapSource holds the map in force (replaced on SIGHUP); EnrichingSink is the
// FlowSink a decode worker writes to, enriching each batch before handing it on.
//
// Which address: a flow belongs to the subscriber of its source address if the map holds
// it, otherwise to that of its destination (upload and download of one subscriber carry
// the same id). Rows that already have a subscriber (an exporter that sends one) are
// left as they are.

#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "enrich/prefix_map.h"
#include "flow/flow_batch.h"
#include "flow/flow_sink.h"

namespace sluice::enrich {

// Thread-safety: none; one per decode worker. Holds no reference to a map between calls.
class PrefixEnricher {
 public:
  // Enriches every row of `batch`. Returns the rows that matched a prefix.
  std::size_t Enrich(const PrefixMap& map, flow::FlowBatch& batch);

 private:
  // The arena strings of one map entry in the current batch, valid while `stamp` matches.
  struct BatchStrings {
    std::uint64_t stamp = 0;
    flow::StringRef subscriber;
    flow::StringRef reseller;
    flow::StringRef site;
  };

  std::vector<BatchStrings> strings_;  // by entry index
  std::uint64_t stamp_ = 0;
};

// The map in force. Thread-safety: all members from any thread.
class PrefixMapSource {
 public:
  PrefixMapSource() = default;
  explicit PrefixMapSource(std::shared_ptr<const PrefixMap> map) : map_(std::move(map)) {}

  // The map, or nullptr when none is configured.
  std::shared_ptr<const PrefixMap> Current() const;

  void Replace(std::shared_ptr<const PrefixMap> map);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const PrefixMap> map_;  // guarded by mutex_
};

// What the enrichment did, as read by Stats().
struct EnrichStats {
  std::uint64_t rows = 0;     // flows seen
  std::uint64_t matched = 0;  // flows given a subscriber from the map
};

// Counters shared by the EnrichingSinks of every decode worker (for /metrics).
// Thread-safety: Add() and Stats() from any thread.
class EnrichCounters {
 public:
  void Add(std::uint64_t rows, std::uint64_t matched) {
    rows_.fetch_add(rows, std::memory_order_relaxed);
    matched_.fetch_add(matched, std::memory_order_relaxed);
  }

  EnrichStats Stats() const {
    return EnrichStats{rows_.load(std::memory_order_relaxed), matched_.load(std::memory_order_relaxed)};
  }

 private:
  std::atomic<std::uint64_t> rows_{0};
  std::atomic<std::uint64_t> matched_{0};
};

// Ownership: owns `next`; reads `source` and adds to `counters`, which must outlive it.
// Thread-safety: Consume() from one thread (its decode worker).
class EnrichingSink final : public flow::FlowSink {
 public:
  EnrichingSink(const PrefixMapSource& source, EnrichCounters& counters,
                std::unique_ptr<flow::FlowSink> next)
      : source_(&source), counters_(&counters), next_(std::move(next)) {}

  void Consume(flow::FlowBatch& batch) override;

 private:
  const PrefixMapSource* source_;
  EnrichCounters* counters_;
  std::unique_ptr<flow::FlowSink> next_;
  PrefixEnricher enricher_;
};

}  // namespace sluice::enrich
