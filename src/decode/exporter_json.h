// SPDX-License-Identifier: Apache-2.0
// JSON report of the exporters a decoder knows: counters, templates, samplers, interfaces.

#pragma once

#include <string>

#include "decode/exporter_state.h"

namespace sluice::decode {

// Appends one JSON object describing `exporter` to `out`.
void AppendExporterJson(const ExporterState& exporter, std::string& out);

}  // namespace sluice::decode
