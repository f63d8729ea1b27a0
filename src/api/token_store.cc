// SPDX-License-Identifier: Apache-2.0

#include "api/token_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <system_error>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/log.h"

namespace sluice::api {

namespace internal {

struct TokenRecord {
  std::uint32_t id = 0;
  Role role = Role::kRead;
  std::string name;
  UnixMillis created_ms = 0;
  std::array<std::uint8_t, 32> hash{};  // SHA-256 of the whole token text
};

struct TokenSnapshot {
  std::vector<TokenRecord> records;  // file order = creation order
  FileStamp stamp;
};

}  // namespace internal

namespace {

using internal::FileStamp;
using internal::TokenRecord;
using internal::TokenSnapshot;
using Hash = std::array<std::uint8_t, 32>;  // SHA-256

// docs/api_tokens.md describes this format; a change to it changes the version.
constexpr std::string_view kFileHeader = "sluice-api-tokens 1";
constexpr std::string_view kFileComment = "# id role created_ms sha256 name";
constexpr std::string_view kHeaderPrefix = "sluice-api-tokens ";

// Larger files are refused (a token line is about 100 bytes).
constexpr std::int64_t kMaxFileBytes = 1 << 20;

// Longer presented texts are not hashed (no token is this long).
constexpr std::size_t kMaxPresentedLength = 4096;

constexpr char kHexDigits[] = "0123456789abcdef";

// strerror() is not thread-safe; Verify() may report errors from any thread.
std::string ErrnoText() {
  return std::error_code(errno, std::generic_category()).message();
}

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool IsLowerHex(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return IsLowerHex(c); });
}

std::string HexEncode(std::span<const std::uint8_t> bytes) {
  std::string text;
  text.reserve(bytes.size() * 2);
  for (const std::uint8_t byte : bytes) {
    text.push_back(kHexDigits[byte >> 4]);
    text.push_back(kHexDigits[byte & 0xf]);
  }
  return text;
}

int HexValue(char c) {
  return c <= '9' ? c - '0' : c - 'a' + 10;
}

// REQUIRES: text is 64 lowercase hex digits.
Hash HexDecodeHash(std::string_view text) {
  Hash hash{};
  for (std::size_t byte_idx = 0; byte_idx < hash.size(); ++byte_idx) {
    hash[byte_idx] = static_cast<std::uint8_t>(HexValue(text[2 * byte_idx]) * 16 +
                                               HexValue(text[2 * byte_idx + 1]));
  }
  return hash;
}

std::string FormatId(std::uint32_t id) {
  char text[16];
  std::snprintf(text, sizeof text, "%08" PRIx32, id);
  return text;
}

// 8 lowercase hex digits, else nullopt.
std::optional<std::uint32_t> ParseId(std::string_view text) {
  if (text.size() != kTokenIdLength || !IsLowerHex(text)) {
    return std::nullopt;
  }
  std::uint32_t id = 0;
  std::from_chars(text.data(), text.data() + text.size(), id, 16);
  return id;
}

// The id of a well-formed token text, else nullopt.
std::optional<std::uint32_t> ParseTokenText(std::string_view text) {
  if (text.size() != kTokenLength || text.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return std::nullopt;
  }
  const std::size_t id_pos = kTokenPrefix.size();
  const std::size_t secret_pos = id_pos + kTokenIdLength + 1;
  if (text[secret_pos - 1] != '_' || !IsLowerHex(text.substr(secret_pos))) {
    return std::nullopt;
  }
  return ParseId(text.substr(id_pos, kTokenIdLength));
}

std::optional<Hash> Sha256(std::string_view text) {
  Hash hash{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), hash.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != hash.size()) {
    return std::nullopt;
  }
  return hash;
}

bool HashEquals(const Hash& a, const Hash& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status RandomBytes(std::span<std::uint8_t> out) {
  std::size_t filled = 0;
  while (filled < out.size()) {
    const ssize_t got = ::getrandom(out.data() + filled, out.size() - filled, 0);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return MakeError(ErrorCode::kIoError, "getrandom: " + ErrnoText());
    }
    filled += static_cast<std::size_t>(got);
  }
  return OkStatus();
}

// ---- the file (docs/api_tokens.md) ----

using StatBuffer = struct ::stat;

FileStamp StampOf(const StatBuffer& st) {
  FileStamp stamp;
  stamp.exists = true;
  stamp.device = static_cast<std::uint64_t>(st.st_dev);
  stamp.inode = static_cast<std::uint64_t>(st.st_ino);
  stamp.size = static_cast<std::int64_t>(st.st_size);
  stamp.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                   static_cast<std::int64_t>(st.st_mtim.tv_nsec);
  return stamp;
}

// The stamp of `path`; exists = false if there is no such file.
Result<FileStamp> StatFile(const std::string& path) {
  StatBuffer st{};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return FileStamp{};
    }
    return MakeError(ErrorCode::kIoError, path + ": " + ErrnoText());
  }
  return StampOf(st);
}

tl::unexpected<Error> LineError(const std::string& path, std::size_t line_no,
                                const std::string& what) {
  return MakeError(ErrorCode::kCorruption, path + ":" + std::to_string(line_no) + ": " + what);
}

// Splits off the text up to the next space; nullopt if there is none.
std::optional<std::string_view> NextField(std::string_view& rest) {
  const std::size_t space = rest.find(' ');
  if (space == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view field = rest.substr(0, space);
  rest.remove_prefix(space + 1);
  return field;
}

Result<std::vector<TokenRecord>> ParseTokenFile(std::string_view text, const std::string& path) {
  std::vector<TokenRecord> records;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line_no == 1) {
      if (line == kFileHeader) {
        continue;
      }
      if (line.substr(0, kHeaderPrefix.size()) == kHeaderPrefix) {
        return LineError(path, line_no,
                         "unsupported version '" + std::string(line.substr(kHeaderPrefix.size())) +
                             "' (this sluice reads '" + std::string(kFileHeader) + "')");
      }
      return LineError(
          path, line_no,
          "not a token file (the first line must be '" + std::string(kFileHeader) + "')");
    }
    if (line.empty() || line.front() == '#') {
      continue;
    }
    // id role created_ms sha256 [name]
    std::string_view rest = line;
    const auto id_text = NextField(rest);
    const auto role_text = NextField(rest);
    const auto created_text = NextField(rest);
    std::string_view hash_text = rest;
    std::string_view name;
    if (const std::size_t space = rest.find(' '); space != std::string_view::npos) {
      hash_text = rest.substr(0, space);
      name = rest.substr(space + 1);
      if (name.empty()) {
        return LineError(path, line_no, "trailing space");
      }
    }
    if (!id_text || !role_text || !created_text) {
      return LineError(path, line_no,
                       "want 'id role created_ms sha256 [name]' separated by single spaces");
    }
    TokenRecord record;
    const auto id = ParseId(*id_text);
    if (!id) {
      return LineError(path, line_no,
                       "bad id '" + std::string(*id_text) + "' (want 8 lowercase hex digits)");
    }
    record.id = *id;
    const auto role = ParseRole(*role_text);
    if (!role) {
      return LineError(path, line_no,
                       "bad role '" + std::string(*role_text) + "' (want read or admin)");
    }
    record.role = *role;
    const auto [end, error] = std::from_chars(
        created_text->data(), created_text->data() + created_text->size(), record.created_ms);
    if (error != std::errc{} || end != created_text->data() + created_text->size() ||
        created_text->empty() || created_text->front() == '-') {
      return LineError(path, line_no,
                       "bad created_ms '" + std::string(*created_text) +
                           "' (want milliseconds since the epoch)");
    }
    if (hash_text.size() != 2 * record.hash.size() || !IsLowerHex(hash_text)) {
      return LineError(path, line_no, "bad sha256 (want 64 lowercase hex digits)");
    }
    record.hash = HexDecodeHash(hash_text);
    if (!IsValidTokenName(name)) {
      return LineError(path, line_no,
                       "bad name (want at most 64 printable ASCII characters, no leading or "
                       "trailing space)");
    }
    record.name = std::string(name);
    for (const TokenRecord& other : records) {
      if (other.id == record.id) {
        return LineError(path, line_no, "duplicate id " + FormatId(record.id));
      }
    }
    records.push_back(std::move(record));
  }
  if (line_no == 0) {
    return LineError(path, 1,
                     "empty file (the first line must be '" + std::string(kFileHeader) + "')");
  }
  return records;
}

std::string FormatTokenFile(const std::vector<TokenRecord>& records) {
  std::string text;
  text += kFileHeader;
  text += '\n';
  text += kFileComment;
  text += '\n';
  for (const TokenRecord& record : records) {
    text += FormatId(record.id);
    text += ' ';
    text += RoleName(record.role);
    text += ' ';
    text += std::to_string(record.created_ms);
    text += ' ';
    text += HexEncode(record.hash);
    if (!record.name.empty()) {
      text += ' ';
      text += record.name;
    }
    text += '\n';
  }
  return text;
}

// Reads and parses `path`; a missing file is an empty snapshot.
Result<std::shared_ptr<const TokenSnapshot>> ReadTokenFile(const std::string& path) {
  auto snapshot = std::make_shared<TokenSnapshot>();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return snapshot;
    }
    return MakeError(ErrorCode::kIoError, path + ": " + ErrnoText());
  }

  StatBuffer st{};
  if (::fstat(fd, &st) != 0) {
    const std::string message = path + ": " + ErrnoText();
    ::close(fd);
    return MakeError(ErrorCode::kIoError, message);
  }
  if (!S_ISREG(st.st_mode) || st.st_size > kMaxFileBytes) {
    ::close(fd);
    return MakeError(ErrorCode::kCorruption, path + ": not a regular file of at most 1 MiB");
  }
  std::string text;
  char buffer[8192];
  while (true) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      const std::string message = path + ": " + ErrnoText();
      ::close(fd);
      return MakeError(ErrorCode::kIoError, message);
    }
    if (got == 0) {
      break;
    }
    text.append(buffer, static_cast<std::size_t>(got));
    if (text.size() > static_cast<std::size_t>(kMaxFileBytes)) {
      ::close(fd);
      return MakeError(ErrorCode::kCorruption, path + ": larger than 1 MiB");
    }
  }
  ::close(fd);
  auto records = ParseTokenFile(text, path);
  if (!records) {
    return tl::unexpected(records.error());
  }
  snapshot->records = std::move(*records);
  snapshot->stamp = StampOf(st);
  return snapshot;
}

// Replaces `path` with `text`: a temporary file (mode 0600) beside it, fsync, rename, fsync
// of the directory. common/atomic_file.h does the same with mode 0644, which is too open
// for this file. REQUIRES: the caller holds the lock file (the temporary name is fixed).
Status WriteTokenFile(const std::string& path, std::string_view text) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return MakeError(ErrorCode::kIoError, temp + ": " + ErrnoText());
  }
  const auto fail = [&]() {
    const std::string message = temp + ": " + ErrnoText();
    ::close(fd);
    ::unlink(temp.c_str());
    return MakeError(ErrorCode::kIoError, message);
  };
  // A temporary file left by a crash keeps its mode under O_TRUNC: set it again.
  if (::fchmod(fd, 0600) != 0) {
    return fail();
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t result = ::write(fd, text.data() + written, text.size() - written);
    if (result < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail();
    }
    written += static_cast<std::size_t>(result);
  }
  if (::fsync(fd) != 0) {
    return fail();
  }
  if (::close(fd) != 0) {
    const std::string message = temp + ": " + ErrnoText();
    ::unlink(temp.c_str());
    return MakeError(ErrorCode::kIoError, message);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string message = path + ": " + ErrnoText();
    ::unlink(temp.c_str());
    return MakeError(ErrorCode::kIoError, message);
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return OkStatus();
}

// An exclusive flock(2) on the lock file, released when destroyed.
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return MakeError(ErrorCode::kIoError, path + ": " + ErrnoText());
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        const std::string message = path + ": flock: " + ErrnoText();
        ::close(fd);
        return MakeError(ErrorCode::kIoError, message);
      }
    }
    return FileLock(fd);
  }

  FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

  FileLock& operator=(FileLock&&) = delete;

  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  ~FileLock() {
    if (fd_ >= 0) {
      ::close(fd_);  // releases the lock
    }
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}

  int fd_;
};

TokenInfo InfoOf(const TokenRecord& record) {
  return TokenInfo{FormatId(record.id), record.role, record.name, record.created_ms};
}

}  // namespace

// ---- free functions ----

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kRead:
      return "read";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

std::optional<Role> ParseRole(std::string_view text) {
  if (text == "read") {
    return Role::kRead;
  }
  if (text == "admin") {
    return Role::kAdmin;
  }
  return std::nullopt;
}

bool IsValidTokenName(std::string_view name) {
  if (name.size() > kMaxTokenNameLength) {
    return false;
  }
  if (!name.empty() && (name.front() == ' ' || name.back() == ' ')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

Status ValidateConfiguredToken(std::string_view text) {
  if (text.size() < kMinConfiguredTokenLength) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the configured admin token is too short (" + std::to_string(text.size()) +
                         " characters; at least " + std::to_string(kMinConfiguredTokenLength) +
                         ")");
  }
  if (text.size() > kMaxPresentedLength) {
    return MakeError(ErrorCode::kInvalidArgument, "the configured admin token is too long");
  }
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c <= 0x7e; })) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the configured admin token must be printable ASCII without spaces");
  }
  return OkStatus();
}

// ---- TokenStore ----

Result<std::unique_ptr<TokenStore>> TokenStore::Open(TokenStoreOptions options,
                                                     const Clock& clock) {
  const std::string path =
      (std::filesystem::path(options.data_dir) / std::string(kTokenFileName)).string();
  auto snapshot = ReadTokenFile(path);
  if (!snapshot) {
    return tl::unexpected(snapshot.error());
  }
  return std::unique_ptr<TokenStore>(new TokenStore(std::move(options), clock, *snapshot));
}

TokenStore::TokenStore(TokenStoreOptions options, const Clock& clock,
                       std::shared_ptr<const TokenSnapshot> snapshot)
    : options_(std::move(options)),
      clock_(clock),
      path_((std::filesystem::path(options_.data_dir) / std::string(kTokenFileName)).string()),
      lock_path_(
          (std::filesystem::path(options_.data_dir) / std::string(kTokenLockFileName)).string()),
      next_check_ms_(clock.NowMillis() + options_.reload_interval.count()),
      snapshot_(std::move(snapshot)) {}

TokenStore::~TokenStore() = default;

std::optional<TokenIdentity> TokenStore::Verify(std::string_view presented) {
  MaybeReload();
  if (presented.size() > kMaxPresentedLength) {
    return std::nullopt;
  }
  const std::optional<Hash> hash = Sha256(presented);
  if (!hash) {
    return std::nullopt;
  }
  const std::optional<std::uint32_t> id = ParseTokenText(presented);
  std::shared_lock lock(mu_);
  if (id) {
    for (const TokenRecord& record : snapshot_->records) {
      if (record.id == *id) {
        if (HashEquals(record.hash, *hash)) {
          return TokenIdentity{FormatId(record.id), record.role};
        }
        break;
      }
    }
  }
  for (const Configured& configured : configured_) {
    if (HashEquals(configured.hash, *hash)) {
      return TokenIdentity{std::string(kConfiguredTokenId), configured.role};
    }
  }
  return std::nullopt;
}

template <typename Change>
Status TokenStore::Mutate(Change&& change) {
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) {
    return MakeError(ErrorCode::kIoError, options_.data_dir + ": " + ec.message());
  }
  auto lock = FileLock::Acquire(lock_path_);
  if (!lock) {
    return tl::unexpected(lock.error());
  }
  // The file as it is now (another process may have changed it); a corrupt file is left
  // as it is for the operator to look at.
  auto current = ReadTokenFile(path_);
  if (!current) {
    return tl::unexpected(current.error());
  }
  std::vector<TokenRecord> records = (*current)->records;
  const Result<bool> changed = change(records);
  if (!changed) {
    return tl::unexpected(changed.error());
  }
  if (*changed) {
    Status written = WriteTokenFile(path_, FormatTokenFile(records));
    if (!written) {
      return written;
    }
  }
  std::lock_guard reload_lock(reload_mu_);
  return LoadAndPublish();
}

Result<NewToken> TokenStore::Create(Role role, std::string_view name) {
  auto created = CreateToken(role, name, CreateMode::kAlways);
  if (!created) {
    return tl::unexpected(created.error());
  }
  return std::move(**created);
}

Result<std::optional<NewToken>> TokenStore::CreateIfNone(Role role, std::string_view name) {
  return CreateToken(role, name, CreateMode::kIfNone);
}

Result<std::optional<NewToken>> TokenStore::CreateToken(Role role, std::string_view name,
                                                        CreateMode mode) {
  if (!IsValidTokenName(name)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "bad token name (at most " + std::to_string(kMaxTokenNameLength) +
                         " printable ASCII characters, no leading or trailing space)");
  }
  std::optional<NewToken> made;
  const Status status = Mutate([&](std::vector<TokenRecord>& records) -> Result<bool> {
    if (mode == CreateMode::kIfNone && !records.empty()) {
      return false;
    }
    TokenRecord record;
    bool unique = false;
    // 2^32 ids: a collision is rare, several in a row mean the random source is broken.
    for (int attempt = 0; attempt < 16 && !unique; ++attempt) {
      std::array<std::uint8_t, 4> id_bytes{};
      if (const Status random = RandomBytes(id_bytes); !random) {
        return tl::unexpected(random.error());
      }
      record.id = (std::uint32_t{id_bytes[0]} << 24) | (std::uint32_t{id_bytes[1]} << 16) |
                  (std::uint32_t{id_bytes[2]} << 8) | std::uint32_t{id_bytes[3]};
      unique = std::none_of(records.begin(), records.end(),
                            [&](const TokenRecord& other) { return other.id == record.id; });
    }
    if (!unique) {
      return MakeError(ErrorCode::kIoError, "getrandom: no unused token id in 16 attempts");
    }
    std::array<std::uint8_t, kTokenSecretLength / 2> secret{};
    if (const Status random = RandomBytes(secret); !random) {
      return tl::unexpected(random.error());
    }
    std::string text = std::string(kTokenPrefix) + FormatId(record.id) + "_" + HexEncode(secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    const std::optional<Hash> hash = Sha256(text);
    if (!hash) {
      return MakeError(ErrorCode::kIoError, "SHA-256 failed (libcrypto)");
    }
    record.hash = *hash;
    record.role = role;
    record.name = std::string(name);
    record.created_ms = clock_.NowMillis();
    made = NewToken{InfoOf(record), std::move(text)};
    records.push_back(std::move(record));
    return true;
  });
  if (!status) {
    return tl::unexpected(status.error());
  }
  return made;
}

Status TokenStore::Revoke(std::string_view id_text) {
  const std::optional<std::uint32_t> id = ParseId(id_text);
  if (!id) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "'" + std::string(id_text) + "' is not a token id (8 lowercase hex digits)");
  }
  return Mutate([&](std::vector<TokenRecord>& records) -> Result<bool> {
    const auto found = std::find_if(records.begin(), records.end(),
                                    [&](const TokenRecord& record) { return record.id == *id; });
    if (found == records.end()) {
      return MakeError(ErrorCode::kNotFound,
                       "no token with id " + std::string(id_text) + " in " + path_);
    }
    records.erase(found);
    return true;
  });
}

std::vector<TokenInfo> TokenStore::List() const {
  std::shared_lock lock(mu_);
  std::vector<TokenInfo> tokens;
  tokens.reserve(snapshot_->records.size());
  for (const TokenRecord& record : snapshot_->records) {
    tokens.push_back(InfoOf(record));
  }
  return tokens;
}

Status TokenStore::Reload() {
  std::lock_guard lock(reload_mu_);
  next_check_ms_.store(clock_.NowMillis() + options_.reload_interval.count(),
                       std::memory_order_relaxed);
  const Result<FileStamp> stamp = StatFile(path_);
  if (!stamp) {
    return tl::unexpected(stamp.error());
  }
  if (*stamp == CurrentStamp()) {
    return OkStatus();
  }
  return LoadAndPublish();
}

void TokenStore::MaybeReload() {
  const UnixMillis now = clock_.NowMillis();
  if (now < next_check_ms_.load(std::memory_order_relaxed)) {
    return;
  }
  std::unique_lock lock(reload_mu_, std::try_to_lock);
  if (!lock.owns_lock() || now < next_check_ms_.load(std::memory_order_relaxed)) {
    return;  // another thread is looking, or just did
  }
  next_check_ms_.store(now + options_.reload_interval.count(), std::memory_order_relaxed);
  const Result<FileStamp> stamp = StatFile(path_);
  if (!stamp) {
    if (!stat_failed_) {
      Log(LogLevel::kWarning, "API tokens: " + std::string(stamp.error().Message()) +
                                  "; still using the tokens read before");
    }
    stat_failed_ = true;
    return;
  }
  stat_failed_ = false;
  if (*stamp == CurrentStamp() || (reported_bad_ && *stamp == *reported_bad_)) {
    return;
  }
  if (const Status loaded = LoadAndPublish(); !loaded) {
    reported_bad_ = *stamp;
    Log(LogLevel::kWarning, "API tokens: " + std::string(loaded.error().Message()) +
                                "; still using the tokens read before");
    return;
  }
  reported_bad_.reset();
  const std::size_t count = List().size();
  Log(LogLevel::kInfo, "API tokens: " + path_ + " changed; " + std::to_string(count) +
                           (count == 1 ? " token" : " tokens"));
}

Status TokenStore::LoadAndPublish() {
  auto snapshot = ReadTokenFile(path_);
  if (!snapshot) {
    return tl::unexpected(snapshot.error());
  }
  std::unique_lock lock(mu_);
  snapshot_ = std::move(*snapshot);
  return OkStatus();
}

internal::FileStamp TokenStore::CurrentStamp() const {
  std::shared_lock lock(mu_);
  return snapshot_->stamp;
}

Status TokenStore::AddConfiguredToken(std::string_view text, Role role) {
  if (Status valid = ValidateConfiguredToken(text); !valid) {
    return valid;
  }
  const std::optional<Hash> hash = Sha256(text);
  if (!hash) {
    return MakeError(ErrorCode::kIoError, "SHA-256 failed (libcrypto)");
  }
  std::unique_lock lock(mu_);
  configured_.push_back(Configured{*hash, role});
  return OkStatus();
}

bool TokenStore::HasTokens() const {
  std::shared_lock lock(mu_);
  return !snapshot_->records.empty() || !configured_.empty();
}

Result<std::optional<std::string>> EnsureAdminToken(TokenStore& store,
                                                    std::string_view configured_token) {
  if (!configured_token.empty()) {
    if (const Status added = store.AddConfiguredToken(configured_token, Role::kAdmin); !added) {
      return tl::unexpected(added.error());
    }
    return std::optional<std::string>();
  }
  auto created = store.CreateIfNone(Role::kAdmin, "initial");
  if (!created) {
    return tl::unexpected(created.error());
  }
  if (!*created) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::move((*created)->text));
}

}  // namespace sluice::api
