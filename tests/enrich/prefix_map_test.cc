// SPDX-License-Identifier: Apache-2.0

#include "enrich/prefix_map.h"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace sluice::enrich {
namespace {

flow::IpAddress Ip(const char* text) { return *flow::IpAddress::Parse(text); }

std::string SubscriberOf(const PrefixMap& map, const char* address) {
  const PrefixEntry* entry = map.Find(Ip(address));
  return entry == nullptr ? "-" : entry->info.subscriber;
}

TEST(PrefixMapTest, CsvLongestPrefixWinsForIpv4AndIpv6) {
  const auto map = PrefixMap::ParseCsv(
      "# subscribers of the north POP\n"
      "prefix,subscriber_id,reseller_id,nas_id,cir\n"
      "100.64.0.0/16, wide, r1, nas-1, 1G\n"
      "100.64.1.0/24,cust-1001,r1,nas-1,100M\n"
      "100.64.1.128/25,cust-1002,r2,nas-2,50000000\n"
      "100.64.1.7,host-7,,,\n"
      "\n"
      "2001:db8:1::/48,v6-cust,r3,nas-3,10k\n"
      "0.0.0.0/0,everyone,,,\n",
      "map.csv");
  ASSERT_TRUE(map.has_value()) << map.error().Message();
  EXPECT_EQ(map->size(), 6u);
  EXPECT_EQ(SubscriberOf(*map, "100.64.1.5"), "cust-1001");
  EXPECT_EQ(SubscriberOf(*map, "100.64.1.7"), "host-7");
  EXPECT_EQ(SubscriberOf(*map, "100.64.1.200"), "cust-1002");
  EXPECT_EQ(SubscriberOf(*map, "100.64.9.9"), "wide");
  EXPECT_EQ(SubscriberOf(*map, "8.8.8.8"), "everyone");
  EXPECT_EQ(SubscriberOf(*map, "2001:db8:1:ffff::1"), "v6-cust");
  EXPECT_EQ(SubscriberOf(*map, "2001:db8:2::1"), "-");  // 0.0.0.0/0 is IPv4 only
  const PrefixEntry* entry = map->Find(Ip("100.64.1.130"));
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->info.reseller, "r2");
  EXPECT_EQ(entry->info.site, "nas-2");
  EXPECT_EQ(entry->info.cir_bps, 50'000'000u);
  EXPECT_EQ(map->Find(Ip("100.64.9.9"))->info.cir_bps, 1'000'000'000u);
  EXPECT_EQ(map->Find(Ip("2001:db8:1::9"))->info.cir_bps, 10'000u);
  EXPECT_EQ(map->Find(Ip("100.64.1.7"))->info.cir_bps, 0u);
}

TEST(PrefixMapTest, CsvColumnsInAnyOrderAndQuoted) {
  const auto map = PrefixMap::ParseCsv(
      "site,subscriber,prefix\r\n\"nas-9\",\"a\"\"b\",10.0.0.0/8\r\n", "m.csv");
  // a"b is not a valid id
  ASSERT_FALSE(map.has_value());
  EXPECT_NE(map.error().Message().find("m.csv:2"), std::string_view::npos) << map.error().Message();

  const auto ok = PrefixMap::ParseCsv("site,subscriber,prefix\n\"nas-9\",\"x,y\",10.0.0.0/8\n", "m.csv");
  ASSERT_FALSE(ok.has_value());  // comma is not an id character either
  const auto good = PrefixMap::ParseCsv("site,subscriber,prefix\n\"nas-9\",\"c@d\",10.0.0.0/8\n", "m.csv");
  ASSERT_TRUE(good.has_value()) << good.error().Message();
  EXPECT_EQ(good->Find(Ip("10.2.3.4"))->info.site, "nas-9");
  EXPECT_EQ(good->Find(Ip("10.2.3.4"))->info.subscriber, "c@d");
}

TEST(PrefixMapTest, CsvErrorsNameTheLineAndWhat) {
  struct Case {
    std::string text;
    const char* expected;  // part of the message
  };
  const std::vector<Case> cases = {
      {"10.0.0.0/8,a\n", "unknown column '10.0.0.0/8'"},
      {"prefix,reseller_id\n10.0.0.0/8,r\n", "at least prefix and subscriber_id"},
      {"prefix,subscriber_id,color\n", "unknown column 'color'"},
      {"prefix,subscriber_id,subscriber\n", "given twice"},
      {"prefix,subscriber_id\n10.0.0.0/33,a\n", "m.csv:2: prefix '10.0.0.0/33'"},
      {"prefix,subscriber_id\n10.0.0.0/8\n", "m.csv:2: 1 fields, the header has 2"},
      {"prefix,subscriber_id\n10.0.0.0/8,\n", "subscriber_id is empty"},
      {"prefix,subscriber_id,cir\n10.0.0.0/8,a,fast\n", "cir 'fast'"},
      {"prefix,subscriber_id,cir\n10.0.0.0/8,a,99999999999999999999T\n", "cir '"},
      {"prefix,subscriber_id\n10.0.0.0/8,\"open\n", "m.csv:2: unterminated"},
      {"prefix,subscriber_id\n10.0.0.0/8,a\n10.0.0.0/8,b\n", "prefix 10.0.0.0/8 is given twice"},
      {"prefix,subscriber_id\n10.0.0.0/8,has space\n", "is not an id"},
      {"prefix,subscriber_id\n10.0.0.0/8," + std::string(65, 'x') + "\n", "is not an id"},
  };
  for (const Case& c : cases) {
    const auto map = PrefixMap::ParseCsv(c.text, "m.csv");
    ASSERT_FALSE(map.has_value()) << c.text;
    EXPECT_NE(map.error().Message().find(c.expected), std::string_view::npos)
        << c.text << " -> " << map.error().Message();
  }
}

TEST(PrefixMapTest, EmptyMapFindsNothing) {
  const auto map = PrefixMap::ParseCsv("# nothing yet\nprefix,subscriber_id\n", "m.csv");
  ASSERT_TRUE(map.has_value());
  EXPECT_EQ(map->size(), 0u);
  EXPECT_EQ(map->Find(Ip("10.0.0.1")), nullptr);
}

TEST(PrefixMapTest, Toml) {
  const auto map = PrefixMap::ParseToml(
      "[[prefix]]\n"
      "prefix = \"192.0.2.0/24\"\n"
      "subscriber_id = \"cust-1\"\n"
      "reseller_id = \"res-a\"\n"
      "nas_id = \"nas-1\"\n"
      "cir = \"20M\"\n"
      "\n"
      "[[prefix]]\n"
      "prefix = \"2001:db8::/32\"\n"
      "subscriber_id = \"cust-2\"\n"
      "cir = 1500000\n",
      "m.toml");
  ASSERT_TRUE(map.has_value()) << map.error().Message();
  EXPECT_EQ(map->Find(Ip("192.0.2.9"))->info.cir_bps, 20'000'000u);
  EXPECT_EQ(map->Find(Ip("192.0.2.9"))->info.reseller, "res-a");
  EXPECT_EQ(map->Find(Ip("2001:db8::1"))->info.cir_bps, 1'500'000u);

  const auto bad_key = PrefixMap::ParseToml("[[prefix]]\nprefix = \"10.0.0.0/8\"\nsubscriber_id = \"a\"\nspeed = 1\n", "m.toml");
  ASSERT_FALSE(bad_key.has_value());
  EXPECT_NE(bad_key.error().Message().find("m.toml:4: unknown key 'speed'"), std::string_view::npos)
      << bad_key.error().Message();
  const auto missing = PrefixMap::ParseToml("[[prefix]]\nprefix = \"10.0.0.0/8\"\n", "m.toml");
  ASSERT_FALSE(missing.has_value());
  const auto not_tables = PrefixMap::ParseToml("prefix = 3\n", "m.toml");
  ASSERT_FALSE(not_tables.has_value());
  const auto syntax = PrefixMap::ParseToml("[[prefix]\n", "m.toml");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_NE(syntax.error().Message().find("m.toml:1"), std::string_view::npos) << syntax.error().Message();
}

TEST(PrefixMapTest, LoadReadsByExtensionAndReportsMissingFiles) {
  const auto missing = PrefixMap::Load("/nonexistent/sluice-map.csv");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().Message().find("cannot read"), std::string_view::npos);
}

// Large maps are indexed per length; lookups must still find what a plain scan finds.
TEST(PrefixMapTest, LargeRandomMapsAgreeWithAPlainLongestMatch) {
  std::mt19937_64 random(42);
  std::vector<PrefixEntry> entries;
  std::set<std::pair<std::array<std::uint8_t, 16>, unsigned>> seen;
  const std::vector<unsigned> lengths = {96 + 8, 96 + 16, 96 + 22, 96 + 24, 96 + 29, 96 + 32, 32, 48, 56, 64, 128};
  while (entries.size() < 6000) {
    const unsigned length = lengths[random() % lengths.size()];
    flow::IpAddress address;
    if (length > 96) {
      // IPv4 in a few /8s, so that lengths overlap and nest.
      const auto v4 = static_cast<std::uint32_t>((10u + random() % 3) << 24 | (random() & 0x00FFFFFFu));
      address = flow::IpAddress::FromV4(v4);
    } else {
      address = *flow::IpAddress::Parse("2001:db8::");
      for (std::size_t byte = 4; byte < 16; ++byte) {
        address.bytes[byte] = static_cast<std::uint8_t>(random());
      }
      address.bytes[4] &= 0x0F;
    }
    PrefixEntry entry;
    entry.prefix = flow::IpPrefix(address, static_cast<std::uint8_t>(length));
    entry.info.subscriber = "s" + std::to_string(entries.size());
    if (seen.insert({entry.prefix.network().bytes, length}).second) {
      entries.push_back(entry);
    }
  }
  const std::vector<PrefixEntry> copy = entries;
  auto map = PrefixMap::Build(std::move(entries));
  ASSERT_TRUE(map.has_value()) << map.error().Message();
  for (int probe = 0; probe < 20000; ++probe) {
    // Near a prefix of the map (its network with random host bits), or anywhere.
    flow::IpAddress address = copy[random() % copy.size()].prefix.network();
    for (std::size_t byte = probe % 2 == 0 ? 13 : 6; byte < 16; ++byte) {
      address.bytes[byte] = static_cast<std::uint8_t>(random());
    }
    const PrefixEntry* expected = nullptr;
    for (const PrefixEntry& entry : copy) {
      if (entry.prefix.Contains(address) &&
          (expected == nullptr || entry.prefix.length() > expected->prefix.length())) {
        expected = &entry;
      }
    }
    const PrefixEntry* found = map->Find(address);
    ASSERT_EQ(found == nullptr, expected == nullptr) << address.ToString();
    if (found != nullptr) {
      EXPECT_EQ(found->info.subscriber, expected->info.subscriber) << address.ToString();
    }
  }
}

TEST(PrefixMapTest, BitRates) {
  EXPECT_EQ(ParseBitRate("0"), 0u);
  EXPECT_EQ(ParseBitRate("100"), 100u);
  EXPECT_EQ(ParseBitRate("2k"), 2000u);
  EXPECT_EQ(ParseBitRate("2K"), 2000u);
  EXPECT_EQ(ParseBitRate("3M"), 3'000'000u);
  EXPECT_EQ(ParseBitRate("10G"), 10'000'000'000u);
  EXPECT_EQ(ParseBitRate("1T"), 1'000'000'000'000u);
  EXPECT_FALSE(ParseBitRate(""));
  EXPECT_FALSE(ParseBitRate("M"));
  EXPECT_FALSE(ParseBitRate("-1"));
  EXPECT_FALSE(ParseBitRate("1.5M"));
  EXPECT_FALSE(ParseBitRate("20000000T"));
}

}  // namespace
}  // namespace sluice::enrich
