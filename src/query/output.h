// SPDX-License-Identifier: Apache-2.0
// OutputWriter: prints what a query returns, in the layouts of `sluice query -o`:
// line, long, extended and fmt:... (nfdump's columns and headers), csv (nfdump's
// column names), json (one document) and ndjson (one object per line). docs/query.md
// describes each; the JSON members are a contract with the test suite and the API.
//
// The writer reads QueryResult and RecordSink rows only; it knows nothing of the
// engine. Listed records are printed as they stream in (Consume()); everything else
// (statistics, aggregated records, series, the summary) when Finish() is called.
//
// Ownership: borrows the FILE (or string) it writes to, which must outlive the writer.
// Thread-safety: none; the engine calls Consume() from one thread at a time (not always
// the same one, each call after the previous returned).

#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "flow/flow_batch.h"
#include "query/query_result.h"
#include "query/query_spec.h"

namespace sluice::query {

enum class OutputFormat : std::uint8_t {
  kLine,      // nfdump -o line (the default)
  kLong,      // nfdump -o long: + flags and tos
  kExtended,  // nfdump -o extended: + pps, bps, bpp
  kCsv,       // nfdump's csv columns, exact numbers, summary block at the end
  kJson,      // one JSON object: summary, stats, records, series
  kNdjson,    // one JSON object per record/row, the summary last
  kFmt,       // nfdump's fmt: tokens (OutputOptions::fmt)
};

struct OutputOptions {
  OutputFormat format = OutputFormat::kLine;
  std::string fmt;          // kFmt: the format text after "fmt:"
  bool exact = false;       // -N: whole numbers instead of "1.2 M"
  bool quiet = false;       // -q: no headers, no summary
  bool local_time = false;  // print times in local time (TZ set) instead of UTC
};

// Parses a -o value ("line", "long", "extended", "csv", "json", "ndjson", "fmt:...")
// into `options`. Unknown formats are kInvalidArgument.
Status ParseOutputFormat(std::string_view text, OutputOptions& options);

class OutputWriter final : public RecordSink {
 public:
  // Writes to `out`. Fails (kInvalidArgument) for an unknown fmt: token.
  static Result<std::unique_ptr<OutputWriter>> Create(const QuerySpec& spec,
                                                      const OutputOptions& options, std::FILE* out);
  // Appends everything to `*out` instead (tests).
  static Result<std::unique_ptr<OutputWriter>> CreateForString(const QuerySpec& spec,
                                                               const OutputOptions& options,
                                                               std::string* out);

  ~OutputWriter() override;
  OutputWriter(const OutputWriter&) = delete;
  OutputWriter& operator=(const OutputWriter&) = delete;

  // Prints listed records (and the header before the first). False once the output
  // cannot be written (closed pipe) or -c records were printed.
  bool Consume(const flow::FlowBatch& batch, std::span<const std::uint32_t> rows) override;

  // The fields the record layout prints (line, long, extended, fmt:); every field for
  // csv, json and ndjson.
  std::vector<flow::FieldId> Fields() const override;

  // Prints statistics, aggregated records, series and the summary. Returns false if the
  // output could not be written.
  bool Finish(const QueryResult& result);

 private:
  struct State;
  explicit OutputWriter(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

}  // namespace sluice::query
