// SPDX-License-Identifier: Apache-2.0
// KeyCodec (every batch capacity holds the 2 rows used here): per-flow masks (nfdump -A srcnet/dstnet) and next hops without an element.

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

}  // namespace
}  // namespace sluice::query::internal
