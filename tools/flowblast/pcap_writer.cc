// SPDX-License-Identifier: Apache-2.0

#include "pcap_writer.h"

#include <array>

namespace sluice::tools {
namespace {

constexpr std::size_t kEthernetBytes = 14;
constexpr std::size_t kIpv4Bytes = 20;
constexpr std::size_t kUdpBytes = 8;
constexpr std::size_t kHeadersBytes = kEthernetBytes + kIpv4Bytes + kUdpBytes;

// pcap's own headers are in the writer's byte order (the magic number tells readers).
void PutLe(std::uint8_t* at, std::uint64_t value, std::size_t bytes) {
  for (std::size_t byte_idx = 0; byte_idx < bytes; ++byte_idx) {
    at[byte_idx] = static_cast<std::uint8_t>(value >> (8 * byte_idx));
  }
}

void PutBe(std::uint8_t* at, std::uint64_t value, std::size_t bytes) {
  for (std::size_t byte_idx = 0; byte_idx < bytes; ++byte_idx) {
    at[byte_idx] = static_cast<std::uint8_t>(value >> (8 * (bytes - 1 - byte_idx)));
  }
}

// RFC 791 header checksum: one's complement of the one's complement sum of 16-bit words.
std::uint16_t Ipv4Checksum(const std::uint8_t* header) {
  std::uint32_t sum = 0;
  for (std::size_t word_idx = 0; word_idx < kIpv4Bytes / 2; ++word_idx) {
    sum += static_cast<std::uint32_t>(header[2 * word_idx] << 8 | header[2 * word_idx + 1]);
  }
  while (sum > 0xFFFF) {
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace

PcapWriter::~PcapWriter() { Close(); }

bool PcapWriter::Open(const std::string& path) {
  Close();
  ok_ = true;
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) {
    return false;
  }
  std::array<std::uint8_t, 24> header{};
  PutLe(header.data(), 0xA1B2C3D4, 4);  // microsecond timestamps
  PutLe(header.data() + 4, 2, 2);       // version 2.4
  PutLe(header.data() + 6, 4, 2);
  PutLe(header.data() + 16, 65535, 4);  // snaplen
  PutLe(header.data() + 20, 1, 4);      // LINKTYPE_ETHERNET
  ok_ = std::fwrite(header.data(), header.size(), 1, file_) == 1;
  return ok_;
}

bool PcapWriter::Write(std::int64_t time_us, std::uint32_t src_v4, std::uint16_t src_port,
                       std::uint32_t dst_v4, std::uint16_t dst_port,
                       std::span<const std::uint8_t> payload) {
  if (file_ == nullptr || payload.size() + kIpv4Bytes + kUdpBytes > 65535) {
    return false;
  }
  const std::size_t frame_bytes = kHeadersBytes + payload.size();
  std::array<std::uint8_t, 16 + kHeadersBytes> head{};
  std::uint8_t* record = head.data();
  PutLe(record, static_cast<std::uint64_t>(time_us / 1'000'000), 4);
  PutLe(record + 4, static_cast<std::uint64_t>(time_us % 1'000'000), 4);
  PutLe(record + 8, frame_bytes, 4);
  PutLe(record + 12, frame_bytes, 4);
  std::uint8_t* ethernet = record + 16;
  // Locally administered MAC addresses (02:...), EtherType IPv4.
  constexpr std::array<std::uint8_t, 12> kMacs{0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
  for (std::size_t byte_idx = 0; byte_idx < kMacs.size(); ++byte_idx) {
    ethernet[byte_idx] = kMacs[byte_idx];
  }
  PutBe(ethernet + 12, 0x0800, 2);
  std::uint8_t* ip = ethernet + kEthernetBytes;
  ip[0] = 0x45;  // version 4, 5 words of header
  PutBe(ip + 2, kIpv4Bytes + kUdpBytes + payload.size(), 2);
  ip[6] = 0x40;  // don't fragment
  ip[8] = 64;    // TTL
  ip[9] = 17;    // UDP
  PutBe(ip + 12, src_v4, 4);
  PutBe(ip + 16, dst_v4, 4);
  PutBe(ip + 10, Ipv4Checksum(ip), 2);
  std::uint8_t* udp = ip + kIpv4Bytes;
  PutBe(udp, src_port, 2);
  PutBe(udp + 2, dst_port, 2);
  PutBe(udp + 4, kUdpBytes + payload.size(), 2);  // checksum 0: none (RFC 768)
  ok_ = ok_ && std::fwrite(head.data(), head.size(), 1, file_) == 1 &&
        (payload.empty() || std::fwrite(payload.data(), payload.size(), 1, file_) == 1);
  return ok_;
}

bool PcapWriter::Close() {
  if (file_ != nullptr) {
    ok_ = std::fclose(file_) == 0 && ok_;
    file_ = nullptr;
  }
  return ok_;
}

}  // namespace sluice::tools
