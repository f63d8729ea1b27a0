// SPDX-License-Identifier: Apache-2.0
// DecoderHarness: one Decoder and one CollectingSink for decoder tests, with datagrams
// from 192.0.2.1 (test::MakeDatagram).

#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "decode/decoder.h"
#include "testing/collecting_sink.h"
#include "testing/hex.h"

namespace sluice::test {

struct DecoderHarness {
  explicit DecoderHarness(decode::DecoderOptions options = {}) : decoder(std::move(options)) {}

  // Decodes one datagram, received at `received` (default: time_received), and hands
  // every record to `sink`.
  decode::DecodeOutcome Feed(const std::vector<std::uint8_t>& bytes, std::int64_t received = 0) {
    const decode::DecodeOutcome outcome =
        decoder.Decode(MakeDatagram(bytes, received != 0 ? received : time_received), writer);
    writer.Flush();
    return outcome;
  }

  // Feeds a raw payload file of the shared test data; `path` is relative to flows/.
  decode::DecodeOutcome FeedFile(const std::string& path) {
    files.push_back(ReadFile(SharedTestData("flows/" + path)));
    EXPECT_FALSE(files.back().empty()) << path;
    return Feed(files.back());
  }

  const decode::ExporterState& exporter() const {
    return *decoder.exporters().Find(*flow::IpAddress::Parse("192.0.2.1"));
  }

  const flow::FlowColumns& cols(std::size_t idx) const { return sink[idx].cols(); }

  std::size_t row(std::size_t idx) const { return sink[idx].row; }

  std::int64_t time_received = 1'700'000'000'000;  // ms, for datagrams fed without a time
  decode::Decoder decoder;
  CollectingSink sink;
  flow::BatchWriter writer{sink};
  std::vector<std::vector<std::uint8_t>> files;  // the bytes fed, kept alive
};

}  // namespace sluice::test
