// SPDX-License-Identifier: Apache-2.0
// `sluice replay FILE... --to HOST:PORT`: resends the export datagrams of capture or raw
// payload files to a collector over UDP, in order, optionally paced.

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "net/capture_reader.h"
#include "net/socket_address.h"
#include "net/udp_sender.h"

namespace sluice::cli {
namespace {

constexpr const char* kReplayUsage =
    "usage: sluice replay [OPTIONS] FILE... --to HOST:PORT\n"
    "\n"
    "Sends the UDP payload of every export datagram in each FILE (pcap, pcapng or a raw\n"
    "payload file) to HOST:PORT, in file order, from one UDP socket (so the collector sees\n"
    "one exporter: this host). Reports what it sent on stderr.\n"
    "\n"
    "options:\n"
    "  --to HOST:PORT   destination (required); IPv6 as [ADDR]:PORT\n"
    "  --rate PPS       datagrams per second; 0 = as fast as possible (default 0)\n"
    "  --loop N         send the whole sequence N times (default 1)\n"
    "  --port N         only datagrams sent to UDP destination port N in the captures\n"
    "  -h, --help       this text\n";

}  // namespace

int RunReplay(std::span<const std::string_view> args) {
  std::vector<std::string> files;
  std::optional<HostPort> to;
  std::uint64_t rate = 0;
  std::uint64_t loops = 1;
  net::CaptureOptions capture_options;
  for (std::size_t arg_idx = 0; arg_idx < args.size(); ++arg_idx) {
    const std::string_view arg = args[arg_idx];
    const bool has_value = arg_idx + 1 < args.size();
    if (arg == "-h" || arg == "--help") {
      std::fputs(kReplayUsage, stdout);
      return 0;
    }
    if (arg == "--to" && has_value) {
      to = ParseHostPort(args[++arg_idx]);
      if (!to || to->port == 0) {
        std::fprintf(stderr, "sluice replay: --to wants HOST:PORT, e.g. 127.0.0.1:2055\n");
        return 2;
      }
    } else if (arg == "--rate" && has_value) {
      const auto value = ParseUnsigned(args[++arg_idx], 0, 100'000'000);
      if (!value) {
        std::fprintf(stderr, "sluice replay: --rate wants datagrams per second (0 = unpaced)\n");
        return 2;
      }
      rate = *value;
    } else if (arg == "--loop" && has_value) {
      const auto value = ParseUnsigned(args[++arg_idx], 1, 1'000'000'000);
      if (!value) {
        std::fprintf(stderr, "sluice replay: --loop wants a number >= 1\n");
        return 2;
      }
      loops = *value;
    } else if (arg == "--port" && has_value) {
      const auto value = ParseUnsigned(args[++arg_idx], 1, 65535);
      if (!value) {
        std::fprintf(stderr, "sluice replay: --port wants a number from 1 to 65535\n");
        return 2;
      }
      capture_options.dst_port = static_cast<std::uint16_t>(*value);
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "sluice replay: unknown option or missing value: %.*s\n\n%s",
                   static_cast<int>(arg.size()), arg.data(), kReplayUsage);
      return 2;
    } else {
      files.emplace_back(arg);
    }
  }
  if (files.empty() || !to) {
    std::fputs(kReplayUsage, stderr);
    return 2;
  }

  // Every payload is copied once into one buffer, then sent from there.
  std::vector<std::uint8_t> bytes;
  std::vector<std::pair<std::size_t, std::size_t>> ranges;  // offset, length
  for (const std::string& file : files) {
    const auto stats = net::ReadCapture(
        file, capture_options, [&](const flow::Datagram& datagram, std::uint16_t /*dst_port*/) {
          ranges.emplace_back(bytes.size(), datagram.payload.size());
          bytes.insert(bytes.end(), datagram.payload.begin(), datagram.payload.end());
        });
    if (!stats) {
      std::fprintf(stderr, "sluice replay: %.*s\n",
                   static_cast<int>(stats.error().Message().size()),
                   stats.error().Message().data());
      return 1;
    }
  }
  std::vector<std::span<const std::uint8_t>> datagrams;
  datagrams.reserve(ranges.size());
  for (const auto& [offset, length] : ranges) {
    datagrams.emplace_back(bytes.data() + offset, length);
  }

  const auto destination = net::Resolve(to->host, to->port);
  if (!destination) {
    std::fprintf(stderr, "sluice replay: %.*s\n",
                 static_cast<int>(destination.error().Message().size()),
                 destination.error().Message().data());
    return 1;
  }
  auto sender = net::UdpSender::Connect(*destination);
  if (!sender) {
    std::fprintf(stderr, "sluice replay: %.*s\n", static_cast<int>(sender.error().Message().size()),
                 sender.error().Message().data());
    return 1;
  }

  const auto start = std::chrono::steady_clock::now();
  net::Pacer pacer(static_cast<double>(rate));
  std::uint64_t sent = 0;
  std::uint64_t sent_bytes = 0;
  for (std::uint64_t loop = 0; loop < loops && !datagrams.empty(); ++loop) {
    std::size_t next = 0;
    while (next < datagrams.size()) {
      const std::size_t quota = pacer.WaitForQuota(sent, net::UdpSender::kMaxBatch);
      const std::size_t count = std::min(quota, datagrams.size() - next);
      const auto chunk =
          std::span<const std::span<const std::uint8_t>>(datagrams).subspan(next, count);
      const auto result = sender->Send(chunk);
      if (!result) {
        std::fprintf(stderr, "sluice replay: %.*s\n",
                     static_cast<int>(result.error().Message().size()),
                     result.error().Message().data());
        return 1;
      }
      for (const auto& datagram : chunk) {
        sent_bytes += datagram.size();
      }
      sent += count;
      next += count;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(
      stderr,
      "sluice replay: sent %llu datagrams (%llu bytes) from %zu file(s) to %s in %.3f s "
      "(%.0f datagrams/s)%s\n",
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(sent_bytes),
      files.size(), destination->ToString().c_str(), seconds,
      seconds > 0 ? static_cast<double>(sent) / seconds : 0.0,
      sender->refused() != 0 ? "; the destination port refused some (nothing listening?)" : "");
  return 0;
}

}  // namespace sluice::cli
