// SPDX-License-Identifier: Apache-2.0
// Filter: nfdump's filter language (nfdump(1), version 1.7) plus Sluice's own field
// names, parsed into an AST and compiled into a predicate that
//   - names the columns it reads (so a scan decompresses nothing else),
//   - rules out whole blocks from their statistics before any row is read, and
//   - narrows a selection vector over a FlowBatch, column at a time, with no virtual
//     call and no allocation per row.
//
// Ownership: a Filter owns its compiled program. Thread-safety: const methods may be
// called from many threads at once (each scan thread calls Select() on its own batches).

#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "flow/field.h"
#include "flow/flow_batch.h"
#include "flow/ip_address.h"
#include "store/format.h"

namespace sluice::query {

// Where and why a filter text did not parse. `column` is 1-based, in bytes of the text.
struct FilterSyntaxError {
  std::size_t column = 0;
  std::string message;  // "expected a port number after 'port'"

  // "at column 14: expected a port number after 'port'"
  std::string ToString() const;
  Error ToError() const { return Error(ErrorCode::kInvalidArgument, ToString()); }
};

class Filter {
 public:
  // Parses and compiles `text`. Empty text (or only blanks) matches every flow.
  static Result<Filter, FilterSyntaxError> Parse(std::string_view text);

  // A filter that matches every flow.
  Filter();
  ~Filter();
  Filter(Filter&&) noexcept;
  Filter& operator=(Filter&&) noexcept;

  // True when every flow matches (no predicate at all).
  bool MatchesAll() const;

  // The columns Select() reads, each once.
  std::span<const flow::FieldId> fields() const;

  // False only if no row of the block can match, judged from its per-column statistics
  // (min/max, address ranges and bloom filters, constant columns).
  bool MayMatch(const store::BlockInfo& block) const;

  // As MayMatch(), also judging address predicates by the block's distinct values of
  // their column where known: dictionaries[field] (kFieldCount spans) holds them, 16
  // bytes each, or is empty.
  bool MayMatch(const store::BlockInfo& block,
                std::span<const std::span<const std::uint8_t>> dictionaries) const;

  // The addresses a block's address filter (store/address_filter.h) can rule out: those
  // named exactly by the filter's source and destination address predicates (`host A`,
  // `dst ip in [A B]`), sorted, once each. Empty: address filters cannot help.
  std::vector<flow::IpAddress> ProbeAddresses() const;

  // As MayMatch(), with present[i] false when ProbeAddresses()[i] is certainly not in the
  // block's source or destination column. REQUIRES: present.size() ==
  // ProbeAddresses().size() (otherwise the answers are not used).
  bool MayMatch(const store::BlockInfo& block, std::span<const bool> present) const;

  // Keeps, of the `count` row indexes in `rows` (ascending), those whose row of `batch`
  // matches; writes them to the front of `rows` in order and returns how many.
  std::size_t Select(const flow::FlowBatch& batch, std::uint32_t* rows, std::size_t count) const;

  // The parsed expression in a normalized, fully parenthesized form (for `--explain`
  // and tests): "(proto = 6 and (src_port = 80 or dst_port = 80))".
  std::string Describe() const;

 private:
  class Program;
  explicit Filter(std::unique_ptr<Program> program);

  std::unique_ptr<Program> program_;
};

}  // namespace sluice::query
