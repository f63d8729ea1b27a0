// SPDX-License-Identifier: Apache-2.0
// Fuzzes the protocol dispatcher and every decoder behind it with single datagrams.

#include <cstddef>
#include <cstdint>

#include "decode/decoder.h"
#include "flow/flow_sink.h"
#include "fuzz_util.h"

using sluice::fuzz::DiscardSink;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::decode::Decoder decoder(sluice::decode::DecoderOptions{});
  DiscardSink sink;
  sluice::flow::BatchWriter writer(sink);
  sluice::flow::Datagram datagram;
  datagram.exporter = sluice::flow::IpAddress::FromV4(0xC0000201);
  datagram.time_received = 1'700'000'000'000;
  datagram.payload = {data, size};
  // Any input may fail to decode; none may crash, leak, read out of bounds or trip UBSan.
  (void)decoder.Decode(datagram, writer);
  writer.Flush();
  return 0;
}
