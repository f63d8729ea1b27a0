// SPDX-License-Identifier: Apache-2.0
// A guard for TOML text before it reaches Debian's toml++ 3.3: that version reaches
// __builtin_unreachable() (undefined behaviour) when it meets some non-ASCII characters
// where whitespace could be (e.g. U+03F8 in a bare key). Non-ASCII text is valid TOML only
// inside strings and comments anyway, so anything else is refused before parsing.

#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace sluice {

// The 1-based line of the first byte >= 0x80 outside a string or a comment, if any.
std::optional<std::size_t> NonAsciiOutsideStrings(std::string_view toml_text);

}  // namespace sluice
