// SPDX-License-Identifier: Apache-2.0
// `sluice query`: nfdump's command line over the embedded store (docs/query.md).
// Parses the flags into a QuerySpec, runs it (query/engine.h) and prints the answer
// through query/output.h.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "common/result.h"
#include "query/engine.h"
#include "query/filter.h"
#include "query/number_format.h"
#include "query/output.h"
#include "query/query_spec.h"
#include "query/stat_names.h"
#include "query/time_window.h"

namespace sluice::cli {
namespace {

constexpr const char* kQueryUsage =
    "usage: sluice query [--data DIR | FILE.seg...] [OPTIONS] [FILTER...]\n"
    "\n"
    "Reads flows from a data directory (like nfdump -R) or from segment files, keeps those\n"
    "matching the filter (nfdump's filter syntax; the words after the options, joined by\n"
    "spaces) and lists, counts or aggregates them. docs/query.md has every flag with its\n"
    "nfdump equivalent.\n"
    "\n"
    "input:\n"
    "  --data DIR, -R DIR     the store's data directory\n"
    "  -r FILE                a segment file (repeatable; also FILE.seg as a word)\n"
    "  --source NAME          only this source of the store (repeatable)\n"
    "  -t WINDOW              yyyy/MM/dd.hh:mm:ss[-yyyy/MM/dd.hh:mm:ss], ISO 8601\n"
    "                         (START/END or START--END), or -1h, -30m, -2d/-1d (before now);\n"
    "                         times without a zone are UTC unless TZ is set\n"
    "  -f FILE                read the filter from FILE\n"
    "statistics and aggregation:\n"
    "  -s STAT[:p][/ORDER]    top N statistic (srcip, dstip, ip, srcport, dstport, port,\n"
    "                         proto, srcas, dstas, as, inif, outif, if, record, srcnet/24,\n"
    "                         ... or any field name); ORDER: flows packets bytes pps bps bpp\n"
    "  -n N                   top N (default 10 for -s, all otherwise; 0 = all)\n"
    "  -A FIELDS              aggregate by FIELDS (srcip,dstip,srcport,dstport,proto,\n"
    "                         srcip4/24, srcip6/64, srcas, inif, ...)\n"
    "  -a                     aggregate by the 5-tuple\n"
    "  -b, -B                 aggregate both directions of a connection together; -B\n"
    "                         first takes a TCP/UDP flow from a port < 1024 to a port\n"
    "                         >= 1024 as the server's answer (the record reads client ->\n"
    "                         server)\n"
    "  -O ORDER               order records: tstart tend flows packets bytes pps bps bpp\n"
    "  -c N                   at most N records\n"
    "  --bucket STEP          time series with this step (5m, 1h, 1d)\n"
    "  --bucket-group FIELDS  split each bucket by FIELDS; --bucket-top N keeps the top N\n"
    "output:\n"
    "  -o FORMAT              line (default), long, extended, csv, json, ndjson, fmt:...\n"
    "  -N                     exact numbers (default: 1.2 M like nfdump)\n"
    "  -q                     no header, no summary\n"
    "  -I                     the store's summary (flows, bytes, time range per source)\n"
    "  -v, --explain          print the plan and the scan statistics on stderr\n"
    "tuning:\n"
    "  --threads N            scan threads (default: one per core)\n"
    "  --no-rollups           never read hourly roll-ups\n"
    "  --memory-budget SIZE   limit for group-by tables (default: half the machine's\n"
    "                         memory, at least 1G)\n"
    "\n"
    "exit status: 0 ok, 1 the query failed (memory budget, unreadable store), 2 bad usage or\n"
    "filter syntax.\n";

int Usage(const std::string& message) {
  std::fprintf(stderr, "sluice query: %s\nRun 'sluice query --help' for the options.\n",
               message.c_str());
  return 2;
}

std::int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void PrintFilterError(const std::string& filter, const query::FilterSyntaxError& error) {
  std::fprintf(stderr, "sluice query: filter: %s\n  %s\n  %*s^\n", error.ToString().c_str(),
               filter.c_str(), static_cast<int>(error.column > 0 ? error.column - 1 : 0), "");
}

bool ReadFile(const std::string& path, std::string& text) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return false;
  }
  char buffer[4096];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
    text.append(buffer, got);
  }
  std::fclose(file);
  return true;
}

// The default budget of a query run from the command line: half of the machine's
// memory (at least 1 GiB). Like nfdump, the command is the machine's foreground work, and
// an aggregation over tens of millions of distinct 5-tuples needs gigabytes; the HTTP API
// keeps its own, smaller budget per query (serve's configuration).
std::size_t DefaultMemoryBudget() {
  constexpr std::size_t kFloor = std::size_t{1} << 30;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_bytes = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_bytes <= 0) {
    return kFloor;
  }
  return std::max(kFloor, static_cast<std::size_t>(pages) * static_cast<std::size_t>(page_bytes) / 2);
}

}  // namespace

int RunQuery(std::span<const std::string_view> args) {
  query::QuerySpec spec;
  spec.memory_budget_bytes = DefaultMemoryBudget();
  query::OutputOptions output;
  output.local_time = query::UseLocalTime();
  std::vector<std::string> filter_words;
  std::optional<std::string> filter_file;
  std::optional<std::size_t> top_n;
  bool store_summary = false;
  bool five_tuple = false;
  bool explain = false;  // -v: the plan and the scan statistics on stderr

  for (std::size_t idx = 0; idx < args.size(); ++idx) {
    const std::string_view arg = args[idx];
    const auto value = [&]() -> std::optional<std::string_view> {
      if (idx + 1 >= args.size()) {
        return std::nullopt;
      }
      return args[++idx];
    };
    const auto missing = [&] {
      return Usage("option " + std::string(arg) + " needs a value");
    };
    if (!filter_words.empty() && !arg.starts_with("-")) {
      filter_words.emplace_back(arg);
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      std::fputs(kQueryUsage, stdout);
      return 0;
    }
    if (arg == "--data" || arg == "-R") {
      const auto v = value();
      if (!v)
        return missing();
      spec.data_dir = std::string(*v);
    } else if (arg == "-r") {
      const auto v = value();
      if (!v)
        return missing();
      spec.files.emplace_back(*v);
    } else if (arg == "--source") {
      const auto v = value();
      if (!v)
        return missing();
      spec.sources.emplace_back(*v);
    } else if (arg == "-t") {
      const auto v = value();
      if (!v)
        return missing();
      auto window = query::ParseTimeWindow(*v, NowMillis(), output.local_time);
      if (!window)
        return Usage(std::string(window.error().Message()));
      spec.window = *window;
    } else if (arg == "-f") {
      const auto v = value();
      if (!v)
        return missing();
      filter_file = std::string(*v);
    } else if (arg == "-s") {
      const auto v = value();
      if (!v)
        return missing();
      auto stats = query::ParseStat(*v);
      if (!stats)
        return Usage(std::string(stats.error().Message()));
      spec.stats.insert(spec.stats.end(), stats->begin(), stats->end());
    } else if (arg == "-n") {
      const auto v = value();
      if (!v)
        return missing();
      const auto n = ParseUnsigned(*v, 0, 1'000'000'000);
      if (!n)
        return Usage("-n: expected a whole number, got '" + std::string(*v) + "'");
      top_n = static_cast<std::size_t>(*n);
    } else if (arg == "-A") {
      const auto v = value();
      if (!v)
        return missing();
      auto keys = query::ParseAggregation(*v);
      if (!keys)
        return Usage(std::string(keys.error().Message()));
      spec.aggregate = *keys;
    } else if (arg == "-a") {
      five_tuple = true;
    } else if (arg == "-b" || arg == "-B") {
      spec.bidirectional = true;
      spec.guess_direction = spec.guess_direction || arg == "-B";
    } else if (arg == "-O") {
      const auto v = value();
      if (!v)
        return missing();
      auto order = query::ParseOrder(*v);
      if (!order)
        return Usage("-O: " + std::string(order.error().Message()));
      spec.order = *order;
    } else if (arg == "-c") {
      const auto v = value();
      if (!v)
        return missing();
      const auto n = ParseUnsigned(*v, 0, UINT64_MAX);
      if (!n)
        return Usage("-c: expected a whole number, got '" + std::string(*v) + "'");
      spec.limit = static_cast<std::size_t>(*n);
    } else if (arg == "--bucket") {
      const auto v = value();
      if (!v)
        return missing();
      const auto step = ParseDuration(*v);
      if (!step || step->count() == 0)
        return Usage("--bucket: expected a step such as 5m, 1h or 1d");
      spec.bucket_ms = static_cast<std::int64_t>(step->count()) * 1000;
    } else if (arg == "--bucket-group") {
      const auto v = value();
      if (!v)
        return missing();
      auto keys = query::ParseAggregation(*v);
      if (!keys)
        return Usage("--bucket-group: " + std::string(keys.error().Message()));
      spec.bucket_group = *keys;
    } else if (arg == "--bucket-top") {
      const auto v = value();
      if (!v)
        return missing();
      const auto n = ParseUnsigned(*v, 0, 1'000'000);
      if (!n)
        return Usage("--bucket-top: expected a whole number");
      spec.bucket_group_top = static_cast<std::size_t>(*n);
    } else if (arg == "-o") {
      const auto v = value();
      if (!v)
        return missing();
      const Status parsed = query::ParseOutputFormat(*v, output);
      if (!parsed)
        return Usage("-o: " + std::string(parsed.error().Message()));
    } else if (arg == "-N") {
      output.exact = true;
    } else if (arg == "-q") {
      output.quiet = true;
    } else if (arg == "-I") {
      store_summary = true;
    } else if (arg == "-v" || arg == "--explain") {
      explain = true;
    } else if (arg == "--threads") {
      const auto v = value();
      if (!v)
        return missing();
      const auto n = ParseUnsigned(*v, 0, 1024);
      if (!n)
        return Usage("--threads: expected 0..1024");
      spec.threads = static_cast<std::size_t>(*n);
    } else if (arg == "--no-rollups") {
      spec.use_rollups = false;
    } else if (arg == "--memory-budget") {
      const auto v = value();
      if (!v)
        return missing();
      const auto size = ParseSize(*v);
      if (!size || *size == 0)
        return Usage("--memory-budget: expected a size such as 512M or 2G");
      spec.memory_budget_bytes = static_cast<std::size_t>(*size);
    } else if (arg == "--") {
      for (++idx; idx < args.size(); ++idx) {
        filter_words.emplace_back(args[idx]);
      }
    } else if (arg.starts_with("-") && arg.size() > 1) {
      return Usage("unknown option '" + std::string(arg) + "'");
    } else if (arg.ends_with(".seg")) {
      spec.files.emplace_back(arg);
    } else {
      filter_words.emplace_back(arg);
    }
  }

  if (store_summary) {
    if (spec.data_dir.empty()) {
      return Usage("-I needs --data DIR");
    }
    const std::string data = spec.data_dir;
    const std::string_view store_args[] = {"stats", "--data", data};
    return RunStore(store_args);
  }
  if (spec.data_dir.empty() && spec.files.empty()) {
    return Usage("no input: give --data DIR or segment files");
  }
  if (!spec.data_dir.empty() && spec.files.empty() &&
      !std::filesystem::is_directory(spec.data_dir)) {
    std::fprintf(stderr, "sluice query: no data directory '%s'\n", spec.data_dir.c_str());
    return 1;
  }
  for (const std::string& file : spec.files) {
    if (!std::filesystem::is_regular_file(file)) {
      std::fprintf(stderr, "sluice query: no segment file '%s'\n", file.c_str());
      return 1;
    }
  }
  if (five_tuple && spec.aggregate.empty()) {
    spec.aggregate = query::FiveTupleKey();
  }
  if (spec.bidirectional && spec.aggregate.empty()) {
    spec.aggregate = query::FiveTupleKey();
  }
  spec.top_n = top_n.value_or(spec.stats.empty() ? 0 : 10);
  // nfdump's -n also cuts an ordered listing (-O without -s/-A).
  if (top_n && spec.order && spec.stats.empty() && spec.aggregate.empty() && spec.limit == 0) {
    spec.limit = *top_n;
  }
  if (spec.bucket_group_top == 0 && !spec.bucket_group.empty()) {
    spec.bucket_group_top = 10;
  }

  std::string filter;
  if (filter_file) {
    if (!filter_words.empty()) {
      return Usage("give the filter either with -f or on the command line, not both");
    }
    if (!ReadFile(*filter_file, filter)) {
      return Usage("-f: cannot read '" + *filter_file + "'");
    }
    for (char& c : filter) {
      if (c == '\n' || c == '\r' || c == '\t') {
        c = ' ';
      }
    }
  } else {
    for (const std::string& word : filter_words) {
      if (!filter.empty()) {
        filter += ' ';
      }
      filter += word;
    }
  }
  auto parsed_filter = query::Filter::Parse(filter);
  if (!parsed_filter) {
    PrintFilterError(filter, parsed_filter.error());
    return 2;
  }
  spec.filter = filter;

  auto writer = query::OutputWriter::Create(spec, output, stdout);
  if (!writer) {
    return Usage(std::string(writer.error().Message()));
  }
  if (explain) {
    std::fprintf(stderr, "plan: filter %s\n", parsed_filter->Describe().c_str());
    if (spec.window) {
      std::fprintf(stderr, "plan: window [%lld, %lld] ms\n",
                   static_cast<long long>(spec.window->from_ms),
                   static_cast<long long>(spec.window->to_ms));
    }
    for (const query::StatSpec& stat : spec.stats) {
      std::fprintf(stderr, "plan: statistic %s ordered by %s, top %zu\n", stat.name.c_str(),
                   std::string(query::OrderName(stat.order)).c_str(), spec.top_n);
    }
    if (!spec.aggregate.empty()) {
      std::fprintf(stderr, "plan: aggregate by %zu key fields%s\n", spec.aggregate.size(),
                   !spec.bidirectional    ? ""
                   : spec.guess_direction ? ", both directions, client side guessed by port"
                                          : ", both directions");
    }
  }
  const bool listing = spec.stats.empty() && spec.aggregate.empty() && spec.bucket_ms == 0;
  auto result = query::RunQuery(spec, listing ? writer->get() : nullptr);
  if (!result) {
    std::fprintf(stderr, "sluice query: %.*s\n", static_cast<int>(result.error().Message().size()),
                 result.error().Message().data());
    return result.error().Code() == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  if (explain) {
    const query::ScanStats& scan = result->scan;
    std::fprintf(stderr,
                 "scan: segments %llu of %llu read (%llu roll-ups), blocks %llu of %llu skipped, "
                 "rows %llu scanned, %llu matched, %llu damaged, %.4f s\n",
                 static_cast<unsigned long long>(scan.segments_read),
                 static_cast<unsigned long long>(scan.segments_total),
                 static_cast<unsigned long long>(scan.rollups_read),
                 static_cast<unsigned long long>(scan.blocks_skipped),
                 static_cast<unsigned long long>(scan.blocks_total),
                 static_cast<unsigned long long>(scan.rows_scanned),
                 static_cast<unsigned long long>(scan.rows_matched),
                 static_cast<unsigned long long>(scan.damaged), scan.seconds);
  }
  for (const std::string& warning : result->warnings) {
    std::fprintf(stderr, "sluice query: warning: %s\n", warning.c_str());
  }
  if (!(*writer)->Finish(*result)) {
    return 1;
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace sluice::cli
