// SPDX-License-Identifier: Apache-2.0
// Writes flow records as JSON objects with the catalogue's field names.

#pragma once

#include <cstddef>
#include <string>

#include "flow/flow_batch.h"

namespace sluice::flow {

// Appends row `row` of `batch` as one JSON object (no newline) to `out`. Addresses are
// strings, MACs "aa:bb:cc:dd:ee:ff", times integers (ms since the epoch). Fields that
// are unset (unset address, empty string, unknown country) are left out; numeric fields
// are always written.
void AppendRecordJson(const FlowBatch& batch, std::size_t row, std::string& out);

}  // namespace sluice::flow
