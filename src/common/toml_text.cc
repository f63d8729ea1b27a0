// SPDX-License-Identifier: Apache-2.0

#include "common/toml_text.h"

namespace sluice {

std::optional<std::size_t> NonAsciiOutsideComments(std::string_view text) {
  std::size_t line = 1;
  bool at_line_start = true;  // only blanks so far on this line
  bool in_comment = false;    // the line is a comment
  // A line that starts with '#' inside a multi-line string is the string's text, which
  // toml++ does look at (the fuzzer found it): after the first triple quote, no line is
  // taken for a comment any more.
  bool multi_line_seen = false;
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    const char ch = text[pos];
    if (!in_comment && (ch == '"' || ch == '\'') && pos + 2 < text.size() && text[pos + 1] == ch &&
        text[pos + 2] == ch) {
      multi_line_seen = true;
    }
    if (ch == '\n') {
      ++line;
      at_line_start = true;
      in_comment = false;
      continue;
    }
    if (in_comment) {
      continue;
    }
    if (static_cast<unsigned char>(ch) >= 0x80) {
      return line;
    }
    if (at_line_start && ch == '#' && !multi_line_seen) {
      in_comment = true;
    } else if (ch != ' ' && ch != '\t') {
      at_line_start = false;
    }
  }
  return std::nullopt;
}

}  // namespace sluice
