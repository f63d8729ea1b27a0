// SPDX-License-Identifier: Apache-2.0
// Fuzzes the IPFIX decoder with single datagrams (the version is forced to 10).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "decode/decoder.h"
#include "flow/flow_sink.h"
#include "fuzz_util.h"

using sluice::fuzz::DiscardSink;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> bytes(data, data + size);
  if (bytes.size() >= 2) {
    bytes[0] = 0;
    bytes[1] = 10;
  }
  sluice::decode::Decoder decoder(sluice::decode::DecoderOptions{});
  DiscardSink sink;
  sluice::flow::BatchWriter writer(sink);
  sluice::flow::Datagram datagram;
  datagram.exporter = sluice::flow::IpAddress::FromV4(0xC0000201);
  datagram.time_received = 1'700'000'000'000;
  datagram.payload = bytes;
  // Twice: the second pass meets the templates the first one learnt.
  (void)decoder.Decode(datagram, writer);
  (void)decoder.Decode(datagram, writer);
  writer.Flush();
  return 0;
}
