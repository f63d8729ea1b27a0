// SPDX-License-Identifier: Apache-2.0
#include "store/address_filter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "common/crc32.h"
#include "store/coding.h"

namespace sluice::store {
namespace {

constexpr std::array<std::uint8_t, 4> kMagic = {'S', 'L', 'A', 'F'};
constexpr std::array<std::uint8_t, 4> kTrailerMagic = {'F', 'A', 'L', 'S'};
constexpr std::size_t kHeaderBytes = 24;
constexpr std::size_t kTableEntryBytes = 16;
constexpr std::size_t kTrailerBytes = 8;
constexpr std::size_t kWordsPerLine = kAddressFilterLineBytes / 4;

// One odd constant per word of a line: the key's low 32 bits times it, top 5 bits, pick
// the word's bit.
constexpr std::array<std::uint32_t, kWordsPerLine> kSalts = {
    0x47b6137bU, 0x44974d91U, 0x8824ad5bU, 0xa2b7289dU,
    0x705495c7U, 0x2df1424bU, 0x9efc4947U, 0x5c6bfb31U};

std::uint64_t Mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::uint32_t LineOf(std::uint64_t key, std::uint32_t line_count) {
  return static_cast<std::uint32_t>(((key >> 32) * line_count) >> 32);
}

std::uint32_t BitOf(std::uint64_t key, std::size_t word) {
  return std::uint32_t{1} << ((static_cast<std::uint32_t>(key) * kSalts[word]) >> 27);
}

bool ChecksumMatches(std::span<const std::uint8_t> bytes, std::uint32_t expected) {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  (void)bytes;
  (void)expected;
  return true;
#else
  return Crc32(bytes) == expected;
#endif
}

}  // namespace

std::uint64_t AddressFilterKey(const flow::IpAddress& address) {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::memcpy(&high, address.bytes.data(), 8);
  std::memcpy(&low, address.bytes.data() + 8, 8);
  return Mix(high ^ Mix(low + 0x9e3779b97f4a7c15ULL));
}

void AddressFilterBuilder::FinishBlock(std::uint32_t row_count) {
  Block block;
  block.row_count = row_count;
  block.first_line = lines_.size() / kWordsPerLine;
  // Sized for the distinct addresses: a block's rows repeat the same few hosts.
  std::sort(keys_.begin(), keys_.end());
  keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
  if (!keys_.empty()) {
    const std::uint64_t bits = std::uint64_t{keys_.size()} * kAddressFilterBitsPerKey;
    block.line_count = static_cast<std::uint32_t>((bits + kAddressFilterLineBytes * 8 - 1) /
                                                  (kAddressFilterLineBytes * 8));
    lines_.resize(lines_.size() + std::size_t{block.line_count} * kWordsPerLine, 0);
    std::uint32_t* lines = lines_.data() + block.first_line * kWordsPerLine;
    for (const std::uint64_t key : keys_) {
      std::uint32_t* line = lines + std::size_t{LineOf(key, block.line_count)} * kWordsPerLine;
      for (std::size_t word = 0; word < kWordsPerLine; ++word) {
        line[word] |= BitOf(key, word);
      }
    }
  }
  keys_.clear();
  total_rows_ += row_count;
  blocks_.push_back(block);
}

std::vector<std::uint8_t> AddressFilterBuilder::Serialize() const {
  Buffer out;
  out.Append(kMagic.data(), kMagic.size());
  out.PutFixed32(kAddressFilterVersion);
  out.PutFixed32(static_cast<std::uint32_t>(blocks_.size()));
  out.PutFixed32(kAddressFilterBitsPerKey);
  out.PutFixed64(total_rows_);
  const std::uint64_t lines_offset = kHeaderBytes + blocks_.size() * kTableEntryBytes + 4;
  for (const Block& block : blocks_) {
    out.PutFixed32(block.row_count);
    out.PutFixed32(block.line_count);
    out.PutFixed64(lines_offset + block.first_line * kAddressFilterLineBytes);
  }
  out.PutFixed32(Crc32(out.span()));
  const std::size_t lines_start = out.size();
  for (const std::uint32_t word : lines_) {
    out.PutFixed32(word);
  }
  out.PutFixed32(Crc32(out.span().subspan(lines_start)));
  out.Append(kTrailerMagic.data(), kTrailerMagic.size());
  return {out.data(), out.data() + out.size()};
}

Status AddressFilterBuilder::WriteTo(const std::string& path, FileSystem& file_system) const {
  auto file = file_system.Create(path);
  if (!file) {
    return tl::unexpected(file.error());
  }
  const std::vector<std::uint8_t> bytes = Serialize();
  if (Status appended = (*file)->Append(bytes); !appended) {
    return appended;
  }
  if (Status synced = (*file)->Sync(); !synced) {
    return synced;
  }
  return (*file)->Close();
}

Result<std::unique_ptr<AddressFilterReader>> AddressFilterReader::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return MakeError(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIoError,
                     path + ": open: " + std::strerror(errno));
  }
  std::unique_ptr<AddressFilterReader> reader(new AddressFilterReader(path, fd));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    return MakeError(ErrorCode::kIoError, path + ": stat: " + std::strerror(errno));
  }
  if (Status parsed = reader->Parse(static_cast<std::uint64_t>(info.st_size)); !parsed) {
    return tl::unexpected(parsed.error());
  }
  return reader;
}

AddressFilterReader::~AddressFilterReader() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Status AddressFilterReader::ReadAt(std::uint64_t offset, std::span<std::uint8_t> out) const {
  if (offset > file_size_ || out.size() > file_size_ - offset) {
    return MakeError(ErrorCode::kCorruption, path_ + ": address filter: offset " + std::to_string(offset) +
                                                 " is past the end of the file");
  }
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return MakeError(ErrorCode::kIoError, path_ + ": read: " + std::strerror(errno));
    }
    if (n == 0) {
      return MakeError(ErrorCode::kCorruption, path_ + ": address filter: the file shrank while reading");
    }
    done += static_cast<std::size_t>(n);
  }
  return OkStatus();
}

Status AddressFilterReader::Parse(std::uint64_t file_size) {
  file_size_ = file_size;
  const auto corrupt = [&](const std::string& what) {
    return MakeError(ErrorCode::kCorruption, path_ + ": address filter: " + what);
  };
  if (file_size < kHeaderBytes + 4 + kTrailerBytes) {
    return corrupt("too short for a header");
  }
  std::array<std::uint8_t, kHeaderBytes> header{};
  if (Status read = ReadAt(0, header); !read) {
    return read;
  }
  if (std::memcmp(header.data(), kMagic.data(), kMagic.size()) != 0) {
    return corrupt("bad magic");
  }
  const std::uint32_t version = LoadLe32(header.data() + 4);
  if (version != kAddressFilterVersion) {
    return corrupt("unsupported version " + std::to_string(version));
  }
  const std::uint32_t block_count = LoadLe32(header.data() + 8);
  total_rows_ = LoadLe64(header.data() + 16);
  const std::uint64_t table_bytes = std::uint64_t{block_count} * kTableEntryBytes;
  if (table_bytes > file_size - kHeaderBytes - 4 - kTrailerBytes) {
    return corrupt("block count " + std::to_string(block_count) + " does not fit the file");
  }
  std::vector<std::uint8_t> head(kHeaderBytes + table_bytes + 4);
  if (Status read = ReadAt(0, head); !read) {
    return read;
  }
  const std::span<const std::uint8_t> checked(head.data(), head.size() - 4);
  if (!ChecksumMatches(checked, LoadLe32(head.data() + head.size() - 4))) {
    return corrupt("header checksum mismatch");
  }
  lines_offset_ = head.size();
  lines_bytes_ = file_size - lines_offset_ - kTrailerBytes;
  if (lines_bytes_ % kAddressFilterLineBytes != 0) {
    return corrupt("the lines are not whole");
  }
  blocks_.resize(block_count);
  std::uint64_t rows = 0;
  for (std::size_t block_idx = 0; block_idx < blocks_.size(); ++block_idx) {
    const std::uint8_t* entry = head.data() + kHeaderBytes + block_idx * kTableEntryBytes;
    Block& block = blocks_[block_idx];
    block.row_count = LoadLe32(entry);
    block.line_count = LoadLe32(entry + 4);
    block.offset = LoadLe64(entry + 8);
    const std::uint64_t bytes = std::uint64_t{block.line_count} * kAddressFilterLineBytes;
    if (block.offset < lines_offset_ || block.offset - lines_offset_ > lines_bytes_ ||
        bytes > lines_bytes_ - (block.offset - lines_offset_)) {
      return corrupt("block " + std::to_string(block_idx) + ": lines outside the file");
    }
    rows += block.row_count;
  }
  if (rows != total_rows_) {
    return corrupt("block rows do not add up to the total");
  }
  return OkStatus();
}

Result<bool> AddressFilterReader::MayContain(std::size_t block_idx, std::uint64_t key) const {
  const Block& block = blocks_[block_idx];
  if (block.line_count == 0) {
    return true;  // no filter: any address may be in it
  }
  std::array<std::uint8_t, kAddressFilterLineBytes> line{};
  const std::uint64_t offset = block.offset + std::uint64_t{LineOf(key, block.line_count)} * line.size();
  if (Status read = ReadAt(offset, line); !read) {
    return tl::unexpected(read.error());
  }
  for (std::size_t word = 0; word < kWordsPerLine; ++word) {
    if ((LoadLe32(line.data() + 4 * word) & BitOf(key, word)) == 0) {
      return false;
    }
  }
  return true;
}

Status AddressFilterReader::Verify() const {
  std::vector<std::uint8_t> rest(lines_bytes_ + kTrailerBytes);
  if (Status read = ReadAt(lines_offset_, rest); !read) {
    return read;
  }
  const std::uint8_t* trailer = rest.data() + lines_bytes_;
  if (std::memcmp(trailer + 4, kTrailerMagic.data(), kTrailerMagic.size()) != 0) {
    return MakeError(ErrorCode::kCorruption, path_ + ": address filter: bad trailer");
  }
  if (!ChecksumMatches(std::span<const std::uint8_t>(rest.data(), lines_bytes_), LoadLe32(trailer))) {
    return MakeError(ErrorCode::kCorruption, path_ + ": address filter: checksum mismatch in the lines");
  }
  return OkStatus();
}

}  // namespace sluice::store
