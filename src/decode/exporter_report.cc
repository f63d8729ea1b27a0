// SPDX-License-Identifier: Apache-2.0

#include "decode/exporter_report.h"

namespace sluice::decode {

ExporterReport MakeExporterReport(const ExporterState& exporter) {
  ExporterReport report;
  report.address = exporter.address;
  report.protocol = exporter.last_protocol;
  report.first_seen = exporter.first_seen;
  report.last_seen = exporter.last_seen;
  report.counters = exporter.counters;
  report.templates = exporter.templates.size();
  exporter.samplers.ForEach(
      [&report](std::uint32_t domain, std::uint32_t sampler_id, std::uint32_t rate) {
        report.samplers.push_back(SamplerReport{domain, sampler_id, rate});
      });
  report.interfaces.reserve(exporter.interfaces.all().size());
  for (const auto& [if_index, info] : exporter.interfaces.all()) {
    report.interfaces.push_back(InterfaceReport{if_index, info});
  }
  return report;
}

}  // namespace sluice::decode
