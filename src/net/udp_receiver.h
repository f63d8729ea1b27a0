// SPDX-License-Identifier: Apache-2.0
// UdpSocket and UdpReceiver: bound UDP sockets (IPv4/IPv6, SO_REUSEPORT, a large
// SO_RCVBUF, the kernel's drop counter) and the recvmmsg loop that reads them in batches.

#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "flow/datagram.h"
#include "flow/ip_prefix.h"
#include "net/socket_address.h"

namespace sluice::net {

inline constexpr std::size_t kDefaultReceiveBufferBytes = std::size_t{64} << 20;

struct UdpSocketOptions {
  Endpoint local;                                         // where to bind; port 0 = any free port
  std::size_t rcvbuf_bytes = kDefaultReceiveBufferBytes;  // SO_RCVBUF wanted; 0 = kernel default
  bool reuse_port = false;  // SO_REUSEPORT (several sockets, one port)
};

// A bound UDP socket. IPv6 sockets are IPV6_V6ONLY so that 0.0.0.0 and :: can both be
// bound on one port. SO_RXQ_OVFL is on, so each received datagram can carry the
// socket's cumulative drop count.
//
// Ownership: owns the file descriptor (move-only). Thread-safety: the socket may be read
// by one thread at a time.
class UdpSocket {
 public:
  // Binds; the error names the address and the reason (e.g. "Address already in use").
  // Asks for SO_RCVBUFFORCE first (works with CAP_NET_ADMIN) and falls back to SO_RCVBUF,
  // which the kernel caps at net.core.rmem_max.
  static Result<UdpSocket> Bind(const UdpSocketOptions& options);

  UdpSocket(UdpSocket&& other) noexcept;
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  ~UdpSocket();

  int fd() const { return fd_; }

  // The bound address, with the port the kernel chose if 0 was asked for.
  const Endpoint& local() const { return local_; }

  std::size_t rcvbuf_requested() const { return rcvbuf_requested_; }

  // What the kernel grants (its getsockopt value halved: it doubles for bookkeeping).
  std::size_t rcvbuf_effective() const { return rcvbuf_effective_; }

  // True when the kernel granted noticeably less than asked (it rounds near INT_MAX/2).
  bool rcvbuf_capped() const {
    return rcvbuf_effective_ + rcvbuf_requested_ / 64 < rcvbuf_requested_;
  }

 private:
  explicit UdpSocket(int fd) : fd_(fd) {}

  int fd_ = -1;
  Endpoint local_;
  std::size_t rcvbuf_requested_ = 0;
  std::size_t rcvbuf_effective_ = 0;
};

// A counter written by one thread and read by any (relaxed: stats only).
class RelaxedCounter {
 public:
  void Add(std::uint64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  void Set(std::uint64_t n) { value_.store(n, std::memory_order_relaxed); }

  std::uint64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// Counters of one UdpReceiver; monotonic.
struct ReceiveCounters {
  RelaxedCounter datagrams;     // datagrams accepted (allowed, whole)
  RelaxedCounter bytes;         // their payload bytes
  RelaxedCounter truncated;     // datagrams longer than a slot (MSG_TRUNC), dropped
  RelaxedCounter not_allowed;   // datagrams from exporters outside the allow-list, dropped
  RelaxedCounter kernel_drops;  // the sockets' SO_RXQ_OVFL counts, summed
  RelaxedCounter errors;        // recvmmsg failures other than "no data"
  RelaxedCounter coalesced;     // messages that held several datagrams (UDP_GRO)
};

// The most bytes the kernel coalesces into one UDP_GRO buffer (the IP length limit).
inline constexpr std::size_t kMaxCoalescedBytes = 65535;

struct UdpReceiverOptions {
  std::size_t batch_size = 64;     // messages per recvmmsg call
  std::size_t slot_bytes = 65536;  // bytes per message slot; longer datagrams are truncated
  // UDP_GRO (Linux >= 5.0): the kernel may hand over consecutive datagrams of one sender
  // as one buffer with their segment size, which the receiver splits again; it saves
  // the kernel a socket enqueue and a message per datagram. Asked for only when a slot
  // holds kMaxCoalescedBytes; best effort (without it, every datagram comes alone).
  bool coalesce = true;
  std::vector<flow::IpPrefix> allow;     // empty: every exporter; otherwise only these prefixes
};

// Reads datagrams from one or more sockets with recvmmsg, a batch of messages at a time,
// and stamps each batch with one clock read. A message is one datagram, or with UDP_GRO
// several of one sender, split here at their segment size. The datagrams of the last
// batch are views into the receiver's slot buffers, valid until the next ReceiveBatch().
//
// Ownership: owns its sockets and buffers (allocated once). Thread-safety: one thread
// calls ReceiveBatch(); counters() may be read from any thread.
class UdpReceiver {
 public:
  UdpReceiver(std::vector<UdpSocket> sockets, const UdpReceiverOptions& options,
              const Clock& clock);

  UdpReceiver(const UdpReceiver&) = delete;
  UdpReceiver& operator=(const UdpReceiver&) = delete;

  // Receives one batch from a socket that has data, waiting up to `timeout_ms` (0: do
  // not wait) when none has. Returns the datagrams kept (allowed and whole); empty when
  // nothing arrived in time.
  std::span<const flow::Datagram> ReceiveBatch(int timeout_ms);

  // Whether the last ReceiveBatch() took as many messages as a batch holds (more were
  // probably waiting).
  bool LastBatchFull() const { return last_messages_ == options_.batch_size; }

  // Whether UDP_GRO is on for every socket.
  bool coalescing() const { return coalescing_; }

  const ReceiveCounters& counters() const { return counters_; }

  const std::vector<UdpSocket>& sockets() const { return sockets_; }

 private:
  // recvmmsg on one socket without waiting; returns the number of messages (0: none).
  std::size_t ReceiveFrom(std::size_t socket_idx);

  bool Allowed(const flow::IpAddress& address) const;

  std::vector<UdpSocket> sockets_;
  UdpReceiverOptions options_;
  const Clock* clock_;
  std::size_t next_socket_ = 0;
  std::vector<std::uint8_t> slots_;
  std::vector<sockaddr_storage> sources_;
  std::vector<struct iovec> iovecs_;
  std::vector<struct mmsghdr> messages_;
  std::vector<std::uint8_t> control_;
  std::size_t control_bytes_per_message_ = 0;
  std::vector<pollfd> pollfds_;
  std::vector<std::uint32_t> socket_drops_;  // latest SO_RXQ_OVFL value per socket
  std::vector<flow::Datagram> datagrams_;  // grows to the most datagrams a batch held
  std::size_t last_messages_ = 0;
  bool coalescing_ = false;
  ReceiveCounters counters_;
};

}  // namespace sluice::net
