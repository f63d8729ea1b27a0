// SPDX-License-Identifier: Apache-2.0
// Top lists of addresses from the heads of the summaries (the threshold algorithm).
//
// A day's top talkers would otherwise sum tens of millions of summary rows, nearly all
// of them distinct addresses, into one hash table. The `src` and `dst` summaries and
// hour summaries (store/rollup.h, RowOrder::kHeadByBytesThenKey) start with their rows
// of most bytes and hold each address once per exporter, so:
//   1. the head pass reads only those heads (QuerySpec::head_blocks), and the engine
//      bounds what the rows left unread could add to any one address (U: the sum over the
//      files cut of exporters x the largest value of a block left unread);
//   2. with S(a) the partial sums found and T the N-th largest, an address never seen
//      totals at most U, and a seen one at most S(a) + U: if U < T, the top N are among
//      the addresses with S(a) + U >= T (the candidates);
//   3. the exact pass sums the candidates' rows over every file (a filter on the
//      address: the summaries' tails are ordered by address, so block statistics skip
//      the blocks that cannot hold them), and a totals pass gives the percentages'
//      denominators (from the minute summaries).
// The rows and totals are those of RunQuery; only StatTable::distinct is not counted.
// Whenever the bound does not close (U >= T, fewer than N addresses seen, too many
// candidates) the query is answered by the whole scan instead.

#pragma once

#include "common/result.h"
#include "query/query_result.h"
#include "query/query_spec.h"

namespace sluice::query {

// One pass of the engine (RunQuery without this path).
using ScanFunction = Result<QueryResult> (*)(const QuerySpec&);

// True if `spec` is a query this path answers: count_distinct off, one statistic of one
// whole source or destination address by bytes, packets or flows with a top N, no
// aggregation or series, read from a store with its summaries.
bool AnswersByThreshold(const QuerySpec& spec);

// Answers `spec` (REQUIRES: AnswersByThreshold(spec)) with passes of `scan`.
Result<QueryResult> RunTopByThreshold(const QuerySpec& spec, ScanFunction scan);

}  // namespace sluice::query
