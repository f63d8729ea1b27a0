// SPDX-License-Identifier: Apache-2.0

#include "api/prometheus_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>
#include <vector>

#include "decode/decode_error.h"

namespace sluice::api {
namespace {

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes backslash and newline only.
void AppendHelp(std::string& out, std::string_view help) {
  for (const char ch : help) {
    if (ch == '\\') {
      out.append("\\\\");
    } else if (ch == '\n') {
      out.append("\\n");
    } else {
      out.push_back(ch);
    }
  }
}

void AppendEscaped(std::string& out, std::string_view value) {
  for (const char ch : value) {
    if (ch == '\\') {
      out.append("\\\\");
    } else if (ch == '"') {
      out.append("\\\"");
    } else if (ch == '\n') {
      out.append("\\n");
    } else {
      out.push_back(ch);
    }
  }
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  AppendEscaped(out, value);
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (ec != std::errc()) {
    return "NaN";
  }
  return std::string(buffer, end);
}

void PrometheusWriter::Family(std::string_view name, MetricType type, std::string_view help) {
  out_.append("# HELP ");
  out_.append(name);
  out_.push_back(' ');
  AppendHelp(out_, help);
  out_.append("\n# TYPE ");
  out_.append(name);
  out_.push_back(' ');
  out_.append(TypeName(type));
  out_.push_back('\n');
}

void PrometheusWriter::SampleText(std::string_view name, std::initializer_list<Label> labels,
                                  std::string_view extra_label, std::string_view extra_value,
                                  std::string_view value) {
  out_.append(name);
  if (labels.size() != 0 || !extra_label.empty()) {
    out_.push_back('{');
    bool first = true;
    for (const auto& [label, label_value] : labels) {
      if (!first) {
        out_.push_back(',');
      }
      first = false;
      out_.append(label);
      out_.append("=\"");
      AppendEscaped(out_, label_value);
      out_.push_back('"');
    }
    if (!extra_label.empty()) {
      if (!first) {
        out_.push_back(',');
      }
      out_.append(extra_label);
      out_.append("=\"");
      AppendEscaped(out_, extra_value);
      out_.push_back('"');
    }
    out_.push_back('}');
  }
  out_.push_back(' ');
  out_.append(value);
  out_.push_back('\n');
}

void PrometheusWriter::Sample(std::string_view name, std::initializer_list<Label> labels,
                              double value) {
  SampleText(name, labels, {}, {}, FormatValue(value));
}

void PrometheusWriter::Sample(std::string_view name, std::initializer_list<Label> labels,
                              std::uint64_t value) {
  SampleText(name, labels, {}, {}, std::to_string(value));
}

void PrometheusWriter::Histogram(std::string_view name, std::initializer_list<Label> labels,
                                 const HistogramSnapshot& histogram) {
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t bucket_idx = 0; bucket_idx < histogram.upper_bounds_s.size(); ++bucket_idx) {
    if (bucket_idx < histogram.counts.size()) {
      cumulative += histogram.counts[bucket_idx];
    }
    SampleText(bucket, labels, "le", FormatValue(histogram.upper_bounds_s[bucket_idx]),
               std::to_string(cumulative));
  }
  // The +Inf bucket is the total count, so that it always equals _count.
  SampleText(bucket, labels, "le", "+Inf", std::to_string(histogram.count));
  SampleText(std::string(name) + "_sum", labels, {}, {}, FormatValue(histogram.sum_s));
  SampleText(std::string(name) + "_count", labels, {}, {}, std::to_string(histogram.count));
}

namespace {

// Labels of the per-exporter series.
struct ExporterLabels {
  std::string exporter;
  const std::string* source;
};

std::vector<ExporterLabels> LabelsOf(const ServiceSnapshot& snapshot) {
  std::vector<ExporterLabels> labels;
  labels.reserve(snapshot.exporters.size());
  for (const ExporterSnapshot& exporter : snapshot.exporters) {
    labels.push_back(ExporterLabels{exporter.report.address.ToString(), &exporter.source});
  }
  return labels;
}

template <typename Fn>
void PerExporter(PrometheusWriter& writer, const ServiceSnapshot& snapshot,
                 const std::vector<ExporterLabels>& labels, std::string_view name, MetricType type,
                 std::string_view help, Fn&& value_of) {
  writer.Family(name, type, help);
  for (std::size_t exporter_idx = 0; exporter_idx < labels.size(); ++exporter_idx) {
    writer.Sample(
        name,
        {{"exporter", labels[exporter_idx].exporter}, {"source", *labels[exporter_idx].source}},
        value_of(snapshot.exporters[exporter_idx].report));
  }
}

void Counter(PrometheusWriter& writer, std::string_view name, std::string_view help,
             std::uint64_t value) {
  writer.Family(name, MetricType::kCounter, help);
  writer.Sample(name, {}, value);
}

void Gauge(PrometheusWriter& writer, std::string_view name, std::string_view help, double value) {
  writer.Family(name, MetricType::kGauge, help);
  writer.Sample(name, {}, value);
}

}  // namespace

std::string RenderMetrics(const ServiceSnapshot& snapshot) {
  PrometheusWriter writer;

  writer.Family("sluice_build_info", MetricType::kGauge,
                "Always 1; the labels name the running build.");
  writer.Sample("sluice_build_info",
                {{"version", snapshot.version}, {"build_type", snapshot.build_type}},
                std::uint64_t{1});
  Gauge(writer, "sluice_uptime_seconds", "Seconds since the service started.", snapshot.uptime_s);
  Gauge(writer, "sluice_start_time_seconds", "When the service started, Unix time in seconds.",
        static_cast<double>(snapshot.started_at) / 1000.0);

  // Receive and decode stages.
  const ingest::PipelineStats& pipeline = snapshot.pipeline;
  Counter(writer, "sluice_datagrams_received_total",
          "Export datagrams received from allowed exporters.", pipeline.datagrams);
  Counter(writer, "sluice_received_bytes_total", "UDP payload bytes of the received datagrams.",
          pipeline.bytes);
  writer.Family("sluice_datagrams_dropped_total", MetricType::kCounter,
                "Datagrams dropped before decoding, by reason.");
  writer.Sample("sluice_datagrams_dropped_total", {{"reason", "kernel"}}, pipeline.kernel_drops);
  writer.Sample("sluice_datagrams_dropped_total", {{"reason", "queue_full"}},
                pipeline.dropped_queue_full);
  writer.Sample("sluice_datagrams_dropped_total", {{"reason", "truncated"}}, pipeline.truncated);
  writer.Sample("sluice_datagrams_dropped_total", {{"reason", "not_allowed"}},
                pipeline.not_allowed);
  Counter(writer, "sluice_receive_errors_total", "Failed recvmmsg calls.", pipeline.receive_errors);
  Counter(writer, "sluice_receive_coalesced_total",
          "Buffers of several datagrams of one exporter that the kernel passed at once (UDP_GRO).",
          pipeline.coalesced);
  Counter(writer, "sluice_datagrams_decoded_total", "Datagrams taken off the queues and decoded.",
          pipeline.datagrams_decoded);
  Counter(writer, "sluice_datagram_decode_failures_total",
          "Datagrams whose decoding stopped with an error.", pipeline.decode_errors);

  // Per exporter.
  const std::vector<ExporterLabels> labels = LabelsOf(snapshot);
  PerExporter(writer, snapshot, labels, "netflow_flows_total", MetricType::kCounter,
              "Flow records decoded, per exporter.",
              [](const decode::ExporterReport& report) { return report.counters.records; });
  PerExporter(writer, snapshot, labels, "netflow_packets_total", MetricType::kCounter,
              "Export packets (datagrams) received, per exporter.",
              [](const decode::ExporterReport& report) { return report.counters.datagrams; });
  PerExporter(writer, snapshot, labels, "netflow_bytes_total", MetricType::kCounter,
              "UDP payload bytes of the export packets, per exporter.",
              [](const decode::ExporterReport& report) { return report.counters.datagram_bytes; });
  PerExporter(writer, snapshot, labels, "netflow_option_records_total", MetricType::kCounter,
              "NetFlow v9/IPFIX options data records decoded, per exporter.",
              [](const decode::ExporterReport& report) { return report.counters.option_records; });
  PerExporter(writer, snapshot, labels, "netflow_polled_samples_total", MetricType::kCounter,
              "sFlow counter samples (interface counter polling) decoded, per exporter.",
              [](const decode::ExporterReport& report) { return report.counters.counter_samples; });
  PerExporter(writer, snapshot, labels, "netflow_sequence_lost_total", MetricType::kCounter,
              "Export packets (v9, sFlow) or records (v5, IPFIX) missing from the sequence "
              "numbers, per exporter.",
              [](const decode::ExporterReport& report) { return report.counters.sequence_lost; });
  PerExporter(writer, snapshot, labels, "netflow_sequence_resets_total", MetricType::kCounter,
              "Sequence number restarts (exporter reboot or reordering), per exporter.",
              [](const decode::ExporterReport& report) { return report.counters.sequence_resets; });
  PerExporter(
      writer, snapshot, labels, "netflow_sets_without_template_total", MetricType::kCounter,
      "Data sets that arrived before their template, per exporter.",
      [](const decode::ExporterReport& report) { return report.counters.sets_without_template; });
  PerExporter(writer, snapshot, labels, "netflow_templates", MetricType::kGauge,
              "NetFlow v9/IPFIX (options) templates known now, per exporter.",
              [](const decode::ExporterReport& report) { return report.templates; });
  PerExporter(writer, snapshot, labels, "netflow_exporter_last_seen_timestamp_seconds",
              MetricType::kGauge, "When the exporter's last datagram arrived, Unix time.",
              [](const decode::ExporterReport& report) {
                return static_cast<double>(report.last_seen) / 1000.0;
              });

  writer.Family("netflow_decode_errors_total", MetricType::kCounter,
                "Datagrams that stopped with a decode error, per exporter and reason.");
  for (std::size_t exporter_idx = 0; exporter_idx < labels.size(); ++exporter_idx) {
    const decode::ExporterCounters& counters = snapshot.exporters[exporter_idx].report.counters;
    for (std::size_t kind_idx = 0; kind_idx < decode::kDecodeErrorKindCount; ++kind_idx) {
      if (counters.errors[kind_idx] == 0) {
        continue;
      }
      writer.Sample("netflow_decode_errors_total",
                    {{"exporter", labels[exporter_idx].exporter},
                     {"source", *labels[exporter_idx].source},
                     {"reason", decode::Name(static_cast<decode::DecodeErrorKind>(kind_idx))}},
                    counters.errors[kind_idx]);
    }
  }

  // Store.
  const store::StoreWriterStats& store = snapshot.store;
  Counter(writer, "sluice_store_flows_written_total", "Flow records appended to a segment.",
          store.flows_written);
  Counter(writer, "sluice_store_flows_dropped_total",
          "Flow records not written (disk full or a write error).", store.flows_not_written);
  Counter(writer, "sluice_store_segments_sealed_total", "Segments finished, synced and renamed.",
          store.segments_sealed);
  Counter(writer, "sluice_store_written_bytes_total", "File bytes written to segments.",
          store.bytes_written);
  Counter(writer, "sluice_store_write_errors_total", "Failed segment appends, flushes and creates.",
          store.write_errors);
  Counter(writer, "sluice_store_seal_errors_total",
          "Segments that could not be sealed (recovered at the next start).", store.seal_errors);
  Counter(writer, "sluice_store_queue_waits_total",
          "Times a decode worker waited for the store writer.", store.queue_waits);
  Gauge(writer, "sluice_store_open_segments", "Segments open for writing now.",
        static_cast<double>(store.open_segments));
  Gauge(writer, "sluice_store_disk_full", "1 while the store stopped writing on a full disk.",
        store.disk_full ? 1.0 : 0.0);

  // Housekeeping (roll-ups and retention).
  const store::HousekeeperStats& housekeeper = snapshot.housekeeper;
  Counter(writer, "sluice_housekeeper_runs_total", "Maintenance runs.", housekeeper.runs);
  Counter(writer, "sluice_housekeeper_rollups_written_total", "Hourly roll-ups written.",
          housekeeper.rollups_written);
  Counter(writer, "sluice_housekeeper_summaries_written_total",
          "Summary files of sealed detail segments written.",
          housekeeper.summaries_written);
  Counter(writer, "sluice_housekeeper_hour_summaries_written_total",
          "Hour summaries (merges of one hour's summaries) written.",
          housekeeper.hour_summaries_written);
  Counter(writer, "sluice_housekeeper_address_filters_written_total",
          "Address filter files (per-block filters of a sealed detail segment) written.",
          housekeeper.address_filters_written);
  Counter(writer, "sluice_housekeeper_segments_deleted_total", "Segments removed by retention.",
          housekeeper.segments_deleted);
  Counter(writer, "sluice_housekeeper_deleted_bytes_total", "Bytes removed by retention.",
          housekeeper.bytes_deleted);
  Counter(writer, "sluice_housekeeper_errors_total", "Failed maintenance steps.",
          housekeeper.errors);

  // Enrichment.
  writer.Family("sluice_enrich_flows_total", MetricType::kCounter,
                "Flows through the prefix-map enrichment, by whether the map gave them a "
                "subscriber.");
  writer.Sample("sluice_enrich_flows_total", {{"result", "matched"}}, snapshot.enrich_matched);
  writer.Sample("sluice_enrich_flows_total", {{"result", "unmatched"}},
                snapshot.enrich_flows - std::min(snapshot.enrich_flows, snapshot.enrich_matched));
  Gauge(writer, "sluice_prefix_map_prefixes", "Prefixes of the prefix map in force (0: none).",
        static_cast<double>(snapshot.prefix_map_prefixes));

  writer.Family("sluice_store_write_duration_seconds", MetricType::kHistogram,
                "Time the store writer spends per operation: append (a batch, encoding and "
                "writing the blocks it completes), flush (the open segments), seal (footer, "
                "fsync, rename).");
  writer.Histogram("sluice_store_write_duration_seconds", {{"op", "append"}},
                   snapshot.store_latency.append);
  writer.Histogram("sluice_store_write_duration_seconds", {{"op", "flush"}},
                   snapshot.store_latency.flush);
  writer.Histogram("sluice_store_write_duration_seconds", {{"op", "seal"}},
                   snapshot.store_latency.seal);

  // API.
  writer.Family("sluice_query_duration_seconds", MetricType::kHistogram,
                "Time to answer a flow query through the API.");
  writer.Histogram("sluice_query_duration_seconds", {}, snapshot.query_duration);

  writer.Family("netflow_top_talker_bytes", MetricType::kGauge,
                "Bytes of the current top talkers (at most 10 series).");
  const std::size_t talkers = std::min(snapshot.top_talkers.size(), kMaxTopTalkers);
  for (std::size_t talker_idx = 0; talker_idx < talkers; ++talker_idx) {
    const TopTalker& talker = snapshot.top_talkers[talker_idx];
    const std::string address = talker.address.ToString();
    writer.Sample("netflow_top_talker_bytes", {{"address", address}}, talker.bytes);
  }
  return writer.Take();
}

}  // namespace sluice::api
