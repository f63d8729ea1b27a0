// SPDX-License-Identifier: Apache-2.0
// Fuzzes what an API request carries: the input's first byte picks an endpoint, the rest
// is a query string ("name=value&...", %-escapes not decoded) turned into RequestParams
// and answered against an empty store (every parameter parser and the filter parser run;
// a valid request runs a query over nothing). The same bytes are also posted to the HTTP
// ingest path as export packets.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "api/http_ingest.h"
#include "api/netflow_endpoints.h"
#include "api/query_endpoints.h"
#include "api/request_params.h"
#include "fuzz_util.h"

namespace {

sluice::api::RequestParams ParamsOf(std::string_view text) {
  sluice::api::RequestParams params;
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    params.Set(std::string(pair.substr(0, eq)),
               eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1)));
  }
  return params;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::api;
  if (size == 0) {
    return 0;
  }
  static HttpIngest ingest(sluice::decode::DecoderOptions{}, std::make_unique<sluice::fuzz::DiscardSink>());
  QueryContext context;
  context.data_dir = "/nonexistent/sluice-fuzz-store";
  context.threads = 1;
  context.now_ms = [] { return std::int64_t{1'700'000'000'000}; };
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const RequestParams params = ParamsOf(text);
  switch (data[0] % 8) {
    case 0: (void)TopTalkers(context, params); break;
    case 1: (void)BandwidthTrend(context, params); break;
    case 2: (void)ProtocolBreakdown(context, params); break;
    case 3: (void)SubscriberUsage(context, text.substr(0, text.find('&')), params); break;
    case 4: (void)GenericQuery(context, params); break;
    case 5: (void)ListFlows(context, params); break;
    case 6: (void)Series(context, params); break;
    default: {
      sluice::flow::IpAddress exporter;
      (void)ingest.Ingest(exporter, 1'700'000'000'000, std::span<const std::uint8_t>(data + 1, size - 1));
      break;
    }
  }
  return 0;
}
