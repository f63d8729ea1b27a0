// SPDX-License-Identifier: Apache-2.0
// Filter: the public face of filter_lexer / filter_parser / filter_program.

#include "query/filter.h"

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "query/filter_ast.h"
#include "query/filter_parser.h"
#include "query/filter_program.h"

namespace sluice::query {

class Filter::Program : public filter::FilterProgram {
 public:
  using filter::FilterProgram::FilterProgram;
};

Filter::Filter() = default;
Filter::~Filter() = default;
Filter::Filter(Filter&&) noexcept = default;
Filter& Filter::operator=(Filter&&) noexcept = default;
Filter::Filter(std::unique_ptr<Program> program) : program_(std::move(program)) {}

Result<Filter, FilterSyntaxError> Filter::Parse(std::string_view text) {
  Result<filter::Node, FilterSyntaxError> tree = filter::ParseExpression(text);
  if (!tree) {
    return tl::unexpected(std::move(tree.error()));
  }
  filter::Node root = filter::Simplify(std::move(*tree));
  if (root.kind == filter::NodeKind::kTrue) {
    return Filter();
  }
  return Filter(std::make_unique<Program>(std::move(root)));
}

bool Filter::MatchesAll() const { return program_ == nullptr; }

std::span<const flow::FieldId> Filter::fields() const {
  return program_ == nullptr ? std::span<const flow::FieldId>() : program_->fields();
}

bool Filter::MayMatch(const store::BlockInfo& block) const {
  return program_ == nullptr || program_->Judge(block) != filter::Tri::kNever;
}

bool Filter::MayMatch(const store::BlockInfo& block,
                      std::span<const std::span<const std::uint8_t>> dictionaries) const {
  return program_ == nullptr || program_->Judge(block, dictionaries) != filter::Tri::kNever;
}

std::vector<flow::IpAddress> Filter::ProbeAddresses() const {
  std::vector<flow::IpAddress> addresses;
  if (program_ != nullptr) {
    for (const std::array<std::uint64_t, 2>& words : program_->probe_words()) {
      flow::IpAddress address;
      std::memcpy(address.bytes.data(), words.data(), address.bytes.size());
      addresses.push_back(address);
    }
  }
  return addresses;
}

bool Filter::MayMatch(const store::BlockInfo& block, std::span<const bool> present) const {
  return program_ == nullptr || program_->Judge(block, present) != filter::Tri::kNever;
}

std::size_t Filter::Select(const flow::FlowBatch& batch, std::uint32_t* rows, std::size_t count) const {
  return program_ == nullptr ? count : program_->Select(batch, rows, count);
}

std::string Filter::Describe() const { return program_ == nullptr ? "any" : program_->Describe(); }

}  // namespace sluice::query
