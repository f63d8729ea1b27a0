// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the benchmarks.

#pragma once

#include <cstdint>

#include "flow/flow_sink.h"

namespace sluice::bench {

// Counts records and drops them, so a benchmark measures only what feeds it.
class CountingSink final : public flow::FlowSink {
 public:
  void Consume(flow::FlowBatch& batch) override { records_ += batch.size(); }

  std::uint64_t records() const { return records_; }

 private:
  std::uint64_t records_ = 0;
};

}  // namespace sluice::bench
