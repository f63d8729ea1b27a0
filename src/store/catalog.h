// SPDX-License-Identifier: Apache-2.0
// Catalog: the store files under a data directory, found by walking it and reading
// their names (store/layout.h). No file is opened; this is what retention, roll-ups,
// `sluice store stats` and the query engine start from.

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/layout.h"

namespace sluice::store {

struct CatalogEntry {
  std::string path;           // data_dir joined with the relative path
  std::string relative_path;  // "core/2026/11/23/1620.seg"
  SegmentName name;
  std::uint64_t size_bytes = 0;
};

// Every store file under `data_dir` (sealed, open and temporary ones: filter on
// name.state), sorted by (kind, start, source, index). Files and directories whose names
// are not the store's are ignored. A missing data directory is an empty catalog.
Result<std::vector<CatalogEntry>> ScanCatalog(const std::string& data_dir);

}  // namespace sluice::store
