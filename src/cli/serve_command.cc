// SPDX-License-Identifier: Apache-2.0
// `sluice serve`: receives NetFlow v5/v9, IPFIX and sFlow over UDP, decodes and counts
// the flow records (storing them comes with the store), logs counters periodically and
// stops cleanly on SIGINT/SIGTERM.

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
#include "common/atomic_file.h"
#include "common/clock.h"
#include "common/log.h"
#include "decode/exporter_json.h"
#include "ingest/pipeline.h"
#include "net/socket_address.h"

namespace sluice::cli {
namespace {

constexpr const char* kServeUsage =
    "usage: sluice serve [OPTIONS]\n"
    "\n"
    "Receives NetFlow v5/v9, IPFIX and sFlow v5 over UDP, decodes and counts the flow\n"
    "records. The protocol is recognised from each datagram, whatever its port. Counters\n"
    "are logged every --stats-interval seconds and at exit. SIGINT/SIGTERM stop cleanly.\n"
    "\n"
    "options:\n"
    "  --listen ADDR:PORT     listen here (repeatable; IPv6 as [ADDR]:PORT). Default:\n"
    "                         0.0.0.0 and [::] on 2055, 4739 (NetFlow/IPFIX) and 6343 (sFlow)\n"
    "  --receive-threads N    receive threads, sharing each port with SO_REUSEPORT (default 1)\n"
    "  --decode-threads N     decode threads; exporters are spread over them (default: cores-1)\n"
    "  --rcvbuf BYTES         socket receive buffer, suffix K/M/G allowed (default 64M)\n"
    "  --queue BYTES          queue from each receive to each decode thread (default 16M)\n"
    "  --allow PREFIX         accept only exporters in PREFIX (repeatable; e.g. 10.0.0.0/8)\n"
    "  --sampling ADDR=RATE   override the sampling rate of exporter ADDR (repeatable)\n"
    "  --stats-interval S     seconds between stats lines, 0 = only at exit (default 10)\n"
    "  --stats-file PATH      write the counters as JSON to PATH at each interval and at exit\n"
    "  --ready-file PATH      once listening, write the bound addresses to PATH, one a line\n"
    "  --exit-after S         stop by itself after S seconds\n"
    "  --data DIR             data directory: decoder state (templates, sampling rates)\n"
    "                         is saved there every 30 s and at exit, and restored at start;\n"
    "                         flows will be stored there too (storing is not built yet)\n"
    "  -h, --help             this text\n";

// Parses "123", "64K", "64M", "1G" (powers of 1024).
std::optional<std::uint64_t> ParseBytes(std::string_view text) {
  std::uint64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        scale = 1ULL << 10;
        break;
      case 'm':
      case 'M':
        scale = 1ULL << 20;
        break;
      case 'g':
      case 'G':
        scale = 1ULL << 30;
        break;
      default:
        break;
    }
    if (scale != 1) {
      text.remove_suffix(1);
    }
  }
  const auto value = ParseUnsigned(text, 0, (1ULL << 40) / scale);
  if (!value) {
    return std::nullopt;
  }
  return *value * scale;
}

std::string Mib(std::size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

bool Ipv6Available() {
  const int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  ::close(fd);
  return true;
}

// Writes `text` to `path` through a temporary file and rename(), so readers never see
// half a file.
struct ServeConfig {
  ingest::PipelineOptions pipeline;
  std::uint64_t stats_interval_s = 10;
  std::uint64_t exit_after_s = 0;
  std::string stats_file;
  std::string ready_file;
  std::string data_dir;
};

// Parses the flags; returns an exit status if the command should stop here.
std::optional<int> ParseServeArgs(std::span<const std::string_view> args, ServeConfig& config) {
  ingest::PipelineOptions& pipeline = config.pipeline;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  pipeline.decode_threads = cores > 1 ? std::min(cores - 1, 8u) : 1;
  auto fail = [](const char* message) {
    std::fprintf(stderr, "sluice serve: %s\n", message);
    return 2;
  };
  for (std::size_t arg_idx = 0; arg_idx < args.size(); ++arg_idx) {
    const std::string_view arg = args[arg_idx];
    const bool has_value = arg_idx + 1 < args.size();
    if (arg == "-h" || arg == "--help") {
      std::fputs(kServeUsage, stdout);
      return 0;
    }
    if (!has_value || arg.empty() || arg[0] != '-') {
      std::fprintf(stderr, "sluice serve: unknown argument or missing value: %.*s\n\n%s",
                   static_cast<int>(arg.size()), arg.data(), kServeUsage);
      return 2;
    }
    const std::string_view value = args[++arg_idx];
    if (arg == "--listen") {
      const auto host_port = ParseHostPort(value);
      const auto address = host_port ? flow::IpAddress::Parse(host_port->host) : std::nullopt;
      if (!address) {
        return fail(
            "--listen wants ADDR:PORT with a numeric address, e.g. 0.0.0.0:2055 or [::]:2055");
      }
      pipeline.listen.push_back(net::Endpoint{*address, host_port->port});
    } else if (arg == "--receive-threads" || arg == "--decode-threads") {
      const auto count = ParseUnsigned(value, 1, 64);
      if (!count) {
        return fail("thread counts are numbers from 1 to 64");
      }
      (arg == "--receive-threads" ? pipeline.receive_threads : pipeline.decode_threads) = *count;
    } else if (arg == "--rcvbuf") {
      const auto bytes = ParseBytes(value);
      if (!bytes || *bytes > (1ULL << 30)) {
        return fail("--rcvbuf wants a size up to 1G, e.g. 67108864 or 64M");
      }
      pipeline.rcvbuf_bytes = *bytes;
    } else if (arg == "--queue") {
      const auto bytes = ParseBytes(value);
      if (!bytes || *bytes > (1ULL << 32)) {
        return fail("--queue wants a size up to 4G, e.g. 16M");
      }
      pipeline.queue_bytes = *bytes;
    } else if (arg == "--allow") {
      const auto prefix = net::IpPrefix::Parse(value);
      if (!prefix) {
        return fail("--allow wants ADDR or ADDR/LEN, e.g. 192.0.2.0/24 or 2001:db8::/32");
      }
      pipeline.allow.push_back(*prefix);
    } else if (arg == "--sampling") {
      const auto sampling = ParseSamplingOverride(value);
      if (!sampling) {
        return fail("--sampling wants ADDR=RATE, e.g. 10.0.0.1=1000");
      }
      pipeline.decoder.sampling_overrides[sampling->exporter] = sampling->rate;
    } else if (arg == "--stats-interval") {
      const auto seconds = ParseUnsigned(value, 0, 86400);
      if (!seconds) {
        return fail("--stats-interval wants seconds from 0 to 86400");
      }
      config.stats_interval_s = *seconds;
    } else if (arg == "--exit-after") {
      const auto seconds = ParseUnsigned(value, 1, 365ULL * 86400);
      if (!seconds) {
        return fail("--exit-after wants a number of seconds >= 1");
      }
      config.exit_after_s = *seconds;
    } else if (arg == "--stats-file") {
      config.stats_file = std::string(value);
    } else if (arg == "--ready-file") {
      config.ready_file = std::string(value);
    } else if (arg == "--data") {
      config.data_dir = std::string(value);
    } else {
      std::fprintf(stderr, "sluice serve: unknown option: %.*s\n\n%s", static_cast<int>(arg.size()),
                   arg.data(), kServeUsage);
      return 2;
    }
  }
  if (pipeline.listen.empty()) {
    const bool v6 = Ipv6Available();
    if (!v6) {
      Log(LogLevel::kWarning, "IPv6 is not available here: listening on IPv4 only");
    }
    for (const std::uint16_t port : {2055, 4739, 6343}) {
      pipeline.listen.push_back(net::Endpoint{*flow::IpAddress::Parse("0.0.0.0"), port});
      if (v6) {
        pipeline.listen.push_back(net::Endpoint{*flow::IpAddress::Parse("::"), port});
      }
    }
  }
  return std::nullopt;
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

std::string StatsJson(const ingest::Pipeline& pipeline, double uptime_s, bool final_report) {
  std::string json = pipeline.Stats().ToJson();
  json.pop_back();
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

}  // namespace

int RunServe(std::span<const std::string_view> args) {
  ServeConfig config;
  if (const auto status = ParseServeArgs(args, config)) {
    return *status;
  }
  std::string state_path;
  if (!config.data_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(config.data_dir, error);
    if (error) {
      Log(LogLevel::kError, "--data " + config.data_dir + ": " + error.message());
      return 1;
    }
    state_path = config.data_dir + "/" + std::string(kDecoderStateFile);
    Log(LogLevel::kWarning,
        "--data " + config.data_dir +
            ": storing flows is not built yet; records are decoded and counted, and decoder "
            "state (templates, sampling rates) is kept in " + state_path);
  }

  // SIGINT/SIGTERM are blocked in every thread (the pipeline's threads inherit the mask)
  // and taken synchronously below with sigtimedwait().
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  SystemClock clock;
  auto created = ingest::Pipeline::Create(config.pipeline, nullptr, clock);
  if (!created) {
    Log(LogLevel::kError, std::string(created.error().Message()));
    return 1;
  }
  ingest::Pipeline& pipeline = **created;
  if (!state_path.empty()) {
    RestoreState(pipeline, state_path);
  }

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
  pipeline.Start();
  if (!config.ready_file.empty() && !WriteFileAtomically(config.ready_file, ready)) {
    Log(LogLevel::kError, "cannot write --ready-file " + config.ready_file);
  }

  using SteadyClock = std::chrono::steady_clock;
  const auto start = SteadyClock::now();
  const auto deadline = config.exit_after_s != 0 ? start + std::chrono::seconds(config.exit_after_s)
                                                 : SteadyClock::time_point::max();
  const auto interval = std::chrono::seconds(config.stats_interval_s);
  auto next_stats =
      config.stats_interval_s != 0 ? start + interval : SteadyClock::time_point::max();
  ingest::PipelineStats last = pipeline.Stats();
  auto last_time = start;
  auto next_state_save =
      state_path.empty() ? SteadyClock::time_point::max() : start + kStateSaveInterval;
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
      Log(LogLevel::kInfo, "stats: " + stats.ToLogLine() + rates);
      if (!config.stats_file.empty()) {
        (void)WriteFileAtomically(
            config.stats_file,
            StatsJson(pipeline, std::chrono::duration<double>(now - start).count(), false));
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
    const int signal_number = sigtimedwait(&stop_signals, nullptr, &timeout);
    if (signal_number > 0) {
      stop_signal = signal_number;
      break;
    }
  }
  Log(LogLevel::kInfo, stop_signal != 0 ? std::string("stopping on ") +
                                              (stop_signal == SIGINT ? "SIGINT" : "SIGTERM")
                                        : std::string("stopping: --exit-after reached"));
  pipeline.Stop();
  const double uptime = std::chrono::duration<double>(SteadyClock::now() - start).count();
  Log(LogLevel::kInfo, "final: " + pipeline.Stats().ToLogLine());
  if (!state_path.empty()) {
    SaveState(pipeline, state_path);
  }
  if (!config.stats_file.empty() &&
      !WriteFileAtomically(config.stats_file, StatsJson(pipeline, uptime, true))) {
    Log(LogLevel::kError, "cannot write --stats-file " + config.stats_file);
    return 1;
  }
  return 0;
}

}  // namespace sluice::cli
