// SPDX-License-Identifier: Apache-2.0
// RunQuery: answers a QuerySpec from the embedded store.
//
// Plan: the catalog (store/catalog.h) names the segments of the requested sources; a
// segment is skipped by its slot time and then by its summary's flow time ranges; its
// blocks are skipped by their statistics (the time window and Filter::MayMatch); only
// the columns the filter and the outputs need are read. Segments are scanned in
// parallel; each scan thread filters column batches with a selection vector and feeds
// thread-local aggregators that are merged at the end. Long ranges read the hourly
// roll-ups when the query needs only what they hold.
//
// Time window (nfdump -t): a flow is inside when its first and last times both fall in
// [from_ms, to_ms].

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
