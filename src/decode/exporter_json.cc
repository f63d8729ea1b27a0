// SPDX-License-Identifier: Apache-2.0

#include "decode/exporter_json.h"

#include <string>

namespace sluice::decode {
namespace {

void AppendField(std::string& out, std::string_view name, std::uint64_t value) {
  out.push_back('"');
  out.append(name);
  out.append("\":");
  out.append(std::to_string(value));
  out.push_back(',');
}

void AppendQuoted(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char ch : text) {
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      out.push_back(' ');
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

}  // namespace

void AppendExporterJson(const ExporterState& exporter, std::string& out) {
  const ExporterCounters& c = exporter.counters;
  out.append("{\"exporter\":");
  AppendQuoted(out, exporter.address.ToString());
  out.append(",\"protocol\":");
  AppendQuoted(out, Name(exporter.last_protocol));
  out.push_back(',');
  AppendField(out, "first_seen", static_cast<std::uint64_t>(exporter.first_seen));
  AppendField(out, "last_seen", static_cast<std::uint64_t>(exporter.last_seen));
  AppendField(out, "datagrams", c.datagrams);
  AppendField(out, "datagram_bytes", c.datagram_bytes);
  AppendField(out, "datagrams_failed", c.datagrams_failed);
  AppendField(out, "records", c.records);
  AppendField(out, "option_records", c.option_records);
  AppendField(out, "counter_samples", c.counter_samples);
  AppendField(out, "templates", exporter.templates.size());
  AppendField(out, "templates_received", c.templates_received);
  AppendField(out, "templates_withdrawn", c.templates_withdrawn);
  AppendField(out, "templates_expired", c.templates_expired);
  AppendField(out, "templates_refused", c.templates_refused);
  AppendField(out, "sets_without_template", c.sets_without_template);
  AppendField(out, "pending_sets_decoded", c.pending_sets_decoded);
  AppendField(out, "pending_sets_dropped", c.pending_sets_dropped);
  AppendField(out, "sequence_lost", c.sequence_lost);
  AppendField(out, "sequence_resets", c.sequence_resets);
  AppendField(out, "samplers_refused", c.samplers_refused);
  out.append("\"errors\":{");
  bool first = true;
  for (std::size_t kind_idx = 0; kind_idx < kDecodeErrorKindCount; ++kind_idx) {
    if (c.errors[kind_idx] == 0) {
      continue;
    }
    if (!first) {
      out.push_back(',');
    }
    first = false;
    AppendQuoted(out, Name(static_cast<DecodeErrorKind>(kind_idx)));
    out.push_back(':');
    out.append(std::to_string(c.errors[kind_idx]));
  }
  out.append("},\"samplers\":[");
  first = true;
  exporter.samplers.ForEach([&](std::uint32_t domain, std::uint32_t sampler_id, std::uint32_t rate) {
    if (!first) {
      out.push_back(',');
    }
    first = false;
    out.append("{\"obs_domain\":" + std::to_string(domain) + ",\"sampler_id\":" +
               std::to_string(sampler_id) + ",\"rate\":" + std::to_string(rate) + "}");
  });
  out.append("],\"interfaces\":[");
  first = true;
  for (const auto& [if_index, info] : exporter.interfaces.all()) {
    if (!first) {
      out.push_back(',');
    }
    first = false;
    out.append("{\"index\":" + std::to_string(if_index));
    if (!info.name.empty()) {
      out.append(",\"name\":");
      AppendQuoted(out, info.name);
    }
    if (!info.description.empty()) {
      out.append(",\"description\":");
      AppendQuoted(out, info.description);
    }
    if (info.has_counters) {
      const InterfaceCounters& k = info.counters;
      out.append(",\"speed_bps\":" + std::to_string(k.speed_bps) +
                 ",\"in_octets\":" + std::to_string(k.in_octets) +
                 ",\"out_octets\":" + std::to_string(k.out_octets) +
                 ",\"in_errors\":" + std::to_string(k.in_errors) +
                 ",\"out_errors\":" + std::to_string(k.out_errors) +
                 ",\"in_discards\":" + std::to_string(k.in_discards) +
                 ",\"out_discards\":" + std::to_string(k.out_discards) +
                 ",\"status\":" + std::to_string(k.status));
    }
    out.push_back('}');
  }
  out.append("]}");
}

}  // namespace sluice::decode
