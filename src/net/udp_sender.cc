// SPDX-License-Identifier: Apache-2.0

#include "net/udp_sender.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

namespace sluice::net {

Result<UdpSender> UdpSender::Connect(const Endpoint& destination,
                                     const std::optional<flow::IpAddress>& source,
                                     std::size_t sndbuf_bytes) {
  const bool v4 = destination.address.IsV4();
  const int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return MakeError(ErrorCode::kIoError,
                     std::string("cannot open a UDP socket: ") + std::strerror(errno));
  }
  UdpSender sender(fd);
  if (sndbuf_bytes > 0) {
    const int wanted = static_cast<int>(
        sndbuf_bytes > (std::size_t{1} << 30) ? (std::size_t{1} << 30) : sndbuf_bytes);
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &wanted, sizeof wanted) != 0) {
      (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &wanted, sizeof wanted);
    }
  }
  sockaddr_storage storage{};
  if (source) {
    const socklen_t length = ToSockaddr(Endpoint{*source, 0}, !v4, storage);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
      return MakeError(ErrorCode::kIoError, "cannot bind source address " + source->ToString() +
                                                ": " + std::strerror(errno));
    }
  }
  const socklen_t length = ToSockaddr(destination, !v4, storage);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
    return MakeError(ErrorCode::kIoError, "cannot connect to udp " + destination.ToString() + ": " +
                                              std::strerror(errno));
  }
  return sender;
}

UdpSender::UdpSender(int fd) : fd_(fd), iovecs_(kMaxBatch), messages_(kMaxBatch) {}

UdpSender::UdpSender(UdpSender&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      refused_(other.refused_),
      iovecs_(std::move(other.iovecs_)),
      messages_(std::move(other.messages_)) {}

UdpSender& UdpSender::operator=(UdpSender&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
    refused_ = other.refused_;
    iovecs_ = std::move(other.iovecs_);
    messages_ = std::move(other.messages_);
  }
  return *this;
}

UdpSender::~UdpSender() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Result<std::size_t> UdpSender::Send(std::span<const std::span<const std::uint8_t>> datagrams) {
  std::size_t sent = 0;
  while (sent < datagrams.size()) {
    const std::size_t count = std::min(kMaxBatch, datagrams.size() - sent);
    for (std::size_t msg_idx = 0; msg_idx < count; ++msg_idx) {
      const auto& payload = datagrams[sent + msg_idx];
      iovecs_[msg_idx].iov_base = const_cast<std::uint8_t*>(payload.data());
      iovecs_[msg_idx].iov_len = payload.size();
      messages_[msg_idx] = mmsghdr{};
      messages_[msg_idx].msg_hdr.msg_iov = &iovecs_[msg_idx];
      messages_[msg_idx].msg_hdr.msg_iovlen = 1;
    }
    const int rc = ::sendmmsg(fd_, messages_.data(), static_cast<unsigned>(count), 0);
    if (rc > 0) {
      sent += static_cast<std::size_t>(rc);
      continue;
    }
    if (rc < 0 && errno == ECONNREFUSED) {
      ++refused_;
      continue;
    }
    if (rc < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOBUFS)) {
      std::this_thread::yield();
      continue;
    }
    return MakeError(ErrorCode::kIoError, "sendmmsg failed after " + std::to_string(sent) +
                                              " datagrams: " + std::strerror(errno));
  }
  return sent;
}

Status UdpSender::SendSegmented(std::span<const std::uint8_t> contiguous,
                                std::uint16_t segment_bytes) {
  iovec iov{const_cast<std::uint8_t*>(contiguous.data()), contiguous.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(std::uint16_t))] = {};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&message);
  cmsg->cmsg_level = SOL_UDP;
  cmsg->cmsg_type = UDP_SEGMENT;
  cmsg->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
  std::memcpy(CMSG_DATA(cmsg), &segment_bytes, sizeof segment_bytes);
  for (;;) {
    if (::sendmsg(fd_, &message, 0) >= 0) {
      return OkStatus();
    }
    if (errno == ECONNREFUSED) {
      ++refused_;
      continue;
    }
    if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS) {
      std::this_thread::yield();
      continue;
    }
    return MakeError(ErrorCode::kIoError,
                     std::string("sendmsg with UDP_SEGMENT failed: ") + std::strerror(errno));
  }
}

Pacer::Pacer(double rate_per_second)
    : rate_(rate_per_second), start_(std::chrono::steady_clock::now()) {}

std::size_t Pacer::WaitForQuota(std::uint64_t sent, std::size_t max) {
  if (rate_ <= 0) {
    return max;
  }
  for (;;) {
    const double elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double due = elapsed_s * rate_ - static_cast<double>(sent);
    if (due >= 1.0) {
      return due >= static_cast<double>(max) ? max : static_cast<std::size_t>(due);
    }
    const double wait_s = (1.0 - due) / rate_;
    std::this_thread::sleep_for(std::chrono::duration<double>(wait_s < 0.002 ? wait_s : 0.002));
  }
}

}  // namespace sluice::net
