// SPDX-License-Identifier: Apache-2.0
// store/catalog.h: ScanCatalog() finds every store file by name (no file is opened),
// ignores everything else, and sorts by kind, start, source, index and state.

#include "store/catalog.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/layout.h"

namespace sluice::store {
namespace {

namespace fs = std::filesystem;

constexpr UnixMillis kDay = 1'795'392'000'000;  // 2026-11-23 00:00:00 UTC

UnixMillis At(UnixMillis day, int hour, int minute) {
  return day + hour * kMillisPerHour + minute * kMillisPerMinute;
}

// A directory for one test, removed with its contents at the end.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (fs::temp_directory_path() /
             ("sluice_catalog_" + std::string(info->name()) + "_" + std::to_string(::getpid())))
                .string();
    fs::remove_all(path_);
    fs::create_directories(path_);
  }

  ~ScratchDir() { fs::remove_all(path_); }

  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

  // Creates `relative` (and its parents) holding `size` bytes; returns the full path.
  std::string Touch(const std::string& relative, std::size_t size = 0) const {
    const fs::path file = fs::path(path_) / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << std::string(size, 'x');
    return file.string();
  }

 private:
  std::string path_;
};

std::vector<std::string> RelativePaths(const std::vector<CatalogEntry>& entries) {
  std::vector<std::string> paths;
  for (const CatalogEntry& entry : entries) {
    paths.push_back(entry.relative_path);
  }
  return paths;
}

TEST(CatalogTest, MissingDataDirectoryIsAnEmptyCatalog) {
  ScratchDir dir;
  const auto entries = ScanCatalog(dir.path() + "/not-yet");
  ASSERT_TRUE(entries) << entries.error().Message();
  EXPECT_TRUE(entries->empty());
  const auto empty = ScanCatalog(dir.path());
  ASSERT_TRUE(empty) << empty.error().Message();
  EXPECT_TRUE(empty->empty());
}

TEST(CatalogTest, FindsEveryStoreFileSortedByKindStartSourceIndexAndState) {
  ScratchDir dir;
  dir.Touch("edge/2026/11/23/1620.seg", 10);
  dir.Touch("core/2026/11/23/1625.seg.open", 11);
  dir.Touch("core/2026/11/23/1620-2.seg", 12);
  dir.Touch("core/2026/11/23/1620.seg", 13);
  dir.Touch("core/2026/11/23/1620-1.seg", 14);
  dir.Touch("core/2026/11/23/1620-1.seg.tmp", 15);
  dir.Touch("core/2026/11/22/2355.seg", 16);
  dir.Touch("core/rollup/2026/11/23/16.seg", 17);
  dir.Touch("core/rollup/2026/11/22/23.seg", 18);
  dir.Touch("core/2026/11/24/0000.seg.open", 19);
  const auto entries = ScanCatalog(dir.path());
  ASSERT_TRUE(entries) << entries.error().Message();
  EXPECT_EQ(RelativePaths(*entries), (std::vector<std::string>{
                                         "core/2026/11/22/2355.seg",
                                         "core/2026/11/23/1620.seg",
                                         "core/2026/11/23/1620-1.seg",
                                         "core/2026/11/23/1620-1.seg.tmp",
                                         "core/2026/11/23/1620-2.seg",
                                         "edge/2026/11/23/1620.seg",
                                         "core/2026/11/23/1625.seg.open",
                                         "core/2026/11/24/0000.seg.open",
                                         "core/rollup/2026/11/22/23.seg",
                                         "core/rollup/2026/11/23/16.seg",
                                     }));
  ASSERT_EQ(entries->size(), 10u);
  const CatalogEntry& first = (*entries)[1];
  EXPECT_EQ(first.path, dir.path() + "/core/2026/11/23/1620.seg");
  EXPECT_EQ(first.size_bytes, 13u);
  EXPECT_EQ(first.name.source, "core");
  EXPECT_EQ(first.name.kind, SegmentKind::kDetail);
  EXPECT_EQ(first.name.state, SegmentState::kSealed);
  EXPECT_EQ(first.name.start, At(kDay, 16, 20));
  EXPECT_EQ(first.name.index, 0u);
  EXPECT_EQ((*entries)[3].name.state, SegmentState::kTemp);
  EXPECT_EQ((*entries)[3].name.index, 1u);
  EXPECT_EQ((*entries)[6].name.state, SegmentState::kOpen);
  EXPECT_EQ((*entries)[6].size_bytes, 11u);
  EXPECT_EQ((*entries)[9].name.kind, SegmentKind::kRollup);
  EXPECT_EQ((*entries)[9].name.start, At(kDay, 16, 0));
  EXPECT_EQ((*entries)[9].size_bytes, 17u);
}

TEST(CatalogTest, IgnoresFilesAndDirectoriesThatAreNotTheStores) {
  ScratchDir dir;
  dir.Touch("core/2026/11/23/1620.seg");
  dir.Touch("README");
  dir.Touch("sluice.state");
  dir.Touch("core/2026/11/23/notes.txt");
  dir.Touch("core/2026/11/23/1620.seg.bak");
  dir.Touch("core/2026/11/23/1660.seg");
  dir.Touch(".trash/2026/11/23/1620.seg");
  dir.Touch("rollup/2026/11/23/1620.seg");
  dir.Touch("core/2026/11/23/deeper/1620.seg");
  dir.Touch("core/2026/11/23/1625.seg/1630.seg");  // a directory with a segment's name
  dir.Touch("a/b/c/d/e/f/g/h/1620.seg");
  fs::create_directories(dir.path() + "/core/2026/11/23/1635.seg");
  const auto entries = ScanCatalog(dir.path());
  ASSERT_TRUE(entries) << entries.error().Message();
  EXPECT_EQ(RelativePaths(*entries), (std::vector<std::string>{"core/2026/11/23/1620.seg"}));
}

TEST(CatalogTest, DataDirectoryWithTrailingSlashGivesTheSameRelativePaths) {
  ScratchDir dir;
  dir.Touch("core/2026/11/23/1620.seg");
  dir.Touch("core/rollup/2026/11/23/16.seg");
  const auto entries = ScanCatalog(dir.path() + "/");
  ASSERT_TRUE(entries) << entries.error().Message();
  EXPECT_EQ(RelativePaths(*entries), (std::vector<std::string>{"core/2026/11/23/1620.seg",
                                                               "core/rollup/2026/11/23/16.seg"}));
}

TEST(CatalogTest, PathsMadeByLayoutAreFound) {
  ScratchDir dir;
  const std::string sealed = DetailSegmentPath(dir.path(), "core", At(kDay, 0, 0), 0);
  const std::string again = DetailSegmentPath(dir.path(), "core", At(kDay, 0, 0), 1);
  const std::string open = OpenPathFor(DetailSegmentPath(dir.path(), "core", At(kDay, 0, 5), 0));
  const std::string rollup = RollupSegmentPath(dir.path(), kDefaultSource, At(kDay, 0, 0));
  const std::string prefix = dir.path() + "/";
  for (const std::string& path : {sealed, again, open, rollup}) {
    dir.Touch(path.substr(prefix.size()), 1);
  }
  const auto entries = ScanCatalog(dir.path());
  ASSERT_TRUE(entries) << entries.error().Message();
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_EQ((*entries)[0].path, sealed);
  EXPECT_EQ((*entries)[1].path, again);
  EXPECT_EQ((*entries)[2].path, open);
  EXPECT_EQ((*entries)[3].path, rollup);
  EXPECT_EQ((*entries)[3].name.source, kDefaultSource);
}

TEST(CatalogTest, ADataDirectoryThatIsAFileIsAnErrorNotACrash) {
  ScratchDir dir;
  const std::string file = dir.Touch("plain-file", 3);
  const auto entries = ScanCatalog(file);
  EXPECT_FALSE(entries);
}

}  // namespace
}  // namespace sluice::store
