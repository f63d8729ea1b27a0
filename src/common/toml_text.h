// SPDX-License-Identifier: Apache-2.0
// A guard for TOML text before it reaches Debian's toml++ 3.3: that version reaches
// __builtin_unreachable() (undefined behaviour) when it meets some non-ASCII characters
// where it looks for whitespace (a bare key, a malformed value, a table header: the
// fuzzers found several). Our files need no non-ASCII text, so it is refused everywhere
// but in whole-line comments, which toml++ skips without looking.

#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace sluice {

// The 1-based line of the first byte >= 0x80 that is not in a line whose first
// non-blank character is '#' (before any triple quote: such a line may be inside a
// multi-line string), if any.
std::optional<std::size_t> NonAsciiOutsideComments(std::string_view toml_text);

}  // namespace sluice
