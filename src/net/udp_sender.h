// SPDX-License-Identifier: Apache-2.0
// UdpSender and Pacer: send datagrams in order with sendmmsg, at a set rate. Used by
// `sluice replay` and the sluice-blast load generator.

#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/result.h"
#include "net/socket_address.h"

namespace sluice::net {

// A UDP socket connected to one destination.
//
// Ownership: owns the file descriptor (move-only). Thread-safety: one thread at a time.
class UdpSender {
 public:
  static constexpr std::size_t kMaxBatch = 64;

  // Opens a socket connected to `destination`. If `source` is set, binds it first (any
  // 127.0.0.0/8 address works on Linux loopback, so one host can play many exporters).
  static Result<UdpSender> Connect(const Endpoint& destination,
                                   const std::optional<flow::IpAddress>& source = std::nullopt,
                                   std::size_t sndbuf_bytes = std::size_t{4} << 20);

  UdpSender(UdpSender&& other) noexcept;
  UdpSender& operator=(UdpSender&& other) noexcept;
  UdpSender(const UdpSender&) = delete;
  UdpSender& operator=(const UdpSender&) = delete;
  ~UdpSender();

  // Sends every datagram, in order, in sendmmsg calls of up to kMaxBatch. "Connection
  // refused" (an ICMP port unreachable for an earlier datagram) is counted and the send
  // retried. Fails on any other error, returning what was sent before in the message.
  Result<std::size_t> Send(std::span<const std::span<const std::uint8_t>> datagrams);

  // Sends `contiguous` as datagrams of `segment_bytes` each (the last may be shorter) in
  // one sendmsg with UDP generic segmentation offload (UDP_SEGMENT, Linux >= 4.18): the
  // kernel cuts the buffer into datagrams, which costs far less than one send each.
  // REQUIRES: at most kMaxSegments segments and 65000 bytes.
  Status SendSegmented(std::span<const std::uint8_t> contiguous, std::uint16_t segment_bytes);

  static constexpr std::size_t kMaxSegments = 64;

  // Times a send reported the destination port closed.
  std::uint64_t refused() const { return refused_; }

 private:
  explicit UdpSender(int fd);

  int fd_ = -1;
  std::uint64_t refused_ = 0;
  std::vector<struct iovec> iovecs_;
  std::vector<struct mmsghdr> messages_;
};

// Spaces sends at `rate` items per second from construction; rate 0 means no pacing.
// Tracks a schedule (item i is due at start + i / rate), so short stalls are caught up.
class Pacer {
 public:
  explicit Pacer(double rate_per_second);

  // Returns how many of the next items are due now (at most `max`, at least 1), sleeping
  // until the next one is due if none is. `sent` is the number sent so far.
  std::size_t WaitForQuota(std::uint64_t sent, std::size_t max);

 private:
  double rate_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace sluice::net
