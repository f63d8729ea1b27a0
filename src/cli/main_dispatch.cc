// SPDX-License-Identifier: Apache-2.0

#include <cstdio>

#include "cli/commands.h"

namespace sluice::cli {
namespace {

constexpr const char* kUsage =
    "usage: sluice COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  serve    receive, decode and count flows (NetFlow v5/v9, IPFIX, sFlow)\n"
    "  decode   decode export packets from pcap/pcapng or raw payload files to NDJSON\n"
    "  replay   resend the export payloads of a capture to a collector\n"
    "  fields   list the flow record's fields (names used by every output)\n"
    "  query    list, count and aggregate stored flows (nfdump's options and filters)\n"
    "  store    inspect and verify the segments under a data directory (stats, verify, ls)\n"
    "  token    create, list and revoke the HTTP API's bearer tokens\n"
    "\n"
    "Run 'sluice COMMAND --help' for a command's options.\n";

}  // namespace

int RunMain(std::span<const std::string_view> argv) {
  if (argv.size() < 2 || argv[1] == "--help" || argv[1] == "-h" || argv[1] == "help") {
    std::fputs(kUsage, argv.size() < 2 ? stderr : stdout);
    return argv.size() < 2 ? 2 : 0;
  }
  const std::string_view command = argv[1];
  const auto args = argv.subspan(2);
  if (command == "decode") {
    return RunDecode(args);
  }
  if (command == "replay") {
    return RunReplay(args);
  }
  if (command == "fields") {
    return RunFields(args);
  }
  if (command == "store") {
    return RunStore(args);
  }
  if (command == "query") {
    return RunQuery(args);
  }
  if (command == "token") {
    return RunToken(args);
  }
  if (command == "serve") {
    return RunServe(args);
  }
  std::fprintf(stderr, "sluice: unknown command '%.*s'\n\n%s", static_cast<int>(command.size()),
               command.data(), kUsage);
  return 2;
}

}  // namespace sluice::cli
