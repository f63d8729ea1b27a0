// SPDX-License-Identifier: Apache-2.0
// Fuzzes the store's path parser (store/layout.h): any name read from a data directory.
// A path it accepts must print back to itself (DetailSegmentPath/RollupSegmentPath/
// SummaryPath with the state's suffix), so that no two names can mean the same segment.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/layout.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::store;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::optional<SegmentName> name = ParseSegmentPath(text);
  if (!name) {
    return 0;
  }
  if (name->kind == SegmentKind::kSummary && name->summary >= kSummaryDirs.size()) {
    __builtin_trap();
  }
  std::string path =
      name->kind == SegmentKind::kRollup    ? RollupSegmentPath("", name->source, name->start)
      : name->kind == SegmentKind::kSummary ? SummaryPath("", name->source, name->summary,
                                                          name->start, name->index)
                                            : DetailSegmentPath("", name->source, name->start,
                                                                name->index);
  if (name->state == SegmentState::kOpen) {
    path = OpenPathFor(path);
  } else if (name->state == SegmentState::kTemp) {
    path = TempPathFor(path);
  }
  const std::optional<SegmentName> again = ParseSegmentPath(path);
  if (!again || again->start != name->start || again->index != name->index ||
      again->source != name->source || again->kind != name->kind || again->state != name->state ||
      again->summary != name->summary) {
    __builtin_trap();
  }
  if (name->kind != SegmentKind::kRollup && SlotStart(name->start, 1) != name->start) {
    __builtin_trap();  // detail slots (and their summaries) start on a minute
  }
  return 0;
}
