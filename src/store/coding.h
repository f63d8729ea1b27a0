// SPDX-License-Identifier: Apache-2.0
// Byte-level building blocks of the segment format (docs/storage_format.md): a growable
// output buffer, little-endian fixed-width values, LEB128 varints, zigzag, and a
// bounds-checked input cursor. Internal to store/.

#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace sluice::store {

// A byte buffer that grows without zero-filling, so encoders can reserve the worst case
// and write through a pointer. Reused across blocks: clear() keeps the allocation.
// Ownership: owns its bytes. Thread-safety: none.
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&&) noexcept = default;
  Buffer& operator=(Buffer&&) noexcept = default;

  const std::uint8_t* data() const { return data_.get(); }
  std::uint8_t* data() { return data_.get(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }

  std::span<const std::uint8_t> span() const { return {data_.get(), size_}; }

  // Returns a pointer to at least `bytes` writable bytes at the end; Commit() them after.
  std::uint8_t* Reserve(std::size_t bytes) {
    if (capacity_ - size_ < bytes) {
      Grow(size_ + bytes);
    }
    return data_.get() + size_;
  }

  void Commit(std::size_t bytes) { size_ += bytes; }

  // Sets the size to `bytes` for the caller to fill: growing, the old bytes are not kept
  // (nor the new ones initialised); shrinking keeps the first `bytes`.
  void Resize(std::size_t bytes) {
    if (bytes > capacity_) {
      size_ = 0;  // nothing to copy into the larger array
      Grow(bytes);
    }
    size_ = bytes;
  }

  void Append(const void* bytes, std::size_t length) {
    if (length == 0) {
      return;
    }
    std::memcpy(Reserve(length), bytes, length);
    size_ += length;
  }

  void Append(std::span<const std::uint8_t> bytes) { Append(bytes.data(), bytes.size()); }

  void PutU8(std::uint8_t v) {
    *Reserve(1) = v;
    size_ += 1;
  }

  void PutFixed16(std::uint16_t v) {
    std::uint8_t* p = Reserve(2);
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8);
    size_ += 2;
  }

  void PutFixed32(std::uint32_t v) {
    std::uint8_t* p = Reserve(4);
    for (int byte_idx = 0; byte_idx < 4; ++byte_idx) {
      p[byte_idx] = static_cast<std::uint8_t>(v >> (8 * byte_idx));
    }
    size_ += 4;
  }

  void PutFixed64(std::uint64_t v) {
    std::uint8_t* p = Reserve(8);
    for (int byte_idx = 0; byte_idx < 8; ++byte_idx) {
      p[byte_idx] = static_cast<std::uint8_t>(v >> (8 * byte_idx));
    }
    size_ += 8;
  }

  void PutVarint(std::uint64_t v);

  void PutString(std::string_view text) {
    PutVarint(text.size());
    Append(text.data(), text.size());
  }

 private:
  void Grow(std::size_t at_least);

  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// Most bytes a varint of a uint64 takes.
inline constexpr std::size_t kMaxVarintBytes = 10;

// Writes `v` as an LEB128 varint at `p`; returns the bytes written.
inline std::size_t EncodeVarint(std::uint8_t* p, std::uint64_t v) {
  if (v < 0x80) {
    p[0] = static_cast<std::uint8_t>(v);
    return 1;
  }
  if (v < 0x4000) {
    p[0] = static_cast<std::uint8_t>(v | 0x80);
    p[1] = static_cast<std::uint8_t>(v >> 7);
    return 2;
  }
  std::size_t n = 0;
  while (v >= 0x80) {
    p[n++] = static_cast<std::uint8_t>(v | 0x80);
    v >>= 7;
  }
  p[n++] = static_cast<std::uint8_t>(v);
  return n;
}

inline std::size_t VarintLength(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline void Buffer::PutVarint(std::uint64_t v) { size_ += EncodeVarint(Reserve(kMaxVarintBytes), v); }

inline std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

inline std::int64_t UnZigZag(std::uint64_t v) {
  return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

inline std::uint32_t LoadLe32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}

inline std::uint64_t LoadLe64(const std::uint8_t* p) {
  return std::uint64_t{LoadLe32(p)} | (std::uint64_t{LoadLe32(p + 4)} << 32);
}

// Reads from a byte range without ever leaving it. Every getter returns 0 (or an empty
// span) once the input ran out or was malformed, and ok() turns false for good; callers
// check ok() after a group of reads.
class Cursor {
 public:
  explicit Cursor(std::span<const std::uint8_t> bytes)
      : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool ok() const { return ok_; }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  bool AtEnd() const { return p_ == end_; }
  const std::uint8_t* position() const { return p_; }

  void Fail() {
    ok_ = false;
    p_ = end_;
  }

  std::uint8_t U8() {
    if (p_ == end_) {
      Fail();
      return 0;
    }
    return *p_++;
  }

  std::uint16_t Fixed16() {
    if (remaining() < 2) {
      Fail();
      return 0;
    }
    const std::uint16_t v = static_cast<std::uint16_t>(p_[0] | (p_[1] << 8));
    p_ += 2;
    return v;
  }

  std::uint32_t Fixed32() {
    if (remaining() < 4) {
      Fail();
      return 0;
    }
    const std::uint32_t v = LoadLe32(p_);
    p_ += 4;
    return v;
  }

  std::uint64_t Fixed64() {
    if (remaining() < 8) {
      Fail();
      return 0;
    }
    const std::uint64_t v = LoadLe64(p_);
    p_ += 8;
    return v;
  }

  std::uint64_t Varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64 && p_ != end_; shift += 7) {
      const std::uint8_t byte = *p_++;
      v |= std::uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) {
        // The tenth byte may carry only the top bit of a uint64.
        if (shift == 63 && byte > 1) {
          break;
        }
        return v;
      }
    }
    Fail();
    return 0;
  }

  std::int64_t ZigZagVarint() { return UnZigZag(Varint()); }

  std::span<const std::uint8_t> Bytes(std::size_t length) {
    if (remaining() < length) {
      Fail();
      return {};
    }
    const std::span<const std::uint8_t> out(p_, length);
    p_ += length;
    return out;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  bool ok_ = true;
};

}  // namespace sluice::store
