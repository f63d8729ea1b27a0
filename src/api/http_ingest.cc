// SPDX-License-Identifier: Apache-2.0

#include "api/http_ingest.h"

#include <utility>

#include "decode/decode_error.h"
#include "flow/datagram.h"

namespace sluice::api {

std::size_t NextPacketLength(std::span<const std::uint8_t> body) {
  if (body.size() < 4) {
    return 0;
  }
  const unsigned version = (unsigned{body[0]} << 8) | body[1];
  const std::size_t second = (std::size_t{body[2]} << 8) | body[3];
  switch (version) {
    case 5: {
      const std::size_t length = 24 + 48 * second;
      return second == 0 || length > body.size() ? 0 : length;
    }
    case 10:
      return second < 16 || second > body.size() ? 0 : second;
    case 9:
      return body.size();
    default:
      // sFlow v5 starts with a 32-bit version.
      return version == 0 && second == 5 ? body.size() : 0;
  }
}

HttpIngest::HttpIngest(decode::DecoderOptions options, std::unique_ptr<flow::FlowSink> sink)
    : decoder_(std::move(options)), sink_(std::move(sink)), writer_(*sink_) {}

ApiResult<IngestReport> HttpIngest::Ingest(const flow::IpAddress& exporter, std::int64_t now_ms,
                                           std::span<const std::uint8_t> body) {
  if (NextPacketLength(body) == 0) {
    return tl::unexpected(ApiError{400, "bad_body",
                                   "the body does not start with a NetFlow v5/v9, IPFIX or sFlow v5 "
                                   "export packet (send the packets' bytes, Content-Type "
                                   "application/octet-stream)",
                                   std::nullopt});
  }
  std::lock_guard lock(mutex_);
  IngestReport report;
  while (!body.empty()) {
    const std::size_t length = NextPacketLength(body);
    if (length == 0) {
      ++report.decode_errors;
      if (report.first_error.empty()) {
        report.first_error = "trailing bytes after packet " + std::to_string(report.packets) +
                             " are not an export packet";
      }
      break;
    }
    flow::Datagram datagram;
    datagram.exporter = exporter;
    datagram.time_received = now_ms;
    datagram.payload = body.first(length);
    const decode::DecodeOutcome outcome = decoder_.Decode(datagram, writer_);
    ++report.packets;
    report.records += outcome.records;
    if (outcome.error) {
      ++report.decode_errors;
      if (report.first_error.empty()) {
        report.first_error = std::string(decode::Name(outcome.error->kind)) + " at byte " +
                             std::to_string(outcome.error->byte_offset) + " of packet " +
                             std::to_string(report.packets);
      }
    }
    body = body.subspan(length);
  }
  writer_.Flush();
  return report;
}

}  // namespace sluice::api
