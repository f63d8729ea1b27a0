// SPDX-License-Identifier: Apache-2.0
// Fuzzes ReadCapture() on whole files: pcap/pcapng containers (through libpcap) and raw
// payload files, with every datagram found decoded, as `sluice decode` does.

#include <cstddef>
#include <cstdint>
#include <string>

#include "decode/decoder.h"
#include "fuzz_util.h"
#include "net/capture_reader.h"

using sluice::fuzz::DiscardSink;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sluice::fuzz::MemoryFile file("capture", data, size);
  if (!file.ok()) {
    return 0;
  }
  const std::string path = file.path();
  sluice::decode::Decoder decoder(sluice::decode::DecoderOptions{});
  DiscardSink sink;
  sluice::flow::BatchWriter writer(sink);
  (void)sluice::net::ReadCapture(path, {},
                                 [&](const sluice::flow::Datagram& datagram, std::uint16_t) {
                                   (void)decoder.Decode(datagram, writer);
                                 });
  writer.Flush();
  return 0;
}
