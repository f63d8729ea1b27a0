// SPDX-License-Identifier: Apache-2.0
// Filter::MayMatch must never rule out a block that holds a matching row. Property test:
// random segments (small blocks, many of them constant or all-default per column) written
// with SegmentWriter and read back with SegmentReader, random filters; every block with a
// match must be judged "maybe". Also checks that Select over a whole batch agrees with
// Select row by row (the OR/NOT merge logic).

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "flow/flow_batch.h"
#include "flow/flow_sink.h"
#include "query/filter.h"
#include "store/segment_reader.h"
#include "store/segment_writer.h"
#include "store/segment_test_util.h"

namespace sluice::query {
namespace {

using flow::IpAddress;

const char* const kAddresses[] = {"",        "10.0.0.1", "10.0.0.2", "10.1.0.1", "192.168.0.1",
                                  "0.0.0.0", "2001:db8::1", "2001:db8::2", "fe80::1", "255.255.255.255"};
const std::uint16_t kPorts[] = {0, 22, 53, 80, 443, 1024, 65535};
const std::uint8_t kProtos[] = {0, 1, 6, 17, 58};
const std::uint64_t kCounts[] = {0, 1, 5, 10, 100, 1000, 1000000, ~std::uint64_t{0}};
const std::uint32_t kAs[] = {0, 100, 200, 65000, 4294967295U};
const char* const kStrings[] = {"", "acme", "x"};
const std::uint16_t kCountries[] = {0, 'D' << 8 | 'E', 'U' << 8 | 'S'};

const char* const kPrimitives[] = {
    "proto tcp",          "proto udp",         "proto in [1 58]",      "port 80",
    "src port 443",       "dst port > 1000",   "port < 22",            "port in [53 65535]",
    "ip 10.0.0.1",        "src ip 2001:db8::1", "net 10/8",            "dst net 2001:db8::/32",
    "net ::/0",           "net 0.0.0.0/0",     "ip in [10.0.0.1 2001:db8::2]", "inet",
    "inet6",              "flags S",           "flags SA",             "bytes > 100",
    "packets < 5",        "duration > 1000",   "duration 0",           "pps > 10",
    "bpp > 100",          "bps > 1k",          "as 100",               "src as in [100 65000]",
    "src_country DE",     "dst_country != US", "subscriber acme",      "site x",
    "flows > 1",          "flows 1",           "first > 2500",         "last <= 100",
    "engine-type 1",      "tcp_flags 0",       "exporter 10.0.0.1",    "mac 00:00:00:00:00:01",
    "ip 0.0.0.0",         "ip ::",             "dst ip 255.255.255.255", "net 192.168.0.0/16",
    "src net 10.0.0.0/31", "tos > 3",          "subscriber \"\"",      "ip ::ffff:10.0.0.1",
    "net ::ffff:0:0/96",  "bytes 0",           "first < 0",            "as > 65000",
    "src net 2001:db8::/127", "net fe80::/10",  "dst ip 2001:db8::2",
};

class RandomRows {
 public:
  explicit RandomRows(std::uint32_t seed) : rng_(seed) {}

  // Column modes for the next block: 0 random per row, 1 constant, 2 all default.
  void NewBlock() {
    for (auto& mode : modes_) {
      const std::uint32_t pick = rng_() % 10;
      mode = pick < 5 ? 0 : pick < 8 ? 1 : 2;
    }
    for (auto& seed : constants_) {
      seed = rng_();
    }
  }

  void Fill(flow::FlowBatch& batch, std::size_t row) {
    auto& c = batch.cols();
    std::size_t field = 0;
    // Index into a pool of `n` values: per-row random, block constant, or 0 (default).
    auto pick = [&](std::size_t n) -> std::size_t {
      const int mode = modes_[field % modes_.size()];
      const std::uint32_t constant = constants_[field % constants_.size()];
      ++field;
      if (mode == 2) {
        return 0;
      }
      return (mode == 1 ? constant : static_cast<std::uint32_t>(rng_())) % n;
    };
    auto address = [&]() {
      const char* text = kAddresses[pick(std::size(kAddresses))];
      return text[0] == '\0' ? IpAddress{} : *IpAddress::Parse(text);
    };
    c.src_addr[row] = address();
    c.dst_addr[row] = address();
    c.exporter[row] = address();
    c.src_port[row] = kPorts[pick(std::size(kPorts))];
    c.dst_port[row] = kPorts[pick(std::size(kPorts))];
    c.proto[row] = kProtos[pick(std::size(kProtos))];
    c.tcp_flags[row] = static_cast<std::uint8_t>(pick(256));
    c.tos[row] = static_cast<std::uint8_t>(pick(8));
    c.bytes[row] = kCounts[pick(std::size(kCounts))];
    c.packets[row] = kCounts[pick(std::size(kCounts))];
    c.first[row] = static_cast<std::int64_t>(pick(6000)) - 500;
    c.last[row] = c.first[row] + static_cast<std::int64_t>(pick(3000)) - 10;
    c.src_as[row] = kAs[pick(std::size(kAs))];
    c.dst_as[row] = kAs[pick(std::size(kAs))];
    c.src_country[row] = kCountries[pick(std::size(kCountries))];
    c.dst_country[row] = kCountries[pick(std::size(kCountries))];
    c.subscriber[row] = batch.AddString(kStrings[pick(std::size(kStrings))]);
    c.site[row] = batch.AddString(kStrings[pick(std::size(kStrings))]);
    c.flows[row] = pick(3);
    c.obs_domain[row] = static_cast<std::uint32_t>(pick(4) << 8 | pick(3));
    c.src_mac[row] = pick(3);
    c.dst_mac[row] = pick(3);
  }

  std::string RandomFilter(int depth) {
    const std::uint32_t pick = rng_() % 10;
    if (depth >= 3 || pick < 4) {
      return kPrimitives[rng_() % std::size(kPrimitives)];
    }
    if (pick < 6) {
      return "not (" + RandomFilter(depth + 1) + ")";
    }
    const char* op = pick < 8 ? " and " : " or ";
    std::string text = "(" + RandomFilter(depth + 1);
    const std::uint32_t more = 1 + rng_() % 3;
    for (std::uint32_t idx = 0; idx < more; ++idx) {
      text += op + RandomFilter(depth + 1);
    }
    return text + ")";
  }

  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
  std::array<int, 40> modes_{};
  std::array<std::uint32_t, 40> constants_{};
};

// Counts the rows of each batch the filter keeps, and checks Select against row-by-row.
class CountingSink final : public flow::FlowSink {
 public:
  explicit CountingSink(const Filter& filter) : filter_(filter) {}

  void Consume(flow::FlowBatch& batch) override {
    std::vector<std::uint32_t> rows(batch.size());
    for (std::uint32_t row = 0; row < batch.size(); ++row) {
      rows[row] = row;
    }
    rows.resize(filter_.Select(batch, rows.data(), rows.size()));
    matches_ += rows.size();
    std::vector<std::uint32_t> one_by_one;
    for (std::uint32_t row = 0; row < batch.size(); ++row) {
      std::uint32_t single = row;
      if (filter_.Select(batch, &single, 1) == 1) {
        one_by_one.push_back(row);
      }
    }
    EXPECT_EQ(rows, one_by_one) << filter_.Describe();
  }

  std::size_t matches() const { return matches_; }

 private:
  const Filter& filter_;
  std::size_t matches_ = 0;
};

TEST(FilterPruneTest, MayMatchNeverRulesOutAMatchingBlock) {
  test::TempDir dir;
  const std::string path = dir.File("random.seg");
  RandomRows random(20241123);
  store::SegmentWriterOptions options;
  options.rows_per_block = 8;
  options.sync = false;
  constexpr std::uint64_t kRows = 8 * 150;
  test::WriteSegment(path, kRows, [&](flow::FlowBatch& batch, std::size_t row, std::uint64_t n) {
    if (n % 8 == 0) {
      random.NewBlock();
    }
    random.Fill(batch, row);
  }, options);
  auto reader = store::SegmentReader::Open(path);
  ASSERT_TRUE(reader) << reader.error().Message();
  const auto& blocks = (*reader)->blocks();
  ASSERT_EQ(blocks.size(), kRows / 8);

  std::size_t judged = 0;
  std::size_t pruned = 0;
  std::size_t matching_blocks = 0;
  for (int round = 0; round < 300; ++round) {
    const std::string text = random.RandomFilter(0);
    const auto filter = Filter::Parse(text);
    ASSERT_TRUE(filter) << text << ": " << filter.error().ToString();
    for (std::size_t block_idx = 0; block_idx < blocks.size(); ++block_idx) {
      CountingSink sink(*filter);
      ASSERT_TRUE((*reader)->ReadBlock(block_idx, filter->fields(), sink));
      const bool may = filter->MayMatch(blocks[block_idx]);
      ++judged;
      pruned += may ? 0 : 1;
      matching_blocks += sink.matches() > 0 ? 1 : 0;
      if (sink.matches() > 0) {
        ASSERT_TRUE(may) << "block " << block_idx << " has " << sink.matches() << " matches of " << text
                         << " = " << filter->Describe();
      }
    }
  }
  // The statistics prune a good share of the non-matching blocks.
  EXPECT_GT(pruned, (judged - matching_blocks) / 4) << pruned << " of " << judged;
}

// The distinct values of every address column of the batches it sees, as 16-byte runs
// (what the reader hands RowSelector::MayKeep() for a dictionary-coded column).
class DistinctAddresses final : public flow::FlowSink {
 public:
  void Consume(flow::FlowBatch& batch) override {
    const flow::FlowColumns& c = batch.cols();
    for (std::size_t row = 0; row < batch.size(); ++row) {
      Add(flow::FieldId::kSrcAddr, c.src_addr[row]);
      Add(flow::FieldId::kDstAddr, c.dst_addr[row]);
      Add(flow::FieldId::kNextHop, c.next_hop[row]);
      Add(flow::FieldId::kExporter, c.exporter[row]);
    }
  }
  std::array<std::span<const std::uint8_t>, flow::kFieldCount> Spans() const {
    std::array<std::span<const std::uint8_t>, flow::kFieldCount> spans{};
    for (std::size_t field = 0; field < flow::kFieldCount; ++field) {
      spans[field] = values_[field];
    }
    return spans;
  }

 private:
  void Add(flow::FieldId field, const IpAddress& address) {
    std::vector<std::uint8_t>& values = values_[static_cast<std::size_t>(field)];
    for (std::size_t at = 0; at < values.size(); at += 16) {
      if (std::equal(address.bytes.begin(), address.bytes.end(), values.begin() + static_cast<std::ptrdiff_t>(at))) {
        return;
      }
    }
    values.insert(values.end(), address.bytes.begin(), address.bytes.end());
  }
  std::array<std::vector<std::uint8_t>, flow::kFieldCount> values_;
};

// Judged by the blocks' distinct addresses, a block is ruled out exactly when no row
// matches (for filters whose only leaves that can hold are address leaves: every match
// is seen; for the others, never a block with a match).
TEST(FilterPruneTest, MayMatchByDictionariesNeverRulesOutAMatchingBlock) {
  test::TempDir dir;
  const std::string path = dir.File("random.seg");
  RandomRows random(20261203);
  store::SegmentWriterOptions options;
  options.rows_per_block = 8;
  options.sync = false;
  constexpr std::uint64_t kRows = 8 * 100;
  test::WriteSegment(path, kRows, [&](flow::FlowBatch& batch, std::size_t row, std::uint64_t n) {
    if (n % 8 == 0) {
      random.NewBlock();
    }
    random.Fill(batch, row);
  }, options);
  auto reader = store::SegmentReader::Open(path);
  ASSERT_TRUE(reader) << reader.error().Message();
  const auto& blocks = (*reader)->blocks();
  std::vector<DistinctAddresses> distinct(blocks.size());
  for (std::size_t block_idx = 0; block_idx < blocks.size(); ++block_idx) {
    ASSERT_TRUE((*reader)->ReadBlock(block_idx, store::AllFields(), distinct[block_idx]));
  }
  std::size_t pruned = 0;
  for (int round = 0; round < 300; ++round) {
    const std::string text = random.RandomFilter(0);
    const auto filter = Filter::Parse(text);
    ASSERT_TRUE(filter) << text;
    for (std::size_t block_idx = 0; block_idx < blocks.size(); ++block_idx) {
      CountingSink sink(*filter);
      ASSERT_TRUE((*reader)->ReadBlock(block_idx, filter->fields(), sink));
      const auto spans = distinct[block_idx].Spans();
      const bool may = filter->MayMatch(blocks[block_idx], spans);
      pruned += may ? 0 : 1;
      if (sink.matches() > 0) {
        ASSERT_TRUE(may) << "block " << block_idx << ": " << text << " = " << filter->Describe();
      }
    }
  }
  EXPECT_GT(pruned, 0u);
  // host A: ruled out by the dictionaries where the statistics allow it.
  const auto host = Filter::Parse("host 10.0.0.2");
  ASSERT_TRUE(host);
  for (std::size_t block_idx = 0; block_idx < blocks.size(); ++block_idx) {
    CountingSink sink(*host);
    ASSERT_TRUE((*reader)->ReadBlock(block_idx, host->fields(), sink));
    EXPECT_EQ(host->MayMatch(blocks[block_idx], distinct[block_idx].Spans()), sink.matches() > 0)
        << "block " << block_idx;
  }
}

TEST(FilterPruneTest, ConstantAndMissingColumns) {
  test::TempDir dir;
  const std::string path = dir.File("const.seg");
  store::SegmentWriterOptions options;
  options.rows_per_block = 4;
  options.sync = false;
  // Block 0: every row TCP port 80 from 10.0.0.1; block 1: UDP 53 over IPv6, no bytes.
  test::WriteSegment(path, 8, [](flow::FlowBatch& batch, std::size_t row, std::uint64_t n) {
    auto& c = batch.cols();
    if (n < 4) {
      c.proto[row] = 6;
      c.dst_port[row] = 80;
      c.src_addr[row] = IpAddress::FromV4(0x0a000001);
      c.bytes[row] = 100 + n;
    } else {
      c.proto[row] = 17;
      c.dst_port[row] = 53;
      c.src_addr[row] = *IpAddress::Parse("2001:db8::1");
    }
  }, options);
  auto reader = store::SegmentReader::Open(path);
  ASSERT_TRUE(reader);
  const auto& blocks = (*reader)->blocks();
  ASSERT_EQ(blocks.size(), 2U);
  struct Expect {
    const char* filter;
    bool block0;
    bool block1;
  };
  const Expect cases[] = {
      {"proto tcp", true, false},
      {"not proto tcp", false, true},
      {"dst port 53", false, true},
      {"src ip 10.0.0.1", true, false},
      {"not src ip 10.0.0.1", false, true},
      {"src net 10/8", true, false},
      {"inet6", false, false},  // dst_addr is :: everywhere
      {"bytes > 200", false, false},
      {"bytes 0", false, true},
      {"not bytes 0", true, false},
      {"bytes >= 100 and bytes <= 103", true, false},
      {"subscriber \"\"", true, true},
      {"subscriber x", false, false},
      {"proto tcp or dst port 53", true, true},
      {"tos 1", false, false},
      {"src ip 10.0.0.2", false, false},  // outside the block's IPv4 range
  };
  for (const Expect& e : cases) {
    const auto filter = Filter::Parse(e.filter);
    ASSERT_TRUE(filter) << e.filter;
    EXPECT_EQ(filter->MayMatch(blocks[0]), e.block0) << e.filter;
    EXPECT_EQ(filter->MayMatch(blocks[1]), e.block1) << e.filter;
  }
}

// Version 4 statistics: a block's IPv6 rows lie in [v6_min, v6_max], so an IPv6 prefix
// outside that range rules the block out, and one covering every row (with no IPv4 or
// unset rows) holds for all of them.
TEST(FilterPruneTest, Ipv6PrefixesAgainstTheBlocksIpv6Range) {
  test::TempDir dir;
  const std::string path = dir.File("v6.seg");
  store::SegmentWriterOptions options;
  options.rows_per_block = 4;
  options.sync = false;
  // Block 0: 2001:db8::1..4; block 1: 2001:db8:1::1, fe80::1 and two IPv4 rows.
  const char* const kSources[] = {"2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::4",
                                  "2001:db8:1::1", "10.0.0.1", "fe80::1", "10.0.0.9"};
  test::WriteSegment(path, 8, [&](flow::FlowBatch& batch, std::size_t row, std::uint64_t n) {
    batch.cols().src_addr[row] = *IpAddress::Parse(kSources[n]);
    batch.cols().proto[row] = 6;
  }, options);
  auto reader = store::SegmentReader::Open(path);
  ASSERT_TRUE(reader);
  const auto& blocks = (*reader)->blocks();
  ASSERT_EQ(blocks.size(), 2U);
  ASSERT_TRUE(blocks[0].Find(flow::FieldId::kSrcAddr)->stats.has_v6_range);
  struct Expect {
    const char* filter;
    bool block0;
    bool block1;
  };
  const Expect cases[] = {
      {"src net 2001:db8::/64", true, false},
      {"not src net 2001:db8::/64", false, true},  // every row of block 0 is in it
      {"src net 2001:db8::/126", true, false},
      {"src net 2001:db8::4/127", true, false},
      {"src net 2001:db8::8/125", false, false},
      {"src net 3000::/8", false, true},  // within block 1's range: may be there
      {"src net fe80::/10", false, true},
      {"src net 2001:db8:2::/48", false, true},
      {"src ip 2001:db8::5", false, false},
      {"src ip 2001:db8:1::1", false, true},
      {"src net ::/0", true, true},
      {"not src net ::/0", false, true},  // block 1: IPv4 rows too, judged "maybe"
      {"src net 10/8", false, true},
  };
  for (const Expect& e : cases) {
    const auto filter = Filter::Parse(e.filter);
    ASSERT_TRUE(filter) << e.filter;
    EXPECT_EQ(filter->MayMatch(blocks[0]), e.block0) << e.filter;
    EXPECT_EQ(filter->MayMatch(blocks[1]), e.block1) << e.filter;
    // Never a block with a match.
    for (std::size_t block_idx = 0; block_idx < blocks.size(); ++block_idx) {
      CountingSink sink(*filter);
      ASSERT_TRUE((*reader)->ReadBlock(block_idx, filter->fields(), sink));
      if (sink.matches() > 0) {
        EXPECT_TRUE(filter->MayMatch(blocks[block_idx])) << e.filter << " block " << block_idx;
      }
    }
  }
}

}  // namespace
}  // namespace sluice::query
