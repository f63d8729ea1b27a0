// SPDX-License-Identifier: Apache-2.0
// ServeConfig: the settings of `sluice serve`, from a TOML file (--config) and flags.
// Every key is documented in docs/configuration.md; config/sluice.example.toml lists them
// with their defaults.

#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "flow/ip_address.h"
#include "ingest/pipeline.h"
#include "net/socket_address.h"
#include "store/segment_writer.h"

namespace sluice::cli {

// How the store compresses its blocks.
enum class Compression : std::uint8_t {
  kZstd,  // the default: the smallest files
  kLz4,   // faster, larger
  kNone,  // for debugging and benchmarks
};

// "zstd", "lz4" or "none".
std::string_view CompressionName(Compression compression);

// The [store] section.
struct StoreConfig {
  // Flows, decoder state and roll-ups are kept here (relative to the working directory).
  std::string data_dir = "data";
  std::chrono::seconds rotation{5 * 60};                   // whole minutes, 1 to 60
  std::chrono::seconds retention{30 * 24 * 3600};          // flows older than this are deleted
  std::uint64_t max_size_bytes = 0;                        // cap on the data directory; 0 = none
  std::chrono::seconds flush_interval{5};                  // 1 s to 5 min, at most the rotation
  Compression compression = Compression::kZstd;            // of the blocks
  int zstd_level = store::kDefaultZstdLevel;               // -32..19 (with zstd)
  std::size_t writer_threads = 1;                          // segments written in parallel per slot
  bool cluster_by_port = true;                             // blocks by protocol and dst port
  std::chrono::seconds rollup_retention{365 * 24 * 3600};  // hourly roll-ups
};

// [http]: the HTTP API (docs/api.md).
struct HttpConfig {
  bool enabled = true;           // listen = "off" turns the API off
  net::Endpoint listen;          // 127.0.0.1:8080
  std::string tls_cert;          // PEM files; both set = HTTPS
  std::string tls_key;
  std::string admin_token;       // accepted as an admin token (not stored); "" = none
  bool metrics_need_token = false;  // metrics_auth = "token" (default "none")
  std::chrono::seconds query_timeout{30};
  std::uint64_t max_rows = 10'000;  // most rows one answer holds
  std::uint64_t threads = 8;        // request handler threads
};

// One [[exporter]] entry.
struct ExporterConfig {
  flow::IpAddress address;
  std::string name;                 // "" = none (kept for the store and the UI)
  std::string source;               // "" = the default source (kept for the store)
  std::uint32_t sampling_rate = 0;  // 0 = as the exporter announces it
};

// Everything `sluice serve` runs with. Plain data; copyable.
struct ServeConfig {
  // Defaults, as documented; pipeline.decode_threads is 0 (automatic) and
  // pipeline.listen empty (the default ports) until FinishServeConfig().
  ServeConfig();

  ingest::PipelineOptions pipeline;
  std::chrono::seconds stats_interval{10};  // 0 = only at exit
  std::uint64_t exit_after_s = 0;           // 0 = run until a signal
  std::string stats_file;
  std::string ready_file;
  StoreConfig store;
  std::vector<ExporterConfig> exporters;
  HttpConfig http;
  // [networks] local: the operator's own prefixes (in/out/internal traffic in the API).
  std::vector<flow::IpPrefix> local_networks;
  // [enrichment] prefix_map: subscriber/reseller/site/CIR by prefix; "" = none.
  std::string prefix_map;
  std::string config_path;    // the --config file, "" if none
};

// Parses TOML text over the defaults. `file_name` names the file in messages, which read
// "FILE:LINE: section.key: what was expected". Unknown sections and keys are errors.
Result<ServeConfig> ParseServeConfig(std::string_view toml_text, std::string_view file_name);

// Reads and parses the file at `path`.
Result<ServeConfig> LoadServeConfig(const std::string& path);

// Applies command-line flags (the options of `sluice serve --help` but --help) over
// `config`. --config is skipped (BuildServeConfig reads it). A repeatable flag (--listen,
// --allow) replaces the file's list; --sampling replaces the file's rate of that exporter.
Status ApplyServeFlags(std::span<const std::string_view> args, ServeConfig& config);

// Resolves what is automatic: decode threads (cores - 1, at most 8) and, with no listen
// address, 0.0.0.0 and [::] on 2055, 4739 and 6343 ([::] only where IPv6 exists).
void FinishServeConfig(ServeConfig& config);

// Defaults, then the --config file if given, then the other flags, then
// FinishServeConfig(). Errors are for the operator, prefixed by neither program nor
// command.
Result<ServeConfig> BuildServeConfig(std::span<const std::string_view> args);

}  // namespace sluice::cli
