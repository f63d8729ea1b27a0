// SPDX-License-Identifier: Apache-2.0
// Whole-file writes that a crash cannot leave half done.

#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace sluice {

// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, rename.
Status WriteFileAtomically(const std::string& path, std::span<const std::uint8_t> bytes);

inline Status WriteFileAtomically(const std::string& path, std::string_view text) {
  return WriteFileAtomically(
      path, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace sluice
