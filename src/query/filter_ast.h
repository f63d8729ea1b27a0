// SPDX-License-Identifier: Apache-2.0
// The filter's expression tree, as the parser builds it and the program evaluates it.
// Every leaf names the catalogue columns it reads; nfdump primitives are lowered to these
// few leaf kinds by the parser (filter_parser.h), so evaluation, block pruning and
// Describe() know nothing of nfdump's surface syntax.

#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "flow/field.h"
#include "flow/ip_address.h"

namespace sluice::query::filter {

enum class NodeKind : std::uint8_t {
  kTrue,     // any
  kFalse,    // folded constant
  kAnd,      // children, all must match
  kOr,       // children, one must match
  kNot,      // one child
  kCompare,  // integer column (or time column, signed) `op` value
  kInList,   // integer column is one of `list` (sorted, unique)
  kBitsAll,  // (column & value) == value (tcp flags)
  kBitsAny,  // (column & value) != 0 (tcp flags under an odd number of negations)
  kMasked,   // ((column >> shift) & mask) `op` value (engine type / id inside obs_domain)
  kPrefix,   // address column inside one of `prefixes`
  kFamily,   // address column is IPv4 (family_v6 false) or IPv6 (true)
  kString,   // string column equals `text`
  kDerived,  // derived value `op` value: duration, pps, bps, bpp
};

enum class CompareOp : std::uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

enum class Derived : std::uint8_t { kDuration, kPps, kBps, kBpp };

// An address prefix; `address` has every bit past `bits` cleared. IPv4 prefixes are held
// IPv4-mapped (bits = 96 + IPv4 prefix length), so they match only IPv4 rows.
struct AddressPrefix {
  flow::IpAddress address;
  std::uint8_t bits = 128;

  bool Contains(const flow::IpAddress& a) const;
  std::string ToString() const;
};

struct Node {
  NodeKind kind = NodeKind::kTrue;
  flow::FieldId field = flow::FieldId::kTimeReceived;
  CompareOp op = CompareOp::kEq;
  Derived derived = Derived::kDuration;
  bool family_v6 = false;
  std::uint8_t shift = 0;              // kMasked
  std::uint64_t mask = 0;              // kMasked
  std::uint64_t value = 0;             // kCompare/kMasked/kDerived operand, kBitsAll mask;
                                       // time columns hold the int64 bit pattern
  std::vector<std::uint64_t> list;     // kInList
  std::vector<AddressPrefix> prefixes; // kPrefix
  std::string text;                    // kString
  std::vector<Node> children;          // kAnd, kOr, kNot

  // Filled by the program (filter_program.h) from `prefixes`: the addresses as two raw
  // 64-bit words each (memory order), exact addresses sorted, networks with their masks.
  std::vector<std::array<std::uint64_t, 2>> exact_words;
  std::vector<std::array<std::uint64_t, 4>> net_words;  // address hi, lo, mask hi, lo

  static Node True() { return Node{}; }
  static Node False() {
    Node node;
    node.kind = NodeKind::kFalse;
    return node;
  }
  static Node Not(Node child);
  // Builds kAnd / kOr of `children`; one child is returned as is.
  static Node Combine(NodeKind kind, std::vector<Node> children);
  static Node Compare(flow::FieldId field, CompareOp op, std::uint64_t value);
};

// Folds constants, flattens nested and/or, drops double negation.
Node Simplify(Node node);

// "(proto = 6 and (src_port = 80 or dst_port = 80))".
std::string DescribeNode(const Node& node);

// True if `a op b`.
template <typename T>
constexpr bool ApplyOp(CompareOp op, T a, T b) {
  switch (op) {
    case CompareOp::kEq:
      return a == b;
    case CompareOp::kNe:
      return a != b;
    case CompareOp::kLt:
      return a < b;
    case CompareOp::kLe:
      return a <= b;
    case CompareOp::kGt:
      return a > b;
    case CompareOp::kGe:
      return a >= b;
  }
  return false;
}

}  // namespace sluice::query::filter
