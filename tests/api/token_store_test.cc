// SPDX-License-Identifier: Apache-2.0
// TokenStore: create, verify, revoke and list API tokens; the file it keeps (hashes only,
// mode 0600, errors naming the line); reloading changes made by another instance; the
// bootstrap of `sluice serve`.

#include "api/token_store.h"

#include <sys/stat.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "testing/process.h"

namespace sluice::api {
namespace {

constexpr UnixMillis kStart = 1'796'284'800'000;  // 2026-12-03 08:00:00 UTC

class TokenStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<TokenStore> OpenStore() {
    TokenStoreOptions options;
    options.data_dir = data_dir_;
    options.reload_interval = std::chrono::milliseconds(1000);
    auto store = TokenStore::Open(options, clock_);
    EXPECT_TRUE(store.has_value()) << store.error().Message();
    return store ? std::move(*store) : nullptr;
  }

  std::string FilePath() const { return data_dir_ + "/api-tokens"; }

  void WriteFile(const std::string& text) const {
    std::filesystem::create_directories(data_dir_);
    std::ofstream(FilePath()) << text;
  }

  Error OpenError() {
    TokenStoreOptions options;
    options.data_dir = data_dir_;
    auto store = TokenStore::Open(options, clock_);
    EXPECT_FALSE(store.has_value());
    return store ? Error(ErrorCode::kInvalidArgument, "opened") : store.error();
  }

  test::TempDir dir_;
  std::string data_dir_ = dir_.File("data");  // does not exist until a token is made
  ManualClock clock_{kStart};
};

constexpr std::string_view kGoodLine =
    "0a1b2c3d admin 1796284800000 "
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 ops team";

TEST(RoleTest, NamesRoundTrip) {
  EXPECT_EQ(RoleName(Role::kRead), "read");
  EXPECT_EQ(RoleName(Role::kAdmin), "admin");
  EXPECT_EQ(ParseRole("read"), Role::kRead);
  EXPECT_EQ(ParseRole("admin"), Role::kAdmin);
  EXPECT_FALSE(ParseRole("Admin").has_value());
  EXPECT_FALSE(ParseRole("").has_value());
  EXPECT_FALSE(ParseRole("write").has_value());
}

TEST_F(TokenStoreTest, CreatedTokenVerifiesWithItsIdAndRole) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->HasTokens());
  auto admin = store->Create(Role::kAdmin, "ci");
  ASSERT_TRUE(admin.has_value()) << admin.error().Message();
  auto reader = store->Create(Role::kRead, "");
  ASSERT_TRUE(reader.has_value()) << reader.error().Message();

  EXPECT_EQ(admin->text.size(), kTokenLength);
  EXPECT_EQ(admin->text.substr(0, 7), "sluice_");
  EXPECT_EQ(admin->text.substr(7, 8), admin->info.id);
  EXPECT_EQ(admin->text[15], '_');
  EXPECT_EQ(admin->info.role, Role::kAdmin);
  EXPECT_EQ(admin->info.name, "ci");
  EXPECT_EQ(admin->info.created_ms, kStart);
  EXPECT_NE(admin->text, reader->text);
  EXPECT_TRUE(store->HasTokens());

  const auto admin_identity = store->Verify(admin->text);
  ASSERT_TRUE(admin_identity.has_value());
  EXPECT_EQ(admin_identity->id, admin->info.id);
  EXPECT_EQ(admin_identity->role, Role::kAdmin);
  const auto read_identity = store->Verify(reader->text);
  ASSERT_TRUE(read_identity.has_value());
  EXPECT_EQ(read_identity->id, reader->info.id);
  EXPECT_EQ(read_identity->role, Role::kRead);
}

TEST_F(TokenStoreTest, WrongSecretOrUnknownIdDoesNotVerify) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto token = store->Create(Role::kAdmin, "x");
  ASSERT_TRUE(token.has_value());

  std::string wrong_secret = token->text;
  wrong_secret.back() = wrong_secret.back() == '0' ? '1' : '0';
  EXPECT_FALSE(store->Verify(wrong_secret).has_value());

  std::string unknown_id = token->text;
  unknown_id[7] = unknown_id[7] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(store->Verify(unknown_id).has_value());

  // The right secret under another valid id is no match either.
  auto other = store->Create(Role::kRead, "y");
  ASSERT_TRUE(other.has_value());
  std::string swapped = token->text;
  swapped.replace(7, 8, other->info.id);
  EXPECT_FALSE(store->Verify(swapped).has_value());
  EXPECT_TRUE(store->Verify(token->text).has_value());
}

TEST_F(TokenStoreTest, MalformedTextIsNoMatch) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto token = store->Create(Role::kAdmin, "x");
  ASSERT_TRUE(token.has_value());
  std::string upper = token->text;
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const std::vector<std::string> texts = {
      "",
      "sluice_",
      "sluice__",
      token->text.substr(0, token->text.size() - 1),
      token->text + "0",
      " " + token->text,
      "Bearer " + token->text,
      upper,
      std::string(token->text.size(), '\0'),
      std::string("sluice_0a1b2c3d_") + std::string(64, 'z'),
      std::string(1 << 16, 'a'),
      std::string("\xff\xfe\x00\x01", 4),
  };
  for (const std::string& text : texts) {
    EXPECT_FALSE(store->Verify(text).has_value()) << text.substr(0, 80);
  }
}

TEST_F(TokenStoreTest, RevokedTokenNoLongerVerifies) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto keep = store->Create(Role::kRead, "keep");
  auto drop = store->Create(Role::kAdmin, "drop");
  ASSERT_TRUE(keep.has_value());
  ASSERT_TRUE(drop.has_value());

  ASSERT_TRUE(store->Revoke(drop->info.id).has_value());
  EXPECT_FALSE(store->Verify(drop->text).has_value());
  EXPECT_TRUE(store->Verify(keep->text).has_value());
  ASSERT_EQ(store->List().size(), 1u);
  EXPECT_EQ(store->List()[0].id, keep->info.id);

  const Status again = store->Revoke(drop->info.id);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().Code(), ErrorCode::kNotFound);
  EXPECT_NE(again.error().Message().find(drop->info.id), std::string_view::npos);

  const Status bad = store->Revoke("not-an-id");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().Code(), ErrorCode::kInvalidArgument);
}

TEST_F(TokenStoreTest, ListShowsPublicFactsInCreationOrder) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->List().empty());
  auto first = store->Create(Role::kAdmin, "first one");
  clock_.Set(kStart + 5000);
  auto second = store->Create(Role::kRead, "");
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());

  const std::vector<TokenInfo> tokens = store->List();
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].id, first->info.id);
  EXPECT_EQ(tokens[0].role, Role::kAdmin);
  EXPECT_EQ(tokens[0].name, "first one");
  EXPECT_EQ(tokens[0].created_ms, kStart);
  EXPECT_EQ(tokens[1].id, second->info.id);
  EXPECT_EQ(tokens[1].role, Role::kRead);
  EXPECT_EQ(tokens[1].name, "");
  EXPECT_EQ(tokens[1].created_ms, kStart + 5000);
}

TEST_F(TokenStoreTest, BadNameIsRefused) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (const std::string& name :
       {std::string(" lead"), std::string("trail "), std::string("new\nline"), std::string(65, 'n'),
        std::string("caf\xc3\xa9")}) {
    auto token = store->Create(Role::kRead, name);
    ASSERT_FALSE(token.has_value()) << name;
    EXPECT_EQ(token.error().Code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(store->List().empty());
  EXPECT_TRUE(IsValidTokenName(std::string(64, 'n')));
  EXPECT_TRUE(IsValidTokenName("grafana (read-only) #2"));
}

TEST_F(TokenStoreTest, TokensPersistAcrossOpen) {
  std::string text;
  std::string id;
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto token = store->Create(Role::kAdmin, "persisted name");
    ASSERT_TRUE(token.has_value());
    text = token->text;
    id = token->info.id;
  }
  auto reopened = OpenStore();
  ASSERT_NE(reopened, nullptr);
  const auto identity = reopened->Verify(text);
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->id, id);
  EXPECT_EQ(identity->role, Role::kAdmin);
  ASSERT_EQ(reopened->List().size(), 1u);
  EXPECT_EQ(reopened->List()[0].name, "persisted name");
  EXPECT_EQ(reopened->List()[0].created_ms, kStart);
}

TEST_F(TokenStoreTest, FileHoldsNoSecretAndIsPrivate) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto token = store->Create(Role::kAdmin, "x");
  ASSERT_TRUE(token.has_value());

  const std::string file = test::ReadText(FilePath());
  const std::string secret = token->text.substr(16);
  EXPECT_EQ(file.find(token->text), std::string::npos);
  EXPECT_EQ(file.find(secret), std::string::npos);
  EXPECT_EQ(file.find(secret.substr(0, 16)), std::string::npos);
  EXPECT_EQ(file.rfind("sluice-api-tokens 1\n", 0), 0u) << file;
  EXPECT_NE(file.find("\n" + token->info.id + " admin 1796284800000 "), std::string::npos) << file;

  struct ::stat st = {};
  ASSERT_EQ(::stat(FilePath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(FilePath() + ".tmp"));
}

TEST_F(TokenStoreTest, AnotherInstanceSeesChangesAfterTheReloadInterval) {
  auto serve = OpenStore();  // as `sluice serve` holds it
  auto cli = OpenStore();    // as `sluice token create` in another process
  ASSERT_NE(serve, nullptr);
  ASSERT_NE(cli, nullptr);
  auto token = cli->Create(Role::kRead, "new");
  ASSERT_TRUE(token.has_value());

  // Within the interval the file is not looked at.
  clock_.Set(kStart + 999);
  EXPECT_FALSE(serve->Verify(token->text).has_value());
  clock_.Set(kStart + 1000);
  const auto identity = serve->Verify(token->text);
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->role, Role::kRead);
  EXPECT_EQ(serve->List().size(), 1u);

  ASSERT_TRUE(cli->Revoke(token->info.id).has_value());
  clock_.Set(kStart + 1999);
  EXPECT_TRUE(serve->Verify(token->text).has_value());
  clock_.Set(kStart + 2000);
  EXPECT_FALSE(serve->Verify(token->text).has_value());
  EXPECT_TRUE(serve->List().empty());
}

TEST_F(TokenStoreTest, ReloadReadsChangesAtOnce) {
  auto serve = OpenStore();
  auto cli = OpenStore();
  ASSERT_NE(serve, nullptr);
  ASSERT_NE(cli, nullptr);
  auto token = cli->Create(Role::kAdmin, "");
  ASSERT_TRUE(token.has_value());
  EXPECT_FALSE(serve->Verify(token->text).has_value());
  ASSERT_TRUE(serve->Reload().has_value());
  EXPECT_TRUE(serve->Verify(token->text).has_value());
  ASSERT_TRUE(serve->Reload().has_value());  // unchanged: nothing to do
  EXPECT_TRUE(serve->Verify(token->text).has_value());
}

TEST_F(TokenStoreTest, WritersInTwoInstancesLoseNothing) {
  auto first = OpenStore();
  auto second = OpenStore();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  constexpr int kPerWriter = 10;
  std::vector<std::string> texts[2];
  std::thread writer([&] {
    for (int token_idx = 0; token_idx < kPerWriter; ++token_idx) {
      auto token = first->Create(Role::kRead, "first");
      if (token) {
        texts[0].push_back(token->text);
      }
    }
  });
  for (int token_idx = 0; token_idx < kPerWriter; ++token_idx) {
    auto token = second->Create(Role::kAdmin, "second");
    if (token) {
      texts[1].push_back(token->text);
    }
  }
  writer.join();
  ASSERT_EQ(texts[0].size(), static_cast<std::size_t>(kPerWriter));
  ASSERT_EQ(texts[1].size(), static_cast<std::size_t>(kPerWriter));
  auto reopened = OpenStore();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->List().size(), 2u * kPerWriter);
  for (const auto& writer_texts : texts) {
    for (const std::string& text : writer_texts) {
      EXPECT_TRUE(reopened->Verify(text).has_value());
    }
  }
}

TEST_F(TokenStoreTest, VerifyFromManyThreadsWhileTheFileChanges) {
  auto serve = OpenStore();
  auto cli = OpenStore();
  ASSERT_NE(serve, nullptr);
  ASSERT_NE(cli, nullptr);
  auto stable = cli->Create(Role::kAdmin, "stable");
  ASSERT_TRUE(stable.has_value());
  ASSERT_TRUE(serve->Reload().has_value());

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int thread_idx = 0; thread_idx < 4; ++thread_idx) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        if (!serve->Verify(stable->text)) {
          failures.fetch_add(1);
        }
        (void)serve->Verify("sluice_00000000_bogus");
      }
    });
  }
  for (int change_idx = 0; change_idx < 20; ++change_idx) {
    auto token = cli->Create(Role::kRead, "churn");
    ASSERT_TRUE(token.has_value());
    ASSERT_TRUE(cli->Revoke(token->info.id).has_value());
    clock_.Set(kStart + 1000 * (change_idx + 1));
  }
  stop.store(true);
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(TokenStoreTest, CorruptFileErrorNamesTheFileAndLine) {
  const std::string header = "sluice-api-tokens 1\n# id role created_ms sha256 name\n";
  const std::string good(kGoodLine);

  struct Case {
    std::string text;
    std::string where;
    std::string what;
  };

  const std::vector<Case> cases = {
      {"", ":1:", "empty file"},
      {"id role\n", ":1:", "not a token file"},
      {"sluice-api-tokens 2\n", ":1:", "unsupported version '2'"},
      {header + good + "\n0a1b2c3e writer 1 " + std::string(64, 'a') + "\n",
       ":4:", "bad role 'writer'"},
      {header + "0A1B2C3D read 1 " + std::string(64, 'a') + "\n", ":3:", "bad id"},
      {header + "0a1b2c3d read -1 " + std::string(64, 'a') + "\n", ":3:", "bad created_ms"},
      {header + "0a1b2c3d read 1 " + std::string(63, 'a') + "\n", ":3:", "bad sha256"},
      {header + "0a1b2c3d read 1\n", ":3:", "separated by single spaces"},
      {header + "0a1b2c3d read 1 " + std::string(64, 'a') + " \n", ":3:", "trailing space"},
      {header + good + "\n" + good + "\n", ":4:", "duplicate id 0a1b2c3d"},
      {header + "0a1b2c3d  read 1 " + std::string(64, 'a') + "\n", ":3:", "bad role ''"},
  };
  for (const Case& test_case : cases) {
    WriteFile(test_case.text);
    const Error error = OpenError();
    EXPECT_EQ(error.Code(), ErrorCode::kCorruption) << test_case.text;
    const std::string message(error.Message());
    EXPECT_NE(message.find(FilePath() + test_case.where), std::string::npos) << message;
    EXPECT_NE(message.find(test_case.what), std::string::npos) << message;
  }
}

TEST_F(TokenStoreTest, ReadsAHandWrittenFileWithCommentsAndBlankLines) {
  WriteFile("sluice-api-tokens 1\n\n# a comment\n" + std::string(kGoodLine) + "\n");
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const std::vector<TokenInfo> tokens = store->List();
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].id, "0a1b2c3d");
  EXPECT_EQ(tokens[0].role, Role::kAdmin);
  EXPECT_EQ(tokens[0].name, "ops team");
  EXPECT_EQ(tokens[0].created_ms, kStart);
}

TEST_F(TokenStoreTest, FileCorruptedWhileRunningKeepsTheLastGoodTokens) {
  auto cli = OpenStore();
  ASSERT_NE(cli, nullptr);
  auto token = cli->Create(Role::kAdmin, "");
  ASSERT_TRUE(token.has_value());
  auto serve = OpenStore();
  ASSERT_NE(serve, nullptr);

  WriteFile("sluice-api-tokens 1\ngarbage\n");
  clock_.Set(kStart + 1000);
  EXPECT_TRUE(serve->Verify(token->text).has_value());
  const Status reload = serve->Reload();
  ASSERT_FALSE(reload.has_value());
  EXPECT_NE(reload.error().Message().find(FilePath() + ":2:"), std::string_view::npos);
  EXPECT_TRUE(serve->Verify(token->text).has_value());

  // Writers refuse to replace a corrupt file.
  auto refused = cli->Create(Role::kRead, "");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().Code(), ErrorCode::kCorruption);
  EXPECT_EQ(test::ReadText(FilePath()), "sluice-api-tokens 1\ngarbage\n");
}

TEST_F(TokenStoreTest, RemovedFileMeansNoFileTokens) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto token = store->Create(Role::kAdmin, "");
  ASSERT_TRUE(token.has_value());
  std::filesystem::remove(FilePath());
  clock_.Set(kStart + 1000);
  EXPECT_FALSE(store->Verify(token->text).has_value());
  EXPECT_TRUE(store->List().empty());
}

TEST_F(TokenStoreTest, BootstrapCreatesAnInitialAdminTokenOnce) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto created = EnsureAdminToken(*store, "");
  ASSERT_TRUE(created.has_value()) << created.error().Message();
  ASSERT_TRUE(created->has_value());
  const auto identity = store->Verify(**created);
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->role, Role::kAdmin);
  ASSERT_EQ(store->List().size(), 1u);
  EXPECT_EQ(store->List()[0].name, "initial");

  // The next start (another instance) finds it and creates nothing.
  auto restarted = OpenStore();
  ASSERT_NE(restarted, nullptr);
  auto again = EnsureAdminToken(*restarted, "");
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->has_value());
  EXPECT_EQ(restarted->List().size(), 1u);
}

TEST_F(TokenStoreTest, BootstrapCreatesNothingWhenAnyTokenExists) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(Role::kRead, "dashboard").has_value());
  auto result = EnsureAdminToken(*store, "");
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->has_value());
  EXPECT_EQ(store->List().size(), 1u);
}

TEST_F(TokenStoreTest, BootstrapAcceptsAConfiguredTokenWithoutWritingIt) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const std::string configured = "correct-horse-battery-staple-42";
  auto result = EnsureAdminToken(*store, configured);
  ASSERT_TRUE(result.has_value()) << result.error().Message();
  EXPECT_FALSE(result->has_value());
  EXPECT_TRUE(store->HasTokens());
  EXPECT_TRUE(store->List().empty());
  EXPECT_FALSE(std::filesystem::exists(FilePath()));

  const auto identity = store->Verify(configured);
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->id, kConfiguredTokenId);
  EXPECT_EQ(identity->role, Role::kAdmin);
  EXPECT_FALSE(store->Verify(configured + "x").has_value());
  EXPECT_FALSE(store->Verify(configured.substr(1)).has_value());

  // File tokens keep working beside it.
  auto token = store->Create(Role::kRead, "");
  ASSERT_TRUE(token.has_value());
  EXPECT_TRUE(store->Verify(token->text).has_value());
  EXPECT_EQ(test::ReadText(FilePath()).find(configured), std::string::npos);
}

TEST_F(TokenStoreTest, BootstrapRejectsAWeakConfiguredToken) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (const std::string& configured :
       {std::string("short"), std::string(23, 'a'), std::string("has a space in it, 24+ chars"),
        std::string("tab\tinside-the-token-text-xx"),
        std::string("caf\xc3\xa9-non-ascii-token-text")}) {
    auto result = EnsureAdminToken(*store, configured);
    ASSERT_FALSE(result.has_value()) << configured;
    EXPECT_EQ(result.error().Code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(store->HasTokens());
  EXPECT_FALSE(std::filesystem::exists(FilePath()));
  EXPECT_TRUE(ValidateConfiguredToken(std::string(24, 'a')).has_value());
}

}  // namespace
}  // namespace sluice::api
