// SPDX-License-Identifier: Apache-2.0

#include "api/query_endpoints.h"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/json_text.h"

#include "flow/field.h"
#include "query/number_format.h"
#include "query/output.h"
#include "query/stat_names.h"

namespace sluice::api {
namespace {

using nlohmann::json;

constexpr std::int64_t kMaxSteps = 10'000;

std::string ShellQuote(const std::string& arg) {
  bool plain = !arg.empty();
  for (const char c : arg) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    plain &= word || c == '-' || c == '_' || c == '.' || c == '/' || c == ':' || c == ',' || c == '=';
  }
  if (plain) {
    return arg;
  }
  std::string quoted = "'";
  for (const char c : arg) {
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return quoted + "'";
}

// The time window as `sluice query -t` takes it.
std::string WindowArg(const query::TimeWindow& window) {
  return query::FormatIsoTime(window.from_ms) + "/" + query::FormatIsoTime(window.to_ms);
}

// A grouped key as text: addresses as text, other values as numbers.
std::string KeyText(const query::KeyField& field, const query::KeyValue& value) {
  if (flow::Info(field.field).type == flow::FieldType::kIpAddress) {
    std::string text = value.address.ToString();
    const std::string suffix = query::PrefixSuffix(field, value.address.IsV4());
    return text + suffix;
  }
  return std::to_string(value.number);
}

// A RecordSink that drops the first `skip` records and passes on the rest.
class SkippingSink final : public query::RecordSink {
 public:
  SkippingSink(std::uint64_t skip, query::RecordSink& next) : skip_(skip), next_(next) {}

  bool Consume(const flow::FlowBatch& batch, std::span<const std::uint32_t> rows) override {
    if (skip_ >= rows.size()) {
      skip_ -= rows.size();
      return true;
    }
    rows = rows.subspan(static_cast<std::size_t>(skip_));
    skip_ = 0;
    passed_ += rows.size();
    return next_.Consume(batch, rows);
  }

  std::vector<flow::FieldId> Fields() const override { return next_.Fields(); }

  std::uint64_t passed() const { return passed_; }

 private:
  std::uint64_t skip_;
  query::RecordSink& next_;
  std::uint64_t passed_ = 0;
};

}  // namespace

std::string CommandLineOf(const std::vector<std::string>& args) {
  std::string line = "sluice query";
  for (const std::string& arg : args) {
    line += " " + ShellQuote(arg);
  }
  return line;
}

ApiResult<Body> GenericQuery(const QueryContext& context, const RequestParams& params) {
  if (auto known = params.CheckKnown({"filter", "from", "to", "period", "stat", "aggregate", "order",
                                      "limit", "bucket", "format", "distinct"});
      !known) {
    return tl::unexpected(known.error());
  }
  auto window = ParseWindow(params, NowMs(context), std::chrono::hours(24));
  if (const auto distinct = params.Get("distinct")) {
    if (*distinct != "true" && *distinct != "false") {
      return tl::unexpected(BadParameter("parameter 'distinct': expected true or false"));
    }
  }
  auto filter = ParseFilterParam(params);
  auto limit = ParseCount(params, "limit", 10, 1, context.max_rows);
  if (!window || !filter || !limit) {
    return tl::unexpected(!window ? window.error() : !filter ? filter.error() : limit.error());
  }
  query::QuerySpec spec;
  spec.window = *window;
  spec.filter = *filter;
  // "distinct": false when the caller does not need the number of distinct keys: a top
  // list of addresses may then be read from the summaries' heads (query/top_by_threshold.h).
  spec.count_distinct = params.Get("distinct").value_or("true") == "true";
  std::vector<std::string> args = {"--data", context.data_dir, "-t", WindowArg(*window)};
  if (const auto stat = params.Get("stat")) {
    // Several statistics are separated by spaces: "srcip/bytes dstport".
    std::string_view rest = *stat;
    while (!rest.empty()) {
      const std::size_t space = rest.find(' ');
      const std::string_view one = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
      if (one.empty()) {
        continue;
      }
      auto parsed = query::ParseStat(one);
      if (!parsed) {
        return tl::unexpected(BadParameter("parameter 'stat': " + std::string(parsed.error().Message())));
      }
      spec.stats.insert(spec.stats.end(), parsed->begin(), parsed->end());
      args.insert(args.end(), {"-s", std::string(one)});
    }
    if (spec.stats.size() > 16) {
      return tl::unexpected(BadParameter("parameter 'stat': at most 16 statistics"));
    }
  }
  if (const auto aggregate = params.Get("aggregate")) {
    auto keys = query::ParseAggregation(*aggregate);
    if (!keys) {
      return tl::unexpected(BadParameter("parameter 'aggregate': " + std::string(keys.error().Message())));
    }
    spec.aggregate = std::move(*keys);
    args.insert(args.end(), {"-A", std::string(*aggregate)});
  }
  if (const auto order = params.Get("order")) {
    auto parsed = query::ParseOrder(*order);
    if (!parsed) {
      return tl::unexpected(BadParameter("parameter 'order': " + std::string(parsed.error().Message())));
    }
    spec.order = *parsed;
    args.insert(args.end(), {"-O", std::string(*order)});
  }
  if (const auto bucket = params.Get("bucket")) {
    auto step = ParsePeriod("bucket", *bucket, std::chrono::hours(24 * 366));
    if (!step) {
      return tl::unexpected(step.error());
    }
    spec.bucket_ms = step->count();
    if ((window->to_ms - window->from_ms) / spec.bucket_ms > kMaxSteps) {
      return tl::unexpected(BadParameter("parameter 'bucket': more than " + std::to_string(kMaxSteps) +
                                         " steps in the window"));
    }
    args.insert(args.end(), {"--bucket", std::string(*bucket)});
  }
  const bool listing = spec.stats.empty() && spec.aggregate.empty() && spec.bucket_ms == 0;
  spec.top_n = *limit;
  if (listing || spec.order) {
    spec.limit = *limit;
    args.insert(args.end(), {"-c", std::to_string(*limit)});
  }
  if (!spec.stats.empty() || spec.order) {
    args.insert(args.end(), {"-n", std::to_string(*limit)});
  }
  query::OutputOptions options;
  options.format = query::OutputFormat::kJson;
  if (const auto format = params.Get("format")) {
    if (*format == "csv") {
      options.format = query::OutputFormat::kCsv;
    } else if (*format != "json") {
      return tl::unexpected(BadParameter("parameter 'format': expected json or csv"));
    }
  }
  options.exact = true;
  args.insert(args.end(), {"-o", options.format == query::OutputFormat::kCsv ? "csv" : "json"});
  if (!spec.filter.empty()) {
    args.push_back(spec.filter);
  }
  std::string out;
  auto writer = query::OutputWriter::CreateForString(spec, options, &out);
  if (!writer) {
    return tl::unexpected(BadParameter(std::string(writer.error().Message())));
  }
  auto result = RunApiQuery(context, spec, listing ? writer->get() : nullptr);
  if (!result) {
    return tl::unexpected(result.error());
  }
  (*writer)->Finish(*result);
  if (options.format == query::OutputFormat::kCsv) {
    return Body{"text/csv; charset=utf-8", std::move(out)};
  }
  return Body{"application/json", "{\"command\":" + JsonText(json(CommandLineOf(args))) + ",\"result\":" + out + "}"};
}

ApiResult<Body> ListFlows(const QueryContext& context, const RequestParams& params) {
  if (auto known = params.CheckKnown({"filter", "from", "to", "period", "limit", "cursor"}); !known) {
    return tl::unexpected(known.error());
  }
  auto window = ParseWindow(params, NowMs(context), std::chrono::hours(1));
  auto filter = ParseFilterParam(params);
  auto limit = ParseCount(params, "limit", 100, 1, context.max_rows);
  if (!window || !filter || !limit) {
    return tl::unexpected(!window ? window.error() : !filter ? filter.error() : limit.error());
  }
  // The cursor is the number of matching flows already handed out, "o" + decimal: pages
  // are stable while the window holds no open segment (new flows join at the end).
  std::uint64_t skip = 0;
  if (const auto cursor = params.Get("cursor")) {
    const std::string_view digits = cursor->substr(cursor->empty() ? 0 : 1);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), skip);
    if (cursor->empty() || cursor->front() != 'o' || digits.empty() || error != std::errc() ||
        end != digits.data() + digits.size() || skip > UINT64_MAX / 4) {
      return tl::unexpected(BadParameter("parameter 'cursor': not a cursor this API handed out"));
    }
  }
  query::QuerySpec spec;
  spec.window = *window;
  spec.filter = *filter;
  spec.limit = skip + *limit;
  query::OutputOptions options;
  options.format = query::OutputFormat::kJson;
  options.exact = true;
  std::string out;
  query::QuerySpec printed = spec;
  printed.limit = *limit;
  auto writer = query::OutputWriter::CreateForString(printed, options, &out);
  if (!writer) {
    return tl::unexpected(BadParameter(std::string(writer.error().Message())));
  }
  SkippingSink sink(skip, **writer);
  auto result = RunApiQuery(context, spec, &sink);
  if (!result) {
    return tl::unexpected(result.error());
  }
  (*writer)->Finish(*result);
  json next = nullptr;
  if (sink.passed() >= *limit) {
    next = "o" + std::to_string(skip + *limit);
  }
  return Body{"application/json", "{\"next_cursor\":" + JsonText(next) + ",\"result\":" + out + "}"};
}

ApiResult<Body> Series(const QueryContext& context, const RequestParams& params) {
  if (auto known = params.CheckKnown({"metric", "filter", "from", "to", "period", "step", "group", "top"});
      !known) {
    return tl::unexpected(known.error());
  }
  auto window = ParseWindow(params, NowMs(context), std::chrono::hours(24));
  auto filter = ParseFilterParam(params);
  auto top = ParseCount(params, "top", 5, 1, 50);
  if (!window || !filter || !top) {
    return tl::unexpected(!window ? window.error() : !filter ? filter.error() : top.error());
  }
  const std::string metric(params.Get("metric").value_or("bytes"));
  if (metric != "bytes" && metric != "packets" && metric != "flows") {
    return tl::unexpected(BadParameter("parameter 'metric': expected bytes, packets or flows"));
  }
  // Default step: about 300 points over the window, at least a minute.
  std::int64_t step_ms = std::max<std::int64_t>(60'000, (window->to_ms - window->from_ms) / 300 / 60'000 * 60'000);
  if (const auto step = params.Get("step")) {
    auto parsed = ParsePeriod("step", *step, std::chrono::hours(24 * 366));
    if (!parsed) {
      return tl::unexpected(parsed.error());
    }
    step_ms = parsed->count();
  }
  const std::int64_t first = window->from_ms - (window->from_ms % step_ms + step_ms) % step_ms;
  const std::int64_t steps = (window->to_ms - first) / step_ms + 1;
  if (steps > kMaxSteps) {
    return tl::unexpected(BadParameter("the window holds " + std::to_string(steps) + " steps; at most " +
                                       std::to_string(kMaxSteps) + ": widen 'step'"));
  }
  query::QuerySpec spec;
  spec.window = *window;
  spec.filter = *filter;
  spec.bucket_ms = step_ms;
  if (const auto group = params.Get("group")) {
    auto keys = query::ParseAggregation(*group);
    if (!keys) {
      return tl::unexpected(BadParameter("parameter 'group': " + std::string(keys.error().Message())));
    }
    spec.bucket_group = std::move(*keys);
    spec.bucket_group_top = *top;
  }
  auto result = RunApiQuery(context, spec);
  if (!result) {
    return tl::unexpected(result.error());
  }
  auto value = [&](const query::Counters& counters) {
    const std::uint64_t n = metric == "bytes" ? counters.bytes : metric == "packets" ? counters.packets
                                                                                     : counters.flows;
    return static_cast<double>(n) * 1000.0 / static_cast<double>(step_ms);
  };
  // One line per group (in the engine's rank order), every step present.
  struct Line {
    json key;
    std::string name;
    bool other = false;
    std::vector<double> points;
  };
  std::vector<Line> lines;
  std::map<std::string, std::size_t> line_of;
  for (const query::SeriesPoint& point : result->series) {
    std::string name = "total";
    json key = nullptr;
    if (point.other) {
      name = "other";
    } else if (!point.group.empty()) {
      name.clear();
      key = json::object();
      for (std::size_t idx = 0; idx < point.group.size(); ++idx) {
        const std::string text = KeyText(spec.bucket_group[idx], point.group[idx]);
        name += (name.empty() ? "" : " ") + text;
        key[std::string(flow::Info(spec.bucket_group[idx].field).name)] = text;
      }
    }
    auto [found, added] = line_of.emplace(name, lines.size());
    if (added) {
      lines.push_back({key, name, point.other, std::vector<double>(static_cast<std::size_t>(steps), 0.0)});
    }
    const std::int64_t idx = (point.bucket_start_ms - first) / step_ms;
    if (idx >= 0 && idx < steps) {
      lines[found->second].points[static_cast<std::size_t>(idx)] += value(point.counters);
    }
  }
  // "other" last.
  std::stable_partition(lines.begin(), lines.end(), [](const Line& line) { return !line.other; });
  json series = json::array();
  for (const Line& line : lines) {
    json points = json::array();
    for (std::int64_t idx = 0; idx < steps; ++idx) {
      points.push_back({first + idx * step_ms, line.points[static_cast<std::size_t>(idx)]});
    }
    json item = {{"name", line.name}, {"points", std::move(points)}};
    if (!line.key.is_null()) {
      item["key"] = line.key;
    }
    if (line.other) {
      item["other"] = true;
    }
    series.push_back(std::move(item));
  }
  return Body{"application/json", JsonText(json{{"metric", metric},
                                       {"step_s", step_ms / 1000},
                                       {"from", query::FormatIsoTime(window->from_ms)},
                                       {"to", query::FormatIsoTime(window->to_ms)},
                                       {"series", std::move(series)}})};
}

}  // namespace sluice::api
