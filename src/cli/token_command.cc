// SPDX-License-Identifier: Apache-2.0
// `sluice token create|list|revoke`: the bearer tokens of the HTTP API, kept hashed in
// DATA_DIR/api-tokens (docs/api_tokens.md). Safe while `sluice serve` runs.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/token_store.h"
#include "cli/commands.h"
#include "common/clock.h"
#include "common/result.h"

namespace sluice::cli {
namespace {

constexpr const char* kTokenUsage =
    "usage: sluice token create --role read|admin [--name LABEL] [--data DIR]\n"
    "       sluice token list [--json] [--data DIR]\n"
    "       sluice token revoke ID [--data DIR]\n"
    "\n"
    "Manages the bearer tokens of the HTTP API (docs/api_tokens.md). Only a SHA-256 of\n"
    "each token is kept, in DIR/api-tokens; a running `sluice serve` sees changes within\n"
    "a second.\n"
    "\n"
    "actions:\n"
    "  create   makes a token and prints it once on stdout; it cannot be shown again\n"
    "  list     id, role, name and creation time (UTC) of each token; never the secret\n"
    "  revoke   deletes the token with id ID (the 8 hex digits after 'sluice_')\n"
    "\n"
    "options:\n"
    "  --data DIR     the data directory (default: data, as `sluice serve` store.data_dir)\n"
    "  --role ROLE    create: read (GET endpoints) or admin (everything)\n"
    "  --name LABEL   create: a label for list (at most 64 printable ASCII characters)\n"
    "  --json         list: one JSON document on stdout\n"
    "  -h, --help     this text\n";

enum class Action : std::uint8_t {
  kCreate,  // a new token
  kList,    // the tokens' public facts
  kRevoke,  // remove one token
};

struct TokenOptions {
  Action action = Action::kList;
  std::string data_dir = "data";
  std::optional<api::Role> role;
  std::string name;
  std::string id;
  bool json = false;
};

int UsageError(const std::string& message) {
  std::fprintf(stderr, "sluice token: %s\n\n%s", message.c_str(), kTokenUsage);
  return 2;
}

int Fail(std::string_view action, const Error& error) {
  std::fprintf(stderr, "sluice token %.*s: %.*s\n", static_cast<int>(action.size()), action.data(),
               static_cast<int>(error.Message().size()), error.Message().data());
  return 1;
}

// "2026-12-03 06:40:05" (UTC, whole seconds, rounded down).
std::string FormatUtc(UnixMillis t) {
  using std::chrono::floor;
  const std::chrono::sys_time<std::chrono::milliseconds> time{std::chrono::milliseconds{t}};
  const auto day = floor<std::chrono::days>(time);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{floor<std::chrono::seconds>(time - day)};
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return text;
}

// Names are printable ASCII (api::IsValidTokenName), so only '"' and '\\' need escapes.
void AppendJsonString(std::string_view text, std::string& out) {
  out.push_back('"');
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('"');
}

int RunCreate(const TokenOptions& options, api::TokenStore& store) {
  auto token = store.Create(*options.role, options.name);
  if (!token) {
    return Fail("create", token.error());
  }
  std::printf("%s\n", token->text.c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "sluice token: created %.*s token %s%s in %s; copy it now: it will not be "
               "shown again\n",
               static_cast<int>(api::RoleName(token->info.role).size()),
               api::RoleName(token->info.role).data(), token->info.id.c_str(),
               token->info.name.empty() ? "" : (" named '" + token->info.name + "'").c_str(),
               store.path().c_str());
  return 0;
}

int RunList(const TokenOptions& options, const api::TokenStore& store) {
  const std::vector<api::TokenInfo> tokens = store.List();
  if (options.json) {
    std::string out = "{\"file\":";
    AppendJsonString(store.path(), out);
    out += ",\"tokens\":[";
    bool first = true;
    for (const api::TokenInfo& token : tokens) {
      out += first ? "\n  {\"id\":" : ",\n  {\"id\":";
      first = false;
      AppendJsonString(token.id, out);
      out += ",\"role\":";
      AppendJsonString(api::RoleName(token.role), out);
      out += ",\"name\":";
      AppendJsonString(token.name, out);
      out += ",\"created_ms\":" + std::to_string(token.created_ms);
      out += ",\"created\":";
      AppendJsonString(FormatUtc(token.created_ms), out);
      out += "}";
    }
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  if (tokens.empty()) {
    std::fprintf(stderr, "sluice token list: no tokens in %s\n", store.path().c_str());
    return 0;
  }
  std::printf("%-8s  %-5s  %-19s  %s\n", "ID", "ROLE", "CREATED (UTC)", "NAME");
  for (const api::TokenInfo& token : tokens) {
    char line[160];
    std::snprintf(line, sizeof line, "%-8s  %-5.*s  %-19s  %s", token.id.c_str(),
                  static_cast<int>(api::RoleName(token.role).size()),
                  api::RoleName(token.role).data(), FormatUtc(token.created_ms).c_str(),
                  token.name.c_str());
    std::string text = line;
    text.erase(text.find_last_not_of(' ') + 1);
    std::printf("%s\n", text.c_str());
  }
  return 0;
}

int RunRevoke(const TokenOptions& options, api::TokenStore& store) {
  const Status revoked = store.Revoke(options.id);
  if (!revoked) {
    return Fail("revoke", revoked.error());
  }
  std::printf("revoked token %s\n", options.id.c_str());
  return 0;
}

}  // namespace

int RunToken(std::span<const std::string_view> args) {
  if (args.empty()) {
    std::fputs(kTokenUsage, stderr);
    return 2;
  }
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::fputs(kTokenUsage, stdout);
    return 0;
  }
  TokenOptions options;
  if (args[0] == "create") {
    options.action = Action::kCreate;
  } else if (args[0] == "list") {
    options.action = Action::kList;
  } else if (args[0] == "revoke") {
    options.action = Action::kRevoke;
  } else {
    return UsageError("unknown action '" + std::string(args[0]) + "'");
  }
  const auto value = [&](std::size_t& arg_idx) -> std::optional<std::string_view> {
    if (arg_idx + 1 >= args.size()) {
      return std::nullopt;
    }
    return args[++arg_idx];
  };
  bool has_id = false;
  for (std::size_t arg_idx = 1; arg_idx < args.size(); ++arg_idx) {
    const std::string_view arg = args[arg_idx];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kTokenUsage, stdout);
      return 0;
    }
    if (arg == "--data") {
      const auto dir = value(arg_idx);
      if (!dir || dir->empty()) {
        return UsageError("--data wants a directory");
      }
      options.data_dir = std::string(*dir);
    } else if (arg == "--role" && options.action == Action::kCreate) {
      const auto role = value(arg_idx);
      if (!role) {
        return UsageError("--role wants read or admin");
      }
      options.role = api::ParseRole(*role);
      if (!options.role) {
        return UsageError("bad role '" + std::string(*role) + "' (want read or admin)");
      }
    } else if (arg == "--name" && options.action == Action::kCreate) {
      const auto name = value(arg_idx);
      if (!name) {
        return UsageError("--name wants a label");
      }
      if (!api::IsValidTokenName(*name)) {
        return UsageError("bad name '" + std::string(*name) + "' (at most " +
                          std::to_string(api::kMaxTokenNameLength) +
                          " printable ASCII characters, no leading or trailing space)");
      }
      options.name = std::string(*name);
    } else if (arg == "--json" && options.action == Action::kList) {
      options.json = true;
    } else if (options.action == Action::kRevoke && !has_id && !arg.starts_with("-")) {
      options.id = std::string(arg);
      has_id = true;
    } else {
      return UsageError("unknown option for '" + std::string(args[0]) + "': " + std::string(arg));
    }
  }
  if (options.action == Action::kCreate && !options.role) {
    return UsageError("create: --role read|admin is required");
  }
  if (options.action == Action::kRevoke) {
    if (!has_id) {
      return UsageError("revoke: the token ID is required (see `sluice token list`)");
    }
    if (options.id.size() != api::kTokenIdLength ||
        options.id.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return UsageError("revoke: '" + options.id + "' is not a token id (8 lowercase hex digits)");
    }
  }

  SystemClock clock;
  api::TokenStoreOptions store_options;
  store_options.data_dir = options.data_dir;
  auto store = api::TokenStore::Open(store_options, clock);
  if (!store) {
    return Fail(args[0], store.error());
  }
  switch (options.action) {
    case Action::kCreate:
      return RunCreate(options, **store);
    case Action::kList:
      return RunList(options, **store);
    case Action::kRevoke:
      return RunRevoke(options, **store);
  }
  return 2;
}

}  // namespace sluice::cli
