// SPDX-License-Identifier: Apache-2.0
// TokenStore: the bearer tokens of the HTTP API, kept hashed in DATA_DIR/api-tokens
// (format and commands in docs/api_tokens.md).

#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace sluice::api {

// What a token allows.
enum class Role : std::uint8_t {
  kRead,   // GET endpoints: queries, stats, alerts
  kAdmin,  // everything, including changes
};

// "read" or "admin".
std::string_view RoleName(Role role);

// The inverse of RoleName(); nullopt for anything else (case matters).
std::optional<Role> ParseRole(std::string_view text);

// The token file's name inside the data directory, and the lock file beside it that
// serializes writers (processes running `sluice token` and `sluice serve`).
inline constexpr std::string_view kTokenFileName = "api-tokens";
inline constexpr std::string_view kTokenLockFileName = "api-tokens.lock";

// Token text: kTokenPrefix, the id (8 lowercase hex digits), '_', the secret (64 lowercase
// hex digits: 32 bytes from getrandom(2)). The id is public; the whole text is the secret.
inline constexpr std::string_view kTokenPrefix = "sluice_";
inline constexpr std::size_t kTokenIdLength = 8;
inline constexpr std::size_t kTokenSecretLength = 64;
inline constexpr std::size_t kTokenLength =
    kTokenPrefix.size() + kTokenIdLength + 1 + kTokenSecretLength;

// The id reported for a token accepted from the configuration (`[http] admin_token`).
inline constexpr std::string_view kConfiguredTokenId = "config";

// A configured token must be at least this long (printable ASCII, no spaces).
inline constexpr std::size_t kMinConfiguredTokenLength = 24;

// Labels: at most this many printable ASCII characters, no leading or trailing space.
inline constexpr std::size_t kMaxTokenNameLength = 64;

// What `sluice token list` shows of a token: never the secret or its hash.
struct TokenInfo {
  std::string id;  // 8 lowercase hex digits
  Role role = Role::kRead;
  std::string name;           // label; may be empty
  UnixMillis created_ms = 0;  // creation time, ms since the epoch (UTC)
};

// A token just made: its text is shown once and stored nowhere.
struct NewToken {
  TokenInfo info;
  std::string text;
};

// Who presented a valid token.
struct TokenIdentity {
  std::string id;  // the token's id, or kConfiguredTokenId
  Role role = Role::kRead;
};

// True if `name` is a valid label (see kMaxTokenNameLength).
bool IsValidTokenName(std::string_view name);

// OK if `text` may be used as a configured token (see kMinConfiguredTokenLength).
Status ValidateConfiguredToken(std::string_view text);

namespace internal {

struct TokenRecord;    // one line of the file; defined in token_store.cc
struct TokenSnapshot;  // one version of the file; defined in token_store.cc

// What identifies one version of the file: every rewrite replaces it (a new inode).
struct FileStamp {
  bool exists = false;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;

  bool operator==(const FileStamp&) const = default;
};

}  // namespace internal

struct TokenStoreOptions {
  std::string data_dir = "data";
  // How often Verify() looks at the file for changes made by other processes.
  std::chrono::milliseconds reload_interval{1000};
};

// The tokens of one data directory: a snapshot of DATA_DIR/api-tokens (one SHA-256 per
// token) plus the tokens accepted from the configuration (hashed, in memory only).
//
// Other processes (`sluice token create|revoke`) change the file while `sluice serve`
// runs: Verify() re-reads it when its inode, size or mtime changed, looking at most once
// per reload_interval. A file that turns corrupt while running is logged once and the
// last good snapshot stays in use; a file that is removed means no file tokens.
// Create() and Revoke() read, change and atomically replace the file (mode 0600) under
// an flock(2) on DATA_DIR/api-tokens.lock, so that concurrent writers lose nothing.
//
// Ownership: holds a reference to `clock`, which must outlive the store.
// Thread-safety: all methods are safe to call concurrently; Verify() takes a shared lock
// and does no I/O except the rate-limited stat (one caller at a time; others go on with
// the current snapshot).
class TokenStore {
 public:
  // Reads DATA_DIR/api-tokens. A missing file or directory holds no tokens. A corrupt file
  // is kCorruption with "PATH:LINE: what" in the message.
  static Result<std::unique_ptr<TokenStore>> Open(TokenStoreOptions options, const Clock& clock);

  ~TokenStore();

  TokenStore(const TokenStore&) = delete;
  TokenStore& operator=(const TokenStore&) = delete;

  // The path of the token file.
  const std::string& path() const { return path_; }

  // The presented token's identity if it is a file token or a configured token; nullopt
  // for anything else (unknown id, wrong secret, malformed text of any length).
  std::optional<TokenIdentity> Verify(std::string_view presented);

  // Makes a token, adds it to the file (creating the data directory if needed) and
  // returns its text. REQUIRES: IsValidTokenName(name), else kInvalidArgument.
  Result<NewToken> Create(Role role, std::string_view name);

  // As Create(), but only if the file holds no token (checked under the lock); nullopt if
  // it holds one.
  Result<std::optional<NewToken>> CreateIfNone(Role role, std::string_view name);

  // Removes the token `id` from the file; kNotFound if there is none.
  Status Revoke(std::string_view id);

  // The file's tokens, as of the last read, in creation order.
  std::vector<TokenInfo> List() const;

  // Re-reads the file now if it changed since the last read (ignores reload_interval).
  // On error the previous snapshot stays.
  Status Reload();

  // Accepts `text` (hashed; never written anywhere) as a token with `role`. Verify()
  // reports it as kConfiguredTokenId. Errors: ValidateConfiguredToken().
  Status AddConfiguredToken(std::string_view text, Role role);

  // True if the file or the configuration gave at least one token.
  bool HasTokens() const;

 private:
  // A token from the configuration.
  struct Configured {
    std::array<std::uint8_t, 32> hash;  // SHA-256 of its text
    Role role;
  };

  TokenStore(TokenStoreOptions options, const Clock& clock,
             std::shared_ptr<const internal::TokenSnapshot> snapshot);

  // Re-reads the file if the interval has passed and no other thread is doing it; logs a
  // corrupt file once per version of it.
  void MaybeReload();

  // Reads the file and publishes it as the snapshot. REQUIRES: reload_mu_ held.
  Status LoadAndPublish();

  internal::FileStamp CurrentStamp() const;

  enum class CreateMode : std::uint8_t {
    kAlways,  // Create()
    kIfNone,  // CreateIfNone()
  };

  Result<std::optional<NewToken>> CreateToken(Role role, std::string_view name, CreateMode mode);

  // Read-modify-write under the file lock: `change` edits the records read from the file
  // and returns true if the file must be rewritten.
  template <typename Change>
  Status Mutate(Change&& change);

  const TokenStoreOptions options_;
  const Clock& clock_;
  const std::string path_;
  const std::string lock_path_;

  std::atomic<UnixMillis> next_check_ms_;
  std::mutex reload_mu_;  // held by the one thread that stats and re-reads the file

  mutable std::shared_mutex mu_;
  std::shared_ptr<const internal::TokenSnapshot> snapshot_;  // guarded by mu_; never null

  std::vector<Configured> configured_;  // guarded by mu_
  // The version of a corrupt file already reported, so that it is logged once.
  std::optional<internal::FileStamp> reported_bad_;  // guarded by reload_mu_
  bool stat_failed_ = false;                         // guarded by reload_mu_
};

// The bootstrap of `sluice serve` (no default password or token): if `configured_token`
// is non-empty it is validated and accepted as an admin token, and nullopt is returned;
// otherwise, if the store holds no token, an admin token named "initial" is created and
// its text returned, for the caller to print once. Nullopt if tokens already exist.
Result<std::optional<std::string>> EnsureAdminToken(TokenStore& store,
                                                    std::string_view configured_token);

}  // namespace sluice::api
