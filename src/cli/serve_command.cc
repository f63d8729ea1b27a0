// SPDX-License-Identifier: Apache-2.0
// `sluice serve`: receives NetFlow v5/v9, IPFIX and sFlow over UDP, decodes the flow
// records and stores every one (store/store_writer.h), logs counters periodically and
// stops cleanly on SIGINT/SIGTERM (everything received is written and sealed).

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/serve_api.h"
#include "cli/serve_config.h"
#include "cli/serve_snapshot.h"
#include "api/exporters_json.h"
#include "api/prometheus_text.h"
#include "common/atomic_file.h"
#include "common/clock.h"
#include "common/log.h"
#include "decode/exporter_json.h"
#include "enrich/prefix_enricher.h"
#include "enrich/prefix_map.h"
#include "ingest/pipeline.h"
#include "net/socket_address.h"
#include "store/file_system.h"
#include "store/housekeeper.h"
#include "store/store_writer.h"

namespace sluice::cli {
namespace {

constexpr const char* kServeUsage =
    "usage: sluice serve [--config FILE] [OPTIONS]\n"
    "\n"
    "Receives NetFlow v5/v9, IPFIX and sFlow v5 over UDP, decodes the flow records and\n"
    "stores every one under the data directory (docs/storage.md). The protocol is\n"
    "recognised from each datagram, whatever its port. Counters are logged every\n"
    "--stats-interval and at exit. SIGINT/SIGTERM write and seal everything received,\n"
    "then exit; SIGHUP re-reads the --config file. Flags override the file\n"
    "(docs/configuration.md).\n"
    "\n"
    "options:\n"
    "  --config FILE          read settings from this TOML file (example:\n"
    "                         config/sluice.example.toml)\n"
    "  --listen ADDR:PORT     listen here (repeatable; IPv6 as [ADDR]:PORT). Default:\n"
    "                         0.0.0.0 and [::] on 2055, 4739 (NetFlow/IPFIX) and 6343 (sFlow)\n"
    "  --receive-threads N    receive threads, sharing each port with SO_REUSEPORT (default 1)\n"
    "  --decode-threads N     decode threads; exporters are spread over them (default: cores-1)\n"
    "  --rcvbuf BYTES         socket receive buffer, suffix K/M/G allowed (default 64M)\n"
    "  --queue BYTES          queue from each receive to each decode thread (default 16M)\n"
    "  --receive-offload on|off  let the kernel pass consecutive datagrams of an exporter\n"
    "                         as one buffer (UDP_GRO; default on)\n"
    "  --allow PREFIX         accept only exporters in PREFIX (repeatable; e.g. 10.0.0.0/8)\n"
    "  --sampling ADDR=RATE   override the sampling rate of exporter ADDR (repeatable)\n"
    "  --stats-interval T     time between stats lines (10, 10s, 1m), 0 = only at exit\n"
    "                         (default 10s)\n"
    "  --stats-file PATH      write the counters as JSON to PATH at each interval and at exit\n"
    "  --ready-file PATH      once listening, write the bound addresses to PATH, one a line\n"
    "  --exit-after T         stop by itself after T (seconds, or 30s, 5m, ...)\n"
    "  --data DIR             data directory (default ./data): flows in DIR/<source>/\n"
    "                         YYYY/MM/DD/HHMM.seg, hourly roll-ups, and the decoder state\n"
    "                         (templates, sampling rates), restored at start\n"
    "  --rotation T           store: minutes per segment, 1m to 60m (default 5m)\n"
    "  --retention T          store: keep flows this long (default 30d)\n"
    "  --flush-interval T     store: flush the open segment this often (default 5s)\n"
    "  --writer-threads N     store: segments written in parallel per slot (default 1)\n"
    "  --http ADDR:PORT|off   HTTP API address (default 127.0.0.1:8080; docs/api.md); a\n"
    "                         first start creates an admin token and prints it once\n"
    "  --tls-cert FILE        serve the API over HTTPS with this PEM certificate ...\n"
    "  --tls-key FILE         ... and this PEM private key\n"
    "  --local-net PREFIX     one of your own networks (repeatable): the API's in/out/internal\n"
    "  --prefix-map FILE      CSV or TOML map of prefix -> subscriber, reseller, site, CIR\n"
    "                         (docs/enrichment.md), applied to every flow; re-read on SIGHUP\n"
    "  -h, --help             this text\n";

std::string Mib(std::size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

// True if -h or --help comes where an option is expected (every option takes a value).
bool WantsHelp(std::span<const std::string_view> args) {
  for (std::size_t arg_idx = 0; arg_idx < args.size(); arg_idx += 2) {
    if (args[arg_idx] == "-h" || args[arg_idx] == "--help") {
      return true;
    }
  }
  return false;
}

// The decoder state file under --data, and how often it is rewritten while running.
constexpr std::string_view kDecoderStateFile = "decoder-state.bin";
constexpr std::chrono::seconds kStateSaveInterval{30};

// Loads templates and sampler rates saved by an earlier run, so v9/IPFIX data decodes
// from the first datagram after a restart. A missing file is a first start; a bad one is
// reported and ignored.
void RestoreState(ingest::Pipeline& pipeline, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return;
  }
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
  if (const Status status = pipeline.workers().RestoreDecoderState(bytes); !status) {
    Log(LogLevel::kWarning, "ignoring " + path + ": " + std::string(status.error().Message()));
    return;
  }
  Log(LogLevel::kInfo, "restored templates and sampling rates from " + path);
}

void SaveState(const ingest::Pipeline& pipeline, const std::string& path) {
  if (const Status status = WriteFileAtomically(path, pipeline.workers().DecoderStateFile());
      !status) {
    Log(LogLevel::kError, "cannot save decoder state: " + std::string(status.error().Message()));
  }
}

std::string StatsJson(const ingest::Pipeline& pipeline, const store::StoreWriter& store,
                      const store::Housekeeper& housekeeper, double uptime_s, bool final_report) {
  std::string json = pipeline.Stats().ToJson();
  json.pop_back();
  json += ",\"store\":" + store.Stats().ToJson();
  json += ",\"housekeeping\":" + housekeeper.Stats().ToJson();
  json += ",\"uptime_s\":" + std::to_string(uptime_s);
  json += ",\"listen\":[";
  for (std::size_t socket_idx = 0; socket_idx < pipeline.sockets().size(); ++socket_idx) {
    json +=
        (socket_idx == 0 ? "\"" : ",\"") + pipeline.sockets()[socket_idx].local().ToString() + "\"";
  }
  json += "]";
  json += final_report ? ",\"final\":true" : ",\"final\":false";
  // Per-exporter reports: snapshots the workers publish while running, the decoders
  // themselves once stopped.
  json += ",\"exporters\":[";
  bool first = true;
  for (const std::string& report : pipeline.workers().ExporterReports()) {
    json += first ? "" : ",";
    json += report;
    first = false;
  }
  json += "]";
  json += "}\n";
  return json;
}

store::Compression StoreCompression(Compression compression) {
  switch (compression) {
    case Compression::kZstd:
      return store::Compression::kZstd;
    case Compression::kLz4:
      return store::Compression::kLz4;
    case Compression::kNone:
      return store::Compression::kNone;
  }
  return store::Compression::kZstd;
}

store::MaintenanceOptions MaintenanceOptionsOf(const StoreConfig& store) {
  store::MaintenanceOptions options;
  options.data_dir = store.data_dir;
  options.rotation_minutes = static_cast<int>(store.rotation.count() / 60);
  options.detail_retention_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(store.retention).count();
  options.max_size_bytes = store.max_size_bytes;
  options.rollup_retention_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(store.rollup_retention).count();
  options.segment.compression = StoreCompression(store.compression);
  options.segment.zstd_level = store.zstd_level;
  options.segment.cluster_rows = store.cluster_by_port ? store::kClusterRows : 0;
  return options;
}

// What changed between two configurations and needs a restart to apply, by key.
std::vector<std::string> NeedRestart(const ServeConfig& running, const ServeConfig& wanted) {
  std::vector<std::string> keys;
  const ingest::PipelineOptions& old_pipeline = running.pipeline;
  const ingest::PipelineOptions& new_pipeline = wanted.pipeline;
  auto check = [&keys](bool changed, const char* key) {
    if (changed) {
      keys.emplace_back(key);
    }
  };
  auto prefixes = [](const std::vector<flow::IpPrefix>& allow) {
    std::string text;
    for (const flow::IpPrefix& prefix : allow) {
      text += prefix.ToString() + " ";
    }
    return text;
  };
  const decode::DecoderOptions& old_decoder = old_pipeline.decoder;
  const decode::DecoderOptions& new_decoder = new_pipeline.decoder;
  check(old_pipeline.listen != new_pipeline.listen, "collector.listen");
  check(old_pipeline.receive_threads != new_pipeline.receive_threads, "collector.receive_threads");
  check(old_pipeline.decode_threads != new_pipeline.decode_threads, "collector.decode_threads");
  check(old_pipeline.rcvbuf_bytes != new_pipeline.rcvbuf_bytes, "collector.rcvbuf");
  check(old_pipeline.receive_offload != new_pipeline.receive_offload, "collector.receive_offload");
  check(old_pipeline.queue_bytes != new_pipeline.queue_bytes, "collector.queue");
  check(prefixes(old_pipeline.allow) != prefixes(new_pipeline.allow), "collector.allow");
  check(old_decoder.sampling_overrides != new_decoder.sampling_overrides, "exporter.sampling_rate");
  check(old_decoder.max_exporters != new_decoder.max_exporters, "decoder.max_exporters");
  check(old_decoder.max_templates_per_exporter != new_decoder.max_templates_per_exporter,
        "decoder.max_templates_per_exporter");
  check(old_decoder.max_fields_per_template != new_decoder.max_fields_per_template,
        "decoder.max_fields_per_template");
  check(old_decoder.max_pending_sets_per_exporter != new_decoder.max_pending_sets_per_exporter,
        "decoder.max_pending_sets_per_exporter");
  check(old_decoder.template_lifetime_ms != new_decoder.template_lifetime_ms,
        "decoder.template_lifetime");
  const StoreConfig& old_store = running.store;
  const StoreConfig& new_store = wanted.store;
  check(old_store.data_dir != new_store.data_dir, "store.data_dir");
  check(old_store.rotation != new_store.rotation, "store.rotation");
  check(old_store.flush_interval != new_store.flush_interval, "store.flush_interval");
  check(old_store.compression != new_store.compression, "store.compression");
  check(old_store.zstd_level != new_store.zstd_level, "store.zstd_level");
  check(old_store.cluster_by_port != new_store.cluster_by_port, "store.cluster_by_port");
  check(old_store.writer_threads != new_store.writer_threads, "store.writer_threads");
  check(!(running.http.listen == wanted.http.listen), "http.listen");
  check(prefixes(running.local_networks) != prefixes(wanted.local_networks), "networks.local");
  return keys;
}

// Reads the prefix map at `path` ("" = none) and logs what it holds.
Result<std::shared_ptr<const enrich::PrefixMap>> LoadPrefixMap(const std::string& path) {
  Result<enrich::PrefixMap> map = enrich::PrefixMap::Load(path);
  if (!map) {
    return tl::unexpected(Error(map.error().Code(),
                                "enrichment.prefix_map: " + std::string(map.error().Message())));
  }
  Log(LogLevel::kInfo, "subscriber map: " + std::to_string(map->size()) + " prefixes from " + path);
  return std::make_shared<const enrich::PrefixMap>(std::move(*map));
}

// SIGHUP: puts the map at `path` in force ("" = none). A map that does not load leaves the
// running one in force. Returns true if `path` is now the map in force.
bool ReloadPrefixMap(const std::string& path, enrich::PrefixMapSource& prefix_map) {
  if (path.empty()) {
    if (prefix_map.Current() != nullptr) {
      Log(LogLevel::kInfo, "SIGHUP: no prefix map any more; new flows are not enriched");
    }
    prefix_map.Replace(nullptr);
    return true;
  }
  Result<std::shared_ptr<const enrich::PrefixMap>> loaded = LoadPrefixMap(path);
  if (!loaded) {
    Log(LogLevel::kError, "SIGHUP: keeping the running prefix map: " +
                              std::string(loaded.error().Message()));
    return false;
  }
  prefix_map.Replace(std::move(*loaded));
  return true;
}

// SIGHUP: re-reads the configuration (the file, then the same flags over it) and applies
// what can change while running: the stats interval and the retention settings (store
// retention, max_size, rollup_retention). Returns true if the stats interval changed.
bool Reload(std::span<const std::string_view> args, ServeConfig& config,
            store::Housekeeper& housekeeper, enrich::PrefixMapSource& prefix_map) {
  if (config.config_path.empty()) {
    ReloadPrefixMap(config.prefix_map, prefix_map);
    Log(LogLevel::kInfo, "SIGHUP: no --config file, nothing else to reload");
    return false;
  }
  Result<ServeConfig> wanted = BuildServeConfig(args);
  if (!wanted) {
    Log(LogLevel::kError,
        "SIGHUP: keeping the running configuration: " + std::string(wanted.error().Message()));
    return false;
  }
  if (ReloadPrefixMap(wanted->prefix_map, prefix_map)) {
    config.prefix_map = wanted->prefix_map;
  }
  const std::vector<std::string> restart = NeedRestart(config, *wanted);
  if (!restart.empty()) {
    std::string keys;
    for (const std::string& key : restart) {
      keys += (keys.empty() ? "" : ", ") + key;
    }
    Log(LogLevel::kWarning, "SIGHUP: changes to " + keys + " take effect after a restart");
  }
  StoreConfig& store = config.store;
  if (store.retention != wanted->store.retention ||
      store.max_size_bytes != wanted->store.max_size_bytes ||
      store.rollup_retention != wanted->store.rollup_retention) {
    store.retention = wanted->store.retention;
    store.max_size_bytes = wanted->store.max_size_bytes;
    store.rollup_retention = wanted->store.rollup_retention;
    housekeeper.SetOptions(MaintenanceOptionsOf(store));
    Log(LogLevel::kInfo, "SIGHUP: store retention " + std::to_string(store.retention.count()) +
                             "s, max_size " + std::to_string(store.max_size_bytes) +
                             " bytes, rollup_retention " +
                             std::to_string(store.rollup_retention.count()) +
                             "s from the next housekeeping run");
  }
  const bool applied = config.stats_interval != wanted->stats_interval;
  if (applied) {
    Log(LogLevel::kInfo, "SIGHUP: collector.stats_interval is now " +
                             std::to_string(wanted->stats_interval.count()) + "s");
    config.stats_interval = wanted->stats_interval;
  }
  Log(LogLevel::kInfo, "SIGHUP: reloaded " + config.config_path);
  return applied;
}

}  // namespace

int RunServe(std::span<const std::string_view> args) {
  if (WantsHelp(args)) {
    std::fputs(kServeUsage, stdout);
    return 0;
  }
  Result<ServeConfig> built = BuildServeConfig(args);
  if (!built) {
    std::fprintf(stderr, "sluice serve: %s\n(sluice serve --help lists the options)\n",
                 std::string(built.error().Message()).c_str());
    return 2;
  }
  ServeConfig& config = *built;
  if (!config.config_path.empty()) {
    Log(LogLevel::kInfo, "configuration from " + config.config_path);
  }
  // The data directory is never empty (validated) and StoreWriter::Open creates it.
  const std::string& data_dir = config.store.data_dir;
  const std::string state_path = data_dir + "/" + std::string(kDecoderStateFile);

  // Every batch, from UDP or the HTTP ingest, passes the prefix-map enrichment on its way
  // to the store (a no-op without a map; SIGHUP may load one later). A map that does not
  // load stops serve before the data directory is touched.
  enrich::PrefixMapSource prefix_map;
  if (!config.prefix_map.empty()) {
    Result<std::shared_ptr<const enrich::PrefixMap>> loaded = LoadPrefixMap(config.prefix_map);
    if (!loaded) {
      Log(LogLevel::kError, std::string(loaded.error().Message()));
      return 1;
    }
    prefix_map.Replace(std::move(*loaded));
  }
  store::PosixFileSystem file_system;
  SystemClock clock;
  store::StoreWriterOptions store_options;
  store_options.data_dir = data_dir;
  store_options.rotation_minutes = static_cast<int>(config.store.rotation.count() / 60);
  store_options.flush_interval_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.store.flush_interval).count();
  store_options.segment.compression = StoreCompression(config.store.compression);
  store_options.segment.zstd_level = config.store.zstd_level;
  store_options.segment.cluster_rows = config.store.cluster_by_port ? store::kClusterRows : 0;
  store_options.writer_threads = config.store.writer_threads;
  store_options.touch_queue_pages = true;
  for (const ExporterConfig& exporter : config.exporters) {
    if (!exporter.source.empty()) {
      store_options.sources.emplace_back(exporter.address, exporter.source);
    }
  }
  Result<std::unique_ptr<store::StoreWriter>> opened =
      store::StoreWriter::Open(store_options, file_system, clock);
  if (!opened) {
    Log(LogLevel::kError, std::string(opened.error().Message()));
    return 1;
  }
  store::StoreWriter& store = **opened;
  store::Housekeeper housekeeper(MaintenanceOptionsOf(config.store), file_system, clock);

  // SIGINT/SIGTERM/SIGHUP are blocked in every thread (the pipeline's threads inherit the
  // mask) and taken synchronously below with sigtimedwait().
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  enrich::EnrichCounters enrich_counters;
  auto enriched_store_sink = [&store, &prefix_map, &enrich_counters] {
    return std::make_unique<enrich::EnrichingSink>(prefix_map, enrich_counters, store.MakeSink());
  };
  auto created = ingest::Pipeline::Create(
      config.pipeline, [&enriched_store_sink](std::size_t) { return enriched_store_sink(); }, clock);
  if (!created) {
    Log(LogLevel::kError, std::string(created.error().Message()));
    return 1;
  }
  ingest::Pipeline& pipeline = **created;
  RestoreState(pipeline, state_path);

  std::string listening;
  std::string ready;
  std::string capped;
  for (const net::UdpSocket& socket : pipeline.sockets()) {
    listening += (listening.empty() ? "" : ", ") + socket.local().ToString();
    ready += socket.local().ToString() + "\n";
    if (config.pipeline.rcvbuf_bytes != 0 && socket.rcvbuf_capped()) {
      capped += (capped.empty() ? "" : ", ") + socket.local().ToString();
    }
  }
  if (!capped.empty()) {
    const net::UdpSocket& socket = pipeline.sockets().front();
    Log(LogLevel::kWarning,
        "receive buffer of udp " + capped + " is " + Mib(socket.rcvbuf_effective()) + ", not the " +
            Mib(socket.rcvbuf_requested()) +
            " asked for: the kernel caps it at net.core.rmem_max. Bursts may be dropped; raise it "
            "(sysctl -w net.core.rmem_max=" +
            std::to_string(socket.rcvbuf_requested()) + ") or run with CAP_NET_ADMIN");
  }
  const std::size_t rcvbuf = pipeline.sockets().front().rcvbuf_effective();
  Log(LogLevel::kInfo, "listening on udp " + listening + " (receive threads " +
                           std::to_string(config.pipeline.receive_threads) + ", decode threads " +
                           std::to_string(config.pipeline.decode_threads) + ", receive buffer " +
                           Mib(rcvbuf) + " per socket)");
  Log(LogLevel::kInfo,
      "writing flows to " + std::filesystem::absolute(data_dir).lexically_normal().string() +
          " (segments of " + std::to_string(store_options.rotation_minutes) + " min, " +
          std::to_string(store_options.writer_threads) + " writer thread" +
          (store_options.writer_threads == 1 ? ", " : "s, ") +
          std::string(CompressionName(config.store.compression)) +
          (config.store.cluster_by_port ? ", blocks clustered by port" : "") + ", flushed every " +
          std::to_string(config.store.flush_interval.count()) + " s)");
  store.Start();
  housekeeper.Start();
  pipeline.Start();

  ServeApiHooks hooks;
  LatencyHistogram query_latency;
  ServiceInfo service;
  service.started_at = clock.NowMillis();
  service.version = std::string(kSluiceVersion);
  service.sources = store_options.sources;
  service.query_latency = &query_latency;
  hooks.observe_query_latency = [&query_latency](double seconds) { query_latency.Observe(seconds); };
  hooks.metrics_text = [&] {
    api::ServiceSnapshot snapshot = TakeServiceSnapshot(pipeline, store, housekeeper, service, clock);
    snapshot.top_talkers = CurrentTopTalkers(data_dir, clock.NowMillis());
    const enrich::EnrichStats enriched = enrich_counters.Stats();
    snapshot.enrich_flows = enriched.rows;
    snapshot.enrich_matched = enriched.matched;
    const std::shared_ptr<const enrich::PrefixMap> map = prefix_map.Current();
    snapshot.prefix_map_prefixes = map != nullptr ? map->size() : 0;
    return api::RenderMetrics(snapshot);
  };
  hooks.exporters_json = [&] {
    return api::RenderExportersJson(TakeServiceSnapshot(pipeline, store, housekeeper, service, clock));
  };
  hooks.health = [&store] {
    const store::StoreWriterStats stats = store.Stats();
    const bool writable = !stats.disk_full && stats.write_errors == 0;
    const std::uint64_t backlog = stats.flows_received - stats.flows_written - stats.flows_not_written;
    return std::pair<bool, std::string>(
        writable, std::string("{\"status\":\"") + (writable ? "ok" : "degraded") +
                      "\",\"store_writable\":" + (writable ? "true" : "false") +
                      ",\"store_backlog_flows\":" + std::to_string(backlog) + "}");
  };
  Result<ServeApi> api = StartServeApi(config, enriched_store_sink(), clock, std::move(hooks));
  if (!api) {
    Log(LogLevel::kError, std::string(api.error().Message()));
    pipeline.Stop();
    (void)store.Close();
    housekeeper.Stop();
    return 1;
  }
  if (!config.ready_file.empty() && !WriteFileAtomically(config.ready_file, ready)) {
    Log(LogLevel::kError, "cannot write --ready-file " + config.ready_file);
  }

  using SteadyClock = std::chrono::steady_clock;
  const auto start = SteadyClock::now();
  const auto deadline = config.exit_after_s != 0 ? start + std::chrono::seconds(config.exit_after_s)
                                                 : SteadyClock::time_point::max();
  auto interval = config.stats_interval;
  auto next_stats = interval.count() != 0 ? start + interval : SteadyClock::time_point::max();
  ingest::PipelineStats last = pipeline.Stats();
  auto last_time = start;
  auto next_state_save = start + kStateSaveInterval;
  int stop_signal = 0;
  for (;;) {
    const auto now = SteadyClock::now();
    if (now >= deadline) {
      break;
    }
    if (now >= next_state_save) {
      SaveState(pipeline, state_path);  // from the snapshots asked for every second below
      next_state_save += kStateSaveInterval;
      continue;
    }
    if (now >= next_stats) {
      const ingest::PipelineStats stats = pipeline.Stats();
      const double seconds = std::chrono::duration<double>(now - last_time).count();
      char rates[96];
      std::snprintf(rates, sizeof rates, " (%.0f records/s, %.0f datagrams/s)",
                    static_cast<double>(stats.records - last.records) / seconds,
                    static_cast<double>(stats.datagrams - last.datagrams) / seconds);
      Log(LogLevel::kInfo,
          "stats: " + stats.ToLogLine() + rates + " " + store.Stats().ToLogLine());
      if (!config.stats_file.empty()) {
        (void)WriteFileAtomically(
            config.stats_file,
            StatsJson(pipeline, store, housekeeper,
                      std::chrono::duration<double>(now - start).count(), false));
      }
      last = stats;
      last_time = now;
      next_stats += interval;
      continue;
    }
    const auto wake =
        std::min({deadline, next_stats, next_state_save, now + std::chrono::seconds(1)});
    const auto wait_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wake - now).count();
    timespec timeout{static_cast<std::time_t>(wait_ns / 1'000'000'000),
                     static_cast<long>(wait_ns % 1'000'000'000)};
    // Keeps the workers' published state and exporter reports at most a second old.
    pipeline.workers().RequestSnapshots();
    const int signal_number = sigtimedwait(&signals, nullptr, &timeout);
    if (signal_number == SIGHUP) {
      if (Reload(args, config, housekeeper, prefix_map)) {
        interval = config.stats_interval;
        next_stats =
            interval.count() != 0 ? SteadyClock::now() + interval : SteadyClock::time_point::max();
      }
      continue;
    }
    if (signal_number > 0) {
      stop_signal = signal_number;
      break;
    }
  }
  Log(LogLevel::kInfo, stop_signal != 0 ? std::string("stopping on ") +
                                              (stop_signal == SIGINT ? "SIGINT" : "SIGTERM")
                                        : std::string("stopping: --exit-after reached"));
  if (api->server) {
    api->server->Stop();  // no HTTP ingest into the store after this
  }
  pipeline.Stop();
  const Status sealed = store.Close();
  housekeeper.Stop();
  const double uptime = std::chrono::duration<double>(SteadyClock::now() - start).count();
  Log(LogLevel::kInfo, "final: " + pipeline.Stats().ToLogLine() + " " + store.Stats().ToLogLine());
  SaveState(pipeline, state_path);
  if (!config.stats_file.empty() &&
      !WriteFileAtomically(config.stats_file, StatsJson(pipeline, store, housekeeper, uptime, true))) {
    Log(LogLevel::kError, "cannot write --stats-file " + config.stats_file);
    return 1;
  }
  return sealed ? 0 : 1;
}

}  // namespace sluice::cli
