// SPDX-License-Identifier: Apache-2.0

#include "store/catalog.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>
#include <tuple>

namespace sluice::store {

namespace {

namespace fs = std::filesystem;

// Store files are at most 7 levels down (source/rollup/minute/YYYY/MM/DD/file).
constexpr int kMaxDepth = 7;

// Adds the store files under `dir` (depth `depth` below the data directory). A directory
// that disappears meanwhile (retention removing an empty day) is skipped, not an error;
// directory symlinks are followed (a source on another disk).
Status Walk(const fs::path& data_dir, const fs::path& dir, int depth,
            std::vector<CatalogEntry>& entries) {
  std::error_code ec;
  fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory || depth > 0) {
      return OkStatus();
    }
    return MakeError(ErrorCode::kIoError, dir.string() + ": " + ec.message());
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) {
      break;  // the directory went away under us
    }
    const fs::directory_entry& item = *it;
    if (item.is_directory(ec)) {
      if (depth + 1 < kMaxDepth) {
        if (Status walked = Walk(data_dir, item.path(), depth + 1, entries); !walked) {
          return walked;
        }
      }
      continue;
    }
    if (!item.is_regular_file(ec)) {
      continue;
    }
    const fs::path relative = item.path().lexically_relative(data_dir);
    std::optional<SegmentName> name = ParseSegmentPath(relative.generic_string());
    if (!name) {
      continue;
    }
    CatalogEntry entry;
    entry.path = item.path().string();
    entry.relative_path = relative.generic_string();
    entry.name = std::move(*name);
    const std::uintmax_t size = item.file_size(ec);
    entry.size_bytes = ec ? 0 : static_cast<std::uint64_t>(size);
    ec.clear();
    entries.push_back(std::move(entry));
  }
  return OkStatus();
}

}  // namespace

Result<std::vector<CatalogEntry>> ScanCatalog(const std::string& data_dir) {
  std::vector<CatalogEntry> entries;
  std::error_code ec;
  if (!fs::exists(data_dir, ec)) {
    return entries;
  }
  if (!fs::is_directory(data_dir, ec)) {
    return MakeError(ErrorCode::kInvalidArgument, data_dir + ": not a directory");
  }
  if (Status walked = Walk(data_dir, data_dir, 0, entries); !walked) {
    return tl::unexpected(walked.error());
  }
  std::sort(entries.begin(), entries.end(), [](const CatalogEntry& a, const CatalogEntry& b) {
    return std::tie(a.name.kind, a.name.start, a.name.source, a.name.index, a.name.state) <
           std::tie(b.name.kind, b.name.start, b.name.source, b.name.index, b.name.state);
  });
  return entries;
}

}  // namespace sluice::store
