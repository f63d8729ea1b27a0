// SPDX-License-Identifier: Apache-2.0
// Crash safety of the store, end to end: a real `sluice serve` receiving from
// `sluice-blast` is killed with SIGKILL, restarted on the same data directory, and the
// flows that survived are counted against what it had stored: at most the flush interval
// (plus the writer's wake-up) may be lost, and nothing is left unsealed.

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "store/catalog.h"
#include "store/segment_reader.h"
#include "testing/process.h"

namespace sluice {
namespace {

const std::string kSluice = SLUICE_BINARY_DIR "/apps/sluice/sluice";
const std::string kBlast = SLUICE_BINARY_DIR "/tools/flowblast/sluice-blast";

using test::Child;
using test::ReadText;
using test::TempDir;
using Steady = std::chrono::steady_clock;

// Reads `"key":NUMBER` from JSON text; nullopt-like -1 if absent.
long long JsonNumber(const std::string& json, const std::string& key) {
  const auto pos = json.find("\"" + key + "\":");
  if (pos == std::string::npos) {
    return -1;
  }
  return std::strtoll(json.c_str() + pos + key.size() + 3, nullptr, 10);
}

std::string WaitForLine(const std::string& path) {
  const auto deadline = Steady::now() + std::chrono::seconds(10);
  while (Steady::now() < deadline) {
    const std::string text = ReadText(path);
    if (!text.empty() && text.back() == '\n') {
      return text.substr(0, text.find('\n'));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return "";
}

TEST(StoreCrashTest, KillNineLosesAtMostTheFlushIntervalAndTheRestartSealsTheRest) {
  TempDir dir;
  const std::string data = dir.File("data");
  const std::string stats_path = dir.File("stats.json");
  auto serve = std::make_unique<Child>(
      std::vector<std::string>{kSluice, "serve", "--http", "off", "--listen", "127.0.0.1:0", "--data", data,
                               "--flush-interval", "1s", "--stats-interval", "1", "--stats-file",
                               stats_path, "--ready-file", dir.File("ready")},
      dir.File("serve.out"), dir.File("serve.err"));
  const std::string address = WaitForLine(dir.File("ready"));
  ASSERT_FALSE(address.empty()) << serve->Err();

  Child blast({kBlast, "--to", address, "--protocol", "v9", "--rate", "200000", "--duration", "8",
               "--json"},
              dir.File("blast.out"), dir.File("blast.err"));
  // What the collector had stored, second by second, until the kill: 2.5 s after it
  // first stored something (the load generator builds its datagrams first).
  std::vector<std::pair<Steady::time_point, long long>> stored;
  auto kill_at = Steady::now() + std::chrono::seconds(20);
  while (Steady::now() < kill_at) {
    const long long written = JsonNumber(ReadText(stats_path), "flows_written");
    if (written > 0 && (stored.empty() || stored.back().second != written)) {
      if (stored.empty()) {
        kill_at = Steady::now() + std::chrono::milliseconds(2500);
      }
      stored.emplace_back(Steady::now(), written);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  serve->Signal(SIGKILL);
  const auto killed = Steady::now();
  EXPECT_EQ(serve->Wait(std::chrono::seconds(5)), 128 + SIGKILL);
  ASSERT_EQ(blast.Wait(std::chrono::seconds(20)), 0) << blast.Err();
  const long long sent = JsonNumber(blast.Out(), "flows");
  ASSERT_GT(sent, 0) << blast.Out();

  // Stored at least 1.5 s before the kill (1 s flush interval, 0.2 s writer wake-up and
  // margin) must survive.
  long long must_survive = 0;
  for (const auto& [when, written] : stored) {
    if (when <= killed - std::chrono::milliseconds(1500)) {
      must_survive = written;
    }
  }
  ASSERT_GT(must_survive, 0) << "the collector stored nothing before the kill; "
                            << stored.size() << " readings, last "
                            << (stored.empty() ? -1 : stored.back().second) << "\n"
                            << ReadText(stats_path).substr(0, 300) << "\n" << serve->Err();

  // Restart: the segment left open is recovered and sealed.
  std::string err;
  ASSERT_EQ(test::RunCommand({kSluice, "serve", "--http", "off", "--listen", "127.0.0.1:0", "--data", data,
                              "--exit-after", "1"},
                             dir, "restart", nullptr, &err),
            0)
      << err;
  EXPECT_NE(err.find("recovered"), std::string::npos) << err;

  auto catalog = store::ScanCatalog(data);
  ASSERT_TRUE(catalog.has_value());
  long long survived = 0;
  for (const store::CatalogEntry& entry : *catalog) {
    EXPECT_EQ(entry.name.state, store::SegmentState::kSealed) << entry.path;
    auto reader = store::SegmentReader::Open(entry.path);
    ASSERT_TRUE(reader.has_value()) << reader.error().Message();
    survived += static_cast<long long>((*reader)->summary().row_count);
  }
  std::printf("sent %lld flows; stored %lld by 1.5 s before the kill; %lld survived\n", sent,
              must_survive, survived);
  EXPECT_GE(survived, must_survive);
  EXPECT_LE(survived, sent);
}

}  // namespace
}  // namespace sluice
