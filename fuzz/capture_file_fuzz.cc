// SPDX-License-Identifier: Apache-2.0
// Fuzzes ReadCapture() on whole files: pcap/pcapng containers (through libpcap) and raw
// payload files, with every datagram found decoded, as `sluice decode` does.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "decode/decoder.h"
#include "fuzz_util.h"
#include "net/capture_reader.h"

using sluice::fuzz::DiscardSink;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An in-memory file that ReadCapture can open by path.
  const int fd = memfd_create("capture", MFD_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  std::size_t written = 0;
  while (written < size) {
    const ssize_t result = write(fd, data + written, size - written);
    if (result <= 0) {
      close(fd);
      return 0;
    }
    written += static_cast<std::size_t>(result);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  sluice::decode::Decoder decoder(sluice::decode::DecoderOptions{});
  DiscardSink sink;
  sluice::flow::BatchWriter writer(sink);
  (void)sluice::net::ReadCapture(path, {},
                                 [&](const sluice::flow::Datagram& datagram, std::uint16_t) {
                                   (void)decoder.Decode(datagram, writer);
                                 });
  writer.Flush();
  close(fd);
  return 0;
}
