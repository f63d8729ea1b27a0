// SPDX-License-Identifier: Apache-2.0
// ViewStore: validation (name, description, filter parsed by the filter parser), ids,
// unique names, and persistence in DATA_DIR/views.json across a reopen.

#include "api/view_store.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "testing/process.h"

namespace sluice::test {
namespace {

// A fresh data directory inside `dir`.
std::string DataDir(const TempDir& dir) {
  const std::string path = dir.File("data");
  std::filesystem::create_directories(path);
  return path;
}

api::ViewFields Fields(std::string name, std::string filter, std::string description = "") {
  return {std::move(name), std::move(filter), std::move(description)};
}

TEST(ViewStoreTest, CreatesUpdatesDeletesAndKeepsThemOnDisk) {
  TempDir dir;
  auto store = api::ViewStore::Open(DataDir(dir));
  ASSERT_TRUE(store) << store.error().Message();
  auto web = (*store)->Create(Fields("web", "proto tcp and port 443", "HTTPS"), 1000);
  ASSERT_TRUE(web) << web.error().message;
  EXPECT_EQ(web->id, "v1");
  EXPECT_EQ(web->created_ms, 1000);
  auto dns = (*store)->Create(Fields("dns", "port 53"), 2000);
  ASSERT_TRUE(dns);
  EXPECT_EQ(dns->id, "v2");
  auto changed = (*store)->Update("v1", Fields("web", "port 443 or port 80"), 3000);
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(changed->created_ms, 1000);
  EXPECT_EQ(changed->updated_ms, 3000);
  ASSERT_TRUE((*store)->Delete("v2"));

  auto reopened = api::ViewStore::Open(DataDir(dir));
  ASSERT_TRUE(reopened) << reopened.error().Message();
  const auto views = (*reopened)->List();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].id, "v1");
  EXPECT_EQ(views[0].fields.filter, "port 443 or port 80");
  EXPECT_EQ(views[0].fields.description, "");
  // ids are never reused, even after a delete and a reopen
  auto next = (*reopened)->Create(Fields("ssh", "port 22"), 4000);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->id, "v3");
}

TEST(ViewStoreTest, RefusesBadFieldsAndDuplicateNames) {
  TempDir dir;
  auto store = api::ViewStore::Open(DataDir(dir));
  ASSERT_TRUE(store);
  auto bad_filter = (*store)->Create(Fields("x", "proto tcp and src port"), 1);
  ASSERT_FALSE(bad_filter);
  EXPECT_EQ(bad_filter.error().code, "bad_filter");
  EXPECT_EQ(bad_filter.error().position, 23u);
  EXPECT_EQ((*store)->Create(Fields("", "port 1"), 1).error().code, "bad_parameter");
  EXPECT_EQ((*store)->Create(Fields(" padded", "port 1"), 1).error().code, "bad_parameter");
  EXPECT_EQ((*store)->Create(Fields(std::string(65, 'n'), "port 1"), 1).error().code,
            "bad_parameter");
  EXPECT_EQ((*store)->Create(Fields("tab\there", "port 1"), 1).error().code, "bad_parameter");
  EXPECT_EQ((*store)->Create(Fields("bad \xff utf8", "port 1"), 1).error().code, "bad_parameter");
  EXPECT_EQ((*store)->Create(Fields("long", "port 1", std::string(1025, 'd')), 1).error().code,
            "bad_parameter");
  ASSERT_TRUE((*store)->Create(Fields("Überblick", ""), 1));  // UTF-8 names, and the empty filter
  auto again = (*store)->Create(Fields("Überblick", "port 2"), 2);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().status, 409);
  EXPECT_EQ((*store)->Update("v9", Fields("y", ""), 3).error().status, 404);
  EXPECT_EQ((*store)->Delete("v9").error().status, 404);
  EXPECT_EQ((*store)->List().size(), 1u);
}

TEST(ViewStoreTest, ACorruptFileIsAnErrorNamingIt) {
  TempDir dir;
  {
    std::ofstream out(DataDir(dir) + "/views.json");
    out << "{\"version\": 1, \"views\": 3}";
  }
  auto store = api::ViewStore::Open(DataDir(dir));
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().Message().find("views.json"), std::string_view::npos);
  {
    std::ofstream out(DataDir(dir) + "/views.json");
    out << "{\"version\": 2, \"next_id\": 1, \"views\": []}";
  }
  EXPECT_FALSE(api::ViewStore::Open(DataDir(dir)));
}

}  // namespace
}  // namespace sluice::test
