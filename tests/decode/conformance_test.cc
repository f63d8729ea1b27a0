// SPDX-License-Identifier: Apache-2.0
// Conformance tests over the shared flow corpus (../shared/testdata/flows, MANIFEST.md):
// one test per case of tests/data/conformance/cases.txt. Each case feeds its files in
// order through one Decoder and checks the record/options/counter-sample counts, the
// decode errors, and the fields the published golden outputs give (mapped to ours by
// tests/data/conformance/derive_cases.py).

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "decode/decoder.h"
#include "flow/record_json.h"
#include "net/capture_reader.h"
#include "testing/collecting_sink.h"
#include "testing/hex.h"

namespace sluice::decode {
namespace {

// Time attributed to raw payload files, so that results do not depend on the clock.
constexpr UnixMillis kRawTimeReceived = 1'700'000'000'000;
// Mismatches reported per case before the rest are only counted.
constexpr int kMaxReportedMismatches = 40;

using FieldMap = std::map<std::string, std::string>;

struct CaseFile {
  std::string path;      // relative to the flows corpus
  std::string exporter;  // override for raw payload files, empty = default
};

// `record IDX ...`, `match ...` or `sum [filter |] totals`.
struct Check {
  enum class Kind : std::uint8_t { kRecord, kMatch, kSum };
  Kind kind = Kind::kRecord;
  std::size_t index = 0;
  FieldMap filter;  // kSum only
  FieldMap fields;
  std::string text;
};

// A bound such as "12" (exactly) or ">=1" (at least).
struct CountBound {
  bool set = false;
  bool at_least = false;
  std::uint64_t value = 0;

  bool Holds(std::uint64_t got) const { return !set || (at_least ? got >= value : got == value); }

  std::string ToString() const { return (at_least ? ">=" : "") + std::to_string(value); }
};

struct ConformanceCase {
  std::string name;
  std::vector<CaseFile> files;
  std::string split;
  CountBound records;
  CountBound options;
  CountBound counters;
  CountBound sets_without_template;
  std::string errors = "none";
  std::vector<std::string> notes;
  std::vector<Check> checks;
};

// Names the case in gtest output instead of dumping its bytes.
void PrintTo(const ConformanceCase& tc, std::ostream* os) { *os << tc.name; }

std::string CasesPath() { return std::string(SLUICE_SOURCE_DIR) + "/tests/data/conformance/cases.txt"; }

std::string CorpusPath(const std::string& relative) { return test::SharedTestData("flows/" + relative); }

CountBound ParseBound(const std::string& text) {
  CountBound bound;
  bound.set = true;
  std::string digits = text;
  if (digits.rfind(">=", 0) == 0) {
    bound.at_least = true;
    digits = digits.substr(2);
  }
  bound.value = std::stoull(digits);
  return bound;
}

FieldMap ParseFields(std::istringstream& in) {
  FieldMap fields;
  std::string token;
  while (in >> token) {
    const std::size_t eq = token.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    fields[token.substr(0, eq)] = token.substr(eq + 1);
  }
  return fields;
}

std::vector<ConformanceCase> LoadCases() {
  std::vector<ConformanceCase> cases;
  std::ifstream in(CasesPath());
  std::string line;
  ConformanceCase current;
  bool open = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::istringstream words(line);
    std::string keyword;
    words >> keyword;
    if (keyword == "case") {
      current = ConformanceCase{};
      words >> current.name;
      open = true;
    } else if (!open) {
      continue;
    } else if (keyword == "file") {
      CaseFile file;
      words >> file.path;
      std::string option;
      while (words >> option) {
        if (option.rfind("exporter=", 0) == 0) {
          file.exporter = option.substr(9);
        }
      }
      current.files.push_back(file);
    } else if (keyword == "split") {
      words >> current.split;
    } else if (keyword == "records" || keyword == "options" || keyword == "counters" ||
               keyword == "sets_without_template") {
      std::string value;
      words >> value;
      CountBound bound = ParseBound(value);
      if (keyword == "records") {
        current.records = bound;
      } else if (keyword == "options") {
        current.options = bound;
      } else if (keyword == "counters") {
        current.counters = bound;
      } else {
        current.sets_without_template = bound;
      }
    } else if (keyword == "errors") {
      words >> current.errors;
    } else if (keyword == "note") {
      current.notes.push_back(line.substr(5));
    } else if (keyword == "record" || keyword == "match" || keyword == "sum") {
      Check check;
      check.text = line;
      if (keyword == "record") {
        check.kind = Check::Kind::kRecord;
        words >> check.index;
        check.fields = ParseFields(words);
      } else if (keyword == "match") {
        check.kind = Check::Kind::kMatch;
        check.fields = ParseFields(words);
      } else {
        check.kind = Check::Kind::kSum;
        const std::string rest = line.substr(4);
        const std::size_t bar = rest.find('|');
        std::istringstream totals(bar == std::string::npos ? rest : rest.substr(bar + 1));
        check.fields = ParseFields(totals);
        if (bar != std::string::npos) {
          std::istringstream filter(rest.substr(0, bar));
          check.filter = ParseFields(filter);
        }
      }
      current.checks.push_back(std::move(check));
    } else if (keyword == "end") {
      cases.push_back(std::move(current));
      open = false;
    }
  }
  if (cases.empty()) {
    ConformanceCase missing;
    missing.name = "CasesFileMissing";
    cases.push_back(missing);
  }
  return cases;
}

// The fields of one decoded record as text: the JSON writer's flat object, plus
// bytes_unscaled / packets_unscaled (counters divided by the sampling rate).
FieldMap RecordFields(const test::CollectingSink& sink, std::size_t idx) {
  FieldMap fields;
  const std::string json = sink.Json(idx);
  std::size_t pos = 1;
  while (pos < json.size() && json[pos] == '"') {
    const std::size_t key_end = json.find('"', pos + 1);
    const std::string key = json.substr(pos + 1, key_end - pos - 1);
    pos = key_end + 2;  // past '"' and ':'
    std::string value;
    if (json[pos] == '"') {
      ++pos;
      while (pos < json.size() && json[pos] != '"') {
        if (json[pos] == '\\' && pos + 1 < json.size()) {
          ++pos;
        }
        value.push_back(json[pos]);
        ++pos;
      }
      ++pos;
    } else {
      while (pos < json.size() && json[pos] != ',' && json[pos] != '}') {
        value.push_back(json[pos]);
        ++pos;
      }
    }
    fields[key] = value;
    if (pos < json.size() && json[pos] == ',') {
      ++pos;
    }
  }
  const auto& ref = sink[idx];
  const flow::FlowColumns& c = ref.cols();
  const std::uint64_t rate = c.sampling_rate[ref.row] > 1 ? c.sampling_rate[ref.row] : 1;
  fields["bytes_unscaled"] = std::to_string(c.bytes[ref.row] / rate);
  fields["packets_unscaled"] = std::to_string(c.packets[ref.row] / rate);
  return fields;
}

// An unset address or MAC is left out of the JSON; the goldens write 0.0.0.0, :: or all zeros.
bool ValueMatches(const FieldMap& record, const std::string& field, const std::string& expected) {
  auto it = record.find(field);
  const std::string got = it == record.end() ? "" : it->second;
  if (got == expected) {
    return true;
  }
  if (got.empty() && (expected == "0.0.0.0" || expected == "::" || expected == "00:00:00:00:00:00")) {
    return true;
  }
  return false;
}

std::string Got(const FieldMap& record, const std::string& field) {
  auto it = record.find(field);
  return it == record.end() ? "(absent)" : it->second;
}

std::uint64_t ToNumber(const std::string& text) {
  return text.empty() ? 0 : std::stoull(text);
}

class ConformanceTest : public testing::TestWithParam<ConformanceCase> {};

TEST_P(ConformanceTest, Decodes) {
  const ConformanceCase& tc = GetParam();
  if (tc.name == "CasesFileMissing") {
    FAIL() << "no cases in " << CasesPath();
  }
  if (test::ReadFile(CorpusPath("MANIFEST.md")).empty()) {
    GTEST_SKIP() << "shared test data not found at " << CorpusPath("") << "; conformance not run";
  }
  std::string context = "case " + tc.name + " files:";
  for (const CaseFile& file : tc.files) {
    context += " " + file.path;
  }
  for (const std::string& note : tc.notes) {
    context += "\n  note: " + note;
  }
  SCOPED_TRACE(context);

  Decoder decoder(DecoderOptions{});
  test::CollectingSink sink;
  flow::BatchWriter writer(sink);
  std::vector<std::string> errors;
  auto decode = [&](const flow::Datagram& datagram, const std::string& where) {
    const DecodeOutcome outcome = decoder.Decode(datagram, writer);
    if (outcome.error) {
      errors.push_back(where + ": " + std::string(Name(outcome.error->kind)) + " at byte " +
                       std::to_string(outcome.error->byte_offset));
    }
  };
  for (const CaseFile& file : tc.files) {
    const std::string path = CorpusPath(file.path);
    if (tc.split == "ipfix_messages") {
      // IPFIX File (RFC 5655): messages back to back, each with its length at offset 2.
      const std::vector<std::uint8_t> bytes = test::ReadFile(path);
      ASSERT_FALSE(bytes.empty()) << path;
      std::size_t pos = 0;
      int message = 0;
      while (pos + 16 <= bytes.size()) {
        const std::size_t length = (std::size_t{bytes[pos + 2]} << 8) | bytes[pos + 3];
        if (length < 16 || pos + length > bytes.size()) {
          errors.push_back(file.path + ": bad IPFIX message length at file offset " + std::to_string(pos));
          break;
        }
        flow::Datagram datagram = test::MakeDatagram(
            std::span<const std::uint8_t>(bytes.data() + pos, length), kRawTimeReceived);
        decode(datagram, file.path + " message " + std::to_string(message));
        pos += length;
        ++message;
      }
      continue;
    }
    net::CaptureOptions options;
    options.raw_time_received = kRawTimeReceived;
    if (!file.exporter.empty()) {
      options.raw_exporter = *flow::IpAddress::Parse(file.exporter);
    }
    int datagram_no = 0;
    const auto read = net::ReadCapture(path, options, [&](const flow::Datagram& datagram, std::uint16_t) {
      decode(datagram, file.path + " datagram " + std::to_string(datagram_no));
      ++datagram_no;
    });
    ASSERT_TRUE(read.has_value()) << "cannot read " << path;
  }
  writer.Flush();

  std::uint64_t option_records = 0;
  std::uint64_t counter_samples = 0;
  std::uint64_t sets_without_template = 0;
  std::uint64_t counted_errors = 0;
  decoder.exporters().ForEach([&](const ExporterState& exporter) {
    option_records += exporter.counters.option_records;
    counter_samples += exporter.counters.counter_samples;
    sets_without_template += exporter.counters.sets_without_template;
    counted_errors += exporter.counters.ErrorTotal();
  });
  std::string error_list;
  for (const std::string& error : errors) {
    error_list += "\n  " + error;
  }

  if (tc.errors == "none") {
    EXPECT_TRUE(errors.empty() && counted_errors == 0)
        << "decode errors (expected none):" << error_list << "\n  counted: " << counted_errors;
  } else if (tc.errors == "expected") {
    EXPECT_TRUE(!errors.empty() || counted_errors > 0) << "expected a counted decode error, got none";
  }
  EXPECT_TRUE(tc.records.Holds(sink.size()))
      << "flow records: expected " << tc.records.ToString() << ", got " << sink.size();
  EXPECT_TRUE(tc.options.Holds(option_records))
      << "options records: expected " << tc.options.ToString() << ", got " << option_records;
  EXPECT_TRUE(tc.counters.Holds(counter_samples))
      << "counter samples: expected " << tc.counters.ToString() << ", got " << counter_samples;
  EXPECT_TRUE(tc.sets_without_template.Holds(sets_without_template))
      << "sets without template: expected " << tc.sets_without_template.ToString() << ", got "
      << sets_without_template;

  std::vector<FieldMap> records;
  records.reserve(sink.size());
  for (std::size_t idx = 0; idx < sink.size(); ++idx) {
    records.push_back(RecordFields(sink, idx));
  }
  int reported = 0;
  int unreported = 0;
  auto report = [&](const std::string& message) {
    if (reported < kMaxReportedMismatches) {
      ADD_FAILURE() << message;
      ++reported;
    } else {
      ++unreported;
    }
  };
  std::vector<bool> matched(records.size(), false);
  for (const Check& check : tc.checks) {
    switch (check.kind) {
      case Check::Kind::kRecord: {
        if (check.index >= records.size()) {
          report("record " + std::to_string(check.index) + ": not decoded (" +
                 std::to_string(records.size()) + " records); wanted: " + check.text);
          break;
        }
        const FieldMap& record = records[check.index];
        for (const auto& [field, expected] : check.fields) {
          if (!ValueMatches(record, field, expected)) {
            report("record " + std::to_string(check.index) + " field " + field + ": expected " + expected +
                   ", got " + Got(record, field));
          }
        }
        break;
      }
      case Check::Kind::kMatch: {
        std::size_t best = records.size();
        std::size_t best_score = 0;
        bool found = false;
        for (std::size_t idx = 0; idx < records.size() && !found; ++idx) {
          if (matched[idx]) {
            continue;
          }
          std::size_t score = 0;
          for (const auto& [field, expected] : check.fields) {
            score += ValueMatches(records[idx], field, expected) ? 1 : 0;
          }
          if (score == check.fields.size()) {
            matched[idx] = true;
            found = true;
          } else if (best == records.size() || score > best_score) {
            best = idx;
            best_score = score;
          }
        }
        if (!found) {
          std::string diff;
          if (best < records.size()) {
            for (const auto& [field, expected] : check.fields) {
              if (!ValueMatches(records[best], field, expected)) {
                diff += " " + field + ": expected " + expected + " got " + Got(records[best], field) + ";";
              }
            }
          }
          report("no record matches `" + check.text + "`; closest unmatched record " +
                 (best < records.size() ? std::to_string(best) : std::string("(none)")) + ":" + diff);
        }
        break;
      }
      case Check::Kind::kSum: {
        std::map<std::string, std::uint64_t> totals;
        std::size_t contributing = 0;
        for (const FieldMap& record : records) {
          bool selected = true;
          for (const auto& [field, expected] : check.filter) {
            selected = selected && ValueMatches(record, field, expected);
          }
          if (!selected) {
            continue;
          }
          ++contributing;
          for (const auto& [field, expected] : check.fields) {
            totals[field] += ToNumber(Got(record, field) == "(absent)" ? "" : Got(record, field));
          }
        }
        for (const auto& [field, expected] : check.fields) {
          if (std::to_string(totals[field]) != expected) {
            report("`" + check.text + "`: " + field + " expected " + expected + ", got " +
                   std::to_string(totals[field]) + " over " + std::to_string(contributing) + " records");
          }
        }
        break;
      }
    }
  }
  if (unreported > 0) {
    ADD_FAILURE() << unreported << " further field mismatches not shown";
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, ConformanceTest, testing::ValuesIn(LoadCases()),
                         [](const testing::TestParamInfo<ConformanceCase>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace sluice::decode
