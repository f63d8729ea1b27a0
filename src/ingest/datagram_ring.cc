// SPDX-License-Identifier: Apache-2.0

#include "ingest/datagram_ring.h"

#include <bit>

namespace sluice::ingest {

DatagramRing::DatagramRing(std::size_t capacity_bytes)
    : capacity_(
          std::bit_ceil(capacity_bytes < kMinCapacityBytes ? kMinCapacityBytes : capacity_bytes)),
      mask_(capacity_ - 1),
      // Zeroed, so every page is mapped now: a ring cycles through all of its pages within
      // its first capacity's worth of traffic anyway, and a page fault each (microseconds
      // in a virtual machine) then slows the receive thread just as traffic arrives.
      buffer_(std::make_unique<std::uint8_t[]>(capacity_)) {}

bool DatagramRing::TryPush(const flow::Datagram& datagram) {
  const std::size_t payload_length = datagram.payload.size();
  const std::size_t need = (sizeof(Header) + payload_length + 7) & ~std::size_t{7};
  if (need > capacity_ / 2) {
    return false;
  }
  std::size_t offset = write_pos_ & mask_;
  const std::size_t contiguous = capacity_ - offset;
  const std::size_t total = contiguous < need ? contiguous + need : need;
  if (write_pos_ + total - cached_read_pos_ > capacity_) {
    cached_read_pos_ = read_pos_.load(std::memory_order_acquire);
    if (write_pos_ + total - cached_read_pos_ > capacity_) {
      return false;
    }
  }
  if (contiguous < need) {
    // Records are 8-byte multiples, so at least the 8 bytes of a marker remain.
    const std::uint32_t marker[2] = {static_cast<std::uint32_t>(contiguous), kWrapMarker};
    std::memcpy(buffer_.get() + offset, marker, sizeof marker);
    write_pos_ += contiguous;
    offset = 0;
  }
  Header header{};
  header.size = static_cast<std::uint32_t>(need);
  header.payload_length = static_cast<std::uint32_t>(payload_length);
  header.time_received = datagram.time_received;
  header.exporter = datagram.exporter;
  header.exporter_port = datagram.exporter_port;
  std::uint8_t* record = buffer_.get() + offset;
  std::memcpy(record, static_cast<const void*>(&header), sizeof header);
  if (payload_length != 0) {
    std::memcpy(record + sizeof header, datagram.payload.data(), payload_length);
  }
  write_pos_ += need;
  return true;
}

}  // namespace sluice::ingest
