// SPDX-License-Identifier: Apache-2.0
// FilterProgram: a simplified expression tree ready to run.
//
// Select() walks the tree once per batch, not once per row: AND narrows the selection
// vector child after child; OR runs each child on the rows no earlier child matched and
// merges the results; NOT keeps the input rows its child dropped. Each leaf is one tight
// loop over one column (two to four for the derived values), with the comparison chosen
// outside the loop. Scratch space for OR/NOT comes from a per-thread buffer, so a
// steady-state Select() allocates nothing.
//
// MayMatch() evaluates the same tree three-valued (never / maybe / always) from a block's
// column statistics.
//
// Thread-safety: const methods may run concurrently.

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "flow/field.h"
#include "flow/flow_batch.h"
#include "query/filter_ast.h"
#include "store/format.h"

namespace sluice::query::filter {

enum class Tri : std::uint8_t { kNever, kMaybe, kAlways };

class FilterProgram {
 public:
  // `root` should be simplified (filter_ast.h Simplify()).
  explicit FilterProgram(Node root);

  bool MatchesAll() const { return root_.kind == NodeKind::kTrue; }

  std::span<const flow::FieldId> fields() const { return fields_; }

  Tri Judge(const store::BlockInfo& block) const;

  // As Judge(), with dictionaries[field] (kFieldCount spans) the block's distinct values
  // of an address column, 16 bytes each, or empty when not known: the address leaves on
  // such a column are judged by those values, exactly.
  Tri Judge(const store::BlockInfo& block,
            std::span<const std::span<const std::uint8_t>> dictionaries) const;

  // The exact addresses of the filter's source and destination address leaves that name
  // no network (`host A`, `src ip in [A B]`), as raw words (memory order), sorted, once
  // each: what a block's address filter can rule out.
  std::span<const std::array<std::uint64_t, 2>> probe_words() const { return probe_words_; }

  // As Judge(), with present[i] false when probe_words()[i] is certainly in neither the
  // source nor the destination column of the block (its address filter said so); the
  // leaves naming only absent addresses are then judged never.
  Tri Judge(const store::BlockInfo& block, std::span<const bool> present) const;

  std::size_t Select(const flow::FlowBatch& batch, std::uint32_t* rows, std::size_t count) const;

  std::string Describe() const { return DescribeNode(root_); }

 private:
  Node root_;
  std::vector<flow::FieldId> fields_;
  std::vector<std::array<std::uint64_t, 2>> probe_words_;
  std::size_t depth_ = 0;  // OR/NOT nesting, for the scratch size
};

}  // namespace sluice::query::filter
