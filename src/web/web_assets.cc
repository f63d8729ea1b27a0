// SPDX-License-Identifier: Apache-2.0

#include "web/web_assets.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

namespace sluice::web {
namespace {

struct ExtensionType {
  std::string_view extension;
  std::string_view content_type;
};

constexpr std::array<ExtensionType, 11> kContentTypes{{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"},
    {".webmanifest", "application/manifest+json"},
}};

constexpr std::string_view kHashedPrefix = "/assets/";

std::vector<WebAsset> MakeAssets() {
  std::vector<WebAsset> assets;
  for (const EmbeddedFile& file : EmbeddedFiles()) {
    assets.push_back(
        {file.path, ContentTypeOf(file.path),
         std::string_view(reinterpret_cast<const char*>(file.bytes.data()), file.bytes.size()),
         file.path.substr(0, kHashedPrefix.size()) == kHashedPrefix});
  }
  std::sort(assets.begin(), assets.end(),
            [](const WebAsset& a, const WebAsset& b) { return a.path < b.path; });
  return assets;
}

}  // namespace

std::string_view ContentTypeOf(std::string_view path) {
  const std::size_t dot = path.rfind('.');
  if (dot != std::string_view::npos && path.find('/', dot) == std::string_view::npos) {
    const std::string_view extension = path.substr(dot);
    for (const ExtensionType& known : kContentTypes) {
      if (known.extension == extension) {
        return known.content_type;
      }
    }
  }
  return "application/octet-stream";
}

const WebAsset* FindWebAsset(std::string_view path) {
  static const std::vector<WebAsset> assets = MakeAssets();
  const auto found = std::lower_bound(
      assets.begin(), assets.end(), path,
      [](const WebAsset& asset, std::string_view key) { return asset.path < key; });
  return found != assets.end() && found->path == path ? &*found : nullptr;
}

}  // namespace sluice::web
