// SPDX-License-Identifier: Apache-2.0

#include "net/udp_receiver.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace sluice::net {
namespace {

std::string Errno(int error) {
  return std::strerror(error);
}

int SetInt(int fd, int level, int name, int value) {
  return ::setsockopt(fd, level, name, &value, sizeof value);
}

// The segment size of a UDP_GRO message (0: the message is one datagram).
std::size_t SegmentBytes(msghdr& header) {
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&header); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(&header, cmsg)) {
    if (cmsg->cmsg_level == SOL_UDP && cmsg->cmsg_type == UDP_GRO) {
      int segment = 0;
      std::memcpy(&segment, CMSG_DATA(cmsg), sizeof segment);
      return segment > 0 ? static_cast<std::size_t>(segment) : 0;
    }
  }
  return 0;
}

}  // namespace

Result<UdpSocket> UdpSocket::Bind(const UdpSocketOptions& options) {
  const bool v4 = options.local.address.IsV4();
  const int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const std::string where = "udp " + options.local.ToString();
  if (fd < 0) {
    return MakeError(ErrorCode::kIoError,
                     "cannot open a socket for " + where + ": " + Errno(errno));
  }
  UdpSocket socket(fd);
  if (!v4 && SetInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) != 0) {
    return MakeError(ErrorCode::kIoError,
                     "cannot set IPV6_V6ONLY on " + where + ": " + Errno(errno));
  }
  if (options.reuse_port && SetInt(fd, SOL_SOCKET, SO_REUSEPORT, 1) != 0) {
    return MakeError(ErrorCode::kIoError,
                     "cannot set SO_REUSEPORT on " + where + ": " + Errno(errno));
  }
  // Best effort: without it we cannot report kernel drops, but we can still receive.
  (void)SetInt(fd, SOL_SOCKET, SO_RXQ_OVFL, 1);
  if (options.rcvbuf_bytes > 0) {
    const int wanted = options.rcvbuf_bytes > (std::size_t{1} << 30)
                           ? (1 << 30)
                           : static_cast<int>(options.rcvbuf_bytes);
    if (SetInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, wanted) != 0) {
      (void)SetInt(fd, SOL_SOCKET, SO_RCVBUF, wanted);
    }
    socket.rcvbuf_requested_ = static_cast<std::size_t>(wanted);
  }
  int granted = 0;
  socklen_t granted_len = sizeof granted;
  if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &granted_len) == 0 && granted > 0) {
    socket.rcvbuf_effective_ = static_cast<std::size_t>(granted) / 2;
  }
  if (options.rcvbuf_bytes == 0) {
    socket.rcvbuf_requested_ = socket.rcvbuf_effective_;
  }
  sockaddr_storage storage{};
  const socklen_t length = ToSockaddr(options.local, !v4, storage);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
    return MakeError(ErrorCode::kIoError, "cannot bind " + where + ": " + Errno(errno));
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0 ||
      !FromSockaddr(bound, socket.local_)) {
    return MakeError(ErrorCode::kIoError,
                     "cannot read the address of " + where + ": " + Errno(errno));
  }
  return socket;
}

UdpSocket::UdpSocket(UdpSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      local_(other.local_),
      rcvbuf_requested_(other.rcvbuf_requested_),
      rcvbuf_effective_(other.rcvbuf_effective_) {}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
    local_ = other.local_;
    rcvbuf_requested_ = other.rcvbuf_requested_;
    rcvbuf_effective_ = other.rcvbuf_effective_;
  }
  return *this;
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

UdpReceiver::UdpReceiver(std::vector<UdpSocket> sockets, const UdpReceiverOptions& options,
                         const Clock& clock)
    : sockets_(std::move(sockets)), options_(options), clock_(&clock) {
  if (options_.batch_size == 0) {
    options_.batch_size = 1;
  }
  if (options_.slot_bytes == 0) {
    options_.slot_bytes = 1;
  }
  const std::size_t batch = options_.batch_size;
  // SO_RXQ_OVFL's drop count, then UDP_GRO's segment size.
  control_bytes_per_message_ = CMSG_SPACE(sizeof(std::uint32_t)) + CMSG_SPACE(sizeof(int));
  slots_.resize(batch * options_.slot_bytes);
  sources_.resize(batch);
  iovecs_.resize(batch);
  messages_.resize(batch);
  control_.resize(batch * control_bytes_per_message_);
  datagrams_.resize(batch);
  socket_drops_.assign(sockets_.size(), 0);
  coalescing_ = options_.coalesce && options_.slot_bytes >= kMaxCoalescedBytes && !sockets_.empty();
  for (const UdpSocket& socket : sockets_) {
    pollfds_.push_back(pollfd{socket.fd(), POLLIN, 0});
    if (coalescing_ && SetInt(socket.fd(), SOL_UDP, UDP_GRO, 1) != 0) {
      coalescing_ = false;  // an old kernel; a socket set before still has its buffers split
    }
  }
}

bool UdpReceiver::Allowed(const flow::IpAddress& address) const {
  if (options_.allow.empty()) {
    return true;
  }
  for (const flow::IpPrefix& prefix : options_.allow) {
    if (prefix.Contains(address)) {
      return true;
    }
  }
  return false;
}

std::size_t UdpReceiver::ReceiveFrom(std::size_t socket_idx) {
  const std::size_t batch = options_.batch_size;
  for (std::size_t msg_idx = 0; msg_idx < batch; ++msg_idx) {
    iovecs_[msg_idx].iov_base = slots_.data() + msg_idx * options_.slot_bytes;
    iovecs_[msg_idx].iov_len = options_.slot_bytes;
    msghdr& header = messages_[msg_idx].msg_hdr;
    header.msg_name = &sources_[msg_idx];
    header.msg_namelen = sizeof(sockaddr_storage);
    header.msg_iov = &iovecs_[msg_idx];
    header.msg_iovlen = 1;
    header.msg_control = control_.data() + msg_idx * control_bytes_per_message_;
    header.msg_controllen = control_bytes_per_message_;
    header.msg_flags = 0;
    messages_[msg_idx].msg_len = 0;
  }
  const int received = ::recvmmsg(sockets_[socket_idx].fd(), messages_.data(),
                                  static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
  if (received < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      counters_.errors.Add(1);
    }
    return 0;
  }
  const auto count = static_cast<std::size_t>(received);
  if (count > 0) {
    // SO_RXQ_OVFL: the socket's cumulative drop count as of the newest datagram; the
    // kernel attaches it only once it is non-zero.
    msghdr& last = messages_[count - 1].msg_hdr;
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&last); cmsg != nullptr; cmsg = CMSG_NXTHDR(&last, cmsg)) {
      if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SO_RXQ_OVFL) {
        std::uint32_t drops = 0;
        std::memcpy(&drops, CMSG_DATA(cmsg), sizeof drops);
        if (drops != socket_drops_[socket_idx]) {
          // Unsigned difference: the kernel counter wraps at 2^32.
          counters_.kernel_drops.Add(static_cast<std::uint32_t>(drops - socket_drops_[socket_idx]));
          socket_drops_[socket_idx] = drops;
        }
      }
    }
  }
  return count;
}

std::span<const flow::Datagram> UdpReceiver::ReceiveBatch(int timeout_ms) {
  last_messages_ = 0;
  if (sockets_.empty()) {
    return {};
  }
  std::size_t count = 0;
  for (int attempt = 0; attempt < 2 && count == 0; ++attempt) {
    for (std::size_t tried = 0; tried < sockets_.size() && count == 0; ++tried) {
      const std::size_t socket_idx = next_socket_;
      next_socket_ = next_socket_ + 1 == sockets_.size() ? 0 : next_socket_ + 1;
      count = ReceiveFrom(socket_idx);
    }
    if (count == 0 && attempt == 0) {
      if (timeout_ms <= 0) {
        return {};
      }
      // Nothing waiting anywhere: sleep in poll() until a socket is readable.
      if (::poll(pollfds_.data(), pollfds_.size(), timeout_ms) <= 0) {
        return {};
      }
    }
  }
  if (count == 0) {
    return {};
  }
  last_messages_ = count;
  const UnixMillis now = clock_->NowMillis();
  std::size_t kept = 0;
  std::uint64_t bytes = 0;
  std::uint64_t truncated = 0;
  std::uint64_t not_allowed = 0;
  std::uint64_t coalesced = 0;
  for (std::size_t msg_idx = 0; msg_idx < count; ++msg_idx) {
    mmsghdr& message = messages_[msg_idx];
    if ((message.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
      ++truncated;
      continue;
    }
    Endpoint source;
    if (!FromSockaddr(sources_[msg_idx], source)) {
      continue;
    }
    if (!Allowed(source.address)) {
      ++not_allowed;
      continue;
    }
    const std::span<const std::uint8_t> received(slots_.data() + msg_idx * options_.slot_bytes,
                                                 message.msg_len);
    // Parsed whether or not coalescing_: a socket that has UDP_GRO on always says so.
    const std::size_t segment_bytes = SegmentBytes(message.msg_hdr);
    const std::size_t step = segment_bytes == 0 ? received.size() : segment_bytes;
    coalesced += step < received.size() ? 1 : 0;
    std::size_t offset = 0;
    do {
      if (kept == datagrams_.size()) {
        datagrams_.emplace_back();
      }
      flow::Datagram& datagram = datagrams_[kept];
      datagram.exporter = source.address;
      datagram.exporter_port = source.port;
      datagram.time_received = now;
      datagram.payload = received.subspan(offset, std::min(step, received.size() - offset));
      offset += step;
      ++kept;
    } while (offset < received.size());
    bytes += message.msg_len;
  }
  counters_.datagrams.Add(kept);
  counters_.bytes.Add(bytes);
  if (truncated != 0) {
    counters_.truncated.Add(truncated);
  }
  if (not_allowed != 0) {
    counters_.not_allowed.Add(not_allowed);
  }
  if (coalesced != 0) {
    counters_.coalesced.Add(coalesced);
  }
  return std::span<const flow::Datagram>(datagrams_.data(), kept);
}

}  // namespace sluice::net
