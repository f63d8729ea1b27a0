// SPDX-License-Identifier: Apache-2.0

#include "store/catalog.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <tuple>

namespace sluice::store {

Result<std::vector<CatalogEntry>> ScanCatalog(const std::string& data_dir) {
  namespace fs = std::filesystem;
  std::vector<CatalogEntry> entries;
  std::error_code ec;
  if (!fs::exists(data_dir, ec)) {
    return entries;
  }
  fs::recursive_directory_iterator it(data_dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    return MakeError(ErrorCode::kIoError, data_dir + ": " + ec.message());
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      return MakeError(ErrorCode::kIoError, data_dir + ": " + ec.message());
    }
    // Store files are at most 6 levels down (source/rollup/YYYY/MM/DD/file).
    if (it.depth() >= 5 && it->is_directory(ec)) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) {
      continue;
    }
    const fs::path relative = it->path().lexically_relative(data_dir);
    std::optional<SegmentName> name = ParseSegmentPath(relative.generic_string());
    if (!name) {
      continue;
    }
    CatalogEntry entry;
    entry.path = it->path().string();
    entry.relative_path = relative.generic_string();
    entry.name = std::move(*name);
    const std::uintmax_t size = it->file_size(ec);
    entry.size_bytes = ec ? 0 : static_cast<std::uint64_t>(size);
    ec.clear();
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(), [](const CatalogEntry& a, const CatalogEntry& b) {
    return std::tie(a.name.kind, a.name.start, a.name.source, a.name.index, a.name.state) <
           std::tie(b.name.kind, b.name.start, b.name.source, b.name.index, b.name.state);
  });
  return entries;
}

}  // namespace sluice::store
