// SPDX-License-Identifier: Apache-2.0
// `sluice token create|list|revoke` end to end with the real binary: the token is printed
// once, list never shows a secret, revoke removes it; usage errors exit 2.

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "testing/process.h"

namespace sluice {
namespace {

const std::string kSluice = SLUICE_BINARY_DIR "/apps/sluice/sluice";

// The token printed on stdout by `create` (one line).
std::string TokenOf(const std::string& out) {
  return out.substr(0, out.find('\n'));
}

TEST(TokenCommandTest, CreateListRevoke) {
  test::TempDir dir;
  const std::string data = dir.File("data");
  std::string out;
  std::string err;
  ASSERT_EQ(test::RunCommand({kSluice, "token", "create", "--data", data, "--role", "admin",
                              "--name", "ops laptop"},
                             dir, "create", &out, &err),
            0)
      << err;
  const std::string token = TokenOf(out);
  ASSERT_EQ(token.size(), 80u) << out;
  ASSERT_EQ(token.rfind("sluice_", 0), 0u) << out;
  EXPECT_EQ(out, token + "\n");
  EXPECT_NE(err.find("will not be shown again"), std::string::npos) << err;
  const std::string id = token.substr(7, 8);
  const std::string secret = token.substr(16);

  struct ::stat st = {};
  ASSERT_EQ(::stat((data + "/api-tokens").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(test::ReadText(data + "/api-tokens").find(secret), std::string::npos);

  ASSERT_EQ(test::RunCommand({kSluice, "token", "list", "--data", data}, dir, "list", &out, &err),
            0)
      << err;
  EXPECT_NE(out.find(id + "  admin"), std::string::npos) << out;
  EXPECT_NE(out.find("ops laptop"), std::string::npos) << out;
  EXPECT_EQ(out.find(secret), std::string::npos) << out;
  EXPECT_EQ(out.find(secret.substr(0, 12)), std::string::npos) << out;

  ASSERT_EQ(test::RunCommand({kSluice, "token", "list", "--data", data, "--json"}, dir, "json",
                             &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("\"id\":\"" + id + "\",\"role\":\"admin\",\"name\":\"ops laptop\""),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find(secret.substr(0, 12)), std::string::npos) << out;

  ASSERT_EQ(
      test::RunCommand({kSluice, "token", "revoke", "--data", data, id}, dir, "revoke", &out, &err),
      0)
      << err;
  ASSERT_EQ(test::RunCommand({kSluice, "token", "list", "--data", data, "--json"}, dir, "empty",
                             &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("\"tokens\":[]"), std::string::npos) << out;

  // A second revoke finds nothing.
  EXPECT_EQ(
      test::RunCommand({kSluice, "token", "revoke", "--data", data, id}, dir, "again", &out, &err),
      1);
  EXPECT_NE(err.find("no token with id " + id), std::string::npos) << err;
}

TEST(TokenCommandTest, DataDirectoryDefaultsToData) {
  test::TempDir dir;  // the child runs in this directory
  std::string out;
  std::string err;
  ASSERT_EQ(
      test::RunCommand({kSluice, "token", "create", "--role", "read"}, dir, "create", &out, &err),
      0)
      << err;
  EXPECT_FALSE(test::ReadText(dir.File("data/api-tokens")).empty());
  ASSERT_EQ(test::RunCommand({kSluice, "token", "list"}, dir, "list", &out, &err), 0) << err;
  EXPECT_NE(out.find(TokenOf(test::ReadText(dir.File("create.out"))).substr(7, 8) + "  read"),
            std::string::npos)
      << out;
}

TEST(TokenCommandTest, CorruptFileIsAnErrorNamingTheLine) {
  test::TempDir dir;
  const std::string data = dir.File("data");
  std::filesystem::create_directories(data);
  std::ofstream(data + "/api-tokens") << "sluice-api-tokens 1\nnonsense\n";
  std::string out;
  std::string err;
  EXPECT_EQ(test::RunCommand({kSluice, "token", "list", "--data", data}, dir, "list", &out, &err),
            1);
  EXPECT_NE(err.find(data + "/api-tokens:2:"), std::string::npos) << err;
  EXPECT_EQ(test::RunCommand({kSluice, "token", "create", "--data", data, "--role", "read"}, dir,
                             "create", &out, &err),
            1);
  EXPECT_TRUE(out.empty()) << out;
}

TEST(TokenCommandTest, UsageErrorsExitTwoWithAMessage) {
  test::TempDir dir;
  const std::string data = dir.File("data");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{kSluice, "token"}, "usage: sluice token"},
      {{kSluice, "token", "rotate"}, "unknown action 'rotate'"},
      {{kSluice, "token", "create", "--data", data, "--role", "write"},
       "bad role 'write' (want read or admin)"},
      {{kSluice, "token", "create", "--data", data}, "--role read|admin is required"},
      {{kSluice, "token", "create", "--data", data, "--role"}, "--role wants read or admin"},
      {{kSluice, "token", "create", "--data", data, "--role", "read", "--name", " x"},
       "bad name ' x'"},
      {{kSluice, "token", "list", "--data", data, "--role", "read"}, "unknown option"},
      {{kSluice, "token", "revoke", "--data", data}, "the token ID is required"},
      {{kSluice, "token", "revoke", "--data", data, "XYZ"}, "not a token id"},
      {{kSluice, "token", "revoke", "--data", data, "0a1b2c3d", "0a1b2c3e"}, "unknown option"},
      {{kSluice, "token", "list", "--data"}, "--data wants a directory"},
  };
  for (const auto& [argv, message] : cases) {
    std::string err;
    EXPECT_EQ(test::RunCommand(argv, dir, "usage", nullptr, &err), 2) << message;
    EXPECT_NE(err.find(message), std::string::npos) << err;
  }
  EXPECT_FALSE(std::filesystem::exists(data + "/api-tokens"));
  std::string out;
  EXPECT_EQ(test::RunCommand({kSluice, "token", "--help"}, dir, "help", &out), 0);
  EXPECT_NE(out.find("sluice token create --role read|admin"), std::string::npos) << out;
  EXPECT_EQ(test::RunCommand({kSluice, "--help"}, dir, "main", &out), 0);
  EXPECT_NE(out.find("  token "), std::string::npos) << out;
}

}  // namespace
}  // namespace sluice
