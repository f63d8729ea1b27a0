// SPDX-License-Identifier: Apache-2.0

#include "common/toml_text.h"

namespace sluice {

std::optional<std::size_t> NonAsciiOutsideStrings(std::string_view text) {
  enum class State { kPlain, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };
  State state = State::kPlain;
  std::size_t line = 1;
  // The last character of plain text that is not a space ('\n' at a line start). A quote
  // opens a string only where a key or a value may begin; elsewhere (`0"...`) toml++ reads
  // on as a bare value, so the text after it is plain text too.
  char last = '\n';
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    const char ch = text[pos];
    if (ch == '\n') {
      ++line;
      last = '\n';
      if (state == State::kComment || state == State::kBasic || state == State::kLiteral) {
        state = State::kPlain;  // comments end here; one-line strings cannot go on
      }
      continue;
    }
    const std::string_view rest = text.substr(pos);
    switch (state) {
      case State::kPlain: {
        if (static_cast<unsigned char>(ch) >= 0x80) {
          return line;
        }
        const bool may_open = last == '\n' || last == '=' || last == '[' || last == ',' ||
                              last == '{' || last == '.';
        if (ch != ' ' && ch != '\t') {
          last = ch;
        }
        if (ch == '#') {
          state = State::kComment;
        } else if (!may_open) {
          break;
        } else if (rest.starts_with("\"\"\"")) {
          state = State::kMultiBasic;
          pos += 2;
        } else if (rest.starts_with("'''")) {
          state = State::kMultiLiteral;
          pos += 2;
        } else if (ch == '"') {
          state = State::kBasic;
        } else if (ch == '\'') {
          state = State::kLiteral;
        }
        break;
      }
      case State::kComment:
        break;
      case State::kBasic:
        if (ch == '\\') {
          ++pos;  // the escaped character (a newline there is an error toml++ reports)
          if (pos < text.size() && text[pos] == '\n') {
            ++line;
          }
        } else if (ch == '"') {
          state = State::kPlain;
        }
        break;
      case State::kLiteral:
        if (ch == '\'') {
          state = State::kPlain;
        }
        break;
      case State::kMultiBasic:
        if (ch == '\\') {
          ++pos;
          if (pos < text.size() && text[pos] == '\n') {
            ++line;
          }
        } else if (rest.starts_with("\"\"\"")) {
          state = State::kPlain;
          pos += 2;
        }
        break;
      case State::kMultiLiteral:
        if (rest.starts_with("'''")) {
          state = State::kPlain;
          pos += 2;
        }
        break;
    }
  }
  return std::nullopt;
}

}  // namespace sluice
