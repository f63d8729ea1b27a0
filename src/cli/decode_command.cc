// SPDX-License-Identifier: Apache-2.0
// `sluice decode FILE...`: decodes export packets from capture or raw payload files and
// prints one JSON object per flow record (NDJSON).

#include <cstdio>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "common/clock.h"
#include "decode/decoder.h"
#include "decode/exporter_json.h"
#include "flow/flow_sink.h"
#include "flow/record_json.h"
#include "net/capture_reader.h"

namespace sluice::cli {
namespace {

constexpr const char* kDecodeUsage =
    "usage: sluice decode [OPTIONS] FILE...\n"
    "\n"
    "Decodes every NetFlow v5/v9, IPFIX and sFlow v5 export packet in each FILE and prints\n"
    "one JSON object per flow record on stdout. FILE is a pcap or pcapng capture (UDP on\n"
    "any port, IPv4 or IPv6) or a raw payload file holding one export datagram. Files are\n"
    "decoded in order with one decoder, so templates from one file apply to the next.\n"
    "\n"
    "options:\n"
    "  --stats                 print per-exporter counters (JSON) on stderr at the end\n"
    "  --port N                only UDP datagrams to destination port N\n"
    "  --exporter ADDR         exporter address for raw payload files (default 192.0.2.1)\n"
    "  --sampling ADDR=RATE    override the sampling rate of exporter ADDR\n"
    "  -h, --help              this text\n";

// Writes each record of a batch as a line of JSON to stdout.
class NdjsonSink final : public flow::FlowSink {
 public:
  void Consume(flow::FlowBatch& batch) override {
    for (std::size_t row = 0; row < batch.size(); ++row) {
      line_.clear();
      flow::AppendRecordJson(batch, row, line_);
      line_.push_back('\n');
      std::fwrite(line_.data(), 1, line_.size(), stdout);
    }
    records_ += batch.size();
  }

  std::uint64_t records() const { return records_; }

 private:
  std::string line_;
  std::uint64_t records_ = 0;
};

}  // namespace

int RunDecode(std::span<const std::string_view> args) {
  std::vector<std::string> files;
  bool print_stats = false;
  decode::DecoderOptions decoder_options;
  net::CaptureOptions capture_options;
  capture_options.raw_time_received = SystemClock().NowMillis();
  for (std::size_t arg_idx = 0; arg_idx < args.size(); ++arg_idx) {
    const std::string_view arg = args[arg_idx];
    const bool has_value = arg_idx + 1 < args.size();
    if (arg == "-h" || arg == "--help") {
      std::fputs(kDecodeUsage, stdout);
      return 0;
    }
    if (arg == "--stats") {
      print_stats = true;
    } else if (arg == "--port" && has_value) {
      const auto port = ParseUnsigned(args[++arg_idx], 1, 65535);
      if (!port) {
        std::fprintf(stderr, "sluice decode: --port wants a number from 1 to 65535\n");
        return 2;
      }
      capture_options.dst_port = static_cast<std::uint16_t>(*port);
    } else if (arg == "--exporter" && has_value) {
      const auto address = flow::IpAddress::Parse(args[++arg_idx]);
      if (!address) {
        std::fprintf(stderr, "sluice decode: --exporter wants an IPv4 or IPv6 address\n");
        return 2;
      }
      capture_options.raw_exporter = *address;
    } else if (arg == "--sampling" && has_value) {
      const auto sampling = ParseSamplingOverride(args[++arg_idx]);
      if (!sampling) {
        std::fprintf(stderr, "sluice decode: --sampling wants ADDR=RATE, e.g. 10.0.0.1=1000\n");
        return 2;
      }
      decoder_options.sampling_overrides[sampling->exporter] = sampling->rate;
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "sluice decode: unknown option or missing value: %.*s\n\n%s",
                   static_cast<int>(arg.size()), arg.data(), kDecodeUsage);
      return 2;
    } else {
      files.emplace_back(arg);
    }
  }
  if (files.empty()) {
    std::fputs(kDecodeUsage, stderr);
    return 2;
  }

  decode::Decoder decoder(decoder_options);
  NdjsonSink sink;
  flow::BatchWriter writer(sink);
  int status = 0;
  for (const std::string& file : files) {
    const auto stats = net::ReadCapture(
        file, capture_options,
        [&](const flow::Datagram& datagram, std::uint16_t /*dst_port*/) {
          (void)decoder.Decode(datagram, writer);
        });
    if (!stats) {
      writer.Flush();
      std::fprintf(stderr, "sluice decode: %.*s\n", static_cast<int>(stats.error().Message().size()),
                   stats.error().Message().data());
      status = 1;
    }
  }
  writer.Flush();
  std::fflush(stdout);
  if (print_stats) {
    std::string report;
    decoder.exporters().ForEach([&report](const decode::ExporterState& exporter) {
      report.clear();
      decode::AppendExporterJson(exporter, report);
      report.push_back('\n');
      std::fputs(report.c_str(), stderr);
    });
    std::fprintf(stderr, "{\"records\":%llu,\"exporters\":%zu,\"unknown_datagrams\":%llu}\n",
                 static_cast<unsigned long long>(sink.records()), decoder.exporters().size(),
                 static_cast<unsigned long long>(decoder.unknown_datagrams()));
  }
  return status;
}

}  // namespace sluice::cli
