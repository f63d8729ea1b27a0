// SPDX-License-Identifier: Apache-2.0
// RunQuery with address filters (store/address_filter.h): a filter naming hosts skips the
// blocks whose address filters say the hosts are not there, and answers exactly as a scan
// without them, for every shape of filter (src, dst, either, negated, or-ed, IPv6); a
// missing, damaged or mismatched filter file changes nothing but the blocks read.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "query/engine.h"
#include "query/engine_test_util.h"
#include "store/address_filter.h"
#include "store/file_system.h"
#include "store/layout.h"

namespace sluice::test {
namespace {

using query::QuerySpec;
using query::RunQuery;

constexpr std::uint32_t kRowsPerBlock = 512;
constexpr std::uint64_t kBlocks = 8;

flow::IpAddress V4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return flow::IpAddress::FromV4(a << 24 | b << 16 | c << 8 | d);
}

// Each block has addresses of its own, a different one in every row (so that the 256-bit
// filter of each block's statistics is full and skips nothing): sources 10.<block>.x.y,
// destinations 172.<block>.x.y, and in block 5 IPv6 sources 2001:db8::5:<0-3> on even
// rows; and its first rows go between 1.1.1.1 and 223.255.255.254 and between ::1 and
// ff00::1, both ways, so that every block spans the same IPv4 and IPv6 ranges and its
// statistics' minimum and maximum skip nothing either.
std::vector<TestFlow> BlockLocalFlows(std::int64_t base_ms) {
  std::vector<TestFlow> flows;
  for (std::uint64_t n = 0; n < kBlocks * kRowsPerBlock; ++n) {
    TestFlow f = MakeFlow(n, base_ms);
    const auto block = static_cast<std::uint32_t>(n / kRowsPerBlock);
    const auto row = static_cast<std::uint32_t>(n % kRowsPerBlock);
    f.src = V4(10, block, row / 256, row % 256);
    f.dst = V4(172, block, row / 256, row % 256);
    if (block == 5 && n % 2 == 0) {
      f.src = V6(0x20010db800000000ULL, 0x50000 + n % 4);
    }
    if (row < 2) {
      const flow::IpAddress low = V4(1, 1, 1, 1);
      const flow::IpAddress high = V4(223, 255, 255, 254);
      f.src = row == 0 ? low : high;
      f.dst = row == 0 ? high : low;
    } else if (row < 4) {
      const flow::IpAddress low = V6(0, 1);
      const flow::IpAddress high = V6(0xff00000000000000ULL, 1);
      f.src = row == 2 ? low : high;
      f.dst = row == 2 ? high : low;
    }
    flows.push_back(f);
  }
  return flows;
}

// Writes the address filters of the segment holding `flows` as the housekeeping does.
void WriteAddressFilter(const TestStore& store, std::int64_t slot, const std::vector<TestFlow>& flows) {
  store::AddressFilterBuilder builder;
  for (std::size_t start = 0; start < flows.size(); start += kRowsPerBlock) {
    const std::size_t end = std::min(flows.size(), start + kRowsPerBlock);
    for (std::size_t idx = start; idx < end; ++idx) {
      builder.Add(store::AddressFilterKey(flows[idx].src));
      builder.Add(store::AddressFilterKey(flows[idx].dst));
    }
    builder.FinishBlock(static_cast<std::uint32_t>(end - start));
  }
  const std::string path = store::AddressFilterPath(store.dir(), "core", slot, 0);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  store::PosixFileSystem file_system;
  ASSERT_TRUE(builder.WriteTo(path, file_system));
}

struct Case {
  std::string filter;
  std::function<bool(const TestFlow&)> matches;
  bool prunes;  // the address filters let it skip blocks
};

std::vector<Case> Cases() {
  const flow::IpAddress a = V4(10, 3, 0, 2);
  const flow::IpAddress b = V4(172, 6, 1, 4);
  const flow::IpAddress v6 = V6(0x20010db800000000ULL, 0x50002);
  return {
      {"host 10.3.0.2", [=](const TestFlow& f) { return f.src == a || f.dst == a; }, true},
      {"src host 10.3.0.2", [=](const TestFlow& f) { return f.src == a; }, true},
      {"dst host 10.3.0.2", [=](const TestFlow& f) { return f.dst == a; }, true},
      {"dst host 172.6.1.4", [=](const TestFlow& f) { return f.dst == b; }, true},
      {"host 10.3.0.2 or host 172.6.1.4",
       [=](const TestFlow& f) { return f.src == a || f.dst == a || f.src == b || f.dst == b; }, true},
      {"host 10.3.0.2 and proto tcp",
       [=](const TestFlow& f) { return (f.src == a || f.dst == a) && f.proto == 6; }, true},
      {"host 2001:db8::5:2", [=](const TestFlow& f) { return f.src == v6 || f.dst == v6; }, true},
      {"host 10.9.9.9", [](const TestFlow&) { return false; }, true},
      {"not host 10.3.0.2", [=](const TestFlow& f) { return !(f.src == a || f.dst == a); }, false},
      {"host 10.3.0.2 or proto udp",
       [=](const TestFlow& f) { return f.src == a || f.dst == a || f.proto == 17; }, false},
      {"src host 172.6.1.4", [=](const TestFlow& f) { return f.src == b; }, true},
  };
}

struct FilteredStore {
  TestStore store;
  std::vector<TestFlow> first = BlockLocalFlows(kHour);
  std::vector<TestFlow> second = BlockLocalFlows(kHour + 5 * 60'000);

  FilteredStore() {
    store.AddSegment("core", kHour, first, 0, true, kRowsPerBlock);
    store.AddSegment("core", kHour + 5 * 60'000, second, 0, true, kRowsPerBlock);
  }

  std::string FilterPath(std::int64_t slot) const { return store::AddressFilterPath(store.dir(), "core", slot, 0); }
};

query::ScanStats Check(const FilteredStore& data, const Case& c) {
  QuerySpec spec = SpecFor(data.store);
  spec.filter = c.filter;
  spec.use_rollups = false;
  auto result = RunQuery(spec, nullptr);
  EXPECT_TRUE(result) << c.filter << ": " << result.error().Message();
  if (!result) {
    return {};
  }
  std::vector<TestFlow> want;
  for (const TestFlow& f : Concat({data.first, data.second})) {
    if (c.matches(f)) {
      want.push_back(f);
    }
  }
  EXPECT_TRUE(result->totals == Totals(want)) << c.filter;
  EXPECT_EQ(result->scan.rows_matched, want.size()) << c.filter;
  return result->scan;
}

TEST(EngineAddressFilterTest, SkipsBlocksWithoutTheHostsAndAnswersAsAScan) {
  FilteredStore data;
  std::vector<query::ScanStats> without;
  for (const Case& c : Cases()) {
    without.push_back(Check(data, c));
  }
  WriteAddressFilter(data.store, kHour, data.first);
  WriteAddressFilter(data.store, kHour + 5 * 60'000, data.second);
  const std::vector<Case> cases = Cases();
  for (std::size_t idx = 0; idx < cases.size(); ++idx) {
    const query::ScanStats with = Check(data, cases[idx]);
    if (cases[idx].prunes) {
      EXPECT_GT(with.blocks_skipped, without[idx].blocks_skipped) << cases[idx].filter;
      // Two segments of eight blocks: the host's block in each, and perhaps a false
      // positive or two.
      EXPECT_LE(with.rows_scanned, 6u * kRowsPerBlock) << cases[idx].filter;
    } else {
      EXPECT_EQ(with.blocks_skipped, without[idx].blocks_skipped) << cases[idx].filter;
    }
  }
}

TEST(EngineAddressFilterTest, DamagedMissingOrMismatchedFiltersAreNotUsed) {
  FilteredStore data;
  const Case host = Cases()[0];
  const query::ScanStats without = Check(data, host);

  // Damaged: not a filter file at all.
  WriteAddressFilter(data.store, kHour, data.first);
  {
    std::ofstream out(data.FilterPath(kHour), std::ios::binary | std::ios::trunc);
    out << "not an address filter";
  }
  EXPECT_EQ(Check(data, host).blocks_skipped, without.blocks_skipped);

  // Of other blocks: a filter of the first four blocks only, and one whose blocks hold
  // other row counts; neither may drop a block.
  std::vector<TestFlow> half(data.first.begin(), data.first.begin() + 4 * kRowsPerBlock);
  WriteAddressFilter(data.store, kHour, half);
  EXPECT_EQ(Check(data, host).blocks_skipped, without.blocks_skipped);
  store::AddressFilterBuilder odd;
  for (std::uint64_t block = 0; block < kBlocks; ++block) {
    odd.FinishBlock(kRowsPerBlock - 1);
  }
  store::PosixFileSystem file_system;
  ASSERT_TRUE(odd.WriteTo(data.FilterPath(kHour), file_system));
  EXPECT_EQ(Check(data, host).blocks_skipped, without.blocks_skipped);

  // A filter file with no segment, and a segment with no filter file: the other segment's
  // filter is still used.
  std::filesystem::remove(data.FilterPath(kHour));
  WriteAddressFilter(data.store, kHour + 5 * 60'000, data.second);
  WriteAddressFilter(data.store, kHour + 10 * 60'000, data.second);
  EXPECT_GT(Check(data, host).blocks_skipped, without.blocks_skipped);
}

TEST(EngineAddressFilterTest, OpenSegmentsAreReadWhole) {
  FilteredStore data;
  const std::vector<TestFlow> open = BlockLocalFlows(kHour + 10 * 60'000);
  data.store.AddSegment("core", kHour + 10 * 60'000, open, 0, false, kRowsPerBlock);
  const Case host = Cases()[0];
  // A stray filter beside an open segment is not used (the segment is still growing).
  WriteAddressFilter(data.store, kHour + 10 * 60'000, open);
  QuerySpec spec = SpecFor(data.store);
  spec.filter = host.filter;
  spec.use_rollups = false;
  auto result = RunQuery(spec, nullptr);
  ASSERT_TRUE(result) << result.error().Message();
  std::vector<TestFlow> want;
  for (const TestFlow& f : Concat({data.first, data.second, open})) {
    if (host.matches(f)) {
      want.push_back(f);
    }
  }
  EXPECT_TRUE(result->totals == Totals(want));
}

}  // namespace
}  // namespace sluice::test
