// SPDX-License-Identifier: Apache-2.0

#include "common/toml_text.h"

namespace sluice {

std::optional<std::size_t> NonAsciiOutsideComments(std::string_view text) {
  std::size_t line = 1;
  bool at_line_start = true;  // only blanks so far on this line
  bool in_comment = false;    // the line is a comment
  for (const char ch : text) {
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
    if (at_line_start && ch == '#') {
      in_comment = true;
    } else if (ch != ' ' && ch != '\t') {
      at_line_start = false;
    }
  }
  return std::nullopt;
}

}  // namespace sluice
