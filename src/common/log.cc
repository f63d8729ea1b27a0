// SPDX-License-Identifier: Apache-2.0

#include "common/log.h"

#include <unistd.h>

#include <ctime>
#include <string>

namespace sluice {

void Log(LogLevel level, std::string_view message) {
  const char* tag = level == LogLevel::kInfo ? "info" : level == LogLevel::kWarning ? "warning" : "error";
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm_utc{};
  gmtime_r(&now, &tm_utc);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  std::string line;
  line.reserve(message.size() + 48);
  line.append(stamp).append(" sluice ").append(tag).append(": ").append(message).append("\n");
  // One write() keeps lines from different threads whole.
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace sluice
