// SPDX-License-Identifier: Apache-2.0

#include "query/filter_lexer.h"

#include <cctype>
#include <string>
#include <utility>

namespace sluice::query::filter {
namespace {

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == ':' || c == '/' ||
         c == '-' || c == '_';
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string Printable(char c) {
  if (std::isprint(static_cast<unsigned char>(c)) != 0) {
    return std::string("'") + c + "'";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(c);
  return std::string("byte 0x") + kHex[byte >> 4] + kHex[byte & 15];
}

}  // namespace

Result<std::vector<Token>, FilterSyntaxError> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  std::size_t pos = 0;
  auto push = [&](TokenKind kind, std::size_t begin, std::size_t length) {
    Token token;
    token.kind = kind;
    token.text = std::string(text.substr(begin, length));
    token.lower = Lower(token.text);
    token.column = begin + 1;
    tokens.push_back(std::move(token));
  };
  while (pos < text.size()) {
    const char c = text[pos];
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++pos;
      continue;
    }
    if (c == '#') {
      while (pos < text.size() && text[pos] != '\n') {
        ++pos;
      }
      continue;
    }
    if (IsWordChar(c)) {
      const std::size_t begin = pos;
      while (pos < text.size() && IsWordChar(text[pos])) {
        ++pos;
      }
      push(TokenKind::kWord, begin, pos - begin);
      continue;
    }
    if (c == '"' || c == '\'') {
      const std::size_t begin = pos;
      const std::size_t close = text.find(c, pos + 1);
      if (close == std::string_view::npos) {
        return tl::unexpected(FilterSyntaxError{begin + 1, "unterminated string"});
      }
      push(TokenKind::kString, begin + 1, close - begin - 1);
      tokens.back().column = begin + 1;
      pos = close + 1;
      continue;
    }
    const char next = pos + 1 < text.size() ? text[pos + 1] : '\0';
    switch (c) {
      case '(':
        push(TokenKind::kLParen, pos, 1);
        ++pos;
        continue;
      case ')':
        push(TokenKind::kRParen, pos, 1);
        ++pos;
        continue;
      case '[':
        push(TokenKind::kLBracket, pos, 1);
        ++pos;
        continue;
      case ']':
        push(TokenKind::kRBracket, pos, 1);
        ++pos;
        continue;
      case ',':
        push(TokenKind::kComma, pos, 1);
        ++pos;
        continue;
      case '&':
      case '|':
        if (next != c) {
          return tl::unexpected(FilterSyntaxError{
              pos + 1, std::string("expected '") + c + c + "', found a single '" + c + "'"});
        }
        push(c == '&' ? TokenKind::kAndAnd : TokenKind::kOrOr, pos, 2);
        pos += 2;
        continue;
      case '!':
        if (next == '=') {
          push(TokenKind::kOp, pos, 2);
          pos += 2;
        } else {
          push(TokenKind::kBang, pos, 1);
          ++pos;
        }
        continue;
      case '=':
      case '<':
      case '>':
        if (next == '=') {
          push(TokenKind::kOp, pos, 2);
          pos += 2;
        } else {
          push(TokenKind::kOp, pos, 1);
          ++pos;
        }
        continue;
      default:
        return tl::unexpected(FilterSyntaxError{pos + 1, "unexpected character " + Printable(c)});
    }
  }
  Token end;
  end.kind = TokenKind::kEnd;
  end.column = text.size() + 1;
  tokens.push_back(std::move(end));
  return tokens;
}

}  // namespace sluice::query::filter
