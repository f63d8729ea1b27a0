// SPDX-License-Identifier: Apache-2.0
// `sluice serve --config FILE` end to end: the real binary listens where the file says,
// reloads on SIGHUP, and refuses a bad file with FILE:LINE.

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "testing/process.h"

namespace sluice {
namespace {

const std::string kSluice = SLUICE_BINARY_DIR "/apps/sluice/sluice";

// A UDP port on 127.0.0.1 that was free a moment ago (0 if none could be found).
std::uint16_t FreeUdpPort() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  std::uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  if (fd >= 0) {
    ::close(fd);
  }
  return port;
}

// Waits up to 10 s for `path` to hold a complete line; returns its first line.
std::string WaitForLine(const std::string& path) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = test::ReadText(path);
    if (!text.empty() && text.back() == '\n') {
      return text.substr(0, text.find('\n'));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return "";
}

// Waits up to 10 s for the child's stderr to contain `text`.
bool WaitForLog(const test::Child& child, const std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (child.Err().find(text) != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST(ServeConfigTest, ServeListensWhereTheFileSaysAndReloadsOnSighup) {
  test::TempDir dir;
  const std::uint16_t port = FreeUdpPort();
  ASSERT_NE(port, 0);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  const std::string config = dir.File("sluice.toml");
  std::ofstream(config) << "[collector]\nlisten = [\"" << address
                        << "\"]\nstats_interval = 0\ndecode_threads = 1\n";
  const std::string ready = dir.File("ready");
  test::Child serve({kSluice, "serve", "--http", "off", "--config", config, "--ready-file", ready},
                    dir.File("serve.out"), dir.File("serve.err"));
  ASSERT_TRUE(serve.started());
  EXPECT_EQ(WaitForLine(ready), address) << serve.Err();
  EXPECT_NE(serve.Err().find("configuration from " + config), std::string::npos) << serve.Err();
  EXPECT_NE(serve.Err().find("listening on udp " + address), std::string::npos) << serve.Err();

  // Reload: the stats interval applies at once; the receive buffer needs a restart.
  std::ofstream(config) << "[collector]\nlisten = [\"" << address
                        << "\"]\nstats_interval = 1\ndecode_threads = 1\nrcvbuf = \"1M\"\n";
  serve.Signal(SIGHUP);
  EXPECT_TRUE(WaitForLog(serve, "SIGHUP: reloaded")) << serve.Err();
  EXPECT_NE(serve.Err().find("collector.rcvbuf take effect after a restart"), std::string::npos)
      << serve.Err();
  EXPECT_NE(serve.Err().find("collector.stats_interval is now 1s"), std::string::npos)
      << serve.Err();
  EXPECT_TRUE(WaitForLog(serve, "stats: ")) << serve.Err();

  // A reload of a broken file keeps the running configuration.
  std::ofstream(config) << "[collector]\nrcvbuf = \"1X\"\n";
  serve.Signal(SIGHUP);
  EXPECT_TRUE(WaitForLog(serve, "keeping the running configuration: " + config + ":2:"))
      << serve.Err();

  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(std::chrono::seconds(20)), 0) << serve.Err();
}

TEST(ServeConfigTest, ABadFileExitsTwoWithFileAndLine) {
  test::TempDir dir;
  const std::string config = dir.File("bad.toml");
  std::ofstream(config) << "# a comment\n[collector]\nreceive_threads = 1\nrcvbuf = \"64X\"\n";
  std::string err;
  EXPECT_EQ(test::RunCommand({kSluice, "serve", "--http", "off", "--config", config}, dir, "serve", nullptr, &err),
            2);
  EXPECT_NE(err.find(config + ":4: collector.rcvbuf: expected a size like 64M"), std::string::npos)
      << err;
}

}  // namespace
}  // namespace sluice
