// SPDX-License-Identifier: Apache-2.0

#include "api/exporters_json.h"

#include <nlohmann/json.hpp>

#include "decode/decode_error.h"
#include "query/number_format.h"

namespace sluice::api {
namespace {

using nlohmann::json;

json TimeOrNull(UnixMillis unix_ms) {
  if (unix_ms == 0) {
    return nullptr;
  }
  return query::FormatIsoTime(unix_ms);
}

json InterfaceJson(const decode::InterfaceReport& interface) {
  json item = {{"index", interface.index}};
  const decode::InterfaceInfo& info = interface.info;
  if (!info.name.empty()) {
    item["name"] = info.name;
  }
  if (!info.description.empty()) {
    item["description"] = info.description;
  }
  if (info.has_counters) {
    const decode::InterfaceCounters& counters = info.counters;
    item["speed_bps"] = counters.speed_bps;
    item["status"] = counters.status;
    item["in_octets"] = counters.in_octets;
    item["out_octets"] = counters.out_octets;
    item["in_errors"] = counters.in_errors;
    item["out_errors"] = counters.out_errors;
    item["in_discards"] = counters.in_discards;
    item["out_discards"] = counters.out_discards;
    item["counters_time"] = TimeOrNull(info.counters_time);
  }
  return item;
}

json ExporterJson(const ExporterSnapshot& exporter) {
  const decode::ExporterReport& report = exporter.report;
  const decode::ExporterCounters& counters = report.counters;
  // Average since first seen; 0 until the exporter has been seen for a second.
  const std::int64_t active_ms = report.last_seen - report.first_seen;
  const double flows_per_s = active_ms >= 1000 ? static_cast<double>(counters.records) * 1000.0 /
                                                     static_cast<double>(active_ms)
                                               : 0.0;
  json errors = json::object();
  for (std::size_t kind_idx = 0; kind_idx < decode::kDecodeErrorKindCount; ++kind_idx) {
    if (counters.errors[kind_idx] != 0) {
      errors[std::string(decode::Name(static_cast<decode::DecodeErrorKind>(kind_idx)))] =
          counters.errors[kind_idx];
    }
  }
  json sampling = json::array();
  for (const decode::SamplerReport& sampler : report.samplers) {
    sampling.push_back({{"obs_domain", sampler.obs_domain},
                        {"sampler_id", sampler.sampler_id},
                        {"rate", sampler.rate}});
  }
  json interfaces = json::array();
  for (const decode::InterfaceReport& interface : report.interfaces) {
    interfaces.push_back(InterfaceJson(interface));
  }
  return {
      {"exporter", report.address.ToString()},
      {"source", exporter.source},
      {"protocol", std::string(decode::Name(report.protocol))},
      {"first_seen", TimeOrNull(report.first_seen)},
      {"last_seen", TimeOrNull(report.last_seen)},
      {"flows", counters.records},
      {"packets", counters.datagrams},
      {"bytes", counters.datagram_bytes},
      {"flows_per_s", flows_per_s},
      {"option_records", counters.option_records},
      {"counter_samples", counters.counter_samples},
      {"templates", report.templates},
      {"sets_without_template", counters.sets_without_template},
      {"sampling", std::move(sampling)},
      {"sequence_lost", counters.sequence_lost},
      {"sequence_resets", counters.sequence_resets},
      {"packets_failed", counters.datagrams_failed},
      {"decode_errors", std::move(errors)},
      {"interfaces", std::move(interfaces)},
  };
}

}  // namespace

std::string RenderExportersJson(const ServiceSnapshot& snapshot) {
  json items = json::array();
  for (const ExporterSnapshot& exporter : snapshot.exporters) {
    items.push_back(ExporterJson(exporter));
  }
  json body = {{"items", std::move(items)}, {"total", snapshot.exporters.size()}};
  // Interface names come from the wire: replace invalid UTF-8 rather than throw.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace sluice::api
