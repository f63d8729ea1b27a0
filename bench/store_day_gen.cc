// SPDX-License-Identifier: Apache-2.0
// store_day_gen: writes a store directory as `sluice serve` would after receiving synthetic
// traffic (tools/flowblast's model) at a steady rate for a number of hours: one sealed
// detail segment per rotation slot, placed by received time, with each flow's first and
// last times before it. For benchmarks that need a day of data laid out as in production
// (the dashboard's, bench/e2e/dashboard_bench.py) without replaying it for a day.
//
//   store_day_gen --data DIR [--hours 24] [--rate 10000] [--end-ms T] [--seed 1]
//                 [--exporters 2] [--ipv6 25] [--rotation 5] [--threads 2]
//
// The last slot ends at --end-ms (default: the current slot's start, so every segment is
// in the past and sealed). Existing segments are left alone (a rerun completes a day).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "flow/flow_batch.h"
#include "flow/ip_address.h"
#include "store/layout.h"
#include "store/segment_writer.h"
#include "traffic_model.h"

namespace sluice::bench {
namespace {

struct Options {
  std::string data_dir;
  double hours = 24;
  std::uint64_t rate = 10000;
  std::int64_t end_ms = 0;
  std::uint64_t seed = 1;
  std::uint32_t exporters = 2;
  std::uint32_t ipv6_percent = 25;
  int rotation_minutes = 5;
  unsigned threads = 2;
};

bool ParseArgs(int argc, char** argv, Options& options) {
  for (int idx = 1; idx + 1 < argc; idx += 2) {
    const std::string_view flag = argv[idx];
    const char* value = argv[idx + 1];
    if (flag == "--data") {
      options.data_dir = value;
    } else if (flag == "--hours") {
      options.hours = std::strtod(value, nullptr);
    } else if (flag == "--rate") {
      options.rate = std::strtoull(value, nullptr, 10);
    } else if (flag == "--end-ms") {
      options.end_ms = std::strtoll(value, nullptr, 10);
    } else if (flag == "--seed") {
      options.seed = std::strtoull(value, nullptr, 10);
    } else if (flag == "--exporters") {
      options.exporters = static_cast<std::uint32_t>(std::strtoul(value, nullptr, 10));
    } else if (flag == "--ipv6") {
      options.ipv6_percent = static_cast<std::uint32_t>(std::strtoul(value, nullptr, 10));
    } else if (flag == "--rotation") {
      options.rotation_minutes = static_cast<int>(std::strtol(value, nullptr, 10));
    } else if (flag == "--threads") {
      options.threads = static_cast<unsigned>(std::strtoul(value, nullptr, 10));
    } else {
      return false;
    }
  }
  return (argc % 2) == 1 && !options.data_dir.empty() && options.hours > 0 && options.rate > 0 &&
         options.exporters > 0 && options.ipv6_percent <= 100 && options.rotation_minutes >= 1 &&
         options.rotation_minutes <= 60 && options.threads > 0;
}

flow::IpAddress Address(const std::array<std::uint8_t, 16>& bytes, bool ipv6) {
  if (ipv6) {
    return flow::IpAddress::FromV6(bytes.data());
  }
  return flow::IpAddress::FromV4(static_cast<std::uint32_t>(bytes[0]) << 24 |
                                 static_cast<std::uint32_t>(bytes[1]) << 16 |
                                 static_cast<std::uint32_t>(bytes[2]) << 8 | bytes[3]);
}

// Writes the detail segment of the slot starting at `slot_start`: rate * slot seconds
// flows, received evenly over the slot.
bool WriteSlot(const Options& options, std::int64_t slot_start, std::uint64_t slot_index) {
  const std::string path =
      store::DetailSegmentPath(options.data_dir, store::kDefaultSource, slot_start, 0);
  if (std::filesystem::exists(path)) {
    return true;
  }
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  store::SegmentWriterOptions writer_options;
  writer_options.sync = false;
  const std::string temp = store::TempPathFor(path);
  auto writer = store::SegmentWriter::Create(temp, writer_options);
  if (!writer) {
    std::fprintf(stderr, "store_day_gen: %s\n", std::string(writer.error().Message()).c_str());
    return false;
  }
  const std::int64_t slot_ms = std::int64_t{options.rotation_minutes} * store::kMillisPerMinute;
  const std::uint64_t flows = options.rate * static_cast<std::uint64_t>(slot_ms / 1000);
  tools::TrafficModel model(tools::Rng::Mix(options.seed * 1'000'003 + slot_index));
  tools::Rng rng(options.seed ^ (slot_index * 0x9E3779B97F4A7C15ULL));
  flow::FlowBatch batch;
  for (std::uint64_t n = 0; n < flows; ++n) {
    const bool ipv6 = rng.Below(100) < options.ipv6_percent;
    const tools::SyntheticFlow f = model.Next(ipv6);
    const std::size_t row = batch.AppendRow();
    flow::FlowColumns& c = batch.cols();
    const std::int64_t received =
        slot_start + static_cast<std::int64_t>(n * static_cast<std::uint64_t>(slot_ms) / flows);
    c.time_received[row] = received;
    c.last[row] = received - f.end_lag_ms;
    c.first[row] = c.last[row] - f.duration_ms;
    c.exporter[row] = flow::IpAddress::FromV4(0xC0000201u + static_cast<std::uint32_t>(n % options.exporters));
    c.sampling_rate[row] = 1;
    c.src_addr[row] = Address(f.src_addr, f.ipv6);
    c.dst_addr[row] = Address(f.dst_addr, f.ipv6);
    c.next_hop[row] = Address(f.next_hop, f.ipv6);
    c.src_port[row] = f.src_port;
    c.dst_port[row] = f.dst_port;
    c.proto[row] = f.proto;
    c.tcp_flags[row] = f.tcp_flags;
    c.tos[row] = f.tos;
    c.src_mask[row] = f.src_mask;
    c.dst_mask[row] = f.dst_mask;
    c.bytes[row] = f.bytes;
    c.packets[row] = f.packets;
    c.flows[row] = 1;
    c.in_if[row] = f.in_if;
    c.out_if[row] = f.out_if;
    c.src_as[row] = f.src_as;
    c.dst_as[row] = f.dst_as;
    if (batch.full() || n + 1 == flows) {
      if (Status appended = (*writer)->Append(batch); !appended) {
        std::fprintf(stderr, "store_day_gen: %s\n", std::string(appended.error().Message()).c_str());
        return false;
      }
      batch.Clear();
    }
  }
  if (Status finished = (*writer)->Finish(); !finished) {
    std::fprintf(stderr, "store_day_gen: %s\n", std::string(finished.error().Message()).c_str());
    return false;
  }
  std::filesystem::rename(temp, path);
  return true;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice;
  bench::Options options;
  if (!bench::ParseArgs(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: store_day_gen --data DIR [--hours H] [--rate FLOWS_PER_S] [--end-ms T] "
                 "[--seed N] [--exporters N] [--ipv6 PERCENT] [--rotation MIN] [--threads N]\n");
    return 2;
  }
  const std::int64_t slot_ms = std::int64_t{options.rotation_minutes} * store::kMillisPerMinute;
  if (options.end_ms == 0) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    options.end_ms = store::SlotStart(now, options.rotation_minutes);
  }
  const std::int64_t end = store::SlotStart(options.end_ms, options.rotation_minutes);
  const auto slots = static_cast<std::uint64_t>(options.hours * 3'600'000.0) / static_cast<std::uint64_t>(slot_ms);
  const std::int64_t begin = end - static_cast<std::int64_t>(slots) * slot_ms;
  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> workers;
  for (unsigned worker = 0; worker < options.threads; ++worker) {
    workers.emplace_back([&] {
      for (std::uint64_t slot = next++; slot < slots && !failed; slot = next++) {
        if (!bench::WriteSlot(options, begin + static_cast<std::int64_t>(slot) * slot_ms, slot)) {
          failed = true;
        }
      }
    });
  }
  for (std::thread& worker : workers) {
    worker.join();
  }
  if (failed) {
    return 1;
  }
  std::printf("{\"slots\":%llu,\"flows\":%llu,\"from_ms\":%lld,\"to_ms\":%lld}\n",
              static_cast<unsigned long long>(slots),
              static_cast<unsigned long long>(slots * options.rate * static_cast<std::uint64_t>(slot_ms / 1000)),
              static_cast<long long>(begin), static_cast<long long>(end));
  return 0;
}
