// SPDX-License-Identifier: Apache-2.0

#include "query/top_by_threshold.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "flow/field.h"
#include "query/group_table.h"
#include "store/rollup.h"

namespace sluice::query {
namespace {

// More candidates than this and the exact pass's filter would cost more than it saves.
constexpr std::size_t kMaxCandidates = 4096;

std::uint64_t OrderValue(const Counters& counters, OrderBy order) {
  switch (order) {
    case OrderBy::kPackets:
      return counters.packets;
    case OrderBy::kFlows:
      return counters.flows;
    default:
      return counters.bytes;
  }
}

// What each pass did, added up.
void AddScan(ScanStats& into, const ScanStats& from) {
  into.segments_total = std::max(into.segments_total, from.segments_total);
  into.segments_read += from.segments_read;
  into.rollups_read += from.rollups_read;
  into.blocks_total += from.blocks_total;
  into.blocks_skipped += from.blocks_skipped;
  into.rows_scanned += from.rows_scanned;
  into.rows_matched += from.rows_matched;
  into.damaged = std::max(into.damaged, from.damaged);
  into.seconds += from.seconds;
}

// "src ip in [a b ...]" (or dst) for the candidates' addresses, within `filter`.
std::string CandidateFilter(const std::string& filter, flow::FieldId field,
                            const std::vector<GroupRow>& rows, std::size_t count) {
  std::string text = filter.empty() ? std::string() : "(" + filter + ") and ";
  text += field == flow::FieldId::kSrcAddr ? "src ip in [" : "dst ip in [";
  char address[flow::IpAddress::kMaxTextLength + 1];
  for (std::size_t idx = 0; idx < count; ++idx) {
    text.push_back(' ');
    text.append(address, rows[idx].key.front().address.ToText(address));
  }
  text += " ]";
  return text;
}

}  // namespace

bool AnswersByThreshold(const QuerySpec& spec) {
  if (spec.count_distinct || spec.head_blocks != 0 || !spec.use_rollups || !spec.files.empty() ||
      spec.stats.size() != 1 || !spec.aggregate.empty() || spec.bucket_ms != 0 || spec.top_n == 0) {
    return false;
  }
  const StatSpec& stat = spec.stats.front();
  if (stat.records || stat.key.size() != 1 || !stat.paired_key.empty()) {
    return false;
  }
  const KeyField& key = stat.key.front();
  const bool address = key.field == flow::FieldId::kSrcAddr || key.field == flow::FieldId::kDstAddr;
  const bool order = stat.order == OrderBy::kBytes || stat.order == OrderBy::kPackets ||
                     stat.order == OrderBy::kFlows;
  return address && order && key.v4_prefix == 32 && key.v6_prefix == 128 && !key.flow_mask;
}

Result<QueryResult> RunTopByThreshold(const QuerySpec& spec, ScanFunction scan) {
  const StatSpec& stat = spec.stats.front();
  QuerySpec head_pass = spec;
  head_pass.head_blocks = store::kTopHeadBlocks;
  head_pass.top_n = 0;  // every address seen, for the candidates
  Result<QueryResult> seen = scan(head_pass);
  if (!seen) {
    return seen;
  }
  std::vector<GroupRow>& partial = seen->stats.front().rows;
  if (!seen->head_cut) {
    // Every row was read: this is the whole answer.
    if (partial.size() > spec.top_n) {
      partial.resize(spec.top_n);
    }
    return seen;
  }
  const std::uint64_t bound = seen->unread_bound;
  std::size_t candidates = 0;
  if (partial.size() >= spec.top_n) {
    const std::uint64_t nth = OrderValue(partial[spec.top_n - 1].counters, stat.order);
    if (bound < nth) {
      // The rows are in order of their partial sums: the candidates are a prefix.
      while (candidates < partial.size() &&
             internal::SaturatingAdd(OrderValue(partial[candidates].counters, stat.order), bound) >= nth) {
        ++candidates;
      }
    }
  }
  bool addresses_set = true;
  for (std::size_t idx = 0; idx < candidates; ++idx) {
    addresses_set = addresses_set && !partial[idx].key.front().address.IsUnset();
  }
  if (candidates == 0 || candidates > kMaxCandidates || !addresses_set) {
    Result<QueryResult> whole = scan(spec);
    if (whole) {
      AddScan(whole->scan, seen->scan);
    }
    return whole;
  }
  QuerySpec exact_pass = spec;
  exact_pass.filter = CandidateFilter(spec.filter, stat.key.front().field, partial, candidates);
  Result<QueryResult> exact = scan(exact_pass);
  if (!exact) {
    return exact;
  }
  QuerySpec totals_pass = spec;
  totals_pass.stats.clear();
  Result<QueryResult> answer = scan(totals_pass);
  if (!answer) {
    return answer;
  }
  StatTable table = std::move(exact->stats.front());
  table.spec = stat;
  table.total = answer->totals;
  table.distinct = 0;
  table.distinct_known = false;
  answer->stats.push_back(std::move(table));
  AddScan(answer->scan, seen->scan);
  AddScan(answer->scan, exact->scan);
  for (QueryResult* pass : {&*seen, &*exact}) {
    for (std::string& warning : pass->warnings) {
      if (std::find(answer->warnings.begin(), answer->warnings.end(), warning) == answer->warnings.end()) {
        answer->warnings.push_back(std::move(warning));
      }
    }
  }
  return answer;
}

}  // namespace sluice::query
