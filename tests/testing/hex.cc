// SPDX-License-Identifier: Apache-2.0

#include "testing/hex.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace sluice::test {

std::vector<std::uint8_t> Hex(std::string_view text) {
  std::vector<std::uint8_t> bytes;
  int high = -1;
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    const char ch = text[pos];
    if (ch == '#') {
      while (pos < text.size() && text[pos] != '\n') {
        ++pos;
      }
      continue;
    }
    int nibble = -1;
    if (ch >= '0' && ch <= '9') {
      nibble = ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
      nibble = ch - 'a' + 10;
    } else if (ch >= 'A' && ch <= 'F') {
      nibble = ch - 'A' + 10;
    } else if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
      continue;
    } else {
      std::fprintf(stderr, "Hex(): stray character '%c'\n", ch);
      std::abort();
    }
    if (high < 0) {
      high = nibble;
    } else {
      bytes.push_back(static_cast<std::uint8_t>((high << 4) | nibble));
      high = -1;
    }
  }
  if (high >= 0) {
    std::fprintf(stderr, "Hex(): odd number of digits\n");
    std::abort();
  }
  return bytes;
}

flow::Datagram MakeDatagram(std::span<const std::uint8_t> bytes, std::int64_t time_received) {
  flow::Datagram datagram;
  datagram.exporter = *flow::IpAddress::Parse("192.0.2.1");
  datagram.exporter_port = 40000;
  datagram.time_received = time_received;
  datagram.payload = bytes;
  return datagram;
}

std::vector<std::uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string SharedTestData(std::string_view relative) {
  return std::string(SLUICE_SOURCE_DIR) + "/../shared/testdata/" + std::string(relative);
}

}  // namespace sluice::test
