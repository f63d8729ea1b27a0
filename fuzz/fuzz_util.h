// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the fuzz targets.

#pragma once

#include "flow/flow_sink.h"

namespace sluice::fuzz {

// Drops every batch: the targets only look for crashes, leaks and undefined behaviour.
class DiscardSink final : public flow::FlowSink {
 public:
  void Consume(flow::FlowBatch& /*batch*/) override {}
};

}  // namespace sluice::fuzz
