// SPDX-License-Identifier: Apache-2.0
// Fuzzes the stateful part of v9/IPFIX decoding: a stream of datagrams (templates, then
// data, options, withdrawals...) through one decoder, with template expiry and a state
// save/restore in between.
//
// Input: records of [u8 flags][u16 length][length bytes], each one datagram. flags bit 0
// picks the second exporter, bit 1 expires templates before the datagram, bit 2 saves the
// exporter's template state and restores it into itself before the datagram.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "decode/decoder.h"
#include "decode/template_cache.h"
#include "flow/flow_sink.h"
#include "fuzz_util.h"

using sluice::fuzz::DiscardSink;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::decode::DecoderOptions options;
  options.max_templates_per_exporter = 16;
  options.max_pending_sets_per_exporter = 4;
  options.max_pending_bytes_per_exporter = 4096;
  options.template_lifetime_ms = 10'000;
  sluice::decode::Decoder decoder(options);
  DiscardSink sink;
  sluice::flow::BatchWriter writer(sink);
  std::int64_t now = 1'700'000'000'000;
  std::size_t pos = 0;
  while (size - pos >= 3) {
    const std::uint8_t flags = data[pos];
    const std::size_t length = (std::size_t{data[pos + 1]} << 8) | data[pos + 2];
    pos += 3;
    const std::size_t take = length < size - pos ? length : size - pos;
    sluice::flow::Datagram datagram;
    datagram.exporter = sluice::flow::IpAddress::FromV4((flags & 1) != 0 ? 0xC0000202 : 0xC0000201);
    now += 1000;
    datagram.time_received = now;
    datagram.payload = {data + pos, take};
    pos += take;
    if ((flags & 2) != 0) {
      decoder.ExpireTemplates(now + 60'000);
    }
    if ((flags & 4) != 0) {
      decoder.exporters().ForEach([](const sluice::decode::ExporterState& exporter) {
        std::string state;
        exporter.templates.Serialize(state);
        // Restore into a scratch cache: the format must read back what it wrote.
        sluice::decode::DecoderOptions scratch_options;
        sluice::decode::TemplateCache scratch(scratch_options);
        const auto status = scratch.Deserialize(
            {reinterpret_cast<const std::uint8_t*>(state.data()), state.size()});
        if (!status || scratch.size() != exporter.templates.size()) {
          __builtin_trap();
        }
      });
    }
    (void)decoder.Decode(datagram, writer);
  }
  writer.Flush();
  return 0;
}
