// SPDX-License-Identifier: Apache-2.0
// QuerySpec: one question asked of the store, as `sluice query` flags and the HTTP API
// both express it. Plain data; query/engine.h answers it.
//
// Vocabulary follows nfdump: a *statistic* (-s) counts flows, packets and bytes per value
// of a key and keeps the top N; an *aggregation* (-A, -a) merges flow records sharing a
// key into one record; a *bucket* series sums per time step.

#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flow/field.h"

namespace sluice::query {

// What rows are ordered by (nfdump's -O and the /ORDER of -s).
enum class OrderBy : std::uint8_t {
  kFlows,
  kPackets,
  kBytes,
  kPps,     // packets / duration
  kBps,     // bits / duration
  kBpp,     // bytes / packets
  kTstart,  // first seen, ascending (records and aggregated records only)
  kTend,    // last seen, ascending
};

// One part of a grouping key: a catalogue field; an address may be cut to a prefix
// (srcip4/24, srcip6/64, srcnet with -l/-L style masks).
struct KeyField {
  flow::FieldId field = flow::FieldId::kSrcAddr;
  std::uint8_t v4_prefix = 32;   // addresses only: bits of an IPv4 address kept
  std::uint8_t v6_prefix = 128;  // addresses only: bits of an IPv6 address kept
  // Addresses only: cut src_addr to the flow's own src_mask and dst_addr to its dst_mask
  // (nfdump -A srcnet/dstnet); a mask of 0 keeps the whole address. On top of
  // v4_prefix/v6_prefix (the shorter cut wins). For the reverse side of a bidirectional
  // key the mask follows the address (dst_addr with dst_mask).
  bool flow_mask = false;

  friend bool operator==(const KeyField&, const KeyField&) = default;
};

// One -s statistic.
struct StatSpec {
  std::string name;            // as nfdump names it: "srcip", "dstport", "ip", "record", ...
  std::vector<KeyField> key;   // e.g. {src_addr}; {proto, dst_port} when split by protocol
  // Non-empty for the "either side" statistics (ip, port, as, if, ...): each flow is
  // counted once under `key` and once under `paired_key` (same arity as `key`).
  std::vector<KeyField> paired_key;
  bool records = false;        // -s record: the top (aggregated) flow records themselves
  OrderBy order = OrderBy::kFlows;
};

// Which of the files that answer a query are read (internal to query/top_by_threshold.h).
enum class FilesRead : std::uint8_t {
  kAll,
  kRollups,  // only the summaries and roll-ups that stand for detail segments
  kDetail,   // only the detail segments that none stands for
};

// A closed range of milliseconds since the epoch.
struct TimeWindow {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
};

struct QuerySpec {
  // Where the flows are: a store's data directory (like nfdump -R), or explicit segment
  // files (then `data_dir` is ignored).
  std::string data_dir;
  std::vector<std::string> files;
  std::vector<std::string> sources;  // store sources to read; empty = every source

  // Only flows inside the window (nfdump -t semantics, see engine.h); none = all time.
  std::optional<TimeWindow> window;
  std::string filter;  // nfdump filter text; empty = every flow

  std::vector<StatSpec> stats;       // -s (several allowed)
  std::vector<KeyField> aggregate;   // -A / -a; empty = records are not aggregated
  bool bidirectional = false;        // -b/-B: pair each flow with its reverse direction
  // -B (with bidirectional): before pairing, a TCP or UDP flow with src_port < 1024 and
  // dst_port >= 1024 is taken as the server's answer and counted as the reverse
  // direction of its connection, so the record reads client -> server (nfdump 1.7.1
  // swaps exactly these; other flows keep their direction). -b pairs without guessing.
  bool guess_direction = false;
  std::optional<OrderBy> order;      // -O for records or aggregated records
  std::size_t top_n = 10;            // -n for statistics and ordered aggregations (0 = all)
  std::size_t limit = 0;             // -c: at most this many records (0 = no limit)

  std::int64_t bucket_ms = 0;        // --bucket: a time series with this step (0 = none)
  std::vector<KeyField> bucket_group;  // optional split of each bucket by a key
  std::size_t bucket_group_top = 0;    // keep the top N groups (by bytes), rest as "other"

  bool use_rollups = true;           // read the summaries / hourly roll-ups when they hold all that is needed
  // False when StatTable::distinct is not wanted: a single top list of addresses by bytes,
  // packets or flows may then be found from the heads of the summaries
  // (query/top_by_threshold.h) instead of from every row, with the same rows and totals.
  bool count_distinct = true;
  // Internal to query/top_by_threshold.h (0 = off): each summary keyed by exporter and the
  // statistic's address whose keys are unique (store::SegmentSummary::unique_keys) is
  // read only in its first this many blocks; QueryResult::unread_bound then bounds what
  // the rows left unread could add to any one group.
  std::size_t head_blocks = 0;
  FilesRead files_read = FilesRead::kAll;  // internal to query/top_by_threshold.h
  std::size_t threads = 0;           // scan threads; 0 = one per core
  std::size_t memory_budget_bytes = std::size_t{1} << 30;  // for group-by hash tables

  // Ends the query with kCancelled when reached, or when *cancel turns true (which must
  // outlive the query); both are checked between blocks, so a query stops within about
  // one block's scan time.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  const std::atomic<bool>* cancel = nullptr;
};

}  // namespace sluice::query
