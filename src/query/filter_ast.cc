// SPDX-License-Identifier: Apache-2.0

#include "query/filter_ast.h"

#include <cinttypes>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace sluice::query::filter {
namespace {

std::string OpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

std::string DerivedName(Derived derived) {
  switch (derived) {
    case Derived::kDuration:
      return "duration";
    case Derived::kPps:
      return "pps";
    case Derived::kBps:
      return "bps";
    case Derived::kBpp:
      return "bpp";
  }
  return "?";
}

// A constant in the notation of its field's type.
std::string ValueText(flow::FieldId field, std::uint64_t value) {
  switch (flow::Info(field).type) {
    case flow::FieldType::kTimeMillis:
      return std::to_string(static_cast<std::int64_t>(value));
    case flow::FieldType::kMacAddress: {
      char text[18];
      std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x",
                    static_cast<unsigned>((value >> 40) & 0xff), static_cast<unsigned>((value >> 32) & 0xff),
                    static_cast<unsigned>((value >> 24) & 0xff), static_cast<unsigned>((value >> 16) & 0xff),
                    static_cast<unsigned>((value >> 8) & 0xff), static_cast<unsigned>(value & 0xff));
      return text;
    }
    case flow::FieldType::kCountry:
      if (value == 0) {
        return "\"\"";
      }
      return std::string{static_cast<char>((value >> 8) & 0xff), static_cast<char>(value & 0xff)};
    default:
      return std::to_string(value);
  }
}

std::string FlagsText(std::uint64_t mask) {
  static constexpr char kLetters[] = "FSRPAUEC";  // bit 0 (FIN) .. bit 7 (CWR)
  std::string text;
  for (int bit = 7; bit >= 0; --bit) {
    if ((mask >> bit & 1) != 0) {
      text += kLetters[bit];
    }
  }
  return text;
}

std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

void Flatten(NodeKind kind, Node node, std::vector<Node>& out) {
  if (node.kind == kind) {
    for (Node& child : node.children) {
      Flatten(kind, std::move(child), out);
    }
  } else {
    out.push_back(std::move(node));
  }
}

}  // namespace

bool AddressPrefix::Contains(const flow::IpAddress& a) const {
  const unsigned full = bits / 8U;
  for (unsigned idx = 0; idx < full; ++idx) {
    if (a.bytes[idx] != address.bytes[idx]) {
      return false;
    }
  }
  const unsigned rest = bits % 8U;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<std::uint8_t>(0xff00U >> rest);
  return (a.bytes[full] & mask) == address.bytes[full];
}

std::string AddressPrefix::ToString() const {
  const bool v4 = address.IsV4() && bits >= 96;
  std::string text = address.ToString();
  if (v4 && bits < 128) {
    text += "/" + std::to_string(bits - 96);
  } else if (!v4 && bits < 128) {
    text += "/" + std::to_string(bits);
  }
  return text;
}

Node Node::Not(Node child) {
  Node node;
  node.kind = NodeKind::kNot;
  node.children.push_back(std::move(child));
  return node;
}

Node Node::Combine(NodeKind kind, std::vector<Node> children) {
  if (children.size() == 1) {
    return std::move(children[0]);
  }
  Node node;
  node.kind = kind;
  node.children = std::move(children);
  return node;
}

Node Node::Compare(flow::FieldId field, CompareOp op, std::uint64_t value) {
  Node node;
  node.kind = NodeKind::kCompare;
  node.field = field;
  node.op = op;
  node.value = value;
  return node;
}

Node Simplify(Node node) {
  switch (node.kind) {
    case NodeKind::kNot: {
      Node child = Simplify(std::move(node.children[0]));
      if (child.kind == NodeKind::kTrue) {
        return Node::False();
      }
      if (child.kind == NodeKind::kFalse) {
        return Node::True();
      }
      if (child.kind == NodeKind::kNot) {
        return std::move(child.children[0]);
      }
      return Node::Not(std::move(child));
    }
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      const bool is_and = node.kind == NodeKind::kAnd;
      std::vector<Node> flat;
      for (Node& child : node.children) {
        Flatten(node.kind, Simplify(std::move(child)), flat);
      }
      std::vector<Node> kept;
      for (Node& child : flat) {
        // and: true is neutral, false absorbs; or: the other way round.
        if (child.kind == (is_and ? NodeKind::kTrue : NodeKind::kFalse)) {
          continue;
        }
        if (child.kind == (is_and ? NodeKind::kFalse : NodeKind::kTrue)) {
          return is_and ? Node::False() : Node::True();
        }
        kept.push_back(std::move(child));
      }
      if (kept.empty()) {
        return is_and ? Node::True() : Node::False();
      }
      return Node::Combine(node.kind, std::move(kept));
    }
    case NodeKind::kInList:
      if (node.list.empty()) {
        return Node::False();
      }
      return node;
    case NodeKind::kPrefix:
      if (node.prefixes.empty()) {
        return Node::False();
      }
      return node;
    default:
      return node;
  }
}

std::string DescribeNode(const Node& node) {
  const std::string field = std::string(flow::Info(node.field).name);
  switch (node.kind) {
    case NodeKind::kTrue:
      return "any";
    case NodeKind::kFalse:
      return "none";
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      std::string text = "(";
      for (std::size_t idx = 0; idx < node.children.size(); ++idx) {
        if (idx != 0) {
          text += node.kind == NodeKind::kAnd ? " and " : " or ";
        }
        text += DescribeNode(node.children[idx]);
      }
      return text + ")";
    }
    case NodeKind::kNot: {
      const Node& child = node.children[0];
      const bool group = child.kind == NodeKind::kAnd || child.kind == NodeKind::kOr ||
                         child.kind == NodeKind::kNot;
      return group ? "not " + DescribeNode(child) : "not (" + DescribeNode(child) + ")";
    }
    case NodeKind::kCompare:
      return field + " " + OpText(node.op) + " " + ValueText(node.field, node.value);
    case NodeKind::kInList: {
      std::string text = field + " in [";
      for (std::size_t idx = 0; idx < node.list.size(); ++idx) {
        text += (idx != 0 ? " " : "") + ValueText(node.field, node.list[idx]);
      }
      return text + "]";
    }
    case NodeKind::kBitsAll:
      if (node.field == flow::FieldId::kTcpFlags) {
        return field + " has " + FlagsText(node.value);
      }
      return field + " has bits " + std::to_string(node.value);
    case NodeKind::kBitsAny:
      if (node.field == flow::FieldId::kTcpFlags) {
        return field + " has any of " + FlagsText(node.value);
      }
      return field + " has any bits of " + std::to_string(node.value);
    case NodeKind::kMasked: {
      std::string name = field;
      if (node.field == flow::FieldId::kObsDomain && node.mask == 0xff) {
        name = node.shift == 8 ? "engine_type" : "engine_id";
      } else {
        name = "(" + field + " >> " + std::to_string(node.shift) + " & " + std::to_string(node.mask) + ")";
      }
      return name + " " + OpText(node.op) + " " + std::to_string(node.value);
    }
    case NodeKind::kPrefix: {
      if (node.prefixes.size() == 1) {
        return field + " = " + node.prefixes[0].ToString();
      }
      std::string text = field + " in [";
      for (std::size_t idx = 0; idx < node.prefixes.size(); ++idx) {
        text += (idx != 0 ? " " : "") + node.prefixes[idx].ToString();
      }
      return text + "]";
    }
    case NodeKind::kFamily:
      return field + (node.family_v6 ? " is ipv6" : " is ipv4");
    case NodeKind::kString:
      return field + " = " + Quoted(node.text);
    case NodeKind::kDerived:
      return DerivedName(node.derived) + " " + OpText(node.op) + " " + std::to_string(node.value);
  }
  return "?";
}

}  // namespace sluice::query::filter
