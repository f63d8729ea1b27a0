// SPDX-License-Identifier: Apache-2.0

#include "net/capture_reader.h"

#include <dlfcn.h>
#include <pcap/pcap.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "common/byte_order.h"

namespace sluice::net {
namespace {

// Link types (tcpdump.org/linktypes.html).
constexpr int kLinkNull = 0;        // BSD loopback, host-order family
constexpr int kLinkEthernet = 1;
constexpr int kLinkRaw = 101;       // raw IPv4/IPv6
constexpr int kLinkRawAlt1 = 12;    // DLT_RAW on some systems
constexpr int kLinkRawAlt2 = 14;
constexpr int kLinkLoop = 108;      // OpenBSD loopback, network-order family
constexpr int kLinkLinuxSll = 113;
constexpr int kLinkLinuxSll2 = 276;
constexpr int kLinkIpv4 = 228;
constexpr int kLinkIpv6 = 229;

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86DD;
constexpr std::uint16_t kEtherVlan = 0x8100;
constexpr std::uint16_t kEtherQinQ = 0x88A8;
constexpr std::uint16_t kEtherQinQOld = 0x9100;

constexpr std::uint8_t kIpProtoUdp = 17;

// libpcap, loaded the first time a capture is read: linked, it and what it needs (dbus,
// systemd, gcrypt...) cost every start of the binary about 1.4 ms, `sluice query` included
// (docs/BENCHMARKS.md, "Clustered by default, cheaper start-up and decoders").
// Thread-safety: Get() may be called from any thread.
class Libpcap {
 public:
  decltype(&pcap_open_offline_with_tstamp_precision) open = nullptr;
  decltype(&pcap_datalink) datalink = nullptr;
  decltype(&pcap_next_ex) next_ex = nullptr;
  decltype(&pcap_geterr) geterr = nullptr;
  decltype(&pcap_close) close = nullptr;

  // The library, or nullptr (and why in `error`) if it cannot be loaded.
  static const Libpcap* Get(std::string& error) {
    static const Libpcap loaded = Load();
    if (loaded.close == nullptr) {
      error = loaded.error_;
      return nullptr;
    }
    return &loaded;
  }

 private:
  static Libpcap Load() {
    Libpcap lib;
    void* handle = nullptr;
    // Debian's libpcap0.8 names its library libpcap.so.0.8; others call it libpcap.so.1.
    for (const char* name : {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"}) {
      handle = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (handle != nullptr) {
        break;
      }
    }
    if (handle == nullptr) {
      const char* why = ::dlerror();
      lib.error_ = std::string("cannot load libpcap (Debian package libpcap0.8): ") +
                   (why != nullptr ? why : "not found");
      return lib;
    }
    const auto bind = [&](auto& function, const char* symbol) {
      function = reinterpret_cast<std::remove_reference_t<decltype(function)>>(::dlsym(handle, symbol));
      return function != nullptr;
    };
    if (!bind(lib.open, "pcap_open_offline_with_tstamp_precision") || !bind(lib.datalink, "pcap_datalink") ||
        !bind(lib.next_ex, "pcap_next_ex") || !bind(lib.geterr, "pcap_geterr") ||
        !bind(lib.close, "pcap_close")) {
      lib.close = nullptr;
      lib.error_ = "libpcap lacks a function it should have";
    }
    return lib;  // the library stays loaded for the life of the process
  }

  std::string error_;
};

struct PcapCloser {
  const Libpcap* lib;
  void operator()(pcap_t* handle) const { lib->close(handle); }
};

// Parses IPv4/IPv6 + UDP at `ip`; fills the datagram's exporter and payload.
bool ParseIp(const std::uint8_t* ip, std::size_t length, flow::Datagram& datagram,
             std::uint16_t& dst_port, CaptureStats& stats) {
  if (length < 1) {
    ++stats.skipped_malformed;
    return false;
  }
  const std::uint8_t version = ip[0] >> 4;
  const std::uint8_t* udp = nullptr;
  std::size_t udp_available = 0;
  if (version == 4) {
    if (length < 20) {
      ++stats.skipped_malformed;
      return false;
    }
    const std::size_t header_length = static_cast<std::size_t>(ip[0] & 0x0F) * 4;
    const std::size_t total_length = LoadBe16(ip + 2);
    if (header_length < 20 || header_length > length) {
      ++stats.skipped_malformed;
      return false;
    }
    if (ip[9] != kIpProtoUdp) {
      ++stats.skipped_not_udp;
      return false;
    }
    const std::uint16_t fragment = LoadBe16(ip + 6);
    if ((fragment & 0x1FFF) != 0) {
      ++stats.skipped_fragment;
      return false;
    }
    // Captures may be cut (snaplen) or padded (Ethernet minimum): trust the smaller.
    const std::size_t end = total_length >= header_length && total_length <= length ? total_length : length;
    datagram.exporter = flow::IpAddress::FromV4(LoadBe32(ip + 12));
    udp = ip + header_length;
    udp_available = end - header_length;
  } else if (version == 6) {
    if (length < 40) {
      ++stats.skipped_malformed;
      return false;
    }
    const std::size_t payload_length = LoadBe16(ip + 4);
    std::size_t end = 40 + payload_length <= length ? 40 + payload_length : length;
    std::uint8_t next = ip[6];
    std::size_t offset = 40;
    // Walk the extension headers we may meet before UDP (RFC 8200 section 4).
    for (int hop = 0; hop < 8; ++hop) {
      if (next == 0 || next == 43 || next == 60) {
        if (offset + 8 > end) {
          ++stats.skipped_malformed;
          return false;
        }
        next = ip[offset];
        offset += (std::size_t{ip[offset + 1]} + 1) * 8;
      } else if (next == 44) {
        if (offset + 8 > end) {
          ++stats.skipped_malformed;
          return false;
        }
        if ((LoadBe16(ip + offset + 2) & 0xFFF8) != 0) {
          ++stats.skipped_fragment;
          return false;
        }
        next = ip[offset];
        offset += 8;
      } else {
        break;
      }
    }
    if (next != kIpProtoUdp) {
      ++stats.skipped_not_udp;
      return false;
    }
    if (offset > end) {
      ++stats.skipped_malformed;
      return false;
    }
    datagram.exporter = flow::IpAddress::FromV6(ip + 8);
    udp = ip + offset;
    udp_available = end - offset;
  } else {
    ++stats.skipped_not_udp;
    return false;
  }
  if (udp_available < 8) {
    ++stats.skipped_malformed;
    return false;
  }
  const std::size_t udp_length = LoadBe16(udp + 4);
  std::size_t payload_length = udp_available - 8;
  if (udp_length >= 8 && udp_length - 8 < payload_length) {
    payload_length = udp_length - 8;
  }
  datagram.exporter_port = LoadBe16(udp);
  dst_port = LoadBe16(udp + 2);
  datagram.payload = std::span<const std::uint8_t>(udp + 8, payload_length);
  return true;
}

bool ParseEthernetPayload(std::uint16_t ether_type, const std::uint8_t* p, std::size_t length,
                          flow::Datagram& datagram, std::uint16_t& dst_port, CaptureStats& stats) {
  // 802.1Q / QinQ tags: up to 4 deep.
  for (int tag = 0; tag < 4 && (ether_type == kEtherVlan || ether_type == kEtherQinQ ||
                                ether_type == kEtherQinQOld);
       ++tag) {
    if (length < 4) {
      ++stats.skipped_malformed;
      return false;
    }
    ether_type = LoadBe16(p + 2);
    p += 4;
    length -= 4;
  }
  if (ether_type != kEtherIpv4 && ether_type != kEtherIpv6) {
    ++stats.skipped_not_udp;
    return false;
  }
  return ParseIp(p, length, datagram, dst_port, stats);
}

}  // namespace

bool ParseFrame(int link_type, const std::uint8_t* frame, std::size_t length,
                flow::Datagram& datagram, std::uint16_t& dst_port, CaptureStats& stats) {
  switch (link_type) {
    case kLinkEthernet:
      if (length < 14) {
        ++stats.skipped_malformed;
        return false;
      }
      return ParseEthernetPayload(LoadBe16(frame + 12), frame + 14, length - 14, datagram,
                                  dst_port, stats);
    case kLinkLinuxSll:
      if (length < 16) {
        ++stats.skipped_malformed;
        return false;
      }
      return ParseEthernetPayload(LoadBe16(frame + 14), frame + 16, length - 16, datagram,
                                  dst_port, stats);
    case kLinkLinuxSll2:
      if (length < 20) {
        ++stats.skipped_malformed;
        return false;
      }
      return ParseEthernetPayload(LoadBe16(frame), frame + 20, length - 20, datagram, dst_port,
                                  stats);
    case kLinkNull:
    case kLinkLoop:
      if (length < 4) {
        ++stats.skipped_malformed;
        return false;
      }
      return ParseIp(frame + 4, length - 4, datagram, dst_port, stats);
    case kLinkRaw:
    case kLinkRawAlt1:
    case kLinkRawAlt2:
    case kLinkIpv4:
    case kLinkIpv6:
      return ParseIp(frame, length, datagram, dst_port, stats);
    default:
      ++stats.skipped_not_udp;
      return false;
  }
}

bool IsCaptureFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::uint8_t magic[4] = {};
  if (!in.read(reinterpret_cast<char*>(magic), 4)) {
    return false;
  }
  const std::uint32_t be = LoadBe32(magic);
  switch (be) {
    case 0xA1B2C3D4:  // pcap, microseconds, big-endian writer
    case 0xD4C3B2A1:  // pcap, microseconds, little-endian writer
    case 0xA1B23C4D:  // pcap, nanoseconds
    case 0x4D3CB2A1:
    case 0x0A0D0D0A:  // pcapng section header block
      return true;
    default:
      return false;
  }
}

Result<CaptureStats> ReadCapture(const std::string& path, const CaptureOptions& options,
                                 const DatagramVisitor& visit) {
  CaptureStats stats;
  if (!IsCaptureFile(path)) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return MakeError(ErrorCode::kIoError, path + ": cannot open: " + std::strerror(errno));
    }
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                          std::istreambuf_iterator<char>());
    if (in.bad()) {
      return MakeError(ErrorCode::kIoError, path + ": read failed");
    }
    flow::Datagram datagram;
    datagram.exporter = options.raw_exporter;
    datagram.time_received = options.raw_time_received;
    const std::span<const std::uint8_t> all(bytes);
    // An IPFIX file (RFC 5655, named *.ipfix) is IPFIX messages back to back: each becomes
    // a datagram. Any other file is one datagram, as it arrived.
    const bool ipfix_file = path.size() > 6 && path.compare(path.size() - 6, 6, ".ipfix") == 0;
    std::size_t offset = 0;
    while (offset < all.size()) {
      std::size_t length = all.size() - offset;
      if (ipfix_file && length >= 16 && LoadBe16(all.data() + offset) == 10) {
        const std::size_t message_length = LoadBe16(all.data() + offset + 2);
        if (message_length >= 16 && message_length <= length) {
          length = message_length;
        }
      }
      datagram.payload = all.subspan(offset, length);
      ++stats.frames;
      ++stats.datagrams;
      visit(datagram, 0);
      offset += length;
    }
    if (all.empty()) {
      datagram.payload = all;
      stats.frames = 1;
      stats.datagrams = 1;
      visit(datagram, 0);
    }
    return stats;
  }

  std::string load_error;
  const Libpcap* lib = Libpcap::Get(load_error);
  if (lib == nullptr) {
    return MakeError(ErrorCode::kUnsupported, path + ": " + load_error);
  }
  char error[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, PcapCloser> handle(
      lib->open(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, error), PcapCloser{lib});
  if (!handle) {
    return MakeError(ErrorCode::kMalformed, path + ": not a readable capture: " + error);
  }
  const int link_type = lib->datalink(handle.get());
  pcap_pkthdr* header = nullptr;
  const std::uint8_t* frame = nullptr;
  while (true) {
    const int status = lib->next_ex(handle.get(), &header, &frame);
    if (status == PCAP_ERROR_BREAK) {
      break;  // end of file
    }
    if (status != 1) {
      return MakeError(ErrorCode::kMalformed,
                       path + ": capture is truncated or corrupt after " +
                           std::to_string(stats.frames) + " frames: " + lib->geterr(handle.get()));
    }
    ++stats.frames;
    flow::Datagram datagram;
    std::uint16_t dst_port = 0;
    if (!ParseFrame(link_type, frame, header->caplen, datagram, dst_port, stats)) {
      continue;
    }
    if (options.dst_port != 0 && dst_port != options.dst_port) {
      continue;
    }
    datagram.time_received = static_cast<UnixMillis>(header->ts.tv_sec) * 1000 + header->ts.tv_usec / 1000;
    ++stats.datagrams;
    visit(datagram, dst_port);
  }
  return stats;
}

}  // namespace sluice::net
