// SPDX-License-Identifier: Apache-2.0

#include "flow/field.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "flow/flow_batch.h"
#include "flow/record_json.h"

namespace sluice::flow {
namespace {

TEST(FieldCatalogueTest, NamesAreUniqueAndFindable) {
  std::set<std::string_view> names;
  for (const FieldInfo& info : FieldCatalogue()) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    ASSERT_TRUE(FieldByName(info.name).has_value());
    EXPECT_EQ(*FieldByName(info.name), info.id);
  }
  EXPECT_EQ(names.size(), kFieldCount);
  EXPECT_FALSE(FieldByName("no_such_field").has_value());
}

TEST(FieldCatalogueTest, DocumentationListsEveryField) {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/docs/flow_record.md");
  ASSERT_TRUE(in) << "docs/flow_record.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  for (const FieldInfo& info : FieldCatalogue()) {
    EXPECT_NE(text.str().find("| `" + std::string(info.name) + "` |"), std::string::npos)
        << info.name << " is not in docs/flow_record.md: regenerate it with `sluice fields --markdown`";
  }
}

TEST(FlowBatchTest, NewRowsAreZeroAfterClear) {
  FlowBatch batch;
  const std::size_t row = batch.AppendRow();
  batch.cols().bytes[row] = 42;
  batch.cols().src_addr[row] = IpAddress::FromV4(0x0A000001);
  batch.cols().app[row] = batch.AddString("https");
  batch.Clear();
  const std::size_t again = batch.AppendRow();
  EXPECT_EQ(again, 0u);
  EXPECT_EQ(batch.cols().bytes[again], 0u);
  EXPECT_TRUE(batch.cols().src_addr[again].IsUnset());
  EXPECT_EQ(batch.cols().app[again].length, 0u);
}

TEST(FlowBatchTest, ShrinkToZeroesTheRowsItDrops) {
  // Whatever the build's batch capacity (the sanitizer build's is tiny).
  constexpr std::size_t kRows = FlowBatch::kCapacity;
  constexpr std::size_t kKept = kRows / 2;
  FlowBatch batch;
  for (std::size_t n = 0; n < kRows; ++n) {
    const std::size_t row = batch.AppendRow();
    batch.cols().bytes[row] = 100 + n;
    batch.cols().src_addr[row] = IpAddress::FromV4(0x0A000001 + static_cast<std::uint32_t>(n));
  }
  batch.ShrinkTo(kRows + 1);  // more than it holds: nothing changes
  EXPECT_EQ(batch.size(), kRows);
  batch.ShrinkTo(kKept);
  EXPECT_EQ(batch.size(), kKept);
  if (kKept > 0) {
    EXPECT_EQ(batch.cols().bytes[kKept - 1], 100 + kKept - 1);
  }
  for (std::size_t n = kKept; n < kRows; ++n) {
    EXPECT_EQ(batch.AppendRow(), n);
    EXPECT_EQ(batch.cols().bytes[n], 0u) << n;
    EXPECT_TRUE(batch.cols().src_addr[n].IsUnset()) << n;
  }
}

TEST(FlowBatchTest, TouchPagesLeavesAnEmptyAllZeroBatch) {
  FlowBatch batch;
  batch.TouchPages();
  EXPECT_TRUE(batch.empty());
  const std::size_t last = FlowBatch::kCapacity - 1;
  EXPECT_EQ(batch.cols().time_received[0], 0);
  EXPECT_EQ(batch.cols().cir[last], 0u);
  EXPECT_TRUE(batch.cols().bgp_next_hop[last].IsUnset());
}

TEST(FlowBatchTest, AppendCopyOfKeepsStrings) {
  FlowBatch src;
  const std::size_t row = src.AppendRow();
  src.cols().app[row] = src.AddString("dns");
  src.cols().dst_port[row] = 53;
  FlowBatch dst;
  dst.AppendRow();  // so the copy lands on another row
  const std::size_t copy = dst.AppendCopyOf(src, row);
  EXPECT_EQ(dst.String(dst.cols().app[copy]), "dns");
  EXPECT_EQ(dst.cols().dst_port[copy], 53u);
}

TEST(IpAddressTest, ParsesAndPrintsBothFamilies) {
  EXPECT_EQ(IpAddress::Parse("10.1.2.3")->ToString(), "10.1.2.3");
  EXPECT_TRUE(IpAddress::Parse("10.1.2.3")->IsV4());
  EXPECT_EQ(IpAddress::Parse("2001:db8::1")->ToString(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::Parse("2001:db8::1")->IsV4());
  EXPECT_FALSE(IpAddress::Parse("10.1.2").has_value());
  EXPECT_FALSE(IpAddress::Parse("").has_value());
}

// ToText() replaces inet_ntop() on the listing's hot path: it must write the same text
// for every address, above all where runs of zero groups compete for "::".
TEST(IpAddressTest, TextIsInetNtopsForAnyAddress) {
  std::mt19937_64 random(7);
  std::vector<IpAddress> addresses = {IpAddress{}, *IpAddress::Parse("::1"), *IpAddress::Parse("::0.0.0.2"),
                                      *IpAddress::Parse("::ffff:0:1.2.3.4"), *IpAddress::Parse("1::"),
                                      *IpAddress::Parse("::1.2.3.4"), *IpAddress::Parse("1:0:0:2:0:0:0:3"),
                                      *IpAddress::Parse("1:0:0:2:0:0:3:4"), *IpAddress::Parse("0:1:0:1:0:1:0:1"),
                                      *IpAddress::Parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"),
                                      IpAddress::FromV4(0), IpAddress::FromV4(0xffffffff)};
  for (int n = 0; n < 200000; ++n) {
    IpAddress address;
    const std::uint64_t bits = random();
    for (std::size_t group = 0; group < 8; ++group) {
      // Each group zero, 0xffff, small or any, so that zero runs of every length and
      // position (and the IPv4-carrying forms) come up often.
      const unsigned choice = (bits >> (4 * group)) & 0xf;
      const std::uint64_t value = random();
      unsigned word = choice < 7 ? 0 : choice < 9 ? 0xffff : choice < 12 ? value % 16 : value & 0xffff;
      if (choice == 12) {
        word = value % 4096;
      }
      address.bytes[2 * group] = static_cast<std::uint8_t>(word >> 8);
      address.bytes[2 * group + 1] = static_cast<std::uint8_t>(word);
    }
    addresses.push_back(address);
  }
  for (const IpAddress& address : addresses) {
    char expected[INET6_ADDRSTRLEN];
    if (address.IsV4()) {
      in_addr v4{htonl(address.V4())};
      ASSERT_NE(inet_ntop(AF_INET, &v4, expected, sizeof expected), nullptr);
    } else {
      in6_addr v6{};
      std::memcpy(v6.s6_addr, address.bytes.data(), 16);
      ASSERT_NE(inet_ntop(AF_INET6, &v6, expected, sizeof expected), nullptr);
    }
    char text[IpAddress::kMaxTextLength];
    char* end = address.ToText(text);
    ASSERT_LE(end - text, static_cast<std::ptrdiff_t>(IpAddress::kMaxTextLength));
    ASSERT_EQ(std::string(text, end), expected);
  }
}

TEST(RecordJsonTest, LeavesUnsetAddressesOutAndEscapesStrings) {
  FlowBatch batch;
  const std::size_t row = batch.AppendRow();
  batch.cols().src_addr[row] = IpAddress::FromV4(0xC0000201);
  batch.cols().app[row] = batch.AddString("a\"b");
  batch.cols().src_mac[row] = 0x0011223344ffULL;
  std::string json;
  AppendRecordJson(batch, row, json);
  EXPECT_NE(json.find("\"src_addr\":\"192.0.2.1\""), std::string::npos);
  EXPECT_EQ(json.find("\"dst_addr\""), std::string::npos);
  EXPECT_NE(json.find("\"app\":\"a\\\"b\""), std::string::npos);
  EXPECT_NE(json.find("\"src_mac\":\"00:11:22:33:44:ff\""), std::string::npos);
}

}  // namespace
}  // namespace sluice::flow
