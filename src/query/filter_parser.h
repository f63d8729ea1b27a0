// SPDX-License-Identifier: Apache-2.0
// Recursive-descent parser for nfdump's filter language (nfdump(1) 1.7, section FILTER)
// plus Sluice's catalogue fields (`FIELD [op] VALUE`, `FIELD in [list]`). nfdump
// primitives are lowered to the leaf kinds of filter_ast.h; a primitive naming something
// Sluice does not store is a syntax error ("'sysid' is not stored by Sluice").
//
// Grammar (keywords are case-insensitive):
//   expr    := and_expr (('or' | '||') and_expr)*
//   and_expr:= unary (('and' | '&&') unary)*
//   unary   := ('not' | '!') unary | '(' expr ')' | primitive

#pragma once

#include <string_view>

#include "query/filter.h"
#include "query/filter_ast.h"

namespace sluice::query::filter {

// Parses `text` into an expression tree (not yet simplified). Empty text is kTrue.
Result<Node, FilterSyntaxError> ParseExpression(std::string_view text);

}  // namespace sluice::query::filter
