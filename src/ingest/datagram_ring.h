// SPDX-License-Identifier: Apache-2.0
// DatagramRing: a bounded single-producer single-consumer queue of datagrams, copied
// into one preallocated byte ring (no allocation per datagram).
//
// Each datagram takes a 40-byte header and its payload, rounded up to 8 bytes. When a
// datagram does not fit before the end of the buffer, a wrap marker fills the rest and
// the datagram starts again at offset 0. Positions only grow (64 bits never wrap).
//
// The producer copies datagrams in with TryPush() and makes them visible with one
// Publish() per batch; the consumer reads them in place with Drain() and gives their
// space back as it goes. A full ring makes TryPush() fail at once: receiving never waits
// on decoding, the caller counts the drop.
//
// Thread-safety: one producer thread and one consumer thread at a time.

#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "flow/datagram.h"

namespace sluice::ingest {

class DatagramRing {
 public:
  // Smallest ring: holds at least one datagram of the largest UDP size.
  static constexpr std::size_t kMinCapacityBytes = std::size_t{256} << 10;

  // `capacity_bytes` is rounded up to a power of two, and to at least kMinCapacityBytes.
  explicit DatagramRing(std::size_t capacity_bytes);

  DatagramRing(const DatagramRing&) = delete;
  DatagramRing& operator=(const DatagramRing&) = delete;

  std::size_t capacity_bytes() const { return capacity_; }

  // Producer: copies `datagram` in; false if there is no room now. Not visible to the
  // consumer before Publish().
  bool TryPush(const flow::Datagram& datagram);

  // Producer: makes every pushed datagram visible to the consumer.
  void Publish() { published_.store(write_pos_, std::memory_order_release); }

  // Consumer: calls `fn(const flow::Datagram&)` for up to `max` published datagrams, in
  // order. The payload is a view into the ring, valid only during the call. Returns the
  // number handed to `fn`.
  template <typename Fn>
  std::size_t Drain(Fn&& fn, std::size_t max);

  // Bytes published and not yet drained (either side may ask; a snapshot).
  std::uint64_t PublishedBytes() const {
    return published_.load(std::memory_order_acquire) - read_pos_.load(std::memory_order_acquire);
  }

  // Consumer: true if nothing published is left to drain.
  bool Empty() const {
    return read_pos_.load(std::memory_order_relaxed) == published_.load(std::memory_order_acquire);
  }

 private:
  struct Header {
    std::uint32_t size;            // bytes from this header to the next record
    std::uint32_t payload_length;  // kWrapMarker: skip to the start of the buffer
    std::int64_t time_received;
    flow::IpAddress exporter;
    std::uint16_t exporter_port;
    std::uint16_t reserved[3];
  };

  static_assert(sizeof(Header) == 40);
  static constexpr std::uint32_t kWrapMarker = 0xFFFFFFFFu;

  std::size_t capacity_;
  std::size_t mask_;
  std::unique_ptr<std::uint8_t[]> buffer_;

  // Producer side.
  alignas(64) std::uint64_t write_pos_ = 0;
  std::uint64_t cached_read_pos_ = 0;
  // Shared.
  alignas(64) std::atomic<std::uint64_t> published_{0};
  alignas(64) std::atomic<std::uint64_t> read_pos_{0};
};

template <typename Fn>
std::size_t DatagramRing::Drain(Fn&& fn, std::size_t max) {
  std::uint64_t pos = read_pos_.load(std::memory_order_relaxed);
  const std::uint64_t end = published_.load(std::memory_order_acquire);
  std::size_t handed = 0;
  while (pos < end && handed < max) {
    const std::uint8_t* record = buffer_.get() + (pos & mask_);
    std::uint32_t prefix[2];
    std::memcpy(prefix, record, sizeof prefix);
    if (prefix[1] == kWrapMarker) {
      pos += prefix[0];
      continue;
    }
    Header header;
    std::memcpy(static_cast<void*>(&header), record, sizeof header);
    flow::Datagram datagram;
    datagram.exporter = header.exporter;
    datagram.exporter_port = header.exporter_port;
    datagram.time_received = header.time_received;
    datagram.payload =
        std::span<const std::uint8_t>(record + sizeof(Header), header.payload_length);
    fn(static_cast<const flow::Datagram&>(datagram));
    pos += header.size;
    ++handed;
    read_pos_.store(pos, std::memory_order_release);
  }
  read_pos_.store(pos, std::memory_order_release);
  return handed;
}

}  // namespace sluice::ingest
