// SPDX-License-Identifier: Apache-2.0

#include "query/top_by_threshold.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "flow/field.h"
#include "flow/ip_address.h"
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

// The engine's merge of two groups' sums (internal::MergeInto), on Counters.
Counters Sum(const Counters& a, const Counters& b) {
  internal::Aggregate sum{a.flows, a.packets, a.bytes, a.first_ms, a.last_ms};
  internal::MergeInto(sum, {b.flows, b.packets, b.bytes, b.first_ms, b.last_ms});
  return internal::ToCounters(sum);
}

// The scan work and warnings of `pass`, added to `into`.
void AddPass(QueryResult& into, const QueryResult& pass) {
  AddScan(into.scan, pass.scan);
  for (const std::string& warning : pass.warnings) {
    if (std::find(into.warnings.begin(), into.warnings.end(), warning) == into.warnings.end()) {
      into.warnings.push_back(warning);
    }
  }
}

using AddressSet = std::unordered_set<flow::IpAddress, flow::IpAddressHash>;

// Sums per address of the rows of several passes (a few hundred thousand at most: the
// heads, and the detail segments no summary stands for).
class AddressSums {
 public:
  void Add(const std::vector<GroupRow>& rows) {
    for (const GroupRow& row : rows) {
      Counters& sum = sums_[row.key.front().address];
      sum = Sum(sum, row.counters);
    }
  }

  // Adds the rows of `rows` whose address is in `keep`.
  void AddFrom(const std::vector<GroupRow>& rows, const AddressSet& keep) {
    for (const GroupRow& row : rows) {
      if (keep.contains(row.key.front().address)) {
        Counters& sum = sums_[row.key.front().address];
        sum = Sum(sum, row.counters);
      }
    }
  }

  std::size_t size() const { return sums_.size(); }

  // The first `top_n` (0: all) in the engine's order: `order` descending, ties by
  // address ascending.
  std::vector<GroupRow> Top(OrderBy order, std::size_t top_n) const {
    std::vector<GroupRow> rows;
    rows.reserve(sums_.size());
    for (const auto& [address, counters] : sums_) {
      GroupRow row;
      row.key.push_back(KeyValue{0, address});
      row.counters = counters;
      rows.push_back(std::move(row));
    }
    auto before = [&](const GroupRow& a, const GroupRow& b) {
      const std::uint64_t va = OrderValue(a.counters, order);
      const std::uint64_t vb = OrderValue(b.counters, order);
      return va != vb ? va > vb : a.key.front().address < b.key.front().address;
    };
    if (top_n != 0 && top_n < rows.size()) {
      std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(top_n), rows.end(), before);
      rows.resize(top_n);
    } else {
      std::sort(rows.begin(), rows.end(), before);
    }
    return rows;
  }

 private:
  std::unordered_map<flow::IpAddress, Counters, flow::IpAddressHash> sums_;
};

}  // namespace

bool AnswersByThreshold(const QuerySpec& spec) {
  if (spec.count_distinct || spec.head_blocks != 0 || spec.files_read != FilesRead::kAll || !spec.use_rollups || !spec.files.empty() ||
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

Result<QueryResult> RunTopByThreshold(const QuerySpec& spec, ScanFunction scan, std::size_t detail_top_n) {
  const StatSpec& stat = spec.stats.front();
  // The detail segments that no summary stands for (the one being written, those the
  // window cuts) are read once: their detail_top_n addresses of most value, exactly; any
  // other address has at most the last one's value there.
  QuerySpec detail_pass = spec;
  detail_pass.files_read = FilesRead::kDetail;
  detail_pass.top_n = std::max<std::size_t>(detail_top_n, 1);
  Result<QueryResult> detail = scan(detail_pass);
  if (!detail) {
    return detail;
  }
  QuerySpec head_pass = spec;
  head_pass.files_read = FilesRead::kRollups;
  head_pass.head_blocks = store::kTopHeadBlocks;
  head_pass.top_n = 0;  // every address seen, for the candidates
  Result<QueryResult> seen = scan(head_pass);
  if (!seen) {
    return seen;
  }
  AddressSums sums;
  sums.Add(detail->stats.front().rows);
  sums.Add(seen->stats.front().rows);
  const std::vector<GroupRow>& detail_top = detail->stats.front().rows;
  const bool detail_whole = detail_top.size() < detail_pass.top_n;
  if (!seen->head_cut && detail_whole) {
    // Every row was read: this is the whole answer.
    QueryResult answer = std::move(*detail);
    answer.totals = Sum(answer.totals, seen->totals);
    StatTable& table = answer.stats.front();
    table.distinct = sums.size();
    table.total = answer.totals;
    table.rows = sums.Top(stat.order, spec.top_n);
    AddPass(answer, *seen);
    return answer;
  }
  const std::vector<GroupRow> partial = sums.Top(stat.order, 0);
  const std::uint64_t bound = internal::SaturatingAdd(
      seen->unread_bound, detail_whole ? 0 : OrderValue(detail_top.back().counters, stat.order));
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
      AddPass(*whole, *detail);
      AddPass(*whole, *seen);
    }
    return whole;
  }
  // The candidates' exact sums: their summary rows, and their detail rows read above if
  // the detail pass kept them all (else the detail is read again for them).
  AddressSet in_detail;
  for (const GroupRow& row : detail_top) {
    in_detail.insert(row.key.front().address);
  }
  AddressSet candidate_set;
  bool detail_known = true;
  for (std::size_t idx = 0; idx < candidates; ++idx) {
    candidate_set.insert(partial[idx].key.front().address);
    detail_known = detail_known && (detail_whole || in_detail.contains(partial[idx].key.front().address));
  }
  QuerySpec exact_pass = spec;
  exact_pass.files_read = detail_whole || detail_known ? FilesRead::kRollups : FilesRead::kAll;
  exact_pass.filter = CandidateFilter(spec.filter, stat.key.front().field, partial, candidates);
  exact_pass.top_n = 0;
  Result<QueryResult> exact = scan(exact_pass);
  if (!exact) {
    return exact;
  }
  AddressSums found;
  found.Add(exact->stats.front().rows);
  if (exact_pass.files_read == FilesRead::kRollups) {
    found.AddFrom(detail_top, candidate_set);
  }
  QuerySpec totals_pass = spec;
  totals_pass.stats.clear();
  Result<QueryResult> answer = scan(totals_pass);
  if (!answer) {
    return answer;
  }
  StatTable table;
  table.spec = stat;
  table.rows = found.Top(stat.order, spec.top_n);
  table.total = answer->totals;
  table.distinct_known = false;
  answer->stats.push_back(std::move(table));
  for (const QueryResult* pass : {&*detail, &*seen, &*exact}) {
    AddPass(*answer, *pass);
  }
  return answer;
}

}  // namespace sluice::query
