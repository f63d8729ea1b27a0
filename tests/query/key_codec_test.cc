// SPDX-License-Identifier: Apache-2.0
// KeyCodec (every batch capacity holds the 2 rows used here): per-flow masks (nfdump -A srcnet/dstnet) and next hops without an element.

#include <algorithm>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "flow/flow_batch.h"
#include "flow/ip_address.h"
#include "query/group_table.h"

namespace sluice::query::internal {
namespace {

using flow::FieldId;
using flow::IpAddress;

std::vector<std::uint64_t> EncodeAll(const KeyCodec& codec, const flow::FlowBatch& batch) {
  std::vector<std::uint32_t> rows(batch.size());
  for (std::uint32_t row = 0; row < rows.size(); ++row) {
    rows[row] = row;
  }
  std::vector<std::uint64_t> keys(batch.size() * codec.words());
  codec.Encode(batch, rows.data(), rows.size(), keys.data(), codec.words(), 0);
  return keys;
}

IpAddress DecodedAddress(const KeyCodec& codec, const std::vector<std::uint64_t>& keys,
                         std::size_t row) {
  return codec.Decode(keys.data() + row * codec.words())[0].address;
}

TEST(KeyCodecTest, FlowMaskCutsEachAddressToItsOwnMask) {
  flow::FlowBatch batch;
  auto add = [&](IpAddress src, std::uint8_t src_mask, IpAddress dst, std::uint8_t dst_mask) {
    const std::size_t row = batch.AppendRow();
    batch.cols().src_addr[row] = src;
    batch.cols().src_mask[row] = src_mask;
    batch.cols().dst_addr[row] = dst;
    batch.cols().dst_mask[row] = dst_mask;
  };
  const IpAddress v6 = *IpAddress::Parse("2001:db8:1234:5678::1");
  add(*IpAddress::Parse("10.1.2.3"), 24, *IpAddress::Parse("192.168.7.9"), 16);
  add(*IpAddress::Parse("10.1.2.3"), 0, v6, 48);  // mask 0: the whole address

  KeyField src{FieldId::kSrcAddr};
  src.flow_mask = true;
  const KeyCodec src_codec = *KeyCodec::Make(std::vector<KeyField>{src});
  const auto src_keys = EncodeAll(src_codec, batch);
  EXPECT_EQ(DecodedAddress(src_codec, src_keys, 0), *IpAddress::Parse("10.1.2.0"));
  EXPECT_EQ(DecodedAddress(src_codec, src_keys, 1), *IpAddress::Parse("10.1.2.3"));

  KeyField dst{FieldId::kDstAddr};
  dst.flow_mask = true;
  dst.v4_prefix = 8;  // the shorter of the two cuts wins
  const KeyCodec dst_codec = *KeyCodec::Make(std::vector<KeyField>{dst});
  const auto dst_keys = EncodeAll(dst_codec, batch);
  EXPECT_EQ(DecodedAddress(dst_codec, dst_keys, 0), *IpAddress::Parse("192.0.0.0"));
  EXPECT_EQ(DecodedAddress(dst_codec, dst_keys, 1), *IpAddress::Parse("2001:db8:1234::"));
}

TEST(KeyCodecTest, NextHopWithoutAnElementKeysAsIpv4Zero) {
  flow::FlowBatch batch;
  const std::size_t none = batch.AppendRow();
  batch.cols().next_hop[none] = IpAddress{};  // `::`: the record had no next hop
  const std::size_t zero = batch.AppendRow();
  batch.cols().next_hop[zero] = *IpAddress::Parse("0.0.0.0");
  const KeyCodec codec = *KeyCodec::Make(std::vector<KeyField>{{FieldId::kNextHop}});
  const auto keys = EncodeAll(codec, batch);
  EXPECT_EQ(keys[0], keys[2]);
  EXPECT_EQ(keys[1], keys[3]);
  EXPECT_EQ(DecodedAddress(codec, keys, 0), *IpAddress::Parse("0.0.0.0"));

  // Other address fields keep `::` apart from 0.0.0.0.
  flow::FlowBatch other;
  other.cols().src_addr[other.AppendRow()] = IpAddress{};
  const KeyCodec src = *KeyCodec::Make(std::vector<KeyField>{{FieldId::kSrcAddr}});
  EXPECT_EQ(DecodedAddress(src, EncodeAll(src, other), 0), IpAddress{});
}

TEST(KeyCodecTest, CompactFormOfIpv4KeysRoundTripsAndKeepsTheOrder) {
  const std::vector<KeyField> five = {{FieldId::kSrcAddr}, {FieldId::kDstAddr}, {FieldId::kSrcPort},
                                      {FieldId::kDstPort}, {FieldId::kProto}};
  auto codec = KeyCodec::Make(five);
  ASSERT_TRUE(codec);
  EXPECT_EQ(codec->words(), 7u);
  EXPECT_EQ(codec->narrow_words(), 2u);  // 32 + 32 | 16 + 16 + 8
  flow::FlowBatch batch;
  // Rows chosen so that neighbours differ in one part each, low and high values.
  const std::vector<std::vector<std::uint64_t>> rows = {
      {0x0a000001u, 0xc0a80001u, 1024, 80, 6},   {0x0a000001u, 0xc0a80001u, 1024, 80, 17},
      {0x0a000001u, 0xc0a80001u, 1024, 443, 6},  {0x0a000001u, 0xc0a80001u, 65535, 0, 0},
      {0x0a000001u, 0xffffffffu, 0, 0, 0},       {0xffffffffu, 0, 0, 0, 0},
  };
  for (const auto& values : rows) {
    if (batch.full()) {
      break;  // tiny-batch builds: the first rows only
    }
    const std::size_t row = batch.AppendRow();
    batch.cols().src_addr[row] = IpAddress::FromV4(static_cast<std::uint32_t>(values[0]));
    batch.cols().dst_addr[row] = IpAddress::FromV4(static_cast<std::uint32_t>(values[1]));
    batch.cols().src_port[row] = static_cast<std::uint16_t>(values[2]);
    batch.cols().dst_port[row] = static_cast<std::uint16_t>(values[3]);
    batch.cols().proto[row] = static_cast<std::uint8_t>(values[4]);
  }
  const std::vector<std::uint64_t> keys = EncodeAll(*codec, batch);
  std::vector<std::vector<std::uint64_t>> narrow(batch.size(), std::vector<std::uint64_t>(2));
  for (std::size_t row = 0; row < batch.size(); ++row) {
    const std::uint64_t* key = keys.data() + row * 7;
    ASSERT_TRUE(codec->Narrow(key, narrow[row].data())) << "row " << row;
    std::vector<std::uint64_t> wide(7);
    codec->Widen(narrow[row].data(), wide.data());
    EXPECT_EQ(wide, std::vector<std::uint64_t>(key, key + 7)) << "row " << row;
    if (row > 0) {
      const std::uint64_t* prev = keys.data() + (row - 1) * 7;
      EXPECT_EQ(std::lexicographical_compare(prev, prev + 7, key, key + 7), narrow[row - 1] < narrow[row])
          << "row " << row;
    }
  }
}

TEST(KeyCodecTest, CompactFormRefusesIpv6AndUnsetAddresses) {
  auto codec = KeyCodec::Make(std::vector<KeyField>{{FieldId::kSrcAddr}, {FieldId::kDstPort}});
  ASSERT_TRUE(codec);
  EXPECT_EQ(codec->narrow_words(), 1u);
  flow::FlowBatch batch;
  batch.cols().src_addr[batch.AppendRow()] = IpAddress::FromV4(0x01020304u);
  if (flow::FlowBatch::kCapacity > 2) {
    IpAddress v6;
    v6.bytes[0] = 0x20;
    batch.cols().src_addr[batch.AppendRow()] = v6;
    batch.AppendRow();  // :: (unset)
  }
  const std::vector<std::uint64_t> keys = EncodeAll(*codec, batch);
  std::uint64_t narrow = 0;
  EXPECT_TRUE(codec->Narrow(keys.data(), &narrow));
  EXPECT_EQ(narrow >> 32, 0x01020304u);
  for (std::size_t row = 1; row < batch.size(); ++row) {
    EXPECT_FALSE(codec->Narrow(keys.data() + row * codec->words(), &narrow)) << "row " << row;
  }
}

}  // namespace
}  // namespace sluice::query::internal
