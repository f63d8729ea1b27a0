// SPDX-License-Identifier: Apache-2.0
// sluice-blast: sends synthetic NetFlow v5/v9 or IPFIX export datagrams to a collector at
// a set number of flows per second, for benchmarks. Datagrams are pre-encoded (realistic,
// seeded traffic; see traffic_model.h) and only patched before sending (sequence, times,
// client ports); sending is UDP_SEGMENT or sendmmsg from one socket per simulated exporter.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flow_encoder.h"
#include "pcap_writer.h"
#include "net/socket_address.h"
#include "net/udp_sender.h"

namespace {

constexpr const char* kUsage =
    "usage: sluice-blast --to HOST:PORT [OPTIONS]\n"
    "\n"
    "options:\n"
    "  --to HOST:PORT      collector address (numeric; IPv6 as [ADDR]:PORT)\n"
    "  --protocol P        v5, v9 or ipfix (default v9)\n"
    "  --rate FLOWS        flow records per second; 0 = as fast as possible (default 1000000)\n"
    "  --duration S        seconds to send (default 10; fractions allowed)\n"
    "  --exporters N       simulated exporters, each its own socket; on IPv4 loopback each\n"
    "                      gets its own source address 127.0.1.1, 127.0.1.2, ... (default 4)\n"
    "  --template-every S  resend the template every S seconds (default 1)\n"
    "  --seed N            seed of the synthetic traffic; same seed, same flows (default 1)\n"
    "  --distinct N        distinct datagrams built, shared among the exporters (default\n"
    "                      131072: 192 MiB, about 3 M distinct flows); fewer if the run\n"
    "                      sends fewer. Each later pass gets new client ports and times.\n"
    "  --ipv6 PERCENT      share of IPv6 flows for v9 and IPFIX (default 25; v5: none)\n"
    "  --no-gso            one datagram per send (default: UDP_SEGMENT, up to 44 datagrams\n"
    "                      per sendmsg; the collector still receives separate datagrams)\n"
    "  --json              print the summary as one JSON object on stdout\n"
    "  --icmp-type-field   v9: also export ICMP_TYPE (field 32) in every record\n"
    "  --write-pcap FILE   send nothing: write the datagrams the run would send into a pcap\n"
    "                      file (Ethernet/IPv4/UDP from 127.0.1.N to --to, default\n"
    "                      127.0.0.1:2055), on a simulated clock running at --rate, one\n"
    "                      datagram per exporter in turn; --flows or rate * duration flows\n"
    "  --flows N           with --write-pcap: flow records to write (default rate * duration)\n"
    "  --start-ms MS       with --write-pcap: export time of the first datagram, ms since the\n"
    "                      epoch (default now); with --seed, the same file byte for byte\n";

struct Exporter {
  sluice::net::UdpSender sender;
  sluice::tools::FlowEncoder encoder;
  double last_template_s = -1e9;
};

struct PcapRun {
  std::string path;
  double flows = 0;     // 0 = rate * duration
  double start_ms = 0;  // 0 = now
};

// Writes the datagrams of a run into a pcap file instead of sending them: exporters take
// turns, one datagram each; the clock is simulated (datagrams / rate), so the file holds
// the same traffic however fast this machine is.
int WritePcap(const PcapRun& run, std::vector<sluice::tools::FlowEncoder>& encoders,
              const sluice::net::Endpoint& to, double rate, double template_every_s,
              std::int64_t start_ms, std::uint64_t flows_wanted, bool json,
              const std::string& protocol_name) {
  sluice::tools::PcapWriter writer;
  if (!writer.Open(run.path)) {
    std::fprintf(stderr, "sluice-blast: cannot create %s\n", run.path.c_str());
    return 1;
  }
  const std::size_t per_datagram = encoders.front().records_per_datagram();
  std::vector<double> last_template_s(encoders.size(), -1e9);
  std::uint64_t datagrams = 0;
  std::uint64_t templates = 0;
  std::uint64_t flows = 0;
  std::uint64_t data_datagrams = 0;
  bool ok = true;
  for (std::size_t exporter_idx = 0; ok && flows < flows_wanted;
       exporter_idx = exporter_idx + 1 == encoders.size() ? 0 : exporter_idx + 1) {
    const double elapsed_s =
        static_cast<double>(data_datagrams * per_datagram) / std::max(rate, 1.0);
    const std::int64_t now_us = start_ms * 1000 + static_cast<std::int64_t>(elapsed_s * 1e6);
    sluice::tools::FlowEncoder& encoder = encoders[exporter_idx];
    encoder.SetNow(now_us / 1000);
    const auto source = 0x7F000101u + static_cast<std::uint32_t>(exporter_idx);
    const auto source_port = static_cast<std::uint16_t>(40000 + exporter_idx);
    if (elapsed_s - last_template_s[exporter_idx] >= template_every_s) {
      const auto tmpl = encoder.TemplateDatagram();
      if (!tmpl.empty()) {
        ok = writer.Write(now_us, source, source_port, to.address.V4(), to.port, tmpl);
        ++templates;
        ++datagrams;
      }
      last_template_s[exporter_idx] = elapsed_s;
    }
    ok = ok && writer.Write(now_us, source, source_port, to.address.V4(), to.port,
                            encoder.NextData());
    ++datagrams;
    ++data_datagrams;
    flows += per_datagram;
  }
  if (!writer.Close() || !ok) {
    std::fprintf(stderr, "sluice-blast: cannot write %s\n", run.path.c_str());
    return 1;
  }
  if (json) {
    std::printf(
        "{\"protocol\":\"%s\",\"exporters\":%zu,\"records_per_datagram\":%zu,"
        "\"datagrams\":%llu,\"template_datagrams\":%llu,\"flows\":%llu,\"pcap\":\"%s\"}\n",
        protocol_name.c_str(), encoders.size(), per_datagram,
        static_cast<unsigned long long>(datagrams), static_cast<unsigned long long>(templates),
        static_cast<unsigned long long>(flows), run.path.c_str());
  } else {
    std::fprintf(stderr,
                 "sluice-blast: wrote %llu datagrams (%llu templates) carrying %llu %s flows "
                 "from %zu exporter(s) to %s\n",
                 static_cast<unsigned long long>(datagrams),
                 static_cast<unsigned long long>(templates),
                 static_cast<unsigned long long>(flows), protocol_name.c_str(), encoders.size(),
                 run.path.c_str());
  }
  return 0;
}

bool ParseDouble(const char* text, double& value) {
  char* end = nullptr;
  value = std::strtod(text, &end);
  return end != text && *end == '\0' && value >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  using sluice::net::Endpoint;
  std::optional<Endpoint> to;
  sluice::tools::ExportProtocol protocol = sluice::tools::ExportProtocol::kNetflowV9;
  std::string protocol_name = "v9";
  double rate = 1'000'000;
  double duration_s = 10;
  double template_every_s = 1;
  double exporter_count = 4;
  double seed = 1;
  double distinct = 131072;
  double ipv6_percent = 25;
  bool json = false;
  bool gso = true;
  bool icmp_type_field = false;
  std::optional<PcapRun> pcap;
  for (int arg_idx = 1; arg_idx < argc; ++arg_idx) {
    const std::string_view arg = argv[arg_idx];
    const char* value = arg_idx + 1 < argc ? argv[arg_idx + 1] : nullptr;
    bool ok = value != nullptr;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--json") {
      json = true;
      continue;
    }
    if (arg == "--icmp-type-field") {
      icmp_type_field = true;
      continue;
    }
    if (arg == "--no-gso") {
      gso = false;
      continue;
    }
    if (arg == "--to" && ok) {
      const std::string_view text = value;
      const auto colon = text.rfind(':');
      std::string host(text.substr(0, colon == std::string_view::npos ? 0 : colon));
      if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      const auto address = sluice::flow::IpAddress::Parse(host);
      const int port = colon == std::string_view::npos ? 0 : std::atoi(value + colon + 1);
      ok = address.has_value() && port > 0 && port < 65536;
      if (ok) {
        to = Endpoint{*address, static_cast<std::uint16_t>(port)};
      }
    } else if (arg == "--write-pcap" && ok) {
      pcap = pcap.value_or(PcapRun{});
      pcap->path = value;
    } else if (arg == "--flows" && ok) {
      pcap = pcap.value_or(PcapRun{});
      ok = ParseDouble(value, pcap->flows) && pcap->flows >= 1 && pcap->flows <= 1e12;
    } else if (arg == "--start-ms" && ok) {
      pcap = pcap.value_or(PcapRun{});
      ok = ParseDouble(value, pcap->start_ms) && pcap->start_ms == std::floor(pcap->start_ms);
    } else if (arg == "--protocol" && ok) {
      const auto parsed = sluice::tools::ParseExportProtocol(value);
      ok = parsed.has_value();
      if (ok) {
        protocol = *parsed;
        protocol_name = value;
      }
    } else if (arg == "--rate" && ok) {
      ok = ParseDouble(value, rate);
    } else if (arg == "--duration" && ok) {
      ok = ParseDouble(value, duration_s);
    } else if (arg == "--template-every" && ok) {
      ok = ParseDouble(value, template_every_s);
    } else if (arg == "--seed" && ok) {
      ok = ParseDouble(value, seed) && seed == std::floor(seed) && seed < 1e15;
    } else if (arg == "--distinct" && ok) {
      ok = ParseDouble(value, distinct) && distinct >= 1 && distinct <= 4e6;
    } else if (arg == "--ipv6" && ok) {
      ok = ParseDouble(value, ipv6_percent) && ipv6_percent <= 100;
    } else if (arg == "--exporters" && ok) {
      ok = ParseDouble(value, exporter_count) && exporter_count >= 1 && exporter_count <= 250;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "sluice-blast: bad or incomplete option %s\n\n%s", argv[arg_idx],
                   kUsage);
      return 2;
    }
    ++arg_idx;
  }
  if (pcap && pcap->path.empty()) {
    std::fputs("sluice-blast: --flows and --start-ms need --write-pcap\n", stderr);
    return 2;
  }
  if (pcap && !to) {
    to = Endpoint{sluice::flow::IpAddress::FromV4(0x7F000001u), 2055};
  }
  if (pcap && !to->address.IsV4()) {
    std::fputs("sluice-blast: --write-pcap writes IPv4 frames: --to must be IPv4\n", stderr);
    return 2;
  }
  if (!to) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  const bool loopback_v4 = to->address.IsV4() && (to->address.V4() >> 24) == 127;
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::uint64_t pcap_flows = 0;
  if (pcap) {
    if (pcap->start_ms > 0) {
      now_ms = static_cast<std::int64_t>(pcap->start_ms);
    }
    pcap_flows = static_cast<std::uint64_t>(pcap->flows > 0 ? pcap->flows : rate * duration_s);
    if (pcap_flows == 0) {
      std::fputs("sluice-blast: --write-pcap needs --flows or a rate and duration\n", stderr);
      return 2;
    }
  }
  // Build no more distinct datagrams than the run will send (short runs start at once).
  const auto exporters_wanted = static_cast<std::size_t>(exporter_count);
  auto per_exporter = static_cast<std::size_t>(distinct) / exporters_wanted;
  if (rate > 0 || pcap) {
    sluice::tools::FlowEncoderOptions probe_options;
    probe_options.protocol = protocol;
    probe_options.distinct_datagrams = 1;
    probe_options.ipv6_percent = static_cast<std::uint32_t>(ipv6_percent);
    probe_options.icmp_type_field = icmp_type_field;
    const double records =
        static_cast<double>(sluice::tools::FlowEncoder(probe_options).records_per_datagram());
    const double datagrams_to_send =
        (pcap ? static_cast<double>(pcap_flows) : rate * duration_s) / records /
        static_cast<double>(exporters_wanted);
    per_exporter = std::min(per_exporter, static_cast<std::size_t>(datagrams_to_send) + 64);
  }
  per_exporter = std::max<std::size_t>(per_exporter, 1);
  const auto make_encoder = [&](std::size_t exporter_idx) {
    sluice::tools::FlowEncoderOptions encoder_options;
    encoder_options.protocol = protocol;
    encoder_options.seed = static_cast<std::uint64_t>(seed) * 1000 + exporter_idx + 1;
    encoder_options.distinct_datagrams = per_exporter;
    encoder_options.ipv6_percent = static_cast<std::uint32_t>(ipv6_percent);
    encoder_options.source_id = static_cast<std::uint32_t>(exporter_idx);
    encoder_options.now_ms = now_ms;
    encoder_options.icmp_type_field = icmp_type_field;
    return sluice::tools::FlowEncoder(encoder_options);
  };
  if (pcap) {
    std::vector<sluice::tools::FlowEncoder> encoders;
    for (std::size_t exporter_idx = 0; exporter_idx < exporters_wanted; ++exporter_idx) {
      encoders.push_back(make_encoder(exporter_idx));
    }
    return WritePcap(*pcap, encoders, *to, rate, template_every_s, now_ms, pcap_flows, json,
                     protocol_name);
  }
  std::vector<Exporter> exporters;
  for (std::size_t exporter_idx = 0; exporter_idx < exporters_wanted; ++exporter_idx) {
    std::optional<sluice::flow::IpAddress> source;
    if (loopback_v4) {
      source =
          sluice::flow::IpAddress::FromV4(0x7F000101u + static_cast<std::uint32_t>(exporter_idx));
    }
    auto sender = sluice::net::UdpSender::Connect(*to, source);
    if (!sender) {
      std::fprintf(stderr, "sluice-blast: %s\n", std::string(sender.error().Message()).c_str());
      return 1;
    }
    exporters.push_back(Exporter{std::move(*sender), make_encoder(exporter_idx)});
  }
  const std::size_t per_datagram = exporters.front().encoder.records_per_datagram();

  // The pacer counts datagrams; template datagrams are few and counted with them.
  sluice::net::Pacer pacer(rate / static_cast<double>(per_datagram));
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::span<const std::uint8_t>> batch;
  batch.reserve(sluice::net::UdpSender::kMaxBatch + 1);
  std::uint64_t datagrams = 0;
  std::uint64_t flows = 0;
  std::uint64_t templates = 0;
  std::size_t exporter_idx = 0;
  for (;;) {
    const double elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed_s >= duration_s) {
      break;
    }
    const std::size_t quota = pacer.WaitForQuota(datagrams, sluice::net::UdpSender::kMaxBatch);
    Exporter& exporter = exporters[exporter_idx];
    exporter.encoder.SetNow(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
    exporter_idx = exporter_idx + 1 == exporters.size() ? 0 : exporter_idx + 1;
    batch.clear();
    if (elapsed_s - exporter.last_template_s >= template_every_s) {
      const auto tmpl = exporter.encoder.TemplateDatagram();
      if (!tmpl.empty()) {
        batch.push_back(tmpl);
        ++templates;
      }
      exporter.last_template_s = elapsed_s;
    }
    if (gso) {
      if (!batch.empty() && !exporter.sender.Send(batch)) {
        std::fprintf(stderr, "sluice-blast: cannot send a template\n");
        return 1;
      }
      datagrams += batch.size();
      const std::size_t size = exporter.encoder.data_datagram_bytes();
      const std::size_t per_send = std::min(sluice::net::UdpSender::kMaxSegments, 65000 / size);
      for (std::size_t remaining = quota; remaining > 0;) {
        std::size_t count = std::min(remaining, per_send);
        const auto run = exporter.encoder.NextDataRun(count);
        const auto sent = exporter.sender.SendSegmented(run, static_cast<std::uint16_t>(size));
        if (!sent) {
          std::fprintf(stderr, "sluice-blast: %s (try --no-gso)\n",
                       std::string(sent.error().Message()).c_str());
          return 1;
        }
        remaining -= count;
        datagrams += count;
        flows += count * per_datagram;
      }
      continue;
    }
    while (batch.size() < quota) {
      batch.push_back(exporter.encoder.NextData());
      flows += per_datagram;
    }
    const auto sent = exporter.sender.Send(batch);
    if (!sent) {
      std::fprintf(stderr, "sluice-blast: %s\n", std::string(sent.error().Message()).c_str());
      return 1;
    }
    datagrams += batch.size();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (json) {
    std::printf(
        "{\"protocol\":\"%s\",\"exporters\":%zu,\"records_per_datagram\":%zu,"
        "\"ipv6_records_per_datagram\":%zu,\"distinct_datagrams\":%zu,\"seed\":%.0f,"
        "\"datagrams\":%llu,\"template_datagrams\":%llu,\"flows\":%llu,\"seconds\":%.3f,"
        "\"flows_per_s\":%.0f}\n",
        protocol_name.c_str(), exporters.size(), per_datagram,
        exporters.front().encoder.ipv6_records_per_datagram(), per_exporter * exporters.size(),
        seed, static_cast<unsigned long long>(datagrams),
        static_cast<unsigned long long>(templates), static_cast<unsigned long long>(flows), seconds,
        static_cast<double>(flows) / seconds);
  } else {
    std::fprintf(
        stderr,
        "sluice-blast: sent %llu datagrams (%llu templates) carrying %llu %s flows from %zu "
        "exporter(s) to %s in %.3f s: %.0f flows/s\n",
        static_cast<unsigned long long>(datagrams), static_cast<unsigned long long>(templates),
        static_cast<unsigned long long>(flows), protocol_name.c_str(), exporters.size(),
        to->ToString().c_str(), seconds, static_cast<double>(flows) / seconds);
  }
  return 0;
}
