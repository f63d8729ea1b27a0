// SPDX-License-Identifier: Apache-2.0
// RunQuery: answers a QuerySpec from the embedded store.
//
// Plan: the catalog (store/catalog.h) names the segments of the requested sources; a
// segment is skipped by its slot time and then by its summary's flow time ranges; its
// blocks are skipped by their statistics (the time window and Filter::MayMatch); only
// the columns the filter and the outputs need are read, and those late: a block's
// filter columns first (SegmentReader::ReadSelected), then the filter is judged once by
// the dictionaries of its dictionary-coded address columns (a block none of whose values
// can match is left there), the others only if a row of the block matched, and only for
// the matching rows (a listing reads just what its sink prints, RecordSink::Fields()). A
// statistic keyed by one address sums each block's rows per entry of the block's
// dictionary of it, and adds each entry to its groups once. Blocks are scanned in parallel on every thread; each
// scan thread feeds thread-local aggregators, kept in hash partitions
// (partitioned_groups.h) that are merged partition by partition at the end, on every
// thread. A series without a group sums into a dense array per bucket. Long ranges
// read the segments' summaries or the hourly roll-ups when the query needs only what they hold.
//
// Time window (nfdump -t): a flow is inside when its first and last times both fall in
// [from_ms, to_ms], both ends included: "entirely inside", not "overlaps" (checked with
// nfdump 1.7.1: a flow 16:44:15-16:44:24 passes -t 16:44:15-16:44:24 and fails
// -t 16:44:15-16:44:23 and -t 16:44:16-16:44:30).
//
// Answers, precisely:
//   - Counters: flows is the sum of the `flows` column (a record may stand for several),
//     packets and bytes summed (saturating at 2^64-1); first_ms is the smallest non-zero
//     `first` (as the store's roll-ups keep it), last_ms the largest `last`.
//   - Statistics: each flow counts once under `key`; with `paired_key` once more under
//     that, also when both sides hold the same value (nfdump -s ip counts a flow from an
//     address to itself twice for it). StatTable.total is the totals of the matching flows
//     (nfdump's percentages), distinct the number of groups. A `records` statistic
//     without a key groups by the 5-tuple (proto, src_addr, src_port, dst_addr,
//     dst_port); StatTable.spec holds the key used.
//   - Order: flows, packets, bytes, pps, bps, bpp descending; tstart, tend ascending. Ties
//     are broken by the key ascending (numbers numerically, addresses as 16 network-order
//     bytes, so IPv4 before IPv6; key fields in their order), so every thread count and
//     the roll-ups give the same rows.
//   - Aggregation (-A/-a): groups by the KeyFields; with `bidirectional` (-B, on the
//     5-tuple when no key is given) a flow and its reverse (src/dst fields swapped) share
//     the key of the direction whose destination port is the smaller (the server's),
//     else the smaller key. With spec.order the records are cut to top_n (0 = all);
//     without, all records come ordered by first seen. spec.limit (if non-zero) cuts too.
//   - Series (bucket_ms): a flow falls in the bucket holding its `first` time (buckets
//     aligned to the epoch); only non-empty buckets are returned, ascending. With
//     bucket_group, each bucket lists its groups in the rank of their bytes over the
//     whole series; groups past bucket_group_top (when non-zero) are summed as one
//     "other" point, last in its bucket.
//   - Listing: records come in scan order (segments in catalogue order: slot start, then
//     source, then index; blocks and rows in file order), whatever the thread count:
//     blocks are read ahead on every thread (a few at a time) and handed to the sink in
//     that order, by one thread at a time; they stop at spec.limit or when the sink
//     returns false; the totals then cover only the records handed over. With
//     spec.order they are collected (within the memory budget), stably sorted (ties keep
//     scan order) and the first `limit` handed over; the totals cover every matching
//     flow. A damaged block's columns are checked only if they are read: a block whose
//     filter columns match no row is not read further.
//   - Summaries (store/rollup.h), when use_rollups and the query is no listing: of the
//     segment summaries (kSummaryShapes: minute, src, dst, port, port-slot, src-port-slot) whose key
//     holds every column the filter and the keys (statistics, aggregation, series groups)
//     use, and that keep the minute of `first` if the query is a series of whole
//     minutes, the first in kSummaryPreference order that is usable answers each detail
//     segment: one whose flows all lie inside the window (or, for a summary by minute,
//     none ending after it when the window starts on a whole minute); for each such
//     summary, an hour summary (the merge of one hour's slot summaries, written once the
//     hour is complete) whose flows all lie inside the window answers every segment of
//     its hour instead, if no slot of the hour is answered by an earlier summary. Then, if they use only the hourly roll-ups' key columns and the query is
//     no series, each hour with no segment so answered whose roll-up has all its flows
//     inside the window is answered by the roll-up. Either way the answer is the same as
//     from the detail segments; segments without a usable summary (the one being
//     written, those cut by the window) are read as detail.
//   - Damage: a segment that cannot be opened, or a block that fails its checks
//     (kCorruption, kMalformed, kUnsupported), is skipped, counted in ScanStats.damaged
//     and named in the warnings; a file removed meanwhile (retention) is a warning too.
//   - Memory: every group table (and the records collected for an ordered listing) is
//     reserved against spec.memory_budget_bytes across all threads; going over it ends
//     the query with kResourceExhausted.
//   - Cancellation: past spec.deadline, or once *spec.cancel is true, the query ends with
//     kCancelled (checked before each block).
//   - Keys: text fields (subscriber, site, app) cannot be keys (kInvalidArgument).

#pragma once

#include "common/result.h"
#include "query/query_result.h"
#include "query/query_spec.h"

namespace sluice::query {

// Runs `spec`. Listing queries (no stats, no aggregation, no bucket) hand their records
// to `records` (which may be null when only the totals are wanted). A filter syntax error
// is an kInvalidArgument Error whose message is FilterSyntaxError::ToString(); a query
// exceeding spec.memory_budget_bytes is a kResourceExhausted Error.
Result<QueryResult> RunQuery(const QuerySpec& spec, RecordSink* records);

}  // namespace sluice::query
