// SPDX-License-Identifier: Apache-2.0
// SegmentReader::ReadSelected(): late materialization. The selection sees only its
// columns; the kept rows come back whole, in order, packed into full batches, across
// batch and block boundaries; a block with no kept row reads none of the other columns.

#include <cstdint>
#include <algorithm>
#include <functional>
#include <utility>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "segment_test_util.h"
#include "store/format.h"

namespace sluice::store {
namespace {

using flow::FieldId;
using flow::FlowBatch;
using test::FillEveryField;
using test::TempDir;
using test::WriteSegment;

// Keeps the rows for which keep(block row) is true; checks that the batch holds the
// selection fields and zeros elsewhere.
class PredicateSelector final : public RowSelector {
 public:
  explicit PredicateSelector(std::function<bool(std::uint64_t)> keep) : keep_(std::move(keep)) {}

  std::size_t Select(const FlowBatch& batch, std::size_t start, std::uint32_t* rows) override {
    EXPECT_LE(batch.size(), FlowBatch::kCapacity);
    std::size_t count = 0;
    for (std::size_t row = 0; row < batch.size(); ++row) {
      const std::uint64_t n = block_base + start + row;
      // dst_port is a selection field (443 or 65535, never 0); bytes is not.
      EXPECT_NE(batch.cols().dst_port[row], 0) << "row " << n;
      EXPECT_EQ(batch.cols().bytes[row], 0u) << "row " << n;
      if (keep_(n)) {
        rows[count++] = static_cast<std::uint32_t>(row);
      }
    }
    ++calls;
    return count;
  }

  std::uint64_t block_base = 0;
  std::size_t calls = 0;

 private:
  std::function<bool(std::uint64_t)> keep_;
};

// Counts the batches handed over and copies their rows.
class CountingSink final : public flow::FlowSink {
 public:
  void Consume(FlowBatch& batch) override {
    ++batches;
    EXPECT_GT(batch.size(), 0u);
    rows.Consume(batch);
  }
  std::size_t batches = 0;
  test::CollectingSink rows;
};

struct SelectCase {
  std::uint64_t rows;
  std::uint32_t rows_per_block;
};

// Reads every block of `path` with `keep` and returns what came out.
void ReadSelectedAll(const std::string& path, const std::function<bool(std::uint64_t)>& keep,
                     CountingSink& sink, std::vector<std::size_t>& kept_per_block) {
  auto reader = SegmentReader::Open(path);
  ASSERT_TRUE(reader) << reader.error().Message();
  PredicateSelector selector(keep);
  const std::vector<FieldId> select = {FieldId::kDstPort};
  std::uint64_t base = 0;
  for (std::size_t block_idx = 0; block_idx < (*reader)->blocks().size(); ++block_idx) {
    selector.block_base = base;
    auto kept = (*reader)->ReadSelected(block_idx, select, selector, AllFields(), sink);
    ASSERT_TRUE(kept) << kept.error().Message();
    kept_per_block.push_back(*kept);
    base += (*reader)->blocks()[block_idx].row_count;
  }
}

TEST(SegmentSelectTest, KeptRowsComeBackWholeAndInOrderAcrossBoundaries) {
  // Blocks larger and smaller than a batch, and a block boundary inside a batch.
  const std::uint32_t cap = static_cast<std::uint32_t>(FlowBatch::kCapacity);
  for (const SelectCase c : {SelectCase{5 * cap + 3, 2 * cap + 1}, SelectCase{3 * cap, cap},
                             SelectCase{7, 3}, SelectCase{2 * cap + 5, 50}}) {
    TempDir dir;
    const std::string path = dir.File("select.seg");
    SegmentWriterOptions options;
    options.rows_per_block = c.rows_per_block;
    WriteSegment(path, c.rows, FillEveryField, options);
    for (const int mode : {0, 1, 2, 3, 4}) {
      // Every row; every third and the last of each batch; only rows past the middle;
      // few rows (decoded at those rows only, DecodeColumnRows()); the last row alone.
      auto keep = [&](std::uint64_t n) {
        return mode == 0   ? true
               : mode == 1 ? n % 3 == 0 || n % cap == cap - 1
               : mode == 2 ? n >= c.rows / 2
               : mode == 3 ? n % 97 == 5
                           : n == c.rows - 1;
      };
      CountingSink sink;
      std::vector<std::size_t> kept;
      ReadSelectedAll(path, keep, sink, kept);
      test::CollectingSink want;
      FlowBatch batch;
      std::size_t want_batches = 0;
      for (std::uint64_t n = 0; n < c.rows; ++n) {
        if (keep(n)) {
          FillEveryField(batch, batch.AppendRow(), n);
          want.Consume(batch);
          batch.Clear();
        }
      }
      for (std::uint64_t start = 0; start < c.rows; start += c.rows_per_block) {
        std::size_t in_block = 0;
        for (std::uint64_t n = start; n < std::min<std::uint64_t>(c.rows, start + c.rows_per_block); ++n) {
          in_block += keep(n) ? 1 : 0;
        }
        want_batches += (in_block + cap - 1) / cap;
      }
      SCOPED_TRACE("rows " + std::to_string(c.rows) + " per block " +
                   std::to_string(c.rows_per_block) + " mode " + std::to_string(mode));
      test::ExpectSameRows(want, sink.rows);
      EXPECT_EQ(sink.batches, want_batches) << "kept rows are packed into full batches";
    }
  }
}

TEST(SegmentSelectTest, BlockWithNoKeptRowHandsNothingOver) {
  TempDir dir;
  const std::string path = dir.File("none.seg");
  SegmentWriterOptions options;
  options.rows_per_block = 40;
  WriteSegment(path, 100, FillEveryField, options);
  CountingSink sink;
  std::vector<std::size_t> kept;
  // Only rows of the last block.
  ReadSelectedAll(path, [](std::uint64_t n) { return n >= 90; }, sink, kept);
  EXPECT_EQ(kept, (std::vector<std::size_t>{0, 0, 10}));
  EXPECT_EQ(sink.batches, (10 + FlowBatch::kCapacity - 1) / FlowBatch::kCapacity);
  ASSERT_EQ(sink.rows.size(), 10u);
  EXPECT_EQ(sink.rows[0].cols().bytes[sink.rows[0].row], 90u * 1500);
}

TEST(SegmentSelectTest, AtMostMaxKeptRowsAreKeptTheFirstOnes) {
  TempDir dir;
  const std::string path = dir.File("capped.seg");
  const std::size_t cap = FlowBatch::kCapacity;
  SegmentWriterOptions options;
  options.rows_per_block = static_cast<std::uint32_t>(3 * cap);
  WriteSegment(path, 3 * cap, FillEveryField, options);
  const auto odd = [](std::uint64_t n) { return n % 2 == 1; };
  const std::vector<FieldId> select = {FieldId::kDstPort};
  // Fewer than a batch keeps, a batch's worth and more, more than the block keeps.
  for (const std::size_t max_kept : {std::size_t{1}, std::size_t{10}, cap + 7, 3 * cap}) {
    auto reader = SegmentReader::Open(path);
    ASSERT_TRUE(reader) << reader.error().Message();
    PredicateSelector selector(odd);
    CountingSink sink;
    auto kept = (*reader)->ReadSelected(0, select, selector, AllFields(), sink, nullptr, max_kept);
    ASSERT_TRUE(kept) << kept.error().Message();
    const std::size_t want = std::min(max_kept, 3 * cap / 2);
    EXPECT_EQ(*kept, want) << max_kept;
    ASSERT_EQ(sink.rows.size(), want) << max_kept;
    for (std::size_t i = 0; i < want; ++i) {
      EXPECT_EQ(sink.rows[i].cols().src_port[sink.rows[i].row],
                static_cast<std::uint16_t>((2 * i + 1) * 31))
          << "kept row " << i << " of " << max_kept;
    }
    // Once enough rows are kept the selector is not asked about the block's later rows.
    EXPECT_EQ(selector.calls, max_kept <= cap / 2 ? 1u : max_kept <= cap ? 2u : 3u) << max_kept;
  }
  auto reader = SegmentReader::Open(path);
  ASSERT_TRUE(reader);
  PredicateSelector selector(odd);
  CountingSink sink;
  auto none = (*reader)->ReadSelected(0, select, selector, AllFields(), sink, nullptr, 0);
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0u);
  EXPECT_EQ(sink.batches, 0u);
}

TEST(SegmentSelectTest, DamageInAnUnreadColumnIsNotSeenWhenNothingIsKept) {
  TempDir dir;
  const std::string path = dir.File("damaged.seg");
  SegmentWriterOptions options;
  options.rows_per_block = 40;
  WriteSegment(path, 40, FillEveryField, options);
  std::uint64_t offset = 0;
  {
    auto reader = SegmentReader::Open(path);
    ASSERT_TRUE(reader);
    const ColumnChunk* bytes = (*reader)->blocks()[0].Find(FieldId::kBytes);
    ASSERT_NE(bytes, nullptr);
    offset = bytes->offset;
  }
  std::vector<std::uint8_t> file = test::ReadBytes(path);
  file[offset] ^= 0xff;
  test::WriteBytes(path, file);
  auto reader = SegmentReader::Open(path);
  ASSERT_TRUE(reader);
  const std::vector<FieldId> select = {FieldId::kDstPort};
  CountingSink sink;
  PredicateSelector none([](std::uint64_t) { return false; });
  auto kept = (*reader)->ReadSelected(0, select, none, AllFields(), sink);
  ASSERT_TRUE(kept) << kept.error().Message();
  EXPECT_EQ(*kept, 0u);
  // Keeping a row reads the damaged column: an error, and nothing handed over.
  PredicateSelector all([](std::uint64_t) { return true; });
  auto failed = (*reader)->ReadSelected(0, select, all, AllFields(), sink);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().Code(), ErrorCode::kCorruption);
  EXPECT_EQ(sink.batches, 0u);
}

TEST(SegmentSelectTest, ChangingSelectionFieldsLeavesNoStaleColumn) {
  TempDir dir;
  const std::string path = dir.File("fields.seg");
  SegmentWriterOptions options;
  options.rows_per_block = 30;
  WriteSegment(path, 60, FillEveryField, options);
  auto reader = SegmentReader::Open(path);
  ASSERT_TRUE(reader);
  class CheckSelector final : public RowSelector {
   public:
    std::size_t Select(const FlowBatch& batch, std::size_t, std::uint32_t*) override {
      for (std::size_t row = 0; row < batch.size(); ++row) {
        EXPECT_EQ(batch.cols().dst_port[row], 0) << "stale selection column";
      }
      return 0;
    }
  };
  PredicateSelector first([](std::uint64_t) { return false; });
  CountingSink sink;
  const std::vector<FieldId> ports = {FieldId::kDstPort};
  ASSERT_TRUE((*reader)->ReadSelected(0, ports, first, AllFields(), sink));
  CheckSelector check;
  const std::vector<FieldId> proto = {FieldId::kProto, FieldId::kSubscriber};
  ASSERT_TRUE((*reader)->ReadSelected(1, proto, check, AllFields(), sink));
  EXPECT_EQ(sink.batches, 0u);
}

// A DictionaryColumn hands out a dictionary-coded address column as each kept row's index
// into the block's dictionary; the values so named are the column's values.
TEST(SegmentSelectTest, DictionaryColumnNamesEachKeptRowsValue) {
  TempDir dir;
  const std::string path = dir.File("dictionary.seg");
  SegmentWriterOptions options;
  options.rows_per_block = 3000;
  const std::uint64_t rows = 7000;
  WriteSegment(path, rows, FillEveryField, options);
  auto reader = SegmentReader::Open(path);
  ASSERT_TRUE(reader);
  class IndexSink final : public flow::FlowSink {
   public:
    explicit IndexSink(const DictionaryColumn& column) : column_(&column) {}
    void Consume(FlowBatch& batch) override {
      for (std::size_t row = 0; row < batch.size(); ++row) {
        if (column_->coded) {
          const std::uint16_t idx = column_->indexes[row];
          ASSERT_LT(std::size_t{idx} * 16, column_->dictionary.size());
          flow::IpAddress address;
          std::copy_n(column_->dictionary.data() + std::size_t{idx} * 16, 16, address.bytes.begin());
          values.push_back(address);
          ++coded_rows;
        } else {
          values.push_back(batch.cols().xlate_src_addr[row]);
        }
        bytes.push_back(batch.cols().bytes[row]);
      }
    }
    std::vector<flow::IpAddress> values;
    std::vector<std::uint64_t> bytes;
    std::size_t coded_rows = 0;

   private:
    const DictionaryColumn* column_;
  };
  DictionaryColumn column;
  column.field = FieldId::kXlateSrcAddr;
  IndexSink sink(column);
  PredicateSelector selector([](std::uint64_t n) { return n % 7 != 3; });
  const std::vector<FieldId> select = {FieldId::kDstPort};
  const std::vector<FieldId> fields = {FieldId::kXlateSrcAddr, FieldId::kBytes};
  std::uint64_t base = 0;
  for (std::size_t block_idx = 0; block_idx < (*reader)->blocks().size(); ++block_idx) {
    selector.block_base = base;
    auto kept = (*reader)->ReadSelected(block_idx, select, selector, fields, sink, &column);
    ASSERT_TRUE(kept) << kept.error().Message();
    base += (*reader)->blocks()[block_idx].row_count;
  }
  EXPECT_GT(sink.coded_rows, 0u) << "no block came as a dictionary";
  std::vector<flow::IpAddress> want;
  std::vector<std::uint64_t> want_bytes;
  FlowBatch batch;
  for (std::uint64_t n = 0; n < rows; ++n) {
    if (n % 7 != 3) {
      FillEveryField(batch, batch.AppendRow(), n);
      want.push_back(batch.cols().xlate_src_addr[0]);
      want_bytes.push_back(batch.cols().bytes[0]);
      batch.Clear();
    }
  }
  EXPECT_EQ(sink.values, want);
  EXPECT_EQ(sink.bytes, want_bytes);
}

}  // namespace
}  // namespace sluice::store
