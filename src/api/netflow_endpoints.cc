// SPDX-License-Identifier: Apache-2.0

#include "api/netflow_endpoints.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/json_text.h"

#include "flow/field.h"
#include "query/number_format.h"

namespace sluice::api {
namespace {

using nlohmann::json;
using flow::FieldId;

constexpr std::uint64_t kMaxLimit = 1000;
constexpr std::int64_t kMaxSteps = 10'000;

// "(A) and (B)" without empty parts.
std::string Both(const std::string& a, const std::string& b) {
  if (a.empty()) {
    return b;
  }
  if (b.empty()) {
    return a;
  }
  return "(" + a + ") and (" + b + ")";
}

// "src net 10.0.0.0/8 or src net 2001:db8::/32"
std::string AnyNet(std::string_view side, const std::vector<std::string>& networks) {
  std::string text;
  for (const std::string& network : networks) {
    text += (text.empty() ? "" : " or ") + std::string(side) + " net " + network;
  }
  return text;
}

std::string ProtocolText(std::uint64_t number) {
  const std::string_view name = query::ProtocolName(number);
  return name.empty() ? std::to_string(number) : std::string(name);
}

double Percent(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

query::StatSpec Stat(std::string name, std::vector<query::KeyField> key) {
  query::StatSpec stat;
  stat.name = std::move(name);
  stat.key = std::move(key);
  stat.order = query::OrderBy::kBytes;
  return stat;
}

}  // namespace

ApiResult<std::string> TopTalkers(const QueryContext& context, const RequestParams& params) {
  if (auto known = params.CheckKnown({"period", "from", "to", "limit", "filter"}); !known) {
    return tl::unexpected(known.error());
  }
  auto window = ParseWindow(params, NowMs(context), std::chrono::hours(24));
  auto limit = ParseCount(params, "limit", 10, 1, kMaxLimit);
  auto filter = ParseFilterParam(params);
  if (!window || !limit || !filter) {
    return tl::unexpected(!window ? window.error() : !limit ? limit.error() : filter.error());
  }
  query::QuerySpec spec;
  spec.window = *window;
  spec.filter = *filter;
  spec.top_n = *limit;
  spec.stats.push_back(Stat("srcip", {{FieldId::kSrcAddr}}));
  auto result = RunApiQuery(context, std::move(spec));
  if (!result) {
    return tl::unexpected(result.error());
  }
  const query::StatTable& table = result->stats.front();
  json items = json::array();
  for (const query::GroupRow& row : table.rows) {
    items.push_back({{"src_ip", row.key[0].address.ToString()},
                     {"bytes_sent", row.counters.bytes},
                     {"packets", row.counters.packets},
                     {"flows", row.counters.flows}});
  }
  return JsonText(json{{"items", std::move(items)}, {"total", table.distinct}});
}

ApiResult<std::string> BandwidthTrend(const QueryContext& context, const RequestParams& params) {
  if (auto known = params.CheckKnown({"period", "from", "to", "interval", "filter"}); !known) {
    return tl::unexpected(known.error());
  }
  auto window = ParseWindow(params, NowMs(context), std::chrono::hours(24));
  auto filter = ParseFilterParam(params);
  if (!window || !filter) {
    return tl::unexpected(!window ? window.error() : filter.error());
  }
  std::chrono::milliseconds step = std::chrono::hours(1);
  if (const auto interval = params.Get("interval")) {
    auto parsed = ParsePeriod("interval", *interval, std::chrono::hours(24 * 366));
    if (!parsed) {
      return tl::unexpected(parsed.error());
    }
    step = *parsed;
  }
  const std::int64_t step_ms = step.count();
  const std::int64_t first_bucket = window->from_ms - (window->from_ms % step_ms + step_ms) % step_ms;
  const std::int64_t steps = (window->to_ms - first_bucket) / step_ms + 1;
  if (steps > kMaxSteps) {
    return tl::unexpected(BadParameter("the window holds " + std::to_string(steps) + " steps of " +
                                       std::to_string(step_ms / 1000) + " s; at most " +
                                       std::to_string(kMaxSteps) + ": widen 'interval'"));
  }

  struct Point {
    std::uint64_t in = 0, out = 0, internal = 0, external = 0, bytes = 0, packets = 0;
  };
  std::map<std::int64_t, Point> points;
  for (std::int64_t bucket = first_bucket; bucket <= window->to_ms; bucket += step_ms) {
    points[bucket];
  }
  // One series for everything, then one per direction when local networks are set.
  enum class Part { kAll, kIn, kOut, kInternal };
  std::vector<std::pair<Part, std::string>> parts = {{Part::kAll, *filter}};
  if (!context.local_networks.empty()) {
    const std::string src_local = AnyNet("src", context.local_networks);
    const std::string dst_local = AnyNet("dst", context.local_networks);
    parts.emplace_back(Part::kIn, Both(*filter, "(" + dst_local + ") and not (" + src_local + ")"));
    parts.emplace_back(Part::kOut, Both(*filter, "(" + src_local + ") and not (" + dst_local + ")"));
    parts.emplace_back(Part::kInternal, Both(*filter, "(" + src_local + ") and (" + dst_local + ")"));
  }
  for (const auto& [part, text] : parts) {
    query::QuerySpec spec;
    spec.window = *window;
    spec.filter = text;
    spec.bucket_ms = step_ms;
    auto result = RunApiQuery(context, std::move(spec));
    if (!result) {
      return tl::unexpected(result.error());
    }
    for (const query::SeriesPoint& point : result->series) {
      Point& into = points[point.bucket_start_ms];
      switch (part) {
        case Part::kAll:
          into.bytes += point.counters.bytes;
          into.packets += point.counters.packets;
          break;
        case Part::kIn: into.in += point.counters.bytes; break;
        case Part::kOut: into.out += point.counters.bytes; break;
        case Part::kInternal: into.internal += point.counters.bytes; break;
      }
    }
  }
  json items = json::array();
  for (auto& [bucket, point] : points) {
    point.external = point.bytes - std::min(point.bytes, point.in + point.out + point.internal);
    items.push_back({{"timestamp", query::FormatIsoTime(bucket)},
                     {"bytes_in", point.in},
                     {"bytes_out", point.out},
                     {"bytes_internal", point.internal},
                     {"bytes_external", point.external},
                     {"bytes", point.bytes},
                     {"pkts", point.packets}});
  }
  const std::size_t total = items.size();
  return JsonText(json{{"items", std::move(items)},
              {"total", total},
              {"interval_s", step_ms / 1000},
              {"local_networks", context.local_networks}});
}

ApiResult<std::string> ProtocolBreakdown(const QueryContext& context, const RequestParams& params) {
  if (auto known = params.CheckKnown({"period", "from", "to", "nas_id", "limit", "filter"}); !known) {
    return tl::unexpected(known.error());
  }
  auto window = ParseWindow(params, NowMs(context), std::chrono::hours(24 * 7));
  auto limit = ParseCount(params, "limit", 20, 1, kMaxLimit);
  auto filter = ParseFilterParam(params);
  if (!window || !limit || !filter) {
    return tl::unexpected(!window ? window.error() : !limit ? limit.error() : filter.error());
  }
  std::string text = *filter;
  if (const auto nas = params.Get("nas_id")) {
    auto id = ParseIdentifier("nas_id", *nas);
    if (!id) {
      return tl::unexpected(id.error());
    }
    text = Both(text, "site \"" + *id + "\"");
  }
  query::QuerySpec spec;
  spec.window = *window;
  spec.filter = text;
  spec.top_n = *limit;
  spec.stats.push_back(Stat("proto-dstport", {{FieldId::kProto}, {FieldId::kDstPort}}));
  auto result = RunApiQuery(context, std::move(spec));
  if (!result) {
    return tl::unexpected(result.error());
  }
  const query::StatTable& table = result->stats.front();
  json items = json::array();
  for (const query::GroupRow& row : table.rows) {
    items.push_back({{"protocol", ProtocolText(row.key[0].number)},
                     {"protocol_number", row.key[0].number},
                     {"dst_port", row.key[1].number},
                     {"bytes_pct", Percent(row.counters.bytes, table.total.bytes)},
                     {"packets_pct", Percent(row.counters.packets, table.total.packets)},
                     {"bytes", row.counters.bytes},
                     {"packets", row.counters.packets},
                     {"flows", row.counters.flows}});
  }
  return JsonText(json{{"items", std::move(items)},
              {"total", table.distinct},
              {"bytes_total", table.total.bytes},
              {"packets_total", table.total.packets}});
}

ApiResult<std::string> SubscriberUsage(const QueryContext& context, std::string_view subscriber_id,
                                       const RequestParams& params) {
  if (auto known = params.CheckKnown({"period", "from", "to", "limit"}); !known) {
    return tl::unexpected(known.error());
  }
  auto id = ParseIdentifier("subscriber_id", subscriber_id);
  auto window = ParseWindow(params, NowMs(context), std::chrono::hours(24));
  auto limit = ParseCount(params, "limit", 10, 1, kMaxLimit);
  if (!id || !window || !limit) {
    return tl::unexpected(!id ? id.error() : !window ? window.error() : limit.error());
  }
  query::QuerySpec spec;
  spec.window = *window;
  spec.filter = "subscriber \"" + *id + "\"";
  spec.top_n = *limit;
  spec.stats.push_back(Stat("dstport-proto", {{FieldId::kDstPort}, {FieldId::kProto}}));
  auto result = RunApiQuery(context, std::move(spec));
  if (!result) {
    return tl::unexpected(result.error());
  }
  json ports = json::array();
  for (const query::GroupRow& row : result->stats.front().rows) {
    ports.push_back({{"port", row.key[0].number},
                     {"protocol", ProtocolText(row.key[1].number)},
                     {"bytes", row.counters.bytes}});
  }
  return JsonText(json{{"subscriber_id", *id},
              {"bytes_total", result->totals.bytes},
              {"pkts_total", result->totals.packets},
              {"flows_total", result->totals.flows},
              {"top_ports", std::move(ports)}});
}

}  // namespace sluice::api
