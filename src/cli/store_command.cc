// SPDX-License-Identifier: Apache-2.0
// `sluice store stats|verify|ls --data DIR`: what the data directory holds, per source and
// day, and whether every segment still reads back (docs/storage.md).

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "common/clock.h"
#include "common/result.h"
#include "flow/flow_sink.h"
#include "store/address_filter.h"
#include "store/catalog.h"
#include "store/format.h"
#include "store/layout.h"
#include "store/segment_reader.h"

namespace sluice::cli {
namespace {

constexpr const char* kStoreUsage =
    "usage: sluice store ACTION --data DIR [OPTIONS]\n"
    "\n"
    "Inspects the segments under a data directory (read-only; safe while `sluice serve`\n"
    "writes to it). Times are UTC.\n"
    "\n"
    "actions:\n"
    "  stats     segments, flows, bytes and time range per source and day (from each\n"
    "            segment's footer), roll-ups per source, totals\n"
    "  verify    reads every block of every segment and checks every checksum; prints one\n"
    "            line per damaged file or block; exit status 1 if anything is damaged\n"
    "  ls        one line per segment file: path, state, rows, size, time range\n"
    "\n"
    "options:\n"
    "  --data DIR   the data directory (as given to `sluice serve --data`)\n"
    "  --json       stats, ls: one JSON document on stdout (keys in docs/storage.md)\n"
    "  --quiet      verify: print only the damaged files and blocks\n"
    "  -h, --help   this text\n";

enum class Action : std::uint8_t {
  kStats,   // per source/day counts from footers
  kVerify,  // every block, every checksum
  kLs,      // one line per file
};

struct StoreOptions {
  Action action = Action::kStats;
  std::string data_dir;
  bool json = false;
  bool quiet = false;
};

// ---- formatting helpers ----

std::string FormatUnsigned(std::uint64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "%" PRIu64, value);
  return text;
}

std::string FormatSigned(std::int64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "%" PRId64, value);
  return text;
}

// "812 B", "12.3 KiB", "4.0 GiB".
std::string FormatSize(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) {
    return FormatUnsigned(bytes) + " B";
  }
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  return text;
}

// "2026-11-23 16:20:05" (UTC, whole seconds, rounded down).
std::string FormatUtc(UnixMillis t) {
  using std::chrono::floor;
  const std::chrono::sys_time<std::chrono::milliseconds> time{std::chrono::milliseconds{t}};
  const auto day = floor<std::chrono::days>(time);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{floor<std::chrono::seconds>(time - day)};
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return text;
}

void AppendJsonString(std::string_view text, std::string& out) {
  out.push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

// The reader's messages start with the path; this returns the rest.
std::string_view WithoutPath(std::string_view message, std::string_view path) {
  if (message.size() > path.size() + 2 && message.substr(0, path.size()) == path &&
      message.substr(path.size(), 2) == ": ") {
    return message.substr(path.size() + 2);
  }
  return message;
}

// Columns of text, left-aligned (`right_aligned` marks number columns), two spaces apart.
class Table {
 public:
  explicit Table(std::vector<bool> right_aligned) : right_aligned_(std::move(right_aligned)) {}

  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

  // True if rows were added after the first (the header).
  bool HasBody() const { return rows_.size() > 1; }

  void Print(std::FILE* out) const {
    std::vector<std::size_t> widths(right_aligned_.size(), 0);
    for (const auto& row : rows_) {
      for (std::size_t col = 0; col < row.size() && col < widths.size(); ++col) {
        widths[col] = std::max(widths[col], row[col].size());
      }
    }
    for (const auto& row : rows_) {
      std::string line;
      for (std::size_t col = 0; col < row.size() && col < widths.size(); ++col) {
        const std::string& cell = row[col];
        const std::string pad(widths[col] - cell.size(), ' ');
        const bool last = col + 1 == row.size();
        if (col > 0) {
          line += "  ";
        }
        line += right_aligned_[col] ? pad + cell : (last ? cell : cell + pad);
      }
      line.push_back('\n');
      std::fputs(line.c_str(), out);
    }
  }

 private:
  std::vector<bool> right_aligned_;
  std::vector<std::vector<std::string>> rows_;
};

// ---- what each file holds ----

// A store file as its footer (sealed) or recovery (open) describes it.
struct SegmentFacts {
  bool vanished = false;  // removed or renamed since the catalog was read (sealed, retention)
  bool damaged = false;
  std::string error;  // why it is damaged, without the path
  std::uint64_t rows = 0;
  std::size_t blocks = 0;
  store::TimeRange received;   // time_received range; meaningful if rows > 0
  store::TimeRange flow_time;  // min `first`, max `last`; meaningful if rows > 0
};

Result<std::unique_ptr<store::SegmentReader>> OpenEntry(const store::CatalogEntry& entry) {
  return entry.name.state == store::SegmentState::kOpen ? store::SegmentReader::Recover(entry.path)
                                                        : store::SegmentReader::Open(entry.path);
}

// An open segment just created: its file header is not (completely) written yet. It
// holds no rows and is not damage (the writer writes the header right after creating it;
// the next start removes such a file).
bool IsFreshOpenSegment(const store::CatalogEntry& entry) {
  return entry.name.state == store::SegmentState::kOpen &&
         entry.size_bytes < store::kFileHeaderSize;
}

// What an address filter file says (rows: of the detail segment it covers; no times).
SegmentFacts InspectAddressFilter(const store::CatalogEntry& entry) {
  SegmentFacts facts;
  auto reader = store::AddressFilterReader::Open(entry.path);
  if (!reader) {
    facts.vanished = reader.error().Code() == ErrorCode::kNotFound;
    facts.damaged = !facts.vanished;
    facts.error = std::string(WithoutPath(reader.error().Message(), entry.path));
    return facts;
  }
  facts.rows = (*reader)->total_rows();
  facts.blocks = (*reader)->block_count();
  return facts;
}

// REQUIRES: entry.name.state is not kTemp.
SegmentFacts Inspect(const store::CatalogEntry& entry) {
  SegmentFacts facts;
  if (entry.name.kind == store::SegmentKind::kAddressFilter) {
    return InspectAddressFilter(entry);
  }
  if (IsFreshOpenSegment(entry)) {
    return facts;
  }
  auto reader = OpenEntry(entry);
  if (!reader && reader.error().Code() == ErrorCode::kNotFound) {
    facts.vanished = true;
    return facts;
  }
  if (!reader) {
    facts.damaged = true;
    facts.error = std::string(WithoutPath(reader.error().Message(), entry.path));
    return facts;
  }
  const store::SegmentSummary& summary = (*reader)->summary();
  facts.rows = summary.row_count;
  facts.blocks = (*reader)->blocks().size();
  facts.received = summary.time_received;
  facts.flow_time = {summary.first.min, summary.last.max};
  return facts;
}

// Sums over a group of segments. Sealed and open segments are counted apart; damaged
// ones (that did not open) only in `damaged`.
struct Tally {
  std::uint64_t segments = 0;  // sealed
  std::uint64_t rows = 0;      // in sealed segments
  std::uint64_t bytes = 0;     // of sealed segments
  std::uint64_t open_segments = 0;
  std::uint64_t open_rows = 0;  // recovered so far
  std::uint64_t open_bytes = 0;
  std::uint64_t damaged = 0;
  std::uint64_t damaged_bytes = 0;
  bool has_time = false;
  store::TimeRange received;
  store::TimeRange flow_time;

  void Add(const SegmentFacts& facts, const store::CatalogEntry& entry) {
    if (facts.damaged) {
      ++damaged;
      damaged_bytes += entry.size_bytes;
      return;
    }
    if (entry.name.state == store::SegmentState::kOpen) {
      ++open_segments;
      open_rows += facts.rows;
      open_bytes += entry.size_bytes;
    } else {
      ++segments;
      rows += facts.rows;
      bytes += entry.size_bytes;
    }
    if (facts.rows == 0) {
      return;
    }
    if (!has_time) {
      received = facts.received;
      flow_time = facts.flow_time;
      has_time = true;
      return;
    }
    received = {std::min(received.min, facts.received.min),
                std::max(received.max, facts.received.max)};
    flow_time = {std::min(flow_time.min, facts.flow_time.min),
                 std::max(flow_time.max, facts.flow_time.max)};
  }

  void Merge(const Tally& other) {
    segments += other.segments;
    rows += other.rows;
    bytes += other.bytes;
    open_segments += other.open_segments;
    open_rows += other.open_rows;
    open_bytes += other.open_bytes;
    damaged += other.damaged;
    damaged_bytes += other.damaged_bytes;
    if (!other.has_time) {
      return;
    }
    if (!has_time) {
      received = other.received;
      flow_time = other.flow_time;
      has_time = true;
      return;
    }
    received = {std::min(received.min, other.received.min),
                std::max(received.max, other.received.max)};
    flow_time = {std::min(flow_time.min, other.flow_time.min),
                 std::max(flow_time.max, other.flow_time.max)};
  }
};

std::string BytesPerFlowText(const Tally& tally) {
  if (tally.rows == 0) {
    return "-";
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f",
                static_cast<double>(tally.bytes) / static_cast<double>(tally.rows));
  return text;
}

void AppendTallyJson(const Tally& tally, std::string_view rows_key, std::string& out) {
  out += "\"segments\":" + FormatUnsigned(tally.segments);
  out += ",\"" + std::string(rows_key) + "\":" + FormatUnsigned(tally.rows);
  out += ",\"bytes\":" + FormatUnsigned(tally.bytes);
  out += ",\"bytes_per_" + std::string(rows_key == "flows" ? "flow" : "row") + "\":";
  if (tally.rows == 0) {
    out += "null";
  } else {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f",
                  static_cast<double>(tally.bytes) / static_cast<double>(tally.rows));
    out += text;
  }
  out += ",\"open_segments\":" + FormatUnsigned(tally.open_segments);
  out += ",\"open_" + std::string(rows_key) + "\":" + FormatUnsigned(tally.open_rows);
  out += ",\"open_bytes\":" + FormatUnsigned(tally.open_bytes);
  out += ",\"damaged\":" + FormatUnsigned(tally.damaged);
  out += ",\"damaged_bytes\":" + FormatUnsigned(tally.damaged_bytes);
  const auto time = [&](std::string_view key, bool present, std::int64_t value) {
    out += ",\"" + std::string(key) + "\":" + (present ? FormatSigned(value) : "null");
  };
  time("first_received_ms", tally.has_time, tally.received.min);
  time("last_received_ms", tally.has_time, tally.received.max);
  time("first_ms", tally.has_time, tally.flow_time.min);
  time("last_ms", tally.has_time, tally.flow_time.max);
}

std::string OpenText(const Tally& tally, std::string_view rows_word) {
  if (tally.open_segments == 0) {
    return "-";
  }
  return FormatUnsigned(tally.open_segments) + " (" + FormatUnsigned(tally.open_rows) + " " +
         std::string(rows_word) + ", " + FormatSize(tally.open_bytes) + ")";
}

std::string Plural(std::uint64_t count, std::string_view one, std::string_view many) {
  return FormatUnsigned(count) + " " + std::string(count == 1 ? one : many);
}

// ---- actions ----

int RunStats(const StoreOptions& options, const std::vector<store::CatalogEntry>& entries) {
  std::map<std::pair<std::string, std::string>, Tally> detail;  // (source, day)
  std::map<std::string, Tally> rollup;                          // source
  std::map<std::string, Tally> summary;                         // source
  std::uint64_t temp_files = 0;
  std::uint64_t temp_bytes = 0;
  std::vector<std::pair<std::string, std::string>> damaged;  // path, error
  Tally filters;  // address filter files, over every source
  for (const store::CatalogEntry& entry : entries) {
    if (entry.name.state == store::SegmentState::kTemp) {
      ++temp_files;
      temp_bytes += entry.size_bytes;
      continue;
    }
    const SegmentFacts facts = Inspect(entry);
    if (facts.vanished) {
      continue;
    }
    if (facts.damaged) {
      std::fprintf(stderr, "sluice store stats: damaged: %s: %s\n", entry.path.c_str(),
                   facts.error.c_str());
      damaged.emplace_back(entry.path, facts.error);
    }
    if (entry.name.kind == store::SegmentKind::kAddressFilter) {
      filters.Add(facts, entry);
    } else if (entry.name.kind == store::SegmentKind::kRollup) {
      rollup[entry.name.source].Add(facts, entry);
    } else if (entry.name.kind == store::SegmentKind::kSummary ||
               entry.name.kind == store::SegmentKind::kHourSummary) {
      summary[entry.name.source].Add(facts, entry);
    } else {
      detail[{entry.name.source, store::DayString(entry.name.start)}].Add(facts, entry);
    }
  }
  Tally detail_total;
  for (const auto& [key, tally] : detail) {
    detail_total.Merge(tally);
  }
  Tally rollup_total;
  for (const auto& [source, tally] : rollup) {
    rollup_total.Merge(tally);
  }
  Tally summary_total;
  for (const auto& [source, tally] : summary) {
    summary_total.Merge(tally);
  }

  if (options.json) {
    std::string out = "{\"data_dir\":";
    AppendJsonString(options.data_dir, out);
    out += ",\"detail\":[";
    bool first = true;
    for (const auto& [key, tally] : detail) {
      out += first ? "\n  {" : ",\n  {";
      first = false;
      out += "\"source\":";
      AppendJsonString(key.first, out);
      out += ",\"day\":";
      AppendJsonString(key.second, out);
      out += ",";
      AppendTallyJson(tally, "flows", out);
      out += "}";
    }
    out += "],\n\"rollup\":[";
    first = true;
    for (const auto& [source, tally] : rollup) {
      out += first ? "\n  {" : ",\n  {";
      first = false;
      out += "\"source\":";
      AppendJsonString(source, out);
      out += ",";
      AppendTallyJson(tally, "rows", out);
      out += "}";
    }
    out += "],\n\"summary\":[";
    first = true;
    for (const auto& [source, tally] : summary) {
      out += first ? "\n  {" : ",\n  {";
      first = false;
      out += "\"source\":";
      AppendJsonString(source, out);
      out += ",";
      AppendTallyJson(tally, "rows", out);
      out += "}";
    }
    out += "],\n\"totals\":{\"detail\":{";
    AppendTallyJson(detail_total, "flows", out);
    out += "},\"rollup\":{";
    AppendTallyJson(rollup_total, "rows", out);
    out += "},\"summary\":{";
    AppendTallyJson(summary_total, "rows", out);
    out += "},\"address_filters\":{";
    AppendTallyJson(filters, "rows", out);
    out += "},\"temp_files\":" + FormatUnsigned(temp_files);
    out += ",\"temp_bytes\":" + FormatUnsigned(temp_bytes);
    out += ",\"damaged\":" + FormatUnsigned(damaged.size());
    out += "},\n\"damaged\":[";
    first = true;
    for (const auto& [path, error] : damaged) {
      out += first ? "\n  {\"path\":" : ",\n  {\"path\":";
      first = false;
      AppendJsonString(path, out);
      out += ",\"error\":";
      AppendJsonString(error, out);
      out += "}";
    }
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
    return 0;
  }

  std::printf("data directory: %s\n", options.data_dir.c_str());
  std::printf("\ndetail segments by source and day (UTC):\n");
  Table days({false, false, true, true, true, true, false, false, false, true});
  days.AddRow({"SOURCE", "DAY", "SEGMENTS", "FLOWS", "BYTES", "BYTES/FLOW", "FIRST RECEIVED",
               "LAST RECEIVED", "OPEN", "DAMAGED"});
  for (const auto& [key, tally] : detail) {
    days.AddRow({key.first, key.second, FormatUnsigned(tally.segments), FormatUnsigned(tally.rows),
                 FormatSize(tally.bytes), BytesPerFlowText(tally),
                 tally.has_time ? FormatUtc(tally.received.min) : "-",
                 tally.has_time ? FormatUtc(tally.received.max) : "-", OpenText(tally, "flows"),
                 FormatUnsigned(tally.damaged)});
  }
  if (!days.HasBody()) {
    std::printf("  (none)\n");
  } else {
    days.Print(stdout);
  }
  std::printf("\nroll-ups by source:\n");
  Table rollups({false, true, true, true, false, true});
  rollups.AddRow({"SOURCE", "SEGMENTS", "ROWS", "BYTES", "OPEN", "DAMAGED"});
  for (const auto& [source, tally] : rollup) {
    rollups.AddRow({source, FormatUnsigned(tally.segments), FormatUnsigned(tally.rows),
                    FormatSize(tally.bytes), OpenText(tally, "rows"),
                    FormatUnsigned(tally.damaged)});
  }
  if (!rollups.HasBody()) {
    std::printf("  (none)\n");
  } else {
    rollups.Print(stdout);
  }
  std::printf("\nsummaries by source:\n");
  Table summaries({false, true, true, true, false, true});
  summaries.AddRow({"SOURCE", "SEGMENTS", "ROWS", "BYTES", "OPEN", "DAMAGED"});
  for (const auto& [source, tally] : summary) {
    summaries.AddRow({source, FormatUnsigned(tally.segments), FormatUnsigned(tally.rows),
                    FormatSize(tally.bytes), OpenText(tally, "rows"),
                    FormatUnsigned(tally.damaged)});
  }
  if (!summaries.HasBody()) {
    std::printf("  (none)\n");
  } else {
    summaries.Print(stdout);
  }
  std::printf("\ntotal: %s, %s, %s (%s bytes/flow)",
              Plural(detail_total.segments, "detail segment", "detail segments").c_str(),
              Plural(detail_total.rows, "flow", "flows").c_str(),
              FormatSize(detail_total.bytes).c_str(), BytesPerFlowText(detail_total).c_str());
  if (detail_total.has_time) {
    std::printf(", received %s to %s", FormatUtc(detail_total.received.min).c_str(),
                FormatUtc(detail_total.received.max).c_str());
  }
  std::printf("\n       %s (%s, %s)\n",
              Plural(detail_total.open_segments, "open segment", "open segments").c_str(),
              Plural(detail_total.open_rows, "flow", "flows").c_str(),
              FormatSize(detail_total.open_bytes).c_str());
  std::printf("       %s (%s, %s)\n",
              Plural(rollup_total.segments, "roll-up segment", "roll-up segments").c_str(),
              Plural(rollup_total.rows, "row", "rows").c_str(),
              FormatSize(rollup_total.bytes).c_str());
  std::printf("       %s (%s, %s)\n",
              Plural(summary_total.segments, "summary segment", "summary segments").c_str(),
              Plural(summary_total.rows, "row", "rows").c_str(),
              FormatSize(summary_total.bytes).c_str());
  std::printf("       %s (of %s, %s)\n",
              Plural(filters.segments, "address filter file", "address filter files").c_str(),
              Plural(filters.rows, "flow", "flows").c_str(), FormatSize(filters.bytes).c_str());
  std::printf("       %s, %s (%s)\n",
              Plural(damaged.size(), "damaged segment", "damaged segments").c_str(),
              Plural(temp_files, "temporary file", "temporary files").c_str(),
              FormatSize(temp_bytes).c_str());
  return 0;
}

// Counts the rows handed over by SegmentReader::ReadBlock().
class RowCounter final : public flow::FlowSink {
 public:
  void Consume(flow::FlowBatch& batch) override { rows_ += batch.size(); }

  std::uint64_t rows() const { return rows_; }

 private:
  std::uint64_t rows_ = 0;
};

int RunVerify(const StoreOptions& options, const std::vector<store::CatalogEntry>& entries) {
  std::uint64_t files = 0;
  std::uint64_t sealed = 0;
  std::uint64_t open = 0;
  std::uint64_t blocks = 0;
  std::uint64_t damaged_files = 0;
  std::uint64_t damaged_blocks = 0;
  std::uint64_t temp_files = 0;
  RowCounter rows;
  for (const store::CatalogEntry& entry : entries) {
    if (entry.name.state == store::SegmentState::kTemp) {
      ++temp_files;
      continue;
    }
    const bool is_open = entry.name.state == store::SegmentState::kOpen;
    if (IsFreshOpenSegment(entry)) {
      ++files;
      ++open;
      continue;
    }
    if (entry.name.kind == store::SegmentKind::kAddressFilter) {
      auto filters = store::AddressFilterReader::Open(entry.path);
      if (!filters && filters.error().Code() == ErrorCode::kNotFound) {
        continue;  // removed since the directory was read
      }
      ++files;
      ++sealed;
      const Status checked = filters ? (*filters)->Verify() : Status(tl::unexpected(filters.error()));
      if (!checked) {
        ++damaged_files;
        const std::string_view what = WithoutPath(checked.error().Message(), entry.path);
        std::printf("damaged: %s: %.*s\n", entry.path.c_str(), static_cast<int>(what.size()),
                    what.data());
        std::fflush(stdout);
      }
      continue;
    }
    auto reader = OpenEntry(entry);
    if (!reader && reader.error().Code() == ErrorCode::kNotFound) {
      // Sealed (renamed) or removed by `sluice serve` since the directory was read.
      if (!options.quiet) {
        std::printf("note: %s: gone since the directory was read (not checked)\n",
                    entry.path.c_str());
      }
      continue;
    }
    ++files;
    ++(is_open ? open : sealed);
    if (!reader) {
      ++damaged_files;
      const std::string_view what = WithoutPath(reader.error().Message(), entry.path);
      std::printf("damaged: %s: %.*s\n", entry.path.c_str(), static_cast<int>(what.size()),
                  what.data());
      std::fflush(stdout);
      continue;
    }
    bool file_damaged = false;
    const std::vector<store::BlockInfo>& block_infos = (*reader)->blocks();
    // Block by block, every column: at most one block's chunks are in memory at a time.
    for (std::size_t block_idx = 0; block_idx < block_infos.size(); ++block_idx) {
      ++blocks;
      const Status read = (*reader)->ReadBlock(block_idx, store::AllFields(), rows);
      if (!read) {
        ++damaged_blocks;
        file_damaged = true;
        const std::string_view what = WithoutPath(read.error().Message(), entry.path);
        std::printf("damaged: %s: %.*s\n", entry.path.c_str(), static_cast<int>(what.size()),
                    what.data());
        std::fflush(stdout);
      }
    }
    if (file_damaged) {
      ++damaged_files;
    }
    if (is_open && !options.quiet) {
      const std::uint64_t end = block_infos.empty()
                                    ? store::kFileHeaderSize
                                    : block_infos.back().offset + block_infos.back().length;
      if (entry.size_bytes > end) {
        std::printf(
            "note: %s: open segment: %" PRIu64
            " bytes after the last complete block are an unfinished write (not damage; dropped "
            "when the segment is recovered)\n",
            entry.path.c_str(), entry.size_bytes - end);
      }
    }
  }
  if (!options.quiet) {
    std::printf("checked %s (%" PRIu64 " sealed, %" PRIu64 " open), %s, %s: %s (%s)",
                Plural(files, "file", "files").c_str(), sealed, open,
                Plural(blocks, "block", "blocks").c_str(),
                Plural(rows.rows(), "row", "rows").c_str(),
                Plural(damaged_files, "damaged file", "damaged files").c_str(),
                Plural(damaged_blocks, "damaged block", "damaged blocks").c_str());
    if (temp_files > 0) {
      std::printf(", %s skipped", Plural(temp_files, "temporary file", "temporary files").c_str());
    }
    std::printf("\n%s\n", damaged_files == 0 ? "OK" : "DAMAGED");
  }
  return damaged_files == 0 ? 0 : 1;
}

std::string_view StateName(store::SegmentState state) {
  switch (state) {
    case store::SegmentState::kSealed:
      return "sealed";
    case store::SegmentState::kOpen:
      return "open";
    case store::SegmentState::kTemp:
      return "temp";
  }
  return "?";
}

int RunLs(const StoreOptions& options, const std::vector<store::CatalogEntry>& entries) {
  Table table({false, false, false, true, true, false, false});
  table.AddRow({"PATH", "KIND", "STATE", "ROWS", "BYTES", "FIRST RECEIVED", "LAST RECEIVED"});
  std::string json = "{\"data_dir\":";
  AppendJsonString(options.data_dir, json);
  json += ",\"segments\":[";
  bool first = true;
  for (const store::CatalogEntry& entry : entries) {
    const bool temp = entry.name.state == store::SegmentState::kTemp;
    const SegmentFacts facts = temp ? SegmentFacts{} : Inspect(entry);
    if (facts.vanished) {
      continue;
    }
    const std::string kind = entry.name.kind == store::SegmentKind::kRollup ? "rollup"
                             : entry.name.kind == store::SegmentKind::kSummary
                                 ? "summary-" + std::string(store::kSummaryDirs[entry.name.summary])
                             : entry.name.kind == store::SegmentKind::kHourSummary
                                 ? "hour-summary-" + std::string(store::kSummaryDirs[entry.name.summary])
                             : entry.name.kind == store::SegmentKind::kAddressFilter
                                 ? std::string(store::kAddressFilterDir)
                                 : "detail";
    const std::string_view state = facts.damaged ? "damaged" : StateName(entry.name.state);
    const bool has_time = !temp && !facts.damaged && facts.rows > 0 &&
                          entry.name.kind != store::SegmentKind::kAddressFilter;
    if (options.json) {
      json += first ? "\n  {\"path\":" : ",\n  {\"path\":";
      first = false;
      AppendJsonString(entry.path, json);
      json += ",\"source\":";
      AppendJsonString(entry.name.source, json);
      json += ",\"kind\":\"" + std::string(kind) + "\",\"state\":\"" + std::string(state) + "\"";
      json += ",\"start_ms\":" + FormatSigned(entry.name.start);
      json += ",\"rows\":" + (temp || facts.damaged ? "null" : FormatUnsigned(facts.rows));
      json += ",\"bytes\":" + FormatUnsigned(entry.size_bytes);
      json += ",\"first_received_ms\":" + (has_time ? FormatSigned(facts.received.min) : "null");
      json += ",\"last_received_ms\":" + (has_time ? FormatSigned(facts.received.max) : "null");
      if (facts.damaged) {
        json += ",\"error\":";
        AppendJsonString(facts.error, json);
      }
      json += "}";
      continue;
    }
    table.AddRow({entry.path, std::string(kind), std::string(state),
                  temp || facts.damaged ? "-" : FormatUnsigned(facts.rows),
                  FormatSize(entry.size_bytes), has_time ? FormatUtc(facts.received.min) : "-",
                  has_time ? FormatUtc(facts.received.max) : "-"});
    if (facts.damaged) {
      std::fprintf(stderr, "sluice store ls: damaged: %s: %s\n", entry.path.c_str(),
                   facts.error.c_str());
    }
  }
  if (options.json) {
    json += "]}\n";
    std::fputs(json.c_str(), stdout);
  } else if (table.HasBody()) {
    table.Print(stdout);
  }
  return 0;
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "sluice store: %s\n\n%s", message.c_str(), kStoreUsage);
  return 2;
}

}  // namespace

int RunStore(std::span<const std::string_view> args) {
  if (args.empty()) {
    std::fputs(kStoreUsage, stderr);
    return 2;
  }
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::fputs(kStoreUsage, stdout);
    return 0;
  }
  StoreOptions options;
  if (args[0] == "stats") {
    options.action = Action::kStats;
  } else if (args[0] == "verify") {
    options.action = Action::kVerify;
  } else if (args[0] == "ls") {
    options.action = Action::kLs;
  } else {
    return UsageError("unknown action '" + std::string(args[0]) + "'");
  }
  bool has_data = false;
  for (std::size_t arg_idx = 1; arg_idx < args.size(); ++arg_idx) {
    const std::string_view arg = args[arg_idx];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kStoreUsage, stdout);
      return 0;
    }
    if (arg == "--data") {
      if (arg_idx + 1 >= args.size() || args[arg_idx + 1].empty()) {
        return UsageError("--data wants a directory");
      }
      options.data_dir = std::string(args[++arg_idx]);
      has_data = true;
    } else if (arg == "--json" && options.action != Action::kVerify) {
      options.json = true;
    } else if (arg == "--quiet" && options.action == Action::kVerify) {
      options.quiet = true;
    } else {
      return UsageError("unknown option for '" + std::string(args[0]) + "': " + std::string(arg));
    }
  }
  if (!has_data) {
    return UsageError("--data DIR is required");
  }
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(options.data_dir, ec);
  if (std::filesystem::exists(status) && !std::filesystem::is_directory(status)) {
    return UsageError(options.data_dir + " is not a directory");
  }
  // A data directory that does not exist yet holds nothing: zero everywhere.
  auto entries = store::ScanCatalog(options.data_dir);
  if (!entries) {
    std::fprintf(stderr, "sluice store: %.*s\n", static_cast<int>(entries.error().Message().size()),
                 entries.error().Message().data());
    return 1;
  }
  switch (options.action) {
    case Action::kStats:
      return RunStats(options, *entries);
    case Action::kVerify:
      return RunVerify(options, *entries);
    case Action::kLs:
      return RunLs(options, *entries);
  }
  return 2;
}

}  // namespace sluice::cli
