// SPDX-License-Identifier: Apache-2.0
// Fuzzes the sFlow v5 decoder directly (no protocol dispatch, so every input reaches it)
// and the sampled packet-header parser behind it.

#include <cstddef>
#include <cstdint>
#include <span>

#include "decode/decode_context.h"
#include "decode/exporter_state.h"
#include "decode/packet_header.h"
#include "decode/sflow.h"
#include "flow/flow_sink.h"
#include "fuzz_util.h"

using sluice::fuzz::DiscardSink;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using sluice::decode::DecodeContext;
  using sluice::decode::DecoderOptions;
  using sluice::decode::ExporterState;
  // The batch is large; keep one and hand it back empty after every input.
  static const DecoderOptions options;
  static DiscardSink sink;
  static sluice::flow::BatchWriter writer(sink);

  ExporterState exporter(sluice::flow::IpAddress::FromV4(0xC0000201), options);
  sluice::flow::Datagram datagram;
  datagram.exporter = exporter.address;
  datagram.time_received = 1'700'000'000'000;
  datagram.payload = {data, size};
  DecodeContext ctx{datagram, exporter, options, writer, 0};
  // Any input may fail to decode; none may crash, read out of bounds or trip UBSan.
  (void)sluice::decode::DecodeSflowV5(ctx);
  writer.Flush();

  // The same bytes as a sampled header of each supported header_protocol.
  const std::size_t row = writer.batch().AppendRow();
  for (const std::uint32_t protocol : {1u, 11u, 12u, 13u}) {
    (void)sluice::decode::ParsePacketHeader(protocol, std::span(data, size), writer.cols(), row);
  }
  writer.batch().Clear();
  return 0;
}
