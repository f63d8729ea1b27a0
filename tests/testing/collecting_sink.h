// SPDX-License-Identifier: Apache-2.0
// CollectingSink: a FlowSink for tests that keeps a copy of every record it receives.

#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "flow/flow_sink.h"
#include "flow/record_json.h"

namespace sluice::test {

class CollectingSink final : public flow::FlowSink {
 public:
  // One record: the batch copy that holds it and its row there.
  struct Ref {
    const flow::FlowBatch* batch;
    std::size_t row;

    const flow::FlowColumns& cols() const { return batch->cols(); }
  };

  void Consume(flow::FlowBatch& batch) override {
    for (std::size_t row = 0; row < batch.size(); ++row) {
      if (batches_.empty() || batches_.back()->full()) {
        batches_.push_back(std::make_unique<flow::FlowBatch>());
      }
      const std::size_t copy_row = batches_.back()->AppendCopyOf(batch, row);
      refs_.push_back({batches_.back().get(), copy_row});
    }
  }

  std::size_t size() const { return refs_.size(); }

  const Ref& operator[](std::size_t idx) const { return refs_[idx]; }

  std::string Json(std::size_t idx) const {
    std::string out;
    flow::AppendRecordJson(*refs_[idx].batch, refs_[idx].row, out);
    return out;
  }

 private:
  std::vector<std::unique_ptr<flow::FlowBatch>> batches_;
  std::vector<Ref> refs_;
};

}  // namespace sluice::test
