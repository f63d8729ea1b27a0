// SPDX-License-Identifier: Apache-2.0
// Address filters: for each block of a sealed detail segment, a split-block Bloom filter
// of every source and destination address its rows hold, kept in a file beside the
// segment (DATA/<source>/rollup/address-filter/.../HHMM[-N].flt, store/layout.h). A query
// for `host A` asks each block's filter whether A may be in it and skips the blocks where
// it is certainly not, without reading or decompressing anything of them: a probe reads
// one 32-byte line of the file. The housekeeping writes the file after the segment is
// sealed (store/maintenance.h), so the ingest path pays nothing for it.
//
// File format (little endian; docs/storage_format.md, "Address filter files"):
//   header   "SLAF", u32 version (1), u32 block_count, u32 bits_per_key, u64 total_rows
//   table    block_count x { u32 row_count, u32 line_count, u64 offset }
//   u32      CRC-32 of header and table
//   lines    each 8 x u32; a block's lines start at its `offset`
//   trailer  u32 CRC-32 of the lines, "FALS"
// A key is the 16 address bytes (flow::IpAddress) hashed to 64 bits; its line is the
// high 32 bits scaled to line_count, and it sets one bit in each of the line's 8 words,
// chosen by the low 32 bits times a per-word odd constant (bits 27-31 of the product).
// A block with line_count 0 has no filter: any address may be in it.

#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "flow/ip_address.h"
#include "store/file_system.h"

namespace sluice::store {

inline constexpr std::uint32_t kAddressFilterVersion = 1;
inline constexpr std::uint32_t kAddressFilterBitsPerKey = 10;  // about 1 % false positives
inline constexpr std::size_t kAddressFilterLineBytes = 32;

// The 64-bit key of an address: what a filter stores and a probe looks up.
std::uint64_t AddressFilterKey(const flow::IpAddress& address);

// Builds the filters of one segment, block by block, and writes the file.
// Thread-safety: none. Memory: 8 bytes per key of the current block, plus the lines.
class AddressFilterBuilder {
 public:
  // Adds keys (AddressFilterKey()) to the block being built; repeats are harmless (the
  // filter is sized for the distinct keys).
  void Add(std::span<const std::uint64_t> keys) { keys_.insert(keys_.end(), keys.begin(), keys.end()); }
  void Add(std::uint64_t key) { keys_.push_back(key); }

  // Ends the current block (of `row_count` rows of the segment), sizing its filter for
  // the keys added since the previous call.
  void FinishBlock(std::uint32_t row_count);

  // The whole file, for the blocks finished so far.
  std::vector<std::uint8_t> Serialize() const;

  // Writes Serialize() to `path` through `file_system` and syncs it.
  Status WriteTo(const std::string& path, FileSystem& file_system) const;

 private:
  struct Block {
    std::uint32_t row_count = 0;
    std::uint32_t line_count = 0;
    std::uint64_t first_line = 0;  // index into lines_ / 8
  };
  std::vector<std::uint64_t> keys_;
  std::vector<Block> blocks_;
  std::vector<std::uint32_t> lines_;  // 8 words per line
  std::uint64_t total_rows_ = 0;
};

// Reads an address filter file: the header and table at Open(), one line per probe.
// Every byte is checked before use (magic, version, header CRC, bounds): a damaged file
// is an Error (kCorruption, naming the path), never a crash. The lines themselves are
// checked as a whole only by Verify() (a probe reads 32 bytes, not the file).
// Thread-safety: const methods may be called from many threads (pread).
class AddressFilterReader {
 public:
  static Result<std::unique_ptr<AddressFilterReader>> Open(const std::string& path);
  ~AddressFilterReader();
  AddressFilterReader(const AddressFilterReader&) = delete;
  AddressFilterReader& operator=(const AddressFilterReader&) = delete;

  std::size_t block_count() const { return blocks_.size(); }
  std::uint32_t block_rows(std::size_t block_idx) const { return blocks_[block_idx].row_count; }
  std::uint64_t total_rows() const { return total_rows_; }

  // False only if no row of block `block_idx` holds the address of `key` in its source
  // or destination. REQUIRES: block_idx < block_count().
  Result<bool> MayContain(std::size_t block_idx, std::uint64_t key) const;

  // Reads the whole file and checks the lines' CRC-32 (`sluice store verify`).
  Status Verify() const;

 private:
  struct Block {
    std::uint32_t row_count = 0;
    std::uint32_t line_count = 0;
    std::uint64_t offset = 0;
  };
  AddressFilterReader(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status Parse(std::uint64_t file_size);
  Status ReadAt(std::uint64_t offset, std::span<std::uint8_t> out) const;

  std::string path_;
  int fd_ = -1;
  std::uint64_t file_size_ = 0;
  std::uint64_t lines_offset_ = 0;
  std::uint64_t lines_bytes_ = 0;
  std::uint64_t total_rows_ = 0;
  std::vector<Block> blocks_;
};

}  // namespace sluice::store
