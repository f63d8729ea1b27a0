// SPDX-License-Identifier: Apache-2.0
// FlowSink and BatchWriter: how batches of records leave a stage.

#pragma once

#include <cstddef>

#include "flow/flow_batch.h"

namespace sluice::flow {

// Receives full (or flushed) batches. The sink may read and modify the batch during
// Consume(); the caller clears it afterwards, so a sink that keeps data copies it.
class FlowSink {
 public:
  virtual ~FlowSink() = default;
  virtual void Consume(FlowBatch& batch) = 0;
};

// Owns one FlowBatch and hands it to a sink whenever it fills. Decoders append rows
// through it, so no decoder has to care where a batch boundary falls.
// Thread-safety: none (one per decode worker).
class BatchWriter {
 public:
  explicit BatchWriter(FlowSink& sink) : sink_(&sink) {}

  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Returns the index of a new row, handing the batch on first if it is full. The row is
  // all zero but for `flows`, which is 1: a decoded record stands for one flow.
  std::size_t NewRow() {
    if (batch_.full()) {
      Flush();
    }
    const std::size_t row = batch_.AppendRow();
    batch_.cols().flows[row] = 1;
    return row;
  }

  // Drops the row last returned by NewRow() (a record that failed half-way).
  void DiscardRow() { batch_.DiscardLastRow(); }

  FlowBatch& batch() { return batch_; }

  FlowColumns& cols() { return batch_.cols(); }

  // Hands any rows to the sink and clears the batch.
  void Flush() {
    if (!batch_.empty()) {
      sink_->Consume(batch_);
      batch_.Clear();
    }
  }

 private:
  FlowSink* sink_;
  FlowBatch batch_;
};

}  // namespace sluice::flow
