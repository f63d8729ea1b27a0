// SPDX-License-Identifier: Apache-2.0
// The web dashboard's files (web/, built by Vite), embedded into the binary at build time
// by tools/embed_files, so `sluice serve` needs no files beside it (docs/web_ui.md).
//
// Thread-safety: everything here is immutable data; safe from any thread.

#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace sluice::web {

struct EmbeddedFile {
  std::string_view path;  // "/index.html", "/assets/index-3f2a.js"
  std::span<const unsigned char> bytes;
};

// Every embedded file, sorted by path. Defined by the generated source.
std::span<const EmbeddedFile> EmbeddedFiles();

struct WebAsset {
  std::string_view path;
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view body;
  bool immutable = false;  // a content-hashed name (under /assets/): cacheable for good
};

// The file at `path` ("/index.html"), or nullptr. "/" is not a file: callers map it.
const WebAsset* FindWebAsset(std::string_view path);

// Content type by the file name's extension; application/octet-stream if unknown.
std::string_view ContentTypeOf(std::string_view path);

}  // namespace sluice::web
