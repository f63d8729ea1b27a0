// SPDX-License-Identifier: Apache-2.0
// Top lists of addresses from the heads of the summaries (the threshold algorithm).
//
// A day's top talkers would otherwise sum tens of millions of summary rows, nearly all
// of them distinct addresses, into one hash table. The `src` and `dst` summaries and
// hour summaries (store/rollup.h, RowOrder::kHeadByBytesThenKey) start with their rows
// of most bytes and hold each address once per exporter, so:
//   1. the detail pass reads the detail segments no summary stands for (the one being
//      written, those the window cuts) once, keeping their kDetailTopN addresses of most
//      value (any other has at most the last one's value there);
//   2. the head pass reads only the summaries' heads (QuerySpec::head_blocks), and the
//      engine bounds what the rows left unread could add to any one address (the sum
//      over the files cut of exporters x the largest value of a block left unread);
//   3. with S(a) the partial sums of both and U the two bounds, T the N-th largest S: an
//      address never seen totals at most U, a seen one at most S(a) + U; if U < T, the
//      top N are among the candidates, the addresses with S(a) + U >= T;
//   4. the exact pass sums the candidates' summary rows (a filter on the address: the
//      summaries' tails are ordered by address, so block statistics skip the blocks
//      that cannot hold them), added to their detail sums of pass 1 (or the detail is
//      read again for them, if pass 1 did not keep them all), and a totals pass gives
//      the percentages' denominators (from the minute summaries).
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

// True if `spec` is a query this path answers: not one of its passes, count_distinct
// off, one statistic of one whole source or destination address by bytes, packets or
// flows with a top N, no aggregation or series, read from a store with its summaries.
bool AnswersByThreshold(const QuerySpec& spec);

// Answers `spec` (REQUIRES: AnswersByThreshold(spec)) with passes of `scan`, keeping the
// `detail_top_n` addresses of most value of the detail segments that no summary stands
// for (any other is bounded by the last one's value, and read again if a candidate).
inline constexpr std::size_t kDetailTopN = 65536;
Result<QueryResult> RunTopByThreshold(const QuerySpec& spec, ScanFunction scan,
                                      std::size_t detail_top_n = kDetailTopN);

}  // namespace sluice::query
