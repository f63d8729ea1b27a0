// SPDX-License-Identifier: Apache-2.0

#include "decode/exporter_state.h"

namespace sluice::decode {

std::string_view Name(Protocol protocol) {
  switch (protocol) {
    case Protocol::kNetflowV5:
      return "netflow_v5";
    case Protocol::kNetflowV9:
      return "netflow_v9";
    case Protocol::kIpfix:
      return "ipfix";
    case Protocol::kSflowV5:
      return "sflow_v5";
  }
  return "unknown";
}

void ExporterState::ObserveSequence(Protocol protocol, std::uint32_t stream,
                                    std::uint32_t sequence, std::uint32_t advance) {
  const std::uint64_t key = (static_cast<std::uint64_t>(protocol) << 32) | stream;
  auto it = sequences.find(key);
  if (it == sequences.end()) {
    if (sequences.size() >= kMaxSequenceStreams) {
      return;
    }
    it = sequences.emplace(key, SequenceTracker{}).first;
  }
  const SequenceTracker::Gap gap = it->second.Observe(sequence, advance);
  counters.sequence_lost += gap.lost;
  counters.sequence_resets += gap.reset ? 1 : 0;
}

ExporterState* ExporterTable::FindOrAdd(const flow::IpAddress& address) {
  auto it = exporters_.find(address);
  if (it != exporters_.end()) {
    return it->second.get();
  }
  if (exporters_.size() >= options_->max_exporters) {
    ++refused_;
    return nullptr;
  }
  auto state = std::make_unique<ExporterState>(address, *options_);
  ExporterState* raw = state.get();
  exporters_.emplace(address, std::move(state));
  return raw;
}

const ExporterState* ExporterTable::Find(const flow::IpAddress& address) const {
  auto it = exporters_.find(address);
  return it == exporters_.end() ? nullptr : it->second.get();
}

}  // namespace sluice::decode
