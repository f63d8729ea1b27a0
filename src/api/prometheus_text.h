// SPDX-License-Identifier: Apache-2.0
// The Prometheus text exposition format 0.0.4 (what GET /metrics serves): a small writer,
// the latency histogram the API observes queries into, and RenderMetrics() over a
// ServiceSnapshot. The metrics are listed in docs/api_service.md.

#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "api/service_snapshot.h"

namespace sluice::api {

// The Content-Type of a RenderMetrics() body.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType : std::uint8_t {
  kCounter,    // monotonic; the name ends in _total
  kGauge,      // a value that goes up and down
  kHistogram,  // _bucket{le=...} (cumulative), _sum and _count
};

// A label: name (a Prometheus identifier, written as is) and value (escaped).
using Label = std::pair<std::string_view, std::string_view>;

// Writes one exposition. Every sample of a family MUST be written right after its
// Family() call (the format requires a family's lines to be contiguous).
// Thread-safety: none; one writer per response.
class PrometheusWriter {
 public:
  // Writes "# HELP name help" and "# TYPE name type".
  void Family(std::string_view name, MetricType type, std::string_view help);

  // Writes `name{labels} value`.
  void Sample(std::string_view name, std::initializer_list<Label> labels, double value);
  void Sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value);

  // Writes the _bucket series (cumulative, ending with le="+Inf"), _sum and _count of a
  // histogram family `name`.
  void Histogram(std::string_view name, std::initializer_list<Label> labels,
                 const HistogramSnapshot& histogram);

  const std::string& text() const { return out_; }

  std::string Take() { return std::move(out_); }

 private:
  void SampleText(std::string_view name, std::initializer_list<Label> labels,
                  std::string_view extra_label, std::string_view extra_value,
                  std::string_view value);

  std::string out_;
};

// Escapes a label value: backslash, double quote and newline become \\, \" and \n.
std::string EscapeLabelValue(std::string_view value);

// A sample value: integers exactly, others in the shortest round-trip form, and NaN,
// +Inf, -Inf as the format spells them.
std::string FormatValue(double value);

// The whole /metrics body.
std::string RenderMetrics(const ServiceSnapshot& snapshot);

}  // namespace sluice::api
