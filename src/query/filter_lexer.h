// SPDX-License-Identifier: Apache-2.0
// Splits filter text into tokens, each with its 1-based byte column.
//
// A word is a run of letters, digits and . : / - _ (keywords, numbers with k/m/g suffix,
// IPv4/IPv6 addresses and prefixes, MAC addresses, field names). Strings are quoted with
// ' or ". Everything from '#' to the end of the line is a comment (nfdump(1)).

#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "query/filter.h"

namespace sluice::query::filter {

enum class TokenKind : unsigned char {
  kWord,
  kString,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kBang,    // !
  kAndAnd,  // &&
  kOrOr,    // ||
  kOp,      // = == != < <= > >=
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;   // as written (string contents without quotes)
  std::string lower;  // text in lower case, for keyword matching
  std::size_t column = 0;
};

// Tokenizes `text`; the last token is always kEnd (at column text.size() + 1).
// Fails on a character no token starts with and on an unterminated string.
Result<std::vector<Token>, FilterSyntaxError> Tokenize(std::string_view text);

}  // namespace sluice::query::filter
