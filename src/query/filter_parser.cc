// SPDX-License-Identifier: Apache-2.0
// The parser keeps the first error it meets and unwinds with kFalse placeholders; every
// loop checks failed() so a bad filter costs no more than one pass over its tokens.

#include "query/filter_parser.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "query/filter_lexer.h"

namespace sluice::query::filter {
namespace {

using flow::FieldId;
using flow::FieldType;

constexpr int kMaxDepth = 64;

// Which of a pair of fields a primitive tests (nfdump's src/dst/in/out qualifiers).
enum class Dir : std::uint8_t { kNone, kSrc, kDst, kEither, kBoth, kIn, kOut, kInSrc, kInDst, kOutSrc, kOutDst };

struct FieldPair {
  FieldId src;
  FieldId dst;
};

struct NamedValue {
  std::string_view name;
  std::uint64_t value;
};

// IANA protocol numbers by the names nfdump (and /etc/protocols) use.
constexpr std::array<NamedValue, 26> kProtocols{{
    {"icmp", 1},   {"igmp", 2},     {"ggp", 3},       {"ipip", 4},    {"ipinip", 4}, {"st", 5},
    {"tcp", 6},    {"egp", 8},      {"igp", 9},       {"udp", 17},    {"ipv6", 41},  {"rsvp", 46},
    {"gre", 47},   {"esp", 50},     {"ah", 51},       {"icmp6", 58},  {"ipv6-icmp", 58},
    {"eigrp", 88}, {"ospf", 89},    {"etherip", 97},  {"pim", 103},   {"vrrp", 112}, {"l2tp", 115},
    {"isis", 124}, {"sctp", 132},   {"udplite", 136},
}};

// NSEL / NEL event names, mapped onto fw_event's values (flow/field.cc).
constexpr std::array<NamedValue, 8> kFwEvents{{
    {"ignore", 0}, {"create", 1}, {"add", 1}, {"term", 2}, {"delete", 2}, {"deny", 3}, {"alert", 4},
    {"update", 5},
}};

// nfdump primitives whose data Sluice has no column for.
constexpr std::array<std::string_view, 14> kNotStored{
    "count", "ident", "tun", "tunip", "payload", "client", "server", "ingress", "egress",
    "pblock", "sysid", "latency", "vrf", "label"};

std::optional<std::uint64_t> Lookup(std::span<const NamedValue> table, std::string_view name) {
  for (const NamedValue& entry : table) {
    if (entry.name == name) {
      return entry.value;
    }
  }
  return std::nullopt;
}

std::uint64_t MaxOf(FieldType type) {
  switch (type) {
    case FieldType::kUint8:
      return 0xff;
    case FieldType::kUint16:
    case FieldType::kCountry:
      return 0xffff;
    case FieldType::kUint32:
      return 0xffffffff;
    case FieldType::kMacAddress:
      return 0xffffffffffff;
    default:
      return std::numeric_limits<std::uint64_t>::max();
  }
}

AddressPrefix MakePrefix(flow::IpAddress address, unsigned bits) {
  AddressPrefix prefix;
  for (unsigned idx = 0; idx < 16; ++idx) {
    const unsigned first_bit = idx * 8;
    if (first_bit >= bits) {
      address.bytes[idx] = 0;
    } else if (bits - first_bit < 8) {
      address.bytes[idx] &= static_cast<std::uint8_t>(0xff00U >> (bits - first_bit));
    }
  }
  prefix.address = address;
  prefix.bits = static_cast<std::uint8_t>(bits);
  return prefix;
}

Node PrefixNode(FieldId field, std::vector<AddressPrefix> prefixes) {
  Node node;
  node.kind = NodeKind::kPrefix;
  node.field = field;
  node.prefixes = std::move(prefixes);
  return node;
}

Node ListNode(FieldId field, std::vector<std::uint64_t> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  Node node;
  node.kind = NodeKind::kInList;
  node.field = field;
  node.list = std::move(values);
  return node;
}

Node FamilyNode(FieldId field, bool v6) {
  Node node;
  node.kind = NodeKind::kFamily;
  node.field = field;
  node.family_v6 = v6;
  return node;
}

Node And2(Node a, Node b) {
  std::vector<Node> children;
  children.push_back(std::move(a));
  children.push_back(std::move(b));
  return Node::Combine(NodeKind::kAnd, std::move(children));
}

std::string Quote(std::string_view text) { return "'" + std::string(text) + "'"; }

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<Node, FilterSyntaxError> Run() {
    if (Peek().kind == TokenKind::kEnd) {
      return Node::True();
    }
    Node root = ParseOr(0);
    if (!failed() && Peek().kind != TokenKind::kEnd) {
      if (Peek().kind == TokenKind::kRParen) {
        Fail(Peek(), "unbalanced ')'");
      } else {
        Fail(Peek(), "expected 'and', 'or' or the end of the filter after " + Quote(Last().text) +
                         ", found " + Describe(Peek()));
      }
    }
    if (error_) {
      return tl::unexpected(*error_);
    }
    return root;
  }

 private:
  // ---- tokens ----
  const Token& Peek(std::size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& Next() {
    const Token& token = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) {
      ++pos_;
    }
    return token;
  }
  const Token& Last() const { return tokens_[pos_ == 0 ? 0 : pos_ - 1]; }
  bool IsWord(const Token& token, std::string_view word) const {
    return token.kind == TokenKind::kWord && token.lower == word;
  }
  bool AcceptWord(std::string_view word) {
    if (IsWord(Peek(), word)) {
      Next();
      return true;
    }
    return false;
  }
  static std::string Describe(const Token& token) {
    switch (token.kind) {
      case TokenKind::kEnd:
        return "the end of the filter";
      case TokenKind::kString:
        return "the string \"" + token.text + "\"";
      default:
        return Quote(token.text);
    }
  }

  // ---- errors ----
  bool failed() const { return error_.has_value(); }
  Node Fail(std::size_t column, std::string message) {
    if (!error_) {
      error_ = FilterSyntaxError{column, std::move(message)};
    }
    return Node::False();
  }
  Node Fail(const Token& at, std::string message) { return Fail(at.column, std::move(message)); }
  // "expected X after 'prev'" at the next token.
  Node Expected(std::string_view what) {
    return Fail(Peek(), "expected " + std::string(what) + " after " + Quote(Last().text));
  }
  Node NotStored(const Token& at, std::string_view what) {
    return Fail(at, Quote(what) + " is not stored by Sluice");
  }

  // ---- expressions ----
  Node ParseOr(int depth) {
    std::vector<Node> children;
    children.push_back(ParseAnd(depth));
    while (!failed() && (IsWord(Peek(), "or") || Peek().kind == TokenKind::kOrOr)) {
      Next();
      children.push_back(ParseAnd(depth));
    }
    return Node::Combine(NodeKind::kOr, std::move(children));
  }

  Node ParseAnd(int depth) {
    std::vector<Node> children;
    children.push_back(ParseUnary(depth));
    while (!failed() && (IsWord(Peek(), "and") || Peek().kind == TokenKind::kAndAnd)) {
      Next();
      children.push_back(ParseUnary(depth));
    }
    return Node::Combine(NodeKind::kAnd, std::move(children));
  }

  Node ParseUnary(int depth) {
    if (depth >= kMaxDepth) {
      return Fail(Peek(), "the filter nests deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    if (IsWord(Peek(), "not") || Peek().kind == TokenKind::kBang) {
      Next();
      return Node::Not(ParseUnary(depth + 1));
    }
    if (Peek().kind == TokenKind::kLParen) {
      const Token& open = Next();
      if (Peek().kind == TokenKind::kRParen) {
        return Fail(Peek(), "expected an expression after '('");
      }
      Node inner = ParseOr(depth + 1);
      if (failed()) {
        return inner;
      }
      if (Peek().kind != TokenKind::kRParen) {
        if (Peek().kind == TokenKind::kEnd) {
          return Fail(Peek(), "expected ')' to close the '(' at column " + std::to_string(open.column));
        }
        return Fail(Peek(), "expected 'and', 'or' or ')' after " + Quote(Last().text) + ", found " +
                                Describe(Peek()));
      }
      Next();
      return inner;
    }
    return ParsePrimitive();
  }

  // ---- numbers and values ----

  // A decimal (or 0x hex) number, with nfdump's k/m/g suffix (x 1000) when `scaled`.
  std::optional<std::uint64_t> ParseNumber(const Token& token, bool scaled) const {
    if (token.kind != TokenKind::kWord || token.text.empty()) {
      return std::nullopt;
    }
    std::string_view text = token.lower;
    int base = 10;
    if (text.size() > 2 && text.substr(0, 2) == "0x") {
      base = 16;
      text.remove_prefix(2);
    }
    std::uint64_t scale = 1;
    if (scaled && base == 10 && !text.empty()) {
      const char suffix = text.back();
      if (suffix == 'k' || suffix == 'm' || suffix == 'g') {
        scale = suffix == 'k' ? 1000 : suffix == 'm' ? 1000000 : 1000000000;
        text.remove_suffix(1);
      }
    }
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
      return std::nullopt;
    }
    if (value > std::numeric_limits<std::uint64_t>::max() / scale) {
      return std::nullopt;
    }
    return value * scale;
  }

  // The error for a token that is not the number expected after `keyword`.
  Node BadNumber(const Token& token, std::string_view keyword, std::string_view what) {
    if (token.kind == TokenKind::kWord && !token.text.empty() &&
        std::isdigit(static_cast<unsigned char>(token.text[0])) != 0) {
      const bool digits = std::all_of(token.text.begin(), token.text.end(),
                                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
      return Fail(token, digits ? "number " + Quote(token.text) + " is too large" : "invalid number " + Quote(token.text));
    }
    return Fail(token, "expected " + std::string(what) + " after " + Quote(keyword));
  }

  // An optional comparator: = == != < <= > >= or eq ne lt le gt ge. Default: equal.
  CompareOp ParseComparator() {
    const Token& token = Peek();
    static constexpr std::array<std::pair<std::string_view, CompareOp>, 13> kOps{{
        {"=", CompareOp::kEq}, {"==", CompareOp::kEq}, {"!=", CompareOp::kNe}, {"<", CompareOp::kLt},
        {"<=", CompareOp::kLe}, {">", CompareOp::kGt}, {">=", CompareOp::kGe}, {"eq", CompareOp::kEq},
        {"ne", CompareOp::kNe}, {"lt", CompareOp::kLt}, {"le", CompareOp::kLe}, {"gt", CompareOp::kGt},
        {"ge", CompareOp::kGe},
    }};
    if (token.kind != TokenKind::kOp && token.kind != TokenKind::kWord) {
      return CompareOp::kEq;
    }
    for (const auto& [text, op] : kOps) {
      if (token.lower == text) {
        Next();
        return op;
      }
    }
    return CompareOp::kEq;
  }

  // `[op] number` for every field of `fields` (joined by `join`), or `in [list]`.
  // `what` names the number in messages ("a port number"), `max` is its largest value.
  Node ParseNumeric(std::vector<FieldId> fields, NodeKind join, std::string_view what,
                    std::uint64_t max, bool scaled) {
    const std::string keyword = Last().text;
    std::vector<Node> children;
    if (AcceptWord("in")) {
      std::vector<std::uint64_t> values;
      ParseList([&](const Token& item) {
        const std::optional<std::uint64_t> value = ParseNumber(item, scaled);
        if (!value) {
          Fail(item, "expected " + std::string(what) + " in the list, found " + Describe(item));
        } else if (*value > max) {
          Fail(item, std::string(what.substr(what.find(' ') + 1)) + " " + item.text + " is out of range 0.." +
                         std::to_string(max));
        } else {
          values.push_back(*value);
        }
      });
      for (const FieldId field : fields) {
        children.push_back(ListNode(field, values));
      }
      return Node::Combine(join, std::move(children));
    }
    const CompareOp op = ParseComparator();
    const Token& token = Peek();
    const std::optional<std::uint64_t> value = ParseNumber(token, scaled);
    if (!value) {
      return BadNumber(token, keyword, what);
    }
    if (*value > max) {
      return Fail(token, std::string(what.substr(what.find(' ') + 1)) + " " + token.text +
                             " is out of range 0.." + std::to_string(max));
    }
    Next();
    for (const FieldId field : fields) {
      children.push_back(Node::Compare(field, op, *value));
    }
    return Node::Combine(join, std::move(children));
  }

  // '[' item (','? item)* ']'; calls `item` for each.
  template <typename Fn>
  void ParseList(Fn&& item) {
    if (Peek().kind != TokenKind::kLBracket) {
      Expected("'['");
      return;
    }
    const Token& open = Next();
    std::size_t count = 0;
    while (!failed()) {
      const Token& token = Peek();
      if (token.kind == TokenKind::kRBracket) {
        if (count == 0) {
          Fail(token, "empty list");
          return;
        }
        Next();
        return;
      }
      if (token.kind == TokenKind::kComma) {
        Next();
        continue;
      }
      if (token.kind == TokenKind::kEnd) {
        Fail(token, "expected ']' to close the list at column " + std::to_string(open.column));
        return;
      }
      item(token);
      Next();
      ++count;
    }
  }

  // An address, or a prefix (a/n; IPv4 also in nfdump's short form 10/8, 172.16/12).
  std::optional<AddressPrefix> ParsePrefix(const Token& token, bool allow_prefix) {
    if (token.kind != TokenKind::kWord && token.kind != TokenKind::kString) {
      Fail(token, "expected an IP address after " + Quote(Last().text));
      return std::nullopt;
    }
    std::string_view text = token.text;
    std::optional<unsigned> bits;
    const std::size_t slash = text.find('/');
    if (slash != std::string_view::npos) {
      if (!allow_prefix) {
        Fail(token, "expected an IP address, found the network " + Quote(text) + " (use 'net')");
        return std::nullopt;
      }
      unsigned value = 0;
      const std::string_view digits = text.substr(slash + 1);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
        Fail(token, "invalid prefix length in " + Quote(text));
        return std::nullopt;
      }
      bits = value;
      text = text.substr(0, slash);
    }
    const bool v6 = text.find(':') != std::string_view::npos;
    std::string address_text(text);
    if (!v6 && bits) {
      // nfdump's short IPv4 networks: 10/8 is 10.0.0.0/8.
      const auto dots = std::count(address_text.begin(), address_text.end(), '.');
      for (auto pad = dots; pad < 3; ++pad) {
        address_text += ".0";
      }
    }
    const std::optional<flow::IpAddress> address = flow::IpAddress::Parse(address_text);
    if (!address) {
      const bool looks_v4 = !v6 && !text.empty() &&
                            std::all_of(text.begin(), text.end(), [](char c) {
                              return std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.';
                            });
      if (looks_v4 && std::count(text.begin(), text.end(), '.') < 3) {
        Fail(token, "incomplete IP address " + Quote(text));
      } else {
        Fail(token, "invalid IP address " + Quote(text));
      }
      return std::nullopt;
    }
    const unsigned max_bits = v6 ? 128 : 32;
    if (bits && *bits > max_bits) {
      Fail(token, "prefix length " + std::to_string(*bits) + " is out of range 0.." + std::to_string(max_bits));
      return std::nullopt;
    }
    const unsigned total = v6 ? bits.value_or(128) : 96 + bits.value_or(32);
    return MakePrefix(*address, total);
  }

  // Builds `leaf(field)` for the fields a direction selects from `pair`.
  template <typename Leaf>
  Node ForDirection(Dir dir, const Token& keyword, FieldPair pair, Leaf&& leaf) {
    switch (dir) {
      case Dir::kSrc:
        return leaf(std::vector<FieldId>{pair.src}, NodeKind::kOr);
      case Dir::kDst:
        return leaf(std::vector<FieldId>{pair.dst}, NodeKind::kOr);
      case Dir::kBoth:
        return leaf(std::vector<FieldId>{pair.src, pair.dst}, NodeKind::kAnd);
      case Dir::kNone:
      case Dir::kEither:
        return leaf(std::vector<FieldId>{pair.src, pair.dst}, NodeKind::kOr);
      default:
        return Fail(keyword, "'in'/'out' cannot qualify " + Quote(keyword.text));
    }
  }

  // `[=|!=] address` / `net ...` / `in [list]` for each field.
  Node ParseAddress(std::vector<FieldId> fields, NodeKind join, bool is_net, bool allow_prefix = false) {
    std::vector<AddressPrefix> prefixes;
    bool negate = false;
    if (!is_net && AcceptWord("in")) {
      ParseList([&](const Token& item) {
        if (std::optional<AddressPrefix> prefix = ParsePrefix(item, true)) {
          prefixes.push_back(*prefix);
        }
      });
    } else {
      if (Peek().kind == TokenKind::kOp) {
        if (Peek().text == "!=") {
          negate = true;
        } else if (Peek().text != "=" && Peek().text != "==") {
          return Fail(Peek(), "addresses compare only with '=' or '!='");
        }
        Next();
      }
      const Token& token = Peek();
      if (token.kind == TokenKind::kEnd) {
        return Expected(is_net ? "a network" : "an IP address");
      }
      std::optional<AddressPrefix> prefix = ParsePrefix(token, is_net || allow_prefix);
      if (!prefix) {
        return Node::False();
      }
      Next();
      if (is_net && token.text.find('/') == std::string::npos) {  // allow_prefix: a/n only
        // nfdump's `net a.b.c.d m.m.m.m`.
        const Token& mask_token = Peek();
        const std::optional<flow::IpAddress> mask =
            mask_token.kind == TokenKind::kWord ? flow::IpAddress::Parse(mask_token.text) : std::nullopt;
        if (!mask || !mask->IsV4() || !prefix->address.IsV4()) {
          return Fail(mask_token, "expected a netmask or /bits after the network " + Quote(token.text));
        }
        const std::uint32_t m = mask->V4();
        const unsigned ones = static_cast<unsigned>(std::countl_one(m));
        if (ones < 32 && (m << ones) != 0) {
          return Fail(mask_token, "netmask " + Quote(mask_token.text) + " is not contiguous");
        }
        Next();
        *prefix = MakePrefix(prefix->address, 96 + ones);
      }
      prefixes.push_back(*prefix);
    }
    std::vector<Node> children;
    for (const FieldId field : fields) {
      children.push_back(PrefixNode(field, prefixes));
    }
    Node node = Node::Combine(join, std::move(children));
    return negate ? Node::Not(std::move(node)) : node;
  }

  std::optional<std::uint64_t> ParseMac(const Token& token) const {
    if (token.kind != TokenKind::kWord) {
      return std::nullopt;
    }
    std::uint64_t value = 0;
    int groups = 0;
    std::string_view text = token.lower;
    while (!text.empty()) {
      const std::size_t sep = text.find_first_of(":-");
      const std::string_view group = text.substr(0, sep);
      unsigned byte = 0;
      const auto [end, ec] = std::from_chars(group.data(), group.data() + group.size(), byte, 16);
      if (ec != std::errc() || end != group.data() + group.size() || group.empty() || group.size() > 2) {
        return std::nullopt;
      }
      value = value << 8 | byte;
      ++groups;
      if (sep == std::string_view::npos) {
        break;
      }
      text.remove_prefix(sep + 1);
      if (text.empty()) {
        return std::nullopt;
      }
    }
    if (groups != 6) {
      return std::nullopt;
    }
    return value;
  }

  Node ParseMacLeaf(std::vector<FieldId> fields, NodeKind join) {
    CompareOp op = CompareOp::kEq;
    if (Peek().kind == TokenKind::kOp) {
      op = ParseComparator();
    }
    const Token& token = Peek();
    const std::optional<std::uint64_t> mac = ParseMac(token);
    if (!mac) {
      if (token.kind == TokenKind::kEnd) {
        return Expected("a MAC address");
      }
      return Fail(token, "invalid MAC address " + Quote(token.text) + " (expected xx:xx:xx:xx:xx:xx)");
    }
    Next();
    std::vector<Node> children;
    for (const FieldId field : fields) {
      children.push_back(Node::Compare(field, op, *mac));
    }
    return Node::Combine(join, std::move(children));
  }

  std::optional<std::uint64_t> ParseCountry(const Token& token) const {
    if ((token.kind != TokenKind::kWord && token.kind != TokenKind::kString) || token.text.size() != 2 ||
        std::isalpha(static_cast<unsigned char>(token.text[0])) == 0 ||
        std::isalpha(static_cast<unsigned char>(token.text[1])) == 0) {
      return std::nullopt;
    }
    const auto upper = [](char c) {
      return static_cast<std::uint64_t>(std::toupper(static_cast<unsigned char>(c)));
    };
    return upper(token.text[0]) << 8 | upper(token.text[1]);
  }

  Node ParseCountryLeaf(std::vector<FieldId> fields, NodeKind join) {
    bool negate = false;
    if (Peek().kind == TokenKind::kOp) {
      if (Peek().text == "!=") {
        negate = true;
      } else if (Peek().text != "=" && Peek().text != "==") {
        return Fail(Peek(), "countries compare only with '=' or '!='");
      }
      Next();
    }
    std::vector<std::uint64_t> codes;
    if (AcceptWord("in")) {
      ParseList([&](const Token& item) {
        if (const std::optional<std::uint64_t> code = ParseCountry(item)) {
          codes.push_back(*code);
        } else {
          Fail(item, "expected a two-letter country code in the list, found " + Describe(item));
        }
      });
    } else {
      const Token& token = Peek();
      const std::optional<std::uint64_t> code = ParseCountry(token);
      if (!code) {
        if (token.kind == TokenKind::kEnd) {
          return Expected("a two-letter country code");
        }
        return Fail(token, "expected a two-letter country code, found " + Describe(token));
      }
      Next();
      codes.push_back(*code);
    }
    std::vector<Node> children;
    for (const FieldId field : fields) {
      children.push_back(ListNode(field, codes));
    }
    Node node = Node::Combine(join, std::move(children));
    return negate ? Node::Not(std::move(node)) : node;
  }

  // ---- primitives ----

  Node ParsePrimitive() {
    const Token& first = Peek();
    if (first.kind == TokenKind::kEnd) {
      if (pos_ == 0) {
        return Fail(first, "expected a filter expression");
      }
      return Fail(first, "expected an expression after " + Quote(Last().text));
    }
    if (first.kind != TokenKind::kWord) {
      return Fail(first, "expected a filter primitive, found " + Describe(first));
    }
    const std::string& w = first.lower;
    if (w == "and" || w == "or") {
      return Fail(first, pos_ == 0 ? "expected a filter expression before " + Quote(first.text)
                                   : "expected an expression after " + Quote(Last().text) + ", found " +
                                         Quote(first.text));
    }
    if (w == "any") {
      Next();
      return Node::True();
    }
    if (w == "inet" || w == "ipv4" || w == "inet6" || w == "ipv6") {
      Next();
      const bool v6 = w == "inet6" || w == "ipv6";
      return And2(FamilyNode(FieldId::kSrcAddr, v6), FamilyNode(FieldId::kDstAddr, v6));
    }
    for (const std::string_view name : kNotStored) {
      if (w == name) {
        return NotStored(first, first.text);
      }
    }
    // Qualifiers.
    Dir dir = Dir::kNone;
    if (w == "src" || w == "dst") {
      Next();
      dir = w == "src" ? Dir::kSrc : Dir::kDst;
      const std::string_view other = w == "src" ? "dst" : "src";
      if ((IsWord(Peek(), "or") || IsWord(Peek(), "and")) && IsWord(Peek(1), other)) {
        dir = IsWord(Peek(), "or") ? Dir::kEither : Dir::kBoth;
        Next();
        Next();
      }
    } else if (w == "in" || w == "out") {
      Next();
      const bool in = w == "in";
      dir = in ? Dir::kIn : Dir::kOut;
      if (AcceptWord("src")) {
        dir = in ? Dir::kInSrc : Dir::kOutSrc;
      } else if (AcceptWord("dst")) {
        dir = in ? Dir::kInDst : Dir::kOutDst;
      }
    }
    if (Peek().kind != TokenKind::kWord) {
      if (dir == Dir::kNone) {
        return Fail(Peek(), "expected a filter primitive, found " + Describe(Peek()));
      }
      return Expected("a field such as 'ip', 'port' or 'as'");
    }
    const Token& keyword = Next();
    return ParseElement(dir, keyword);
  }

  Node ParseElement(Dir dir, const Token& keyword) {
    const std::string& k = keyword.lower;
    const bool plain = dir == Dir::kNone;
    const bool src_dst = dir == Dir::kNone || dir == Dir::kSrc || dir == Dir::kDst ||
                         dir == Dir::kEither || dir == Dir::kBoth;
    auto numeric = [&](FieldPair pair, std::string_view what, std::uint64_t max, bool scaled) {
      return ForDirection(dir, keyword, pair, [&](std::vector<FieldId> fields, NodeKind join) {
        return ParseNumeric(std::move(fields), join, what, max, scaled);
      });
    };
    auto single = [&](FieldId field, std::string_view what, std::uint64_t max, bool scaled) {
      if (!plain) {
        return Fail(keyword, "a direction cannot qualify " + Quote(keyword.text));
      }
      return ParseNumeric({field}, NodeKind::kOr, what, max, scaled);
    };

    if (k == "ip" || k == "host") {
      return ForDirection(dir, keyword, {FieldId::kSrcAddr, FieldId::kDstAddr},
                          [&](std::vector<FieldId> f, NodeKind j) { return ParseAddress(std::move(f), j, false); });
    }
    if (k == "net") {
      return ForDirection(dir, keyword, {FieldId::kSrcAddr, FieldId::kDstAddr},
                          [&](std::vector<FieldId> f, NodeKind j) { return ParseAddress(std::move(f), j, true); });
    }
    if (k == "xip" || k == "nip") {
      return ForDirection(dir, keyword, {FieldId::kXlateSrcAddr, FieldId::kXlateDstAddr},
                          [&](std::vector<FieldId> f, NodeKind j) { return ParseAddress(std::move(f), j, false); });
    }
    if (k == "xnet") {
      return ForDirection(dir, keyword, {FieldId::kXlateSrcAddr, FieldId::kXlateDstAddr},
                          [&](std::vector<FieldId> f, NodeKind j) { return ParseAddress(std::move(f), j, true); });
    }
    if (k == "port") {
      if (IsWord(Peek(), "in") && IsWord(Peek(1), "pblock")) {
        return NotStored(Peek(1), "pblock");
      }
      return numeric({FieldId::kSrcPort, FieldId::kDstPort}, "a port number", 65535, false);
    }
    if (k == "xport" || k == "nport") {
      return numeric({FieldId::kXlateSrcPort, FieldId::kXlateDstPort}, "a port number", 65535, false);
    }
    if (k == "as") {
      return numeric({FieldId::kSrcAs, FieldId::kDstAs}, "an AS number", 0xffffffff, false);
    }
    if (k == "mask") {
      return numeric({FieldId::kSrcMask, FieldId::kDstMask}, "a prefix length", 128, false);
    }
    if (k == "geo") {
      return ForDirection(dir, keyword, {FieldId::kSrcCountry, FieldId::kDstCountry},
                          [&](std::vector<FieldId> f, NodeKind j) { return ParseCountryLeaf(std::move(f), j); });
    }
    if (k == "vlan" || k == "tos") {
      // Sluice stores the source VLAN and the source ToS only.
      if (dir == Dir::kDst) {
        return NotStored(keyword, "dst " + keyword.text);
      }
      if (!src_dst || dir == Dir::kBoth) {
        return Fail(keyword, "only 'src' can qualify " + Quote(keyword.text));
      }
      return k == "vlan" ? ParseNumeric({FieldId::kVlan}, NodeKind::kOr, "a VLAN id", 4095, false)
                         : ParseNumeric({FieldId::kTos}, NodeKind::kOr, "a ToS value", 255, false);
    }
    if (k == "mac") {
      switch (dir) {
        case Dir::kNone:
        case Dir::kEither:
          return ParseMacLeaf({FieldId::kSrcMac, FieldId::kDstMac}, NodeKind::kOr);
        case Dir::kBoth:
          return ParseMacLeaf({FieldId::kSrcMac, FieldId::kDstMac}, NodeKind::kAnd);
        case Dir::kSrc:
        case Dir::kIn:
        case Dir::kInSrc:
          return ParseMacLeaf({FieldId::kSrcMac}, NodeKind::kOr);
        case Dir::kDst:
        case Dir::kOut:
        case Dir::kOutDst:
          return ParseMacLeaf({FieldId::kDstMac}, NodeKind::kOr);
        case Dir::kInDst:
          return NotStored(keyword, "in dst mac");
        case Dir::kOutSrc:
          return NotStored(keyword, "out src mac");
      }
    }
    if (k == "if") {
      if (dir == Dir::kIn) {
        return ParseNumeric({FieldId::kInIf}, NodeKind::kOr, "an interface number", 0xffffffff, false);
      }
      if (dir == Dir::kOut) {
        return ParseNumeric({FieldId::kOutIf}, NodeKind::kOr, "an interface number", 0xffffffff, false);
      }
      if (!plain) {
        return Fail(keyword, "only 'in' or 'out' can qualify 'if'");
      }
      return ParseNumeric({FieldId::kInIf, FieldId::kOutIf}, NodeKind::kOr, "an interface number", 0xffffffff,
                          false);
    }
    if (k == "packets" || k == "bytes") {
      if (dir == Dir::kOut) {
        return NotStored(keyword, "out " + keyword.text);
      }
      if (dir != Dir::kNone && dir != Dir::kIn) {
        return Fail(keyword, "only 'in' or 'out' can qualify " + Quote(keyword.text));
      }
      return ParseNumeric({k == "packets" ? FieldId::kPackets : FieldId::kBytes}, NodeKind::kOr,
                          "a number", std::numeric_limits<std::uint64_t>::max(), true);
    }
    if (k == "flows" || k == "flow") {
      return single(FieldId::kFlows, "a number", std::numeric_limits<std::uint64_t>::max(), true);
    }
    if (k == "duration" || k == "pps" || k == "bps" || k == "bpp") {
      if (!plain) {
        return Fail(keyword, "a direction cannot qualify " + Quote(keyword.text));
      }
      const CompareOp op = ParseComparator();
      const Token& token = Peek();
      const std::optional<std::uint64_t> value = ParseNumber(token, true);
      if (!value) {
        return BadNumber(token, keyword.text, "a number");
      }
      Next();
      Node node;
      node.kind = NodeKind::kDerived;
      node.op = op;
      node.value = *value;
      node.derived = k == "duration" ? Derived::kDuration
                     : k == "pps"    ? Derived::kPps
                     : k == "bps"    ? Derived::kBps
                                     : Derived::kBpp;
      return node;
    }
    if (!plain && k != "proto" && k != "flags") {
      // Everything below takes no src/dst/in/out.
      if (k == "next" || k == "prev" || flow::FieldByName(k)) {
        return Fail(keyword, "a direction cannot qualify " + Quote(keyword.text));
      }
      return Fail(keyword, "unknown filter primitive " + Quote(keyword.text) + " after " +
                               Quote(tokens_[pos_ >= 2 ? pos_ - 2 : 0].text));
    }
    if (!plain) {
      return Fail(keyword, "a direction cannot qualify " + Quote(keyword.text));
    }
    if (k == "proto") {
      return ParseProto();
    }
    if (k == "flags") {
      return ParseFlags();
    }
    if (k == "icmp-type" || k == "icmp-code") {
      Node icmp = ParseNumeric({k == "icmp-type" ? FieldId::kIcmpType : FieldId::kIcmpCode}, NodeKind::kOr,
                               k == "icmp-type" ? "an ICMP type" : "an ICMP code", 255, false);
      return And2(ListNode(FieldId::kProto, {1, 58}), std::move(icmp));
    }
    if (k == "engine-type" || k == "engine-id") {
      // nfdump takes engine type / id from NetFlow v5's header and from the low 16 bits of
      // v9's source id; Sluice keeps both in obs_domain as type << 8 | id.
      const CompareOp op = ParseComparator();
      const Token& token = Peek();
      const std::optional<std::uint64_t> value = ParseNumber(token, false);
      if (!value) {
        return BadNumber(token, keyword.text, "a number");
      }
      if (*value > 255) {
        return Fail(token, keyword.text + " " + token.text + " is out of range 0..255");
      }
      Next();
      Node node;
      node.kind = NodeKind::kMasked;
      node.field = FieldId::kObsDomain;
      node.op = op;
      node.shift = k == "engine-type" ? 8 : 0;
      node.mask = 0xff;
      node.value = *value;
      return node;
    }
    if (k == "observation") {
      if (AcceptWord("domain")) {
        if (!AcceptWord("id")) {
          return Expected("'id'");
        }
        return ParseNumeric({FieldId::kObsDomain}, NodeKind::kOr, "a number", 0xffffffff, false);
      }
      if (IsWord(Peek(), "point")) {
        return NotStored(Peek(), "observation point id");
      }
      return Expected("'domain id'");
    }
    if (k == "flowdir") {
      const Token& token = Peek();
      if (token.lower == "ingress" || token.lower == "0" || token.lower == "egress" || token.lower == "1") {
        Next();
        const bool egress = token.lower == "egress" || token.lower == "1";
        return Node::Compare(FieldId::kDirection, CompareOp::kEq, egress ? 1 : 0);
      }
      return Expected("'ingress', 'egress', 0 or 1");
    }
    if (k == "next" || k == "bgpnext" || k == "router") {
      if (k == "next" && IsWord(Peek(), "as")) {
        return NotStored(Peek(), "next as");
      }
      if (!AcceptWord("ip")) {
        return Expected(k == "next" ? "'ip'" : "'ip'");
      }
      const FieldId field = k == "next" ? FieldId::kNextHop : k == "bgpnext" ? FieldId::kBgpNextHop : FieldId::kExporter;
      return ParseAddress({field}, NodeKind::kOr, false);
    }
    if (k == "prev") {
      if (IsWord(Peek(), "as")) {
        return NotStored(Peek(), "prev as");
      }
      return Expected("'as'");
    }
    if (k == "mpls") {
      const Token& what = Peek();
      if (what.lower == "label1") {
        Next();
        return ParseNumeric({FieldId::kMplsLabel}, NodeKind::kOr, "an MPLS label", 0xfffff, false);
      }
      if (what.kind == TokenKind::kWord &&
          (what.lower.starts_with("label") || what.lower == "eos" || what.lower.starts_with("exp"))) {
        return NotStored(what, "mpls " + what.text);
      }
      return Expected("'label1'");
    }
    if (k == "asa" || k == "nat") {
      if (k == "asa" && IsWord(Peek(), "xevent")) {
        return NotStored(Peek(), "asa xevent");
      }
      if (!AcceptWord("event")) {
        return Expected("'event'");
      }
      if (IsWord(Peek(), "denied")) {
        return NotStored(Peek(), "asa event denied");
      }
      if (const std::optional<std::uint64_t> event = Lookup(kFwEvents, Peek().lower);
          event && Peek().kind == TokenKind::kWord) {
        Next();
        return Node::Compare(FieldId::kFwEvent, CompareOp::kEq, *event);
      }
      return ParseNumeric({FieldId::kFwEvent}, NodeKind::kOr, "an event name or number", 255, false);
    }
    if (const std::optional<FieldId> field = flow::FieldByName(k)) {
      return ParseCatalogueField(*field);
    }
    return Fail(keyword, "unknown filter primitive " + Quote(keyword.text));
  }

  Node ParseProto() {
    std::vector<std::uint64_t> values;
    auto one = [&](const Token& token) -> bool {
      if (const std::optional<std::uint64_t> named = Lookup(kProtocols, token.lower);
          named && token.kind == TokenKind::kWord) {
        values.push_back(*named);
        return true;
      }
      const std::optional<std::uint64_t> number = ParseNumber(token, false);
      if (!number) {
        if (token.kind == TokenKind::kEnd) {
          Expected("a protocol name or number");
        } else {
          Fail(token, "unknown protocol " + Describe(token));
        }
        return false;
      }
      if (*number > 255) {
        Fail(token, "protocol number " + token.text + " is out of range 0..255");
        return false;
      }
      values.push_back(*number);
      return true;
    };
    if (AcceptWord("in")) {
      ParseList([&](const Token& item) { one(item); });
      return ListNode(FieldId::kProto, values);
    }
    CompareOp op = CompareOp::kEq;
    if (Peek().kind == TokenKind::kOp) {
      op = ParseComparator();
    }
    if (!one(Peek())) {
      return Node::False();
    }
    Next();
    return Node::Compare(FieldId::kProto, op, values[0]);
  }

  Node ParseFlags() {
    const Token& token = Peek();
    std::uint64_t mask = 0;
    if (const std::optional<std::uint64_t> number = ParseNumber(token, false)) {
      if (*number > 255) {
        return Fail(token, "TCP flags value " + token.text + " is out of range 0..255");
      }
      mask = *number;
    } else if (token.kind == TokenKind::kWord) {
      for (std::size_t idx = 0; idx < token.text.size(); ++idx) {
        switch (std::toupper(static_cast<unsigned char>(token.text[idx]))) {
          case 'F':
            mask |= 0x01;
            break;
          case 'S':
            mask |= 0x02;
            break;
          case 'R':
            mask |= 0x04;
            break;
          case 'P':
            mask |= 0x08;
            break;
          case 'A':
            mask |= 0x10;
            break;
          case 'U':
            mask |= 0x20;
            break;
          case 'E':
            mask |= 0x40;
            break;
          case 'C':
            mask |= 0x80;
            break;
          case 'X':
            mask |= 0x3f;
            break;
          default:
            return Fail(token.column + idx, "unknown TCP flag '" + std::string(1, token.text[idx]) +
                                                "' (expected letters of FSRPAUECX)");
        }
      }
    } else {
      return Expected("TCP flags such as 'SA'");
    }
    Next();
    Node bits;
    bits.kind = NodeKind::kBitsAll;
    bits.field = FieldId::kTcpFlags;
    bits.value = mask;
    // As nfdump: a flags test implies TCP.
    return And2(Node::Compare(FieldId::kProto, CompareOp::kEq, 6), std::move(bits));
  }

  // `FIELD [op] VALUE` / `FIELD in [list]` for any catalogue field.
  Node ParseCatalogueField(FieldId field) {
    const flow::FieldInfo& info = flow::Info(field);
    switch (info.type) {
      case FieldType::kIpAddress:
        return ParseAddress({field}, NodeKind::kOr, false, true);
      case FieldType::kMacAddress:
        return ParseMacLeaf({field}, NodeKind::kOr);
      case FieldType::kCountry:
        return ParseCountryLeaf({field}, NodeKind::kOr);
      case FieldType::kString:
        return ParseStringLeaf(field);
      case FieldType::kTimeMillis: {
        const CompareOp op = ParseComparator();
        const Token& token = Peek();
        std::int64_t value = 0;
        const auto [end, ec] = std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
        if (token.kind != TokenKind::kWord || ec != std::errc() || end != token.text.data() + token.text.size()) {
          return Fail(token, "expected milliseconds since the epoch after " + Quote(Last().text));
        }
        Next();
        return Node::Compare(field, op, static_cast<std::uint64_t>(value));
      }
      default:
        return ParseNumeric({field}, NodeKind::kOr, "a number", MaxOf(info.type), true);
    }
  }

  Node ParseStringLeaf(FieldId field) {
    bool negate = false;
    if (Peek().kind == TokenKind::kOp) {
      if (Peek().text == "!=") {
        negate = true;
      } else if (Peek().text != "=" && Peek().text != "==") {
        return Fail(Peek(), "text fields compare only with '=' or '!='");
      }
      Next();
    }
    std::vector<Node> children;
    auto leaf = [&](const Token& token) {
      Node node;
      node.kind = NodeKind::kString;
      node.field = field;
      node.text = token.text;
      children.push_back(std::move(node));
    };
    if (AcceptWord("in")) {
      ParseList([&](const Token& item) {
        if (item.kind == TokenKind::kWord || item.kind == TokenKind::kString) {
          leaf(item);
        } else {
          Fail(item, "expected a text value in the list, found " + Describe(item));
        }
      });
    } else {
      const Token& token = Peek();
      if (token.kind != TokenKind::kWord && token.kind != TokenKind::kString) {
        return Fail(token, "expected a text value after " + Quote(Last().text));
      }
      leaf(token);
      Next();
    }
    Node node = Node::Combine(NodeKind::kOr, std::move(children));
    return negate ? Node::Not(std::move(node)) : node;
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  std::optional<FilterSyntaxError> error_;
};

}  // namespace

namespace {

// nfdump 1.7.1 evaluates `flags X` as "every flag of X set", but under an odd number of
// negations as "any flag of X set" before negating, so that `not flags AFRPU` means "none
// of A, F, R, P, U" (its man page's idiom for SYN-only flows: `flags S and not flags
// AFRPU`). The implied `proto tcp` is negated as usual.
void LowerNegatedFlags(Node& node, bool negated) {
  if (node.kind == NodeKind::kBitsAll && negated) {
    node.kind = NodeKind::kBitsAny;
  }
  for (Node& child : node.children) {
    LowerNegatedFlags(child, node.kind == NodeKind::kNot ? !negated : negated);
  }
}

}  // namespace

Result<Node, FilterSyntaxError> ParseExpression(std::string_view text) {
  Result<std::vector<Token>, FilterSyntaxError> tokens = Tokenize(text);
  if (!tokens) {
    return tl::unexpected(tokens.error());
  }
  Result<Node, FilterSyntaxError> tree = Parser(std::move(*tokens)).Run();
  if (tree) {
    LowerNegatedFlags(*tree, false);
  }
  return tree;
}

}  // namespace sluice::query::filter
