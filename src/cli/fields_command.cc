// SPDX-License-Identifier: Apache-2.0
// `sluice fields`: prints the flow record's field catalogue.

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "flow/field.h"

namespace sluice::cli {
namespace {

std::string_view TypeName(flow::FieldType type) {
  switch (type) {
    case flow::FieldType::kTimeMillis:
      return "time_ms";
    case flow::FieldType::kUint8:
      return "uint8";
    case flow::FieldType::kUint16:
      return "uint16";
    case flow::FieldType::kUint32:
      return "uint32";
    case flow::FieldType::kUint64:
      return "uint64";
    case flow::FieldType::kIpAddress:
      return "ip";
    case flow::FieldType::kMacAddress:
      return "mac";
    case flow::FieldType::kCountry:
      return "country";
    case flow::FieldType::kString:
      return "string";
  }
  return "?";
}

}  // namespace

int RunFields(std::span<const std::string_view> args) {
  const bool markdown = !args.empty() && args[0] == "--markdown";
  if (!args.empty() && !markdown) {
    std::fputs("usage: sluice fields [--markdown]\n", args[0] == "--help" ? stdout : stderr);
    return args[0] == "--help" ? 0 : 2;
  }
  if (markdown) {
    std::puts("| name | type | IPFIX IE | nfdump | description |");
    std::puts("|---|---|---|---|---|");
  }
  for (const flow::FieldInfo& info : flow::FieldCatalogue()) {
    const std::string ie = info.ipfix_ie ? std::to_string(*info.ipfix_ie) : "";
    const std::string_view type = TypeName(info.type);
    if (markdown) {
      std::printf("| `%.*s` | %.*s | %s | %.*s | %.*s |\n", static_cast<int>(info.name.size()),
                  info.name.data(), static_cast<int>(type.size()), type.data(), ie.c_str(),
                  static_cast<int>(info.nfdump_alias.size()), info.nfdump_alias.data(),
                  static_cast<int>(info.description.size()), info.description.data());
    } else {
      std::printf("%-16.*s %-8.*s %-5s %-6.*s %.*s\n", static_cast<int>(info.name.size()),
                  info.name.data(), static_cast<int>(type.size()), type.data(), ie.c_str(),
                  static_cast<int>(info.nfdump_alias.size()), info.nfdump_alias.data(),
                  static_cast<int>(info.description.size()), info.description.data());
    }
  }
  return 0;
}

}  // namespace sluice::cli
