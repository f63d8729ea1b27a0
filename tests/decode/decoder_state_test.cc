// SPDX-License-Identifier: Apache-2.0

#include "decode/decoder_state.h"

#include <gtest/gtest.h>

#include <vector>

#include "testing/collecting_sink.h"
#include "testing/hex.h"

namespace sluice::decode {
namespace {

// A NetFlow v9 datagram with one template (id 256: IPv4 src, dst, octets, packets).
std::vector<std::uint8_t> TemplateDatagram() {
  return test::Hex(R"(
    0009 0001 00002710 6553f100 00000001 00000007
    0000 0018 0100 0004  0008 0004 000c 0004 0001 0004 0002 0004
  )");
}

// The matching data datagram: one record 10.0.0.1 -> 10.0.0.2, 1000 bytes, 10 packets.
std::vector<std::uint8_t> DataDatagram() {
  return test::Hex(R"(
    0009 0001 00002710 6553f100 00000002 00000007
    0100 0014 0a000001 0a000002 000003e8 0000000a
  )");
}

TEST(DecoderStateTest, RestartedDecoderDecodesDataWithSavedTemplates) {
  const auto templates = TemplateDatagram();
  const auto data = DataDatagram();
  Decoder before(DecoderOptions{});
  test::CollectingSink sink;
  flow::BatchWriter writer(sink);
  (void)before.Decode(test::MakeDatagram(templates), writer);
  const Decoder* decoders[] = {&before};
  const std::string state = SerializeDecoderState(decoders);

  Decoder after(DecoderOptions{});
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(state.data()),
                                            state.size());
  ASSERT_TRUE(RestoreDecoderState(bytes, [&after](const flow::IpAddress&) -> Decoder& {
    return after;
  }));
  (void)after.Decode(test::MakeDatagram(data), writer);
  writer.Flush();
  ASSERT_EQ(sink.size(), 1u);
  EXPECT_EQ(sink[0].cols().bytes[sink[0].row], 1000u);
  EXPECT_EQ(sink[0].cols().dst_addr[sink[0].row].ToString(), "10.0.0.2");
}

TEST(DecoderStateTest, RefusesCorruptFiles) {
  Decoder decoder(DecoderOptions{});
  test::CollectingSink sink;
  flow::BatchWriter writer(sink);
  const auto templates = TemplateDatagram();
  (void)decoder.Decode(test::MakeDatagram(templates), writer);
  const Decoder* decoders[] = {&decoder};
  std::string state = SerializeDecoderState(decoders);
  auto owner = [&decoder](const flow::IpAddress&) -> Decoder& { return decoder; };
  for (std::size_t pos = 0; pos < state.size(); ++pos) {
    std::string corrupt = state;
    corrupt[pos] = static_cast<char>(corrupt[pos] ^ 0x5a);
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(corrupt.data()),
                                              corrupt.size());
    EXPECT_FALSE(RestoreDecoderState(bytes, owner)) << "byte " << pos;
  }
  for (std::size_t length = 0; length < state.size(); ++length) {
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(state.data()),
                                              length);
    EXPECT_FALSE(RestoreDecoderState(bytes, owner)) << "length " << length;
  }
}

}  // namespace
}  // namespace sluice::decode
