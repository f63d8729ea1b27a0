// SPDX-License-Identifier: Apache-2.0
// `sluice store stats|verify|ls` end to end: a data directory written with SegmentWriter
// (two sources, two days, a roll-up, an open segment, a corrupted and a truncated one),
// read by the real binary.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "flow/flow_batch.h"
#include "flow/ip_address.h"
#include "store/layout.h"
#include "store/segment_reader.h"
#include "store/segment_writer.h"
#include "testing/process.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

const std::string kSluice = SLUICE_BINARY_DIR "/apps/sluice/sluice";

constexpr UnixMillis kDay = 1'795'392'000'000;  // 2026-11-23 00:00:00 UTC
constexpr UnixMillis kNextDay = kDay + store::kMillisPerDay;

UnixMillis At(UnixMillis day, int hour, int minute) {
  return day + hour * store::kMillisPerHour + minute * store::kMillisPerMinute;
}

// ---- a small JSON reader, enough to check the documents' structure and numbers ----

struct Json {
  enum class Type : std::uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  // nullptr if this is not an object or has no `key`.
  const Json* Find(const std::string& key) const {
    for (const auto& [name, value] : members) {
      if (name == key) {
        return &value;
      }
    }
    return nullptr;
  }

  std::vector<std::string> Keys() const {
    std::vector<std::string> keys;
    for (const auto& member : members) {
      keys.push_back(member.first);
    }
    return keys;
  }
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : text_(text) {}

  // The document, or nullopt if the text is not exactly one JSON value.
  std::optional<Json> ReadDocument() {
    std::optional<Json> value = ReadValue();
    SkipSpace();
    if (!value || pos_ != text_.size()) {
      return std::nullopt;
    }
    return value;
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Consume(std::string_view token) {
    if (text_.substr(pos_, token.size()) != token) {
      return false;
    }
    pos_ += token.size();
    return true;
  }

  std::optional<std::string> ReadString() {
    if (!Consume("\"")) {
      return std::nullopt;
    }
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c == '\\') {
        if (pos_ >= text_.size()) {
          return std::nullopt;
        }
        c = text_[pos_++];
        if (c == 'n') {
          c = '\n';
        } else if (c == 't') {
          c = '\t';
        } else if (c == 'u') {
          if (pos_ + 4 > text_.size()) {
            return std::nullopt;
          }
          c = static_cast<char>(std::stoi(std::string(text_.substr(pos_, 4)), nullptr, 16));
          pos_ += 4;
        } else if (c != '"' && c != '\\' && c != '/') {
          return std::nullopt;
        }
      }
      out.push_back(c);
    }
    if (!Consume("\"")) {
      return std::nullopt;
    }
    return out;
  }

  std::optional<Json> ReadValue() {
    SkipSpace();
    Json value;
    if (pos_ >= text_.size()) {
      return std::nullopt;
    }
    const char c = text_[pos_];
    if (c == '{') {
      ++pos_;
      value.type = Json::Type::kObject;
      SkipSpace();
      if (Consume("}")) {
        return value;
      }
      do {
        SkipSpace();
        std::optional<std::string> key = ReadString();
        SkipSpace();
        if (!key || !Consume(":")) {
          return std::nullopt;
        }
        std::optional<Json> member = ReadValue();
        if (!member) {
          return std::nullopt;
        }
        value.members.emplace_back(std::move(*key), std::move(*member));
        SkipSpace();
      } while (Consume(","));
      return Consume("}") ? std::optional<Json>(std::move(value)) : std::nullopt;
    }
    if (c == '[') {
      ++pos_;
      value.type = Json::Type::kArray;
      SkipSpace();
      if (Consume("]")) {
        return value;
      }
      do {
        std::optional<Json> item = ReadValue();
        if (!item) {
          return std::nullopt;
        }
        value.items.push_back(std::move(*item));
        SkipSpace();
      } while (Consume(","));
      return Consume("]") ? std::optional<Json>(std::move(value)) : std::nullopt;
    }
    if (c == '"') {
      std::optional<std::string> text = ReadString();
      if (!text) {
        return std::nullopt;
      }
      value.type = Json::Type::kString;
      value.text = std::move(*text);
      return value;
    }
    if (Consume("null")) {
      return value;
    }
    if (Consume("true") || Consume("false")) {
      value.type = Json::Type::kBool;
      value.boolean = text_[pos_ - 1] == 'e' && text_[pos_ - 2] == 'u';
      return value;
    }
    const std::size_t start = pos_;
    while (pos_ < text_.size() &&
           std::string_view("+-0123456789.eE").find(text_[pos_]) != std::string_view::npos) {
      ++pos_;
    }
    if (pos_ == start) {
      return std::nullopt;
    }
    value.type = Json::Type::kNumber;
    value.number = std::stod(std::string(text_.substr(start, pos_ - start)));
    return value;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// The integer at `key` of object `object` (fails the test if it is missing).
std::int64_t Int(const Json& object, const std::string& key) {
  const Json* value = object.Find(key);
  if (value == nullptr || value->type != Json::Type::kNumber) {
    ADD_FAILURE() << "no number at key " << key;
    return -1;
  }
  return static_cast<std::int64_t>(value->number);
}

// ---- the data directory ----

// Rows received one per second from `slot_start` on, started 5 s and ended 1 s before.
void WriteRows(const std::string& path, UnixMillis slot_start, int rows, bool finish) {
  store::SegmentWriterOptions options;
  options.rows_per_block = 16;
  options.sync = false;
  auto writer = store::SegmentWriter::Create(path, options);
  ASSERT_TRUE(writer) << writer.error().Message();
  flow::FlowBatch batch;
  for (int n = 0; n < rows; ++n) {
    const std::size_t row = batch.AppendRow();
    auto& cols = batch.cols();
    cols.time_received[row] = slot_start + n * 1000;
    cols.first[row] = cols.time_received[row] - 5000;
    cols.last[row] = cols.time_received[row] - 1000;
    cols.exporter[row] = flow::IpAddress::FromV4(0xc0000201u + static_cast<std::uint32_t>(n % 2));
    cols.src_addr[row] = flow::IpAddress::FromV4(0x0a000000u + static_cast<std::uint32_t>(n));
    cols.dst_addr[row] = flow::IpAddress::FromV4(0xc6336401u);
    cols.src_port[row] = static_cast<std::uint16_t>(40000 + n);
    cols.dst_port[row] = 443;
    cols.proto[row] = 6;
    cols.bytes[row] = 1000 + static_cast<std::uint64_t>(n) * 37;
    cols.packets[row] = 1 + static_cast<std::uint64_t>(n % 7);
    if (batch.full()) {
      ASSERT_TRUE((*writer)->Append(batch));
      batch.Clear();
    }
  }
  if (!batch.empty()) {
    ASSERT_TRUE((*writer)->Append(batch));
  }
  if (finish) {
    const Status finished = (*writer)->Finish();
    ASSERT_TRUE(finished) << finished.error().Message();
  } else {
    ASSERT_TRUE((*writer)->Flush());
  }
}

std::string DetailPath(const std::string& data, std::string_view source, UnixMillis slot,
                       std::uint32_t index = 0) {
  const std::string path = store::DetailSegmentPath(data, source, slot, index);
  fs::create_directories(fs::path(path).parent_path());
  return path;
}

void AppendBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::app) << bytes;
}

std::uint64_t Size(const std::string& path) {
  return fs::file_size(path);
}

// The lines of `text` that start with `prefix`, without it.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) {
      lines.push_back(line.substr(prefix.size()));
    }
  }
  return lines;
}

class StoreCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.File("data");
    // core, 2026-11-23: three sealed segments (one the -1 of a slot), one open.
    core_1620_ = DetailPath(data_, "core", At(kDay, 16, 20));
    WriteRows(core_1620_, At(kDay, 16, 20), 100, true);
    core_1625_ = DetailPath(data_, "core", At(kDay, 16, 25));
    WriteRows(core_1625_, At(kDay, 16, 25), 50, true);
    core_1625_1_ = DetailPath(data_, "core", At(kDay, 16, 25), 1);
    WriteRows(core_1625_1_, At(kDay, 16, 25), 20, true);
    // Left by a crash: two flushed blocks, then the start of a block never finished.
    core_open_ = store::OpenPathFor(DetailPath(data_, "core", At(kDay, 16, 30)));
    WriteRows(core_open_, At(kDay, 16, 30), 30, false);
    AppendBytes(core_open_, "SBLK..");
    // Being sealed, and a stranger: neither is a segment.
    core_tmp_ = store::TempPathFor(DetailPath(data_, "core", At(kDay, 16, 35)));
    AppendBytes(core_tmp_, std::string(64, 'x'));
    AppendBytes(dir_.File("data/core/2026/11/23/notes.txt"), "hello");
    // core, 2026-11-24.
    core_next_ = DetailPath(data_, "core", kNextDay);
    WriteRows(core_next_, kNextDay, 40, true);
    // Just created by the writer: not even the file header yet.
    core_next_open_ = store::OpenPathFor(DetailPath(data_, "core", kNextDay + 5 * 60'000));
    AppendBytes(core_next_open_, "");
    // core roll-up of 16:00.
    core_rollup_ = store::RollupSegmentPath(data_, "core", At(kDay, 16, 0));
    fs::create_directories(fs::path(core_rollup_).parent_path());
    WriteRows(core_rollup_, At(kDay, 16, 0), 10, true);
    // edge, 2026-11-23: one intact, one with a flipped byte in block 1, one truncated.
    edge_2345_ = DetailPath(data_, "edge", At(kDay, 23, 45));
    WriteRows(edge_2345_, At(kDay, 23, 45), 30, true);
    edge_2350_ = DetailPath(data_, "edge", At(kDay, 23, 50));
    WriteRows(edge_2350_, At(kDay, 23, 50), 64, true);
    FlipByteInBlock(edge_2350_, 1);
    edge_2355_ = DetailPath(data_, "edge", At(kDay, 23, 55));
    WriteRows(edge_2355_, At(kDay, 23, 55), 70, true);
    fs::resize_file(edge_2355_, Size(edge_2355_) - 10);
  }

  // Flips a byte in the data area of block `block_idx` (the footer still reads).
  static void FlipByteInBlock(const std::string& path, std::size_t block_idx) {
    std::uint64_t offset = 0;
    {
      auto reader = store::SegmentReader::Open(path);
      ASSERT_TRUE(reader) << reader.error().Message();
      const store::BlockInfo& block = (*reader)->blocks().at(block_idx);
      offset = block.offset + store::kBlockHeaderSize + block.directory_length + 3;
    }
    std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
    file.seekg(static_cast<std::streamoff>(offset));
    char byte = 0;
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x20);
    file.seekp(static_cast<std::streamoff>(offset));
    file.write(&byte, 1);
  }

  int Run(const std::vector<std::string>& args, std::string* out, std::string* err) {
    std::vector<std::string> argv = {kSluice, "store"};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::RunCommand(argv, dir_, "store" + std::to_string(runs_++), out, err);
  }

  test::TempDir dir_;
  int runs_ = 0;
  std::string data_;
  std::string core_1620_, core_1625_, core_1625_1_, core_open_, core_tmp_, core_next_,
      core_next_open_;
  std::string core_rollup_, edge_2345_, edge_2350_, edge_2355_;
};

const std::vector<std::string> kTallyKeys = {
    "segments",         "flows",      "bytes",   "bytes_per_flow", "open_segments",
    "open_flows",       "open_bytes", "damaged", "damaged_bytes",  "first_received_ms",
    "last_received_ms", "first_ms",   "last_ms"};

TEST_F(StoreCommandTest, StatsJsonCountsEverySourceAndDayExactly) {
  std::string out;
  std::string err;
  ASSERT_EQ(Run({"stats", "--data", data_, "--json"}, &out, &err), 0) << err;
  const std::optional<Json> doc = JsonReader(out).ReadDocument();
  ASSERT_TRUE(doc) << out;
  EXPECT_EQ(doc->Keys(),
            (std::vector<std::string>{"data_dir", "detail", "rollup", "summary", "totals", "damaged"}));
  EXPECT_EQ(doc->Find("data_dir")->text, data_);

  const Json& detail = *doc->Find("detail");
  ASSERT_EQ(detail.items.size(), 3u) << out;
  for (const Json& day : detail.items) {
    std::vector<std::string> keys = {"source", "day"};
    keys.insert(keys.end(), kTallyKeys.begin(), kTallyKeys.end());
    EXPECT_EQ(day.Keys(), keys);
  }
  const Json& core = detail.items[0];
  EXPECT_EQ(core.Find("source")->text, "core");
  EXPECT_EQ(core.Find("day")->text, "2026-11-23");
  EXPECT_EQ(Int(core, "segments"), 3);
  EXPECT_EQ(Int(core, "flows"), 170);
  const std::uint64_t core_bytes = Size(core_1620_) + Size(core_1625_) + Size(core_1625_1_);
  EXPECT_EQ(Int(core, "bytes"), static_cast<std::int64_t>(core_bytes));
  EXPECT_NEAR(core.Find("bytes_per_flow")->number, static_cast<double>(core_bytes) / 170, 0.001);
  EXPECT_EQ(Int(core, "open_segments"), 1);
  EXPECT_EQ(Int(core, "open_flows"), 30);
  EXPECT_EQ(Int(core, "open_bytes"), static_cast<std::int64_t>(Size(core_open_)));
  EXPECT_EQ(Int(core, "damaged"), 0);
  EXPECT_EQ(Int(core, "first_received_ms"), At(kDay, 16, 20));
  EXPECT_EQ(Int(core, "last_received_ms"), At(kDay, 16, 30) + 29'000);
  EXPECT_EQ(Int(core, "first_ms"), At(kDay, 16, 20) - 5000);
  EXPECT_EQ(Int(core, "last_ms"), At(kDay, 16, 30) + 28'000);

  const Json& core_next = detail.items[1];
  EXPECT_EQ(core_next.Find("source")->text, "core");
  EXPECT_EQ(core_next.Find("day")->text, "2026-11-24");
  EXPECT_EQ(Int(core_next, "segments"), 1);
  EXPECT_EQ(Int(core_next, "flows"), 40);
  EXPECT_EQ(Int(core_next, "bytes"), static_cast<std::int64_t>(Size(core_next_)));
  EXPECT_EQ(Int(core_next, "open_segments"), 1);
  EXPECT_EQ(Int(core_next, "open_flows"), 0);
  EXPECT_EQ(Int(core_next, "open_bytes"), 0);
  EXPECT_EQ(Int(core_next, "damaged"), 0);
  EXPECT_EQ(Int(core_next, "first_received_ms"), kNextDay);
  EXPECT_EQ(Int(core_next, "last_received_ms"), kNextDay + 39'000);

  // The flipped byte is inside a block: the footer still reads, so stats counts it.
  const Json& edge = detail.items[2];
  EXPECT_EQ(edge.Find("source")->text, "edge");
  EXPECT_EQ(edge.Find("day")->text, "2026-11-23");
  EXPECT_EQ(Int(edge, "segments"), 2);
  EXPECT_EQ(Int(edge, "flows"), 94);
  EXPECT_EQ(Int(edge, "bytes"), static_cast<std::int64_t>(Size(edge_2345_) + Size(edge_2350_)));
  EXPECT_EQ(Int(edge, "damaged"), 1);
  EXPECT_EQ(Int(edge, "damaged_bytes"), static_cast<std::int64_t>(Size(edge_2355_)));
  EXPECT_EQ(Int(edge, "first_received_ms"), At(kDay, 23, 45));
  EXPECT_EQ(Int(edge, "last_received_ms"), At(kDay, 23, 50) + 63'000);

  const Json& rollup = *doc->Find("rollup");
  ASSERT_EQ(rollup.items.size(), 1u);
  EXPECT_EQ(rollup.items[0].Find("source")->text, "core");
  EXPECT_EQ(Int(rollup.items[0], "segments"), 1);
  EXPECT_EQ(Int(rollup.items[0], "rows"), 10);
  EXPECT_EQ(Int(rollup.items[0], "bytes"), static_cast<std::int64_t>(Size(core_rollup_)));

  const Json& totals = *doc->Find("totals");
  EXPECT_EQ(totals.Keys(),
            (std::vector<std::string>{"detail", "rollup", "summary", "address_filters", "temp_files", "temp_bytes",
                                      "damaged"}));
  const Json& detail_total = *totals.Find("detail");
  EXPECT_EQ(detail_total.Keys(), kTallyKeys);
  EXPECT_EQ(Int(detail_total, "segments"), 6);
  EXPECT_EQ(Int(detail_total, "flows"), 304);
  EXPECT_EQ(Int(detail_total, "bytes"),
            static_cast<std::int64_t>(core_bytes + Size(core_next_) + Size(edge_2345_) +
                                      Size(edge_2350_)));
  EXPECT_EQ(Int(detail_total, "open_segments"), 2);
  EXPECT_EQ(Int(detail_total, "open_flows"), 30);
  EXPECT_EQ(Int(detail_total, "first_received_ms"), At(kDay, 16, 20));
  EXPECT_EQ(Int(detail_total, "last_received_ms"), kNextDay + 39'000);
  EXPECT_EQ(Int(*totals.Find("rollup"), "rows"), 10);
  EXPECT_EQ(Int(totals, "temp_files"), 1);
  EXPECT_EQ(Int(totals, "temp_bytes"), 64);
  EXPECT_EQ(Int(totals, "damaged"), 1);

  const Json& damaged = *doc->Find("damaged");
  ASSERT_EQ(damaged.items.size(), 1u);
  EXPECT_EQ(damaged.items[0].Keys(), (std::vector<std::string>{"path", "error"}));
  EXPECT_EQ(damaged.items[0].Find("path")->text, edge_2355_);
  EXPECT_FALSE(damaged.items[0].Find("error")->text.empty());
  // The damaged file is named on stderr too.
  EXPECT_NE(err.find(edge_2355_), std::string::npos) << err;
}

TEST_F(StoreCommandTest, StatsTextHasALinePerSourceAndDay) {
  std::string out;
  std::string err;
  ASSERT_EQ(Run({"stats", "--data", data_}, &out, &err), 0) << err;
  const std::vector<std::string> core = LinesStartingWith(out, "core  ");
  ASSERT_EQ(core.size(), 3u) << out;  // two days and the roll-up line
  EXPECT_NE(core[0].find("2026-11-23"), std::string::npos) << out;
  EXPECT_NE(core[0].find(" 170 "), std::string::npos) << out;
  EXPECT_NE(core[0].find("2026-11-23 16:20:00"), std::string::npos) << out;
  EXPECT_NE(core[0].find("2026-11-23 16:30:29"), std::string::npos) << out;
  EXPECT_NE(core[0].find("1 (30 flows"), std::string::npos) << out;
  EXPECT_NE(core[1].find("2026-11-24"), std::string::npos) << out;
  EXPECT_EQ(LinesStartingWith(out, "edge  ").size(), 1u) << out;
  EXPECT_NE(out.find("total: 6 detail segments, 304 flows"), std::string::npos) << out;
  EXPECT_NE(out.find("2 open segments (30 flows"), std::string::npos) << out;
  EXPECT_NE(out.find("1 roll-up segment (10 rows"), std::string::npos) << out;
  EXPECT_NE(out.find("1 damaged segment, 1 temporary file (64 B)"), std::string::npos) << out;
  EXPECT_NE(err.find("damaged: " + edge_2355_ + ": "), std::string::npos) << err;
}

TEST_F(StoreCommandTest, VerifyNamesExactlyTheDamagedFilesAndPassesOnceTheyAreGone) {
  std::string out;
  std::string err;
  EXPECT_EQ(Run({"verify", "--data", data_}, &out, &err), 1) << out << err;
  std::set<std::string> named;
  for (const std::string& line : LinesStartingWith(out, "damaged: ")) {
    named.insert(line.substr(0, line.find(": ")));
  }
  EXPECT_EQ(named, (std::set<std::string>{edge_2350_, edge_2355_})) << out;
  EXPECT_EQ(LinesStartingWith(out, "damaged: ").size(), 2u) << out;  // block 1, and the file
  EXPECT_NE(out.find("damaged: " + edge_2350_ + ": block 1: "), std::string::npos) << out;
  // The unfinished tail of the open segment is not damage.
  const std::vector<std::string> notes = LinesStartingWith(out, "note: ");
  ASSERT_EQ(notes.size(), 1u) << out;
  EXPECT_EQ(notes[0].rfind(core_open_ + ": open segment: 6 bytes", 0), 0u) << out;
  EXPECT_NE(out.find("checked 10 files (8 sealed, 2 open)"), std::string::npos) << out;
  EXPECT_NE(out.find("2 damaged files (1 damaged block), 1 temporary file skipped"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\nDAMAGED\n"), std::string::npos) << out;

  // --quiet: the damaged lines only.
  std::string quiet;
  EXPECT_EQ(Run({"verify", "--quiet", "--data", data_}, &quiet, &err), 1);
  std::string damaged_lines;
  for (const std::string& line : LinesStartingWith(out, "damaged: ")) {
    damaged_lines += "damaged: " + line + "\n";
  }
  EXPECT_EQ(quiet, damaged_lines);

  fs::remove(edge_2350_);
  fs::remove(edge_2355_);
  EXPECT_EQ(Run({"verify", "--data", data_}, &out, &err), 0) << out << err;
  EXPECT_TRUE(LinesStartingWith(out, "damaged: ").empty()) << out;
  // 100+50+20+40+10+30 sealed rows and the 30 recovered rows of the open segment.
  EXPECT_NE(out.find("checked 8 files (6 sealed, 2 open), 21 blocks, 280 rows: 0 damaged files"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\nOK\n"), std::string::npos) << out;
  EXPECT_EQ(Run({"verify", "--quiet", "--data", data_}, &quiet, &err), 0);
  EXPECT_EQ(quiet, "");
}

TEST_F(StoreCommandTest, LsListsEveryStoreFile) {
  std::string out;
  std::string err;
  ASSERT_EQ(Run({"ls", "--data", data_, "--json"}, &out, &err), 0) << err;
  const std::optional<Json> doc = JsonReader(out).ReadDocument();
  ASSERT_TRUE(doc) << out;
  const Json& segments = *doc->Find("segments");
  ASSERT_EQ(segments.items.size(), 11u) << out;  // notes.txt is not a store file
  std::map<std::string, const Json*> by_path;
  for (const Json& segment : segments.items) {
    by_path[segment.Find("path")->text] = &segment;
  }
  ASSERT_EQ(by_path.count(core_open_), 1u);
  EXPECT_EQ(by_path[core_open_]->Find("state")->text, "open");
  EXPECT_EQ(Int(*by_path[core_open_], "rows"), 30);
  EXPECT_EQ(by_path[core_next_open_]->Find("state")->text, "open");
  EXPECT_EQ(Int(*by_path[core_next_open_], "rows"), 0);
  EXPECT_EQ(by_path[core_tmp_]->Find("state")->text, "temp");
  EXPECT_EQ(by_path[edge_2355_]->Find("state")->text, "damaged");
  EXPECT_EQ(by_path[core_rollup_]->Find("kind")->text, "rollup");
  EXPECT_EQ(Int(*by_path[core_1620_], "rows"), 100);
  EXPECT_EQ(Int(*by_path[core_1620_], "bytes"), static_cast<std::int64_t>(Size(core_1620_)));
  EXPECT_EQ(Int(*by_path[core_1620_], "first_received_ms"), At(kDay, 16, 20));

  ASSERT_EQ(Run({"ls", "--data", data_}, &out, &err), 0) << err;
  EXPECT_EQ(LinesStartingWith(out, data_).size(), 11u) << out;
  EXPECT_NE(out.find(edge_2355_), std::string::npos);
}

TEST(StoreCommandUsageTest, EmptyOrMissingDataDirectoryIsZeroEverywhere) {
  test::TempDir dir;
  std::string out;
  std::string err;
  for (const std::string& data : {dir.File(""), dir.File("not-yet")}) {
    ASSERT_EQ(test::RunCommand({kSluice, "store", "stats", "--data", data, "--json"}, dir, "s",
                               &out, &err),
              0)
        << err;
    const std::optional<Json> doc = JsonReader(out).ReadDocument();
    ASSERT_TRUE(doc) << out;
    EXPECT_TRUE(doc->Find("detail")->items.empty());
    EXPECT_EQ(Int(*doc->Find("totals")->Find("detail"), "flows"), 0);
    EXPECT_EQ(doc->Find("totals")->Find("detail")->Find("bytes_per_flow")->type, Json::Type::kNull);
    EXPECT_EQ(test::RunCommand({kSluice, "store", "verify", "--data", data}, dir, "v", &out, &err),
              0);
    EXPECT_NE(out.find("checked 0 files"), std::string::npos) << out;
    EXPECT_EQ(test::RunCommand({kSluice, "store", "stats", "--data", data}, dir, "t", &out, &err),
              0);
    EXPECT_NE(out.find("total: 0 detail segments, 0 flows"), std::string::npos) << out;
  }
}

TEST(StoreCommandUsageTest, UsageErrorsExitTwoWithAMessage) {
  test::TempDir dir;
  std::ofstream(dir.File("file")) << "not a directory";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"stats"}, "--data DIR is required"},
      {{"verify"}, "--data DIR is required"},
      {{"stats", "--data"}, "--data wants a directory"},
      {{"stats", "--data", dir.File(""), "--frobnicate"}, "unknown option"},
      {{"verify", "--data", dir.File(""), "--json"}, "unknown option"},
      {{"stats", "--data", dir.File("file")}, "is not a directory"},
      {{"compact", "--data", dir.File("")}, "unknown action"},
      {{}, "usage: sluice store"},
  };
  for (const auto& [args, message] : cases) {
    std::vector<std::string> argv = {kSluice, "store"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    std::string err;
    EXPECT_EQ(test::RunCommand(argv, dir, "usage", &out, &err), 2) << message;
    EXPECT_NE(err.find(message), std::string::npos) << err;
  }
  std::string out;
  EXPECT_EQ(test::RunCommand({kSluice, "store", "--help"}, dir, "help", &out), 0);
  EXPECT_NE(out.find("verify"), std::string::npos);
}

}  // namespace
}  // namespace sluice
