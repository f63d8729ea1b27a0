// SPDX-License-Identifier: Apache-2.0

#include "cli/serve_config.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <thread>

// toml++ reports parse errors as values (toml::parse_result) instead of throwing.
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include "api/token_store.h"
#include "cli/args.h"
#include "common/log.h"
#include "common/toml_text.h"
#include "store/layout.h"
#include "store/segment_writer.h"

namespace sluice::cli {
namespace {

// What a key of the file accepts.
enum class ValueKind : std::uint8_t {
  kInteger,          // a TOML integer
  kString,           // a TOML string
  kIntegerOrString,  // 1000 or "1K", 300 or "5m"
  kStringList,       // ["a", "b"] (or one string)
  kBoolean,          // a TOML boolean, given as "true" or "false"
};

// One setting, reachable as `section.key` in the file and (if `flag` is not empty) as a
// flag. Both go through `apply`, which takes the flag's text (a file's integer is given
// as its decimal text), so the file and the flags accept the same values.
struct Setting {
  std::string_view section;
  std::string_view key;
  std::string_view flag;
  ValueKind kind;
  std::string_view expected;  // completes "expected ..." in error messages
  bool (*apply)(std::string_view text, ServeConfig& config);
  void (*clear)(ServeConfig& config);  // lists only: empties it before the first value
};

std::optional<net::Endpoint> ParseNumericEndpoint(std::string_view text, std::uint16_t min_port) {
  const auto host_port = ParseHostPort(text);
  if (!host_port || host_port->port < min_port) {
    return std::nullopt;
  }
  const auto address = flow::IpAddress::Parse(host_port->host);
  if (!address) {
    return std::nullopt;
  }
  return net::Endpoint{*address, host_port->port};
}

// Sets `target` to a whole number in [min, max].
template <typename T>
bool SetUnsigned(std::string_view text, std::uint64_t min, std::uint64_t max, T& target) {
  const auto value = ParseUnsigned(text, min, max);
  if (!value) {
    return false;
  }
  target = static_cast<T>(*value);
  return true;
}

// Sets `target` to a whole number, negative or not, in [min, max].
bool SetInt(std::string_view text, int min, int max, int& target) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  target = value;
  return true;
}

// Sets `target` from "true" or "false".
bool SetBool(std::string_view text, bool& target) {
  if (text != "true" && text != "false") {
    return false;
  }
  target = text == "true";
  return true;
}

// Sets `target` to a duration in [min, max].
bool SetDuration(std::string_view text, std::chrono::seconds min, std::chrono::seconds max,
                 std::chrono::seconds& target) {
  const auto value = ParseDuration(text);
  if (!value || *value < min || *value > max) {
    return false;
  }
  target = *value;
  return true;
}

constexpr std::chrono::seconds kHour{3600};
constexpr std::chrono::seconds kDay{24 * 3600};
constexpr std::chrono::seconds kCentury{100 * 365 * 24 * 3600LL};

const Setting kSettings[] = {
    {"collector", "listen", "--listen", ValueKind::kStringList,
     "ADDR:PORT with a numeric address, e.g. 0.0.0.0:2055 or [::]:2055",
     [](std::string_view text, ServeConfig& config) {
       const auto endpoint = ParseNumericEndpoint(text, 0);
       if (endpoint) {
         config.pipeline.listen.push_back(*endpoint);
       }
       return endpoint.has_value();
     },
     [](ServeConfig& config) {
       config.pipeline.listen.clear();
     }},
    {"collector", "receive_threads", "--receive-threads", ValueKind::kInteger,
     "a number from 1 to 64",
     [](std::string_view text, ServeConfig& config) {
       return SetUnsigned(text, 1, 64, config.pipeline.receive_threads);
     },
     nullptr},
    {"collector", "decode_threads", "--decode-threads", ValueKind::kInteger,
     "a number from 0 (automatic) to 64",
     [](std::string_view text, ServeConfig& config) {
       return SetUnsigned(text, 0, 64, config.pipeline.decode_threads);
     },
     nullptr},
    {"collector", "rcvbuf", "--rcvbuf", ValueKind::kIntegerOrString,
     "a size like 64M, at most 1G (0 = the kernel's default)",
     [](std::string_view text, ServeConfig& config) {
       const auto bytes = ParseSize(text);
       if (!bytes || *bytes > (1ULL << 30)) {
         return false;
       }
       config.pipeline.rcvbuf_bytes = *bytes;
       return true;
     },
     nullptr},
    {"collector", "receive_offload", "--receive-offload", ValueKind::kString, "\"on\" or \"off\"",
     [](std::string_view text, ServeConfig& config) {
       if (text != "on" && text != "off") {
         return false;
       }
       config.pipeline.receive_offload = text == "on";
       return true;
     },
     nullptr},
    {"collector", "queue", "--queue", ValueKind::kIntegerOrString,
     "a size like 16M, from 64K to 4G",
     [](std::string_view text, ServeConfig& config) {
       const auto bytes = ParseSize(text);
       if (!bytes || *bytes < (1ULL << 16) || *bytes > (1ULL << 32)) {
         return false;
       }
       config.pipeline.queue_bytes = *bytes;
       return true;
     },
     nullptr},
    {"collector", "allow", "--allow", ValueKind::kStringList,
     "ADDR or ADDR/LEN, e.g. 192.0.2.0/24 or 2001:db8::/32",
     [](std::string_view text, ServeConfig& config) {
       const auto prefix = flow::IpPrefix::Parse(text);
       if (prefix) {
         config.pipeline.allow.push_back(*prefix);
       }
       return prefix.has_value();
     },
     [](ServeConfig& config) {
       config.pipeline.allow.clear();
     }},
    {"collector", "stats_interval", "--stats-interval", ValueKind::kIntegerOrString,
     "a duration like 10s from 0 (only at exit) to 1d",
     [](std::string_view text, ServeConfig& config) {
       return SetDuration(text, std::chrono::seconds(0), kDay, config.stats_interval);
     },
     nullptr},
    {"decoder", "max_exporters", "", ValueKind::kInteger, "a number from 1 to 1048576",
     [](std::string_view text, ServeConfig& config) {
       return SetUnsigned(text, 1, 1 << 20, config.pipeline.decoder.max_exporters);
     },
     nullptr},
    {"decoder", "max_templates_per_exporter", "", ValueKind::kInteger, "a number from 1 to 65536",
     [](std::string_view text, ServeConfig& config) {
       return SetUnsigned(text, 1, 1 << 16, config.pipeline.decoder.max_templates_per_exporter);
     },
     nullptr},
    {"decoder", "max_fields_per_template", "", ValueKind::kInteger, "a number from 1 to 65535",
     [](std::string_view text, ServeConfig& config) {
       return SetUnsigned(text, 1, 65535, config.pipeline.decoder.max_fields_per_template);
     },
     nullptr},
    {"decoder", "max_pending_sets_per_exporter", "", ValueKind::kInteger,
     "a number from 0 to 65536",
     [](std::string_view text, ServeConfig& config) {
       return SetUnsigned(text, 0, 1 << 16, config.pipeline.decoder.max_pending_sets_per_exporter);
     },
     nullptr},
    {"decoder", "template_lifetime", "", ValueKind::kIntegerOrString,
     "a duration like 2h, from 1s to 30d",
     [](std::string_view text, ServeConfig& config) {
       std::chrono::seconds lifetime{};
       if (!SetDuration(text, std::chrono::seconds(1), 30 * kDay, lifetime)) {
         return false;
       }
       config.pipeline.decoder.template_lifetime_ms =
           std::chrono::duration_cast<std::chrono::milliseconds>(lifetime).count();
       return true;
     },
     nullptr},
    {"store", "data_dir", "--data", ValueKind::kString, "a directory",
     [](std::string_view text, ServeConfig& config) {
       config.store.data_dir = std::string(text);
       return !text.empty();
     },
     nullptr},
    {"store", "rotation", "--rotation", ValueKind::kIntegerOrString,
     "whole minutes from 1m to 60m, e.g. 5m",
     [](std::string_view text, ServeConfig& config) {
       const auto value = ParseDuration(text);
       if (!value || *value < std::chrono::minutes(1) || *value > std::chrono::minutes(60) ||
           value->count() % 60 != 0) {
         return false;
       }
       config.store.rotation = *value;
       return true;
     },
     nullptr},
    {"store", "retention", "--retention", ValueKind::kIntegerOrString,
     "a duration like 30d, at least 1h",
     [](std::string_view text, ServeConfig& config) {
       return SetDuration(text, kHour, kCentury, config.store.retention);
     },
     nullptr},
    {"store", "max_size", "", ValueKind::kIntegerOrString,
     "a size like 100G, at least 1M (0 = no cap)",
     [](std::string_view text, ServeConfig& config) {
       const auto bytes = ParseSize(text);
       if (!bytes || (*bytes != 0 && *bytes < (1ULL << 20))) {
         return false;
       }
       config.store.max_size_bytes = *bytes;
       return true;
     },
     nullptr},
    {"store", "flush_interval", "--flush-interval", ValueKind::kIntegerOrString,
     "a duration like 5s, from 1s to 5m",
     [](std::string_view text, ServeConfig& config) {
       return SetDuration(text, std::chrono::seconds(1), std::chrono::minutes(5),
                          config.store.flush_interval);
     },
     nullptr},
    {"store", "compression", "", ValueKind::kString, "\"zstd\", \"lz4\" or \"none\"",
     [](std::string_view text, ServeConfig& config) {
       for (const Compression compression :
            {Compression::kZstd, Compression::kLz4, Compression::kNone}) {
         if (text == CompressionName(compression)) {
           config.store.compression = compression;
           return true;
         }
       }
       return false;
     },
     nullptr},
    {"store", "zstd_level", "", ValueKind::kInteger, "a number from -32 to 19",
     [](std::string_view text, ServeConfig& config) {
       return SetInt(text, store::kMinZstdLevel, 19, config.store.zstd_level);
     },
     nullptr},
    {"store", "cluster_by_port", "", ValueKind::kBoolean, "true or false",
     [](std::string_view text, ServeConfig& config) {
       return SetBool(text, config.store.cluster_by_port);
     },
     nullptr},
    {"store", "writer_threads", "--writer-threads", ValueKind::kInteger, "a number from 1 to 16",
     [](std::string_view text, ServeConfig& config) {
       return SetUnsigned(text, 1, 16, config.store.writer_threads);
     },
     nullptr},
    {"store", "rollup_retention", "", ValueKind::kIntegerOrString,
     "a duration like 365d, at least 1d",
     [](std::string_view text, ServeConfig& config) {
       return SetDuration(text, kDay, kCentury, config.store.rollup_retention);
     },
     nullptr},
    {"http", "listen", "--http", ValueKind::kString,
     "ADDR:PORT with a numeric address and a port from 1, e.g. 127.0.0.1:8080, or \"off\"",
     [](std::string_view text, ServeConfig& config) {
       if (text == "off") {
         config.http.enabled = false;
         return true;
       }
       const auto endpoint = ParseNumericEndpoint(text, 1);
       if (endpoint) {
         config.http.listen = *endpoint;
         config.http.enabled = true;
       }
       return endpoint.has_value();
     },
     nullptr},
    {"http", "tls_cert", "--tls-cert", ValueKind::kString, "a PEM certificate file",
     [](std::string_view text, ServeConfig& config) {
       config.http.tls_cert = std::string(text);
       return true;
     },
     nullptr},
    {"http", "tls_key", "--tls-key", ValueKind::kString, "a PEM private key file",
     [](std::string_view text, ServeConfig& config) {
       config.http.tls_key = std::string(text);
       return true;
     },
     nullptr},
    {"http", "admin_token", "", ValueKind::kString,
     "at least 24 printable characters without spaces (or \"\" for none)",
     [](std::string_view text, ServeConfig& config) {
       config.http.admin_token = std::string(text);
       return text.empty() || api::ValidateConfiguredToken(text).has_value();
     },
     nullptr},
    {"http", "metrics_auth", "", ValueKind::kString, "\"none\" or \"token\"",
     [](std::string_view text, ServeConfig& config) {
       config.http.metrics_need_token = text == "token";
       return text == "token" || text == "none";
     },
     nullptr},
    {"http", "query_timeout", "", ValueKind::kIntegerOrString, "a duration like 30s, from 1s to 1h",
     [](std::string_view text, ServeConfig& config) {
       return SetDuration(text, std::chrono::seconds(1), kHour, config.http.query_timeout);
     },
     nullptr},
    {"http", "max_rows", "", ValueKind::kInteger, "a number from 1 to 1000000",
     [](std::string_view text, ServeConfig& config) {
       return SetUnsigned(text, 1, 1'000'000, config.http.max_rows);
     },
     nullptr},
    {"http", "threads", "", ValueKind::kInteger, "a number from 1 to 256",
     [](std::string_view text, ServeConfig& config) {
       return SetUnsigned(text, 1, 256, config.http.threads);
     },
     nullptr},
    {"networks", "local", "--local-net", ValueKind::kStringList,
     "ADDR/LEN, e.g. 10.0.0.0/8 or 2001:db8::/32",
     [](std::string_view text, ServeConfig& config) {
       const auto prefix = flow::IpPrefix::Parse(text);
       if (prefix) {
         config.local_networks.push_back(*prefix);
       }
       return prefix.has_value();
     },
     [](ServeConfig& config) {
       config.local_networks.clear();
     }},
    {"enrichment", "prefix_map", "--prefix-map", ValueKind::kString,
     "a CSV or TOML file of prefixes (docs/enrichment.md), or \"\" for none",
     [](std::string_view text, ServeConfig& config) {
       config.prefix_map = std::string(text);
       return true;
     },
     nullptr},
};

// Cross-key checks, once every value is in.
std::optional<std::string> CheckConsistency(const ServeConfig& config) {
  if (config.store.flush_interval > config.store.rotation) {
    return "store.flush_interval (" + std::to_string(config.store.flush_interval.count()) +
           "s) is longer than store.rotation (" + std::to_string(config.store.rotation.count()) +
           "s)";
  }
  return std::nullopt;
}

bool Ipv6Available() {
  const int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  ::close(fd);
  return true;
}

// Builds "FILE:LINE: KEY: MESSAGE" (the parts that are known).
Error FileError(std::string_view file_name, const toml::source_region& where, std::string_view key,
                std::string_view message) {
  std::string text(file_name);
  if (where.begin.line != 0) {
    text += ":" + std::to_string(where.begin.line);
  }
  text += ": ";
  if (!key.empty()) {
    text += std::string(key) + ": ";
  }
  text += message;
  return Error(ErrorCode::kInvalidArgument, std::move(text));
}

// The text handed to Setting::apply, or nullopt if `node` has the wrong type.
std::optional<std::string> ScalarText(const toml::node& node, ValueKind kind) {
  if (const auto* integer = node.as_integer();
      integer != nullptr && (kind == ValueKind::kInteger || kind == ValueKind::kIntegerOrString)) {
    return std::to_string(integer->get());
  }
  if (const auto* boolean = node.as_boolean(); boolean != nullptr && kind == ValueKind::kBoolean) {
    return boolean->get() ? "true" : "false";
  }
  if (const auto* string = node.as_string();
      string != nullptr && kind != ValueKind::kInteger && kind != ValueKind::kBoolean) {
    return string->get();
  }
  return std::nullopt;
}

Status ApplyFileSetting(const Setting& setting, const toml::node& node, std::string_view file_name,
                        ServeConfig& config) {
  const std::string key = std::string(setting.section) + "." + std::string(setting.key);
  const std::string expected = "expected " + std::string(setting.expected);
  if (setting.kind == ValueKind::kStringList) {
    setting.clear(config);
    if (const auto* array = node.as_array()) {
      for (const toml::node& element : *array) {
        const auto* string = element.as_string();
        if (string == nullptr || !setting.apply(string->get(), config)) {
          return tl::unexpected(FileError(file_name, element.source(), key, expected));
        }
      }
      return OkStatus();
    }
    const auto* string = node.as_string();
    if (string == nullptr || !setting.apply(string->get(), config)) {
      return tl::unexpected(FileError(file_name, node.source(), key,
                                      "expected a list of " + std::string(setting.expected)));
    }
    return OkStatus();
  }
  const auto text = ScalarText(node, setting.kind);
  if (!text || !setting.apply(*text, config)) {
    return tl::unexpected(FileError(file_name, node.source(), key, expected));
  }
  return OkStatus();
}

Status ApplyExporter(const toml::table& table, std::string_view file_name, ServeConfig& config) {
  ExporterConfig exporter;
  bool has_address = false;
  for (const auto& [key, node] : table) {
    const std::string name = "exporter." + std::string(key.str());
    if (key.str() == "address") {
      const auto* string = node.as_string();
      const auto address = string != nullptr ? flow::IpAddress::Parse(string->get()) : std::nullopt;
      if (!address) {
        return tl::unexpected(FileError(file_name, node.source(), name,
                                        "expected a numeric address, e.g. 192.0.2.1"));
      }
      exporter.address = *address;
      has_address = true;
    } else if (key.str() == "sampling_rate") {
      const auto text = ScalarText(node, ValueKind::kInteger);
      if (!text || !SetUnsigned(*text, 1, 0xFFFFFFFFULL, exporter.sampling_rate)) {
        return tl::unexpected(
            FileError(file_name, node.source(), name, "expected a number from 1 to 4294967295"));
      }
    } else if (key.str() == "name" || key.str() == "source") {
      const auto* string = node.as_string();
      if (string == nullptr || string->get().empty()) {
        return tl::unexpected(FileError(file_name, node.source(), name, "expected a name"));
      }
      if (key.str() == "source" && !store::IsValidSourceName(string->get())) {
        return tl::unexpected(FileError(file_name, node.source(), name,
                                        "expected a source name: 1 to 64 of A-Z a-z 0-9 _ . - "
                                        "(not \"rollup\")"));
      }
      (key.str() == "name" ? exporter.name : exporter.source) = string->get();
    } else {
      return tl::unexpected(FileError(file_name, key.source(), name,
                                      "unknown key (known: address, sampling_rate, name, source)"));
    }
  }
  if (!has_address) {
    return tl::unexpected(
        FileError(file_name, table.source(), "exporter", "an [[exporter]] needs an address"));
  }
  for (const ExporterConfig& other : config.exporters) {
    if (other.address == exporter.address) {
      return tl::unexpected(FileError(file_name, table.source(), "exporter.address",
                                      exporter.address.ToString() + " appears twice"));
    }
  }
  if (exporter.sampling_rate != 0) {
    config.pipeline.decoder.sampling_overrides[exporter.address] = exporter.sampling_rate;
  }
  config.exporters.push_back(std::move(exporter));
  return OkStatus();
}

Status ApplySection(std::string_view section, const toml::table& table, std::string_view file_name,
                    ServeConfig& config) {
  for (const auto& [key, node] : table) {
    const Setting* found = nullptr;
    for (const Setting& setting : kSettings) {
      if (setting.section == section && setting.key == key.str()) {
        found = &setting;
        break;
      }
    }
    if (found == nullptr) {
      return tl::unexpected(FileError(file_name, key.source(),
                                      std::string(section) + "." + std::string(key.str()),
                                      "unknown key (docs/configuration.md lists them)"));
    }
    if (Status status = ApplyFileSetting(*found, node, file_name, config); !status) {
      return status;
    }
  }
  return OkStatus();
}

}  // namespace

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kZstd:
      return "zstd";
    case Compression::kLz4:
      return "lz4";
    case Compression::kNone:
      return "none";
  }
  return "zstd";
}

ServeConfig::ServeConfig() {
  pipeline.decode_threads = 0;
  http.listen = net::Endpoint{*flow::IpAddress::Parse("127.0.0.1"), 8080};
}

Result<ServeConfig> ParseServeConfig(std::string_view toml_text, std::string_view file_name) {
  if (const auto line = NonAsciiOutsideComments(toml_text)) {
    return tl::unexpected(Error(ErrorCode::kInvalidArgument,
                                std::string(file_name) + ":" + std::to_string(*line) +
                                    ": a non-ASCII character: use ASCII outside whole-line # comments"));
  }
  toml::parse_result parsed = toml::parse(toml_text, file_name);
  if (!parsed) {
    const toml::parse_error& error = parsed.error();
    return tl::unexpected(FileError(file_name, error.source(), "", error.description()));
  }
  ServeConfig config;
  const toml::table& root = parsed.table();
  for (const auto& [key, node] : root) {
    const std::string_view section = key.str();
    if (section == "exporter") {
      const auto* array = node.as_array();
      if (array == nullptr || !array->is_array_of_tables()) {
        return tl::unexpected(
            FileError(file_name, node.source(), section, "expected [[exporter]] tables"));
      }
      for (const toml::node& element : *array) {
        if (Status status = ApplyExporter(*element.as_table(), file_name, config); !status) {
          return tl::unexpected(status.error());
        }
      }
      continue;
    }
    const bool known =
        std::any_of(std::begin(kSettings), std::end(kSettings),
                    [&](const Setting& setting) { return setting.section == section; });
    if (!known) {
      return tl::unexpected(
          FileError(file_name, key.source(), section,
                    "unknown section (known: collector, exporter, decoder, store, http)"));
    }
    const auto* table = node.as_table();
    if (table == nullptr) {
      return tl::unexpected(FileError(file_name, node.source(), section,
                                      "expected a [" + std::string(section) + "] section"));
    }
    if (Status status = ApplySection(section, *table, file_name, config); !status) {
      return tl::unexpected(status.error());
    }
  }
  if (const auto problem = CheckConsistency(config)) {
    return tl::unexpected(
        Error(ErrorCode::kInvalidArgument, std::string(file_name) + ": " + *problem));
  }
  return config;
}

Result<ServeConfig> LoadServeConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kNotFound, path + ": cannot read: " + std::strerror(errno));
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return MakeError(ErrorCode::kIoError, path + ": cannot read");
  }
  Result<ServeConfig> config = ParseServeConfig(text, path);
  if (config) {
    config->config_path = path;
  }
  return config;
}

Status ApplyServeFlags(std::span<const std::string_view> args, ServeConfig& config) {
  bool cleared[std::size(kSettings)] = {};
  for (std::size_t arg_idx = 0; arg_idx < args.size(); ++arg_idx) {
    const std::string_view arg = args[arg_idx];
    if (arg_idx + 1 >= args.size() || arg.size() < 2 || arg.substr(0, 2) != "--") {
      return MakeError(ErrorCode::kInvalidArgument,
                       "unknown argument or missing value: " + std::string(arg));
    }
    const std::string_view value = args[++arg_idx];
    if (arg == "--config") {
      continue;
    }
    if (arg == "--sampling") {
      const auto sampling = ParseSamplingOverride(value);
      if (!sampling) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "--sampling: expected ADDR=RATE, e.g. 10.0.0.1=1000");
      }
      config.pipeline.decoder.sampling_overrides[sampling->exporter] = sampling->rate;
      continue;
    }
    if (arg == "--exit-after") {
      const auto seconds = ParseDuration(value);
      if (!seconds || seconds->count() < 1 || *seconds > kCentury) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "--exit-after: expected a duration of at least 1s, e.g. 30 or 5m");
      }
      config.exit_after_s = static_cast<std::uint64_t>(seconds->count());
      continue;
    }
    if (arg == "--stats-file" || arg == "--ready-file") {
      (arg == "--stats-file" ? config.stats_file : config.ready_file) = std::string(value);
      continue;
    }
    std::size_t setting_idx = 0;
    while (setting_idx < std::size(kSettings) && kSettings[setting_idx].flag != arg) {
      ++setting_idx;
    }
    if (setting_idx == std::size(kSettings)) {
      return MakeError(ErrorCode::kInvalidArgument, "unknown option: " + std::string(arg));
    }
    const Setting& setting = kSettings[setting_idx];
    if (setting.clear != nullptr && !cleared[setting_idx]) {
      setting.clear(config);
      cleared[setting_idx] = true;
    }
    if (!setting.apply(value, config)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string(arg) + ": expected " + std::string(setting.expected));
    }
  }
  if (const auto problem = CheckConsistency(config)) {
    return MakeError(ErrorCode::kInvalidArgument, *problem);
  }
  return OkStatus();
}

void FinishServeConfig(ServeConfig& config) {
  ingest::PipelineOptions& pipeline = config.pipeline;
  if (pipeline.decode_threads == 0) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    pipeline.decode_threads = cores > 1 ? std::min(cores - 1, 8u) : 1;
  }
  if (pipeline.listen.empty()) {
    const bool v6 = Ipv6Available();
    if (!v6) {
      Log(LogLevel::kWarning, "IPv6 is not available here: listening on IPv4 only");
    }
    for (const std::uint16_t port : {2055, 4739, 6343}) {
      pipeline.listen.push_back(net::Endpoint{*flow::IpAddress::Parse("0.0.0.0"), port});
      if (v6) {
        pipeline.listen.push_back(net::Endpoint{*flow::IpAddress::Parse("::"), port});
      }
    }
  }
}

Result<ServeConfig> BuildServeConfig(std::span<const std::string_view> args) {
  std::string config_path;
  for (std::size_t arg_idx = 0; arg_idx + 1 < args.size(); arg_idx += 2) {
    if (args[arg_idx] == "--config") {
      if (!config_path.empty()) {
        return MakeError(ErrorCode::kInvalidArgument, "--config: given twice");
      }
      config_path = std::string(args[arg_idx + 1]);
      if (config_path.empty()) {
        return MakeError(ErrorCode::kInvalidArgument, "--config: expected a file");
      }
    }
  }
  ServeConfig config;
  if (!config_path.empty()) {
    Result<ServeConfig> loaded = LoadServeConfig(config_path);
    if (!loaded) {
      return loaded;
    }
    config = std::move(*loaded);
  }
  if (Status status = ApplyServeFlags(args, config); !status) {
    return tl::unexpected(status.error());
  }
  FinishServeConfig(config);
  return config;
}

}  // namespace sluice::cli
