// SPDX-License-Identifier: Apache-2.0
// The /api/v1/exporters document: every exporter the decoders know, with its counters,
// templates, samplers and interfaces. Members are listed in docs/api_service.md.

#pragma once

#include <string>

#include "api/service_snapshot.h"

namespace sluice::api {

// {"items":[{...}],"total":N}, items in the order of snapshot.exporters.
std::string RenderExportersJson(const ServiceSnapshot& snapshot);

}  // namespace sluice::api
