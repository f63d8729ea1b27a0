// SPDX-License-Identifier: Apache-2.0
// QueryResult: what the engine answers; output formats (query/output.h) print it and
// the HTTP API serializes it.

#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "flow/field.h"
#include "flow/flow_batch.h"
#include "flow/ip_address.h"
#include "query/query_spec.h"

namespace sluice::query {

// Sums over a set of flows.
struct Counters {
  std::uint64_t flows = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::int64_t first_ms = 0;  // earliest `first` (0 when no flow)
  std::int64_t last_ms = 0;   // latest `last`
};

// One value of a KeyField: integers (ports, AS, protocol, ...) in `number`, addresses
// (already cut to the requested prefix) in `address`.
struct KeyValue {
  std::uint64_t number = 0;
  flow::IpAddress address;

  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

struct GroupRow {
  std::vector<KeyValue> key;  // one value per KeyField of the key, in order
  Counters counters;
};

struct StatTable {
  StatSpec spec;
  std::vector<GroupRow> rows;     // the top N, in order
  std::uint64_t distinct = 0;     // how many distinct keys there were in all, if distinct_known
  bool distinct_known = true;     // false when not counted (QuerySpec::count_distinct)
  Counters total;                 // over every flow counted (percentages' denominators)
};

struct SeriesPoint {
  std::int64_t bucket_start_ms = 0;
  std::vector<KeyValue> group;  // empty without bucket_group; empty + other=true for the rest
  bool other = false;
  Counters counters;
};

// How much work the scan did (for `-v`, the benchmarks and the API's timings).
struct ScanStats {
  std::uint64_t segments_total = 0;    // segments in the requested sources
  std::uint64_t segments_read = 0;     // opened after pruning by name and summary
  std::uint64_t rollups_read = 0;      // roll-up segments used instead of detail
  std::uint64_t blocks_total = 0;
  std::uint64_t blocks_skipped = 0;    // pruned by statistics
  std::uint64_t rows_scanned = 0;      // rows whose columns were decoded
  std::uint64_t rows_matched = 0;
  std::uint64_t damaged = 0;           // segments or blocks skipped for failed checksums
  double seconds = 0;
};

struct QueryResult {
  Counters totals;                 // every matching flow (the summary line)
  std::vector<StatTable> stats;    // one per StatSpec, in order
  std::vector<GroupRow> aggregated;  // -A/-a: the aggregated records, ordered and cut
  std::vector<SeriesPoint> series;   // --bucket
  ScanStats scan;
  std::vector<std::string> warnings;  // damaged files skipped, with their paths
  // With QuerySpec::head_blocks: whether some block was left unread, and the most that the
  // rows left unread could add to one group's order value (saturating).
  bool head_cut = false;
  std::uint64_t unread_bound = 0;
};

// Receives matching flow records when a query lists records (no statistic, no
// aggregation): the rows of `batch` named by `rows`, in output order. Called from one
// thread at a time, though not always the same one (the engine's scan threads take
// turns; each call happens after the previous one returned).
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Returns false to stop the query early (e.g. the output was closed).
  virtual bool Consume(const flow::FlowBatch& batch, std::span<const std::uint32_t> rows) = 0;

  // The fields Consume() reads. The engine reads these (and what it needs itself) for the
  // records it hands over; every other field of the batch may be left at its default.
  // The default is every catalogue field.
  virtual std::vector<flow::FieldId> Fields() const {
    std::vector<flow::FieldId> fields;
    for (std::size_t field_idx = 0; field_idx < flow::kFieldCount; ++field_idx) {
      fields.push_back(static_cast<flow::FieldId>(field_idx));
    }
    return fields;
  }
};

}  // namespace sluice::query
