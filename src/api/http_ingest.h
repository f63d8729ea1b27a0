// SPDX-License-Identifier: Apache-2.0
// HttpIngest: POST /api/v1/netflow/v5-ingest. A body holds one or more export packets
// back to back (NetFlow v5 and IPFIX carry their own lengths; a NetFlow v9 or sFlow
// packet must be the last, or only, one); each is decoded by the same decoders as UDP
// datagrams and the records go to the same store. Templates sent this way are kept
// apart from those received over UDP (this decoder's own exporter table), keyed by the
// exporter address the request names (or the client's address).
//
// Thread-safety: Ingest() may be called from any thread; calls are serialized.

#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "api/api_error.h"
#include "decode/decoder.h"
#include "flow/flow_sink.h"
#include "flow/ip_address.h"

namespace sluice::api {

struct IngestReport {
  std::uint64_t packets = 0;
  std::uint64_t records = 0;
  std::uint64_t decode_errors = 0;
  std::string first_error;  // the first decode error's reason ("" when none)
};

class HttpIngest {
 public:
  HttpIngest(decode::DecoderOptions options, std::unique_ptr<flow::FlowSink> sink);

  // Decodes every packet of `body`; the records are handed to the sink before it returns.
  // A body that does not start with a known export packet is a 400.
  ApiResult<IngestReport> Ingest(const flow::IpAddress& exporter, std::int64_t now_ms,
                                 std::span<const std::uint8_t> body);

 private:
  std::mutex mutex_;
  decode::Decoder decoder_;
  std::unique_ptr<flow::FlowSink> sink_;
  flow::BatchWriter writer_;
};

// Where the next packet of `body` ends: its length from its header (v5: 24 + 48 per
// record, IPFIX: the header's length), or the whole rest for the formats that do not say.
// 0 when `body` does not begin with a recognisable packet.
std::size_t NextPacketLength(std::span<const std::uint8_t> body);

}  // namespace sluice::api
