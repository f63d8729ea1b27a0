// SPDX-License-Identifier: Apache-2.0

#include "testing/serve_api_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <thread>
#include <vector>

#include "testing/process.h"

namespace sluice::test {

std::string WaitForReadyAddress(const std::string& ready_file, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string ready = ReadText(ready_file);
    if (!ready.empty() && ready.back() == '\n') {
      return ready.substr(0, ready.find('\n'));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

std::uint16_t FreeTcpPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string FindToken(const std::string& text) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  for (std::size_t at = text.find("sluice_"); at != std::string::npos; at = text.find("sluice_", at + 1)) {
    const std::string candidate = text.substr(at, 80);
    bool ok = candidate.size() == 80 && candidate[15] == '_';
    for (std::size_t idx = 7; ok && idx < 80; ++idx) {
      ok = idx == 15 || hex(candidate[idx]);
    }
    if (ok) {
      return candidate;
    }
  }
  return "";
}

std::string OneRecordV5Packet() {
  std::vector<std::uint8_t> p(24 + 48, 0);
  p[1] = 5;
  p[3] = 1;  // count
  const auto now = static_cast<std::uint32_t>(::time(nullptr));
  for (int idx = 0; idx < 4; ++idx) {
    p[8 + idx] = static_cast<std::uint8_t>(now >> (24 - 8 * idx));  // unix_secs
  }
  std::uint8_t* r = p.data() + 24;
  const std::uint8_t addresses[8] = {192, 0, 2, 10, 198, 51, 100, 20};
  std::copy(addresses, addresses + 8, r);
  r[19] = 7;     // dPkts = 7
  r[22] = 0x0b;  // dOctets = 0x0bb8 = 3000
  r[23] = 0xb8;
  r[32] = 0x9c;  // srcport 40000
  r[33] = 0x40;
  r[34] = 0x01;  // dstport 443
  r[35] = 0xbb;
  r[38] = 6;  // proto
  return std::string(p.begin(), p.end());
}

}  // namespace sluice::test
