// SPDX-License-Identifier: Apache-2.0
// The `sluice serve` configuration: TOML keys, defaults, flags over the file, errors with
// FILE:LINE, and the size and duration parsers the file and the flags share.

#include <chrono>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "cli/args.h"
#include "cli/serve_config.h"
#include "testing/process.h"

namespace sluice::cli {
namespace {

using std::chrono::seconds;

const std::string kExample = SLUICE_SOURCE_DIR "/config/sluice.example.toml";

flow::IpAddress Ip(std::string_view text) {
  return *flow::IpAddress::Parse(text);
}

net::Endpoint At(std::string_view address, std::uint16_t port) {
  return net::Endpoint{Ip(address), port};
}

std::vector<std::string> Prefixes(const ServeConfig& config) {
  std::vector<std::string> prefixes;
  for (const flow::IpPrefix& prefix : config.pipeline.allow) {
    prefixes.push_back(prefix.ToString());
  }
  return prefixes;
}

ServeConfig Parse(std::string_view text) {
  Result<ServeConfig> config = ParseServeConfig(text, "sluice.toml");
  EXPECT_TRUE(config.has_value()) << (config ? "" : std::string(config.error().Message()));
  return config ? *config : ServeConfig{};
}

std::string ParseError(std::string_view text) {
  Result<ServeConfig> config = ParseServeConfig(text, "sluice.toml");
  EXPECT_FALSE(config.has_value()) << text;
  return config ? "" : std::string(config.error().Message());
}

// The error for `text` starts with `prefix` (FILE:LINE: KEY: ...).
void ExpectErrorStartsWith(std::string_view text, std::string_view prefix) {
  const std::string error = ParseError(text);
  EXPECT_EQ(error.substr(0, prefix.size()), prefix) << error;
}

Status Flags(std::vector<std::string_view> args, ServeConfig& config) {
  return ApplyServeFlags(args, config);
}

// Every field a file can set, compared one by one.
void ExpectSameSettings(const ServeConfig& actual, const ServeConfig& expected) {
  const ingest::PipelineOptions& a = actual.pipeline;
  const ingest::PipelineOptions& e = expected.pipeline;
  EXPECT_EQ(a.listen, e.listen);
  EXPECT_EQ(a.receive_threads, e.receive_threads);
  EXPECT_EQ(a.decode_threads, e.decode_threads);
  EXPECT_EQ(a.rcvbuf_bytes, e.rcvbuf_bytes);
  EXPECT_EQ(a.receive_offload, e.receive_offload);
  EXPECT_EQ(a.queue_bytes, e.queue_bytes);
  EXPECT_EQ(Prefixes(actual), Prefixes(expected));
  EXPECT_EQ(actual.stats_interval, expected.stats_interval);
  EXPECT_EQ(a.decoder.max_exporters, e.decoder.max_exporters);
  EXPECT_EQ(a.decoder.max_templates_per_exporter, e.decoder.max_templates_per_exporter);
  EXPECT_EQ(a.decoder.max_fields_per_template, e.decoder.max_fields_per_template);
  EXPECT_EQ(a.decoder.max_pending_sets_per_exporter, e.decoder.max_pending_sets_per_exporter);
  EXPECT_EQ(a.decoder.template_lifetime_ms, e.decoder.template_lifetime_ms);
  EXPECT_EQ(a.decoder.sampling_overrides, e.decoder.sampling_overrides);
  EXPECT_EQ(actual.exporters.size(), expected.exporters.size());
  EXPECT_EQ(actual.store.data_dir, expected.store.data_dir);
  EXPECT_EQ(actual.store.rotation, expected.store.rotation);
  EXPECT_EQ(actual.store.retention, expected.store.retention);
  EXPECT_EQ(actual.store.max_size_bytes, expected.store.max_size_bytes);
  EXPECT_EQ(actual.store.flush_interval, expected.store.flush_interval);
  EXPECT_EQ(actual.store.compression, expected.store.compression);
  EXPECT_EQ(actual.store.zstd_level, expected.store.zstd_level);
  EXPECT_EQ(actual.store.cluster_by_port, expected.store.cluster_by_port);
  EXPECT_EQ(actual.store.writer_threads, expected.store.writer_threads);
  EXPECT_EQ(actual.store.rollup_retention, expected.store.rollup_retention);
  EXPECT_EQ(actual.http.listen, expected.http.listen);
}

TEST(ParseSizeTest, AcceptsBytesAndBinarySuffixes) {
  EXPECT_EQ(ParseSize("0"), 0u);
  EXPECT_EQ(ParseSize("123"), 123u);
  EXPECT_EQ(ParseSize("64K"), 64u << 10);
  EXPECT_EQ(ParseSize("64k"), 64u << 10);
  EXPECT_EQ(ParseSize("64M"), 64u << 20);
  EXPECT_EQ(ParseSize("1G"), 1ULL << 30);
  EXPECT_EQ(ParseSize("100G"), 100ULL << 30);
  EXPECT_EQ(ParseSize("2T"), 2ULL << 40);
  EXPECT_EQ(ParseSize("1048576T"), 1ULL << 60);
}

TEST(ParseSizeTest, RejectsEverythingElse) {
  for (const std::string_view text : {"", "M", "-1", "+1", " 1", "1 ", "1.5M", "64MB", "64MiB",
                                      "1X", "0x10", "1048577T", "99999999999999999999", "1KK"}) {
    EXPECT_FALSE(ParseSize(text).has_value()) << text;
  }
}

TEST(ParseDurationTest, AcceptsSecondsAndUnits) {
  EXPECT_EQ(ParseDuration("0"), seconds(0));
  EXPECT_EQ(ParseDuration("300"), seconds(300));
  EXPECT_EQ(ParseDuration("5s"), seconds(5));
  EXPECT_EQ(ParseDuration("5m"), seconds(300));
  EXPECT_EQ(ParseDuration("2h"), seconds(7200));
  EXPECT_EQ(ParseDuration("30d"), seconds(30 * 86400));
  EXPECT_EQ(ParseDuration("1w"), seconds(7 * 86400));
  EXPECT_EQ(ParseDuration("0m"), seconds(0));
}

TEST(ParseDurationTest, RejectsEverythingElse) {
  for (const std::string_view text : {"", "s", "m", "-5s", "1.5h", "1h30m", "5M", "5 m", "5min",
                                      "2y", "1099511627777", "99999999999999999999d"}) {
    EXPECT_FALSE(ParseDuration(text).has_value()) << text;
  }
}

TEST(ServeConfigTest, DefaultsAreTheDocumentedOnes) {
  const ServeConfig config;
  EXPECT_TRUE(config.pipeline.listen.empty());
  EXPECT_EQ(config.pipeline.receive_threads, 1u);
  EXPECT_EQ(config.pipeline.decode_threads, 0u);
  EXPECT_EQ(config.pipeline.rcvbuf_bytes, 64u << 20);
  EXPECT_TRUE(config.pipeline.receive_offload);
  EXPECT_EQ(config.pipeline.queue_bytes, 16u << 20);
  EXPECT_TRUE(config.pipeline.allow.empty());
  EXPECT_EQ(config.stats_interval, seconds(10));
  EXPECT_EQ(config.pipeline.decoder.max_exporters, 4096u);
  EXPECT_EQ(config.pipeline.decoder.max_templates_per_exporter, 1024u);
  EXPECT_EQ(config.pipeline.decoder.max_fields_per_template, 256u);
  EXPECT_EQ(config.pipeline.decoder.max_pending_sets_per_exporter, 64u);
  EXPECT_EQ(config.pipeline.decoder.template_lifetime_ms, 2 * 3600 * 1000);
  EXPECT_EQ(config.store.data_dir, "data");
  EXPECT_EQ(config.store.rotation, seconds(300));
  EXPECT_EQ(config.store.retention, seconds(30 * 86400));
  EXPECT_EQ(config.store.max_size_bytes, 0u);
  EXPECT_EQ(config.store.flush_interval, seconds(5));
  EXPECT_EQ(config.store.compression, Compression::kZstd);
  EXPECT_EQ(config.store.zstd_level, -8);
  EXPECT_TRUE(config.store.cluster_by_port);
  EXPECT_EQ(config.store.writer_threads, 1u);
  EXPECT_EQ(config.store.rollup_retention, seconds(365 * 86400));
  EXPECT_EQ(config.http.listen, At("127.0.0.1", 8080));
}

TEST(ServeConfigTest, AnEmptyFileGivesTheDefaults) {
  ExpectSameSettings(Parse(""), ServeConfig{});
  ExpectSameSettings(Parse("# nothing\n[collector]\n[store]\n"), ServeConfig{});
}

TEST(ServeConfigTest, TheExampleFileParsesAndEqualsTheDefaults) {
  Result<ServeConfig> example = LoadServeConfig(kExample);
  ASSERT_TRUE(example.has_value()) << example.error().Message();
  EXPECT_EQ(example->config_path, kExample);
  ExpectSameSettings(*example, ServeConfig{});
  ServeConfig finished_example = *example;
  ServeConfig finished_default;
  FinishServeConfig(finished_example);
  FinishServeConfig(finished_default);
  ExpectSameSettings(finished_example, finished_default);
}

TEST(ServeConfigTest, EveryKeyIsRead) {
  const ServeConfig config = Parse(R"(
[collector]
listen = ["127.0.0.1:9995", "[::1]:4739"]
receive_threads = 2
decode_threads = 3
rcvbuf = "8M"
receive_offload = "off"
queue = 1048576
allow = ["10.0.0.0/8", "2001:db8::/32"]
stats_interval = "1m"

[[exporter]]
address = "192.0.2.1"
sampling_rate = 1000
name = "edge-1"
source = "edge"

[[exporter]]
address = "2001:db8::7"

[decoder]
max_exporters = 10
max_templates_per_exporter = 20
max_fields_per_template = 30
max_pending_sets_per_exporter = 0
template_lifetime = "30m"

[store]
data_dir = "/var/lib/sluice"
rotation = "15m"
retention = "7d"
max_size = "100G"
flush_interval = 10
compression = "lz4"
zstd_level = -3
cluster_by_port = false
rollup_retention = "52w"

[http]
listen = "[::1]:9090"
)");
  EXPECT_EQ(config.pipeline.listen,
            (std::vector<net::Endpoint>{At("127.0.0.1", 9995), At("::1", 4739)}));
  EXPECT_EQ(config.pipeline.receive_threads, 2u);
  EXPECT_EQ(config.pipeline.decode_threads, 3u);
  EXPECT_EQ(config.pipeline.rcvbuf_bytes, 8u << 20);
  EXPECT_FALSE(config.pipeline.receive_offload);
  EXPECT_EQ(config.pipeline.queue_bytes, 1u << 20);
  EXPECT_EQ(Prefixes(config), (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32"}));
  EXPECT_EQ(config.stats_interval, seconds(60));
  ASSERT_EQ(config.exporters.size(), 2u);
  EXPECT_EQ(config.exporters[0].address, Ip("192.0.2.1"));
  EXPECT_EQ(config.exporters[0].sampling_rate, 1000u);
  EXPECT_EQ(config.exporters[0].name, "edge-1");
  EXPECT_EQ(config.exporters[0].source, "edge");
  EXPECT_EQ(config.exporters[1].address, Ip("2001:db8::7"));
  EXPECT_EQ(config.exporters[1].sampling_rate, 0u);
  EXPECT_EQ(config.pipeline.decoder.sampling_overrides.size(), 1u);
  EXPECT_EQ(config.pipeline.decoder.sampling_overrides.at(Ip("192.0.2.1")), 1000u);
  EXPECT_EQ(config.pipeline.decoder.max_exporters, 10u);
  EXPECT_EQ(config.pipeline.decoder.max_templates_per_exporter, 20u);
  EXPECT_EQ(config.pipeline.decoder.max_fields_per_template, 30u);
  EXPECT_EQ(config.pipeline.decoder.max_pending_sets_per_exporter, 0u);
  EXPECT_EQ(config.pipeline.decoder.template_lifetime_ms, 30 * 60 * 1000);
  EXPECT_EQ(config.store.data_dir, "/var/lib/sluice");
  EXPECT_EQ(config.store.rotation, seconds(15 * 60));
  EXPECT_EQ(config.store.retention, seconds(7 * 86400));
  EXPECT_EQ(config.store.max_size_bytes, 100ULL << 30);
  EXPECT_EQ(config.store.flush_interval, seconds(10));
  EXPECT_EQ(config.store.compression, Compression::kLz4);
  EXPECT_EQ(config.store.zstd_level, -3);
  EXPECT_FALSE(config.store.cluster_by_port);
  EXPECT_EQ(config.store.rollup_retention, seconds(52 * 7 * 86400));
  EXPECT_EQ(config.http.listen, At("::1", 9090));
}

TEST(ServeConfigTest, OtherTomlSpellingsOfTheSameKeys) {
  const ServeConfig config = Parse(
      "collector.listen = \"0.0.0.0:9995\"\n"
      "decoder = { max_exporters = 5, template_lifetime = 3600 }\n"
      "store.compression = \"none\"\n");
  EXPECT_EQ(config.pipeline.listen, (std::vector<net::Endpoint>{At("0.0.0.0", 9995)}));
  EXPECT_EQ(config.pipeline.decoder.max_exporters, 5u);
  EXPECT_EQ(config.pipeline.decoder.template_lifetime_ms, 3600 * 1000);
  EXPECT_EQ(config.store.compression, Compression::kNone);
}

TEST(ServeConfigTest, ErrorsNameTheFileTheLineAndTheKey) {
  EXPECT_EQ(ParseError("[collector]\nreceive_threads = 2\n\nrcvbuf = \"64X\"\n"),
            "sluice.toml:4: collector.rcvbuf: expected a size like 64M, at most 1G (0 = the "
            "kernel's default)");
  ExpectErrorStartsWith("[collector]\nrcvbuf = \"2G\"\n", "sluice.toml:2: collector.rcvbuf:");
  EXPECT_EQ(ParseError("[collector]\nreceive_offload = \"yes\"\n"),
            "sluice.toml:2: collector.receive_offload: expected \"on\" or \"off\"");
  ExpectErrorStartsWith("[collector]\nreceive_threads = \"2\"\n",
                        "sluice.toml:2: collector.receive_threads:");
  ExpectErrorStartsWith("[collector]\nreceive_threads = 65\n",
                        "sluice.toml:2: collector.receive_threads:");
  ExpectErrorStartsWith("[collector]\nreceive_threads = -1\n",
                        "sluice.toml:2: collector.receive_threads:");
  ExpectErrorStartsWith("[collector]\nreceive_threads = 1.5\n",
                        "sluice.toml:2: collector.receive_threads:");
  ExpectErrorStartsWith("[collector]\n\nlistne = []\n",
                        "sluice.toml:3: collector.listne: unknown key (");
  ExpectErrorStartsWith("\n[colector]\n", "sluice.toml:2: colector: unknown section");
  ExpectErrorStartsWith("collector = 5\n", "sluice.toml:1: collector: ");
  EXPECT_EQ(ParseError("[collector]\nlisten = [\"0.0.0.0:2055\",\n  \"localhost:2055\"]\n"),
            "sluice.toml:3: collector.listen: expected ADDR:PORT with a numeric address, e.g. "
            "0.0.0.0:2055 or [::]:2055");
  ExpectErrorStartsWith("[collector]\nlisten = 2055\n", "sluice.toml:2: collector.listen: ");
  ExpectErrorStartsWith("[collector]\nallow = [\"10.0.0.0/33\"]\n",
                        "sluice.toml:2: collector.allow: ");
  ExpectErrorStartsWith("[decoder]\nmax_fields_per_template = 65536\n",
                        "sluice.toml:2: decoder.max_fields_per_template:");
  ExpectErrorStartsWith("[decoder]\ntemplate_lifetime = \"0s\"\n",
                        "sluice.toml:2: decoder.template_lifetime:");
  ExpectErrorStartsWith("[store]\ncompression = \"gzip\"\n", "sluice.toml:2: store.compression: ");
  ExpectErrorStartsWith("[store]\nzstd_level = 20\n", "sluice.toml:2: store.zstd_level: ");
  ExpectErrorStartsWith("[store]\ncluster_by_port = \"yes\"\n",
                        "sluice.toml:2: store.cluster_by_port: expected true or false");
  ExpectErrorStartsWith("[store]\ncluster_by_port = 1\n",
                        "sluice.toml:2: store.cluster_by_port: expected true or false");
  ExpectErrorStartsWith("[store]\nzstd_level = -33\n", "sluice.toml:2: store.zstd_level: ");
  ExpectErrorStartsWith("[store]\nzstd_level = \"fast\"\n", "sluice.toml:2: store.zstd_level: ");
  ExpectErrorStartsWith("[store]\nrotation = \"90s\"\n", "sluice.toml:2: store.rotation: ");
  ExpectErrorStartsWith("[store]\nrotation = \"2h\"\n", "sluice.toml:2: store.rotation: ");
  ExpectErrorStartsWith("[store]\nretention = \"30m\"\n", "sluice.toml:2: store.retention: ");
  ExpectErrorStartsWith("[store]\nmax_size = \"1K\"\n", "sluice.toml:2: store.max_size: ");
  ExpectErrorStartsWith("[store]\nflush_interval = \"0s\"\n",
                        "sluice.toml:2: store.flush_interval: ");
  ExpectErrorStartsWith("[store]\nrollup_retention = \"1h\"\n",
                        "sluice.toml:2: store.rollup_retention: ");
  ExpectErrorStartsWith("[store]\ndata_dir = 5\n", "sluice.toml:2: store.data_dir: ");
  ExpectErrorStartsWith("[http]\nlisten = \"127.0.0.1:0\"\n", "sluice.toml:2: http.listen: ");
  EXPECT_EQ(ParseError("[store]\nrotation = \"1m\"\nflush_interval = \"2m\"\n"),
            "sluice.toml: store.flush_interval (120s) is longer than store.rotation (60s)");
}

TEST(ServeConfigTest, ExporterErrors) {
  ExpectErrorStartsWith("[[exporter]]\naddress = \"edge-1\"\n",
                        "sluice.toml:2: exporter.address: ");
  ExpectErrorStartsWith("[[exporter]]\naddress = \"192.0.2.1\"\nsampling_rate = 0\n",
                        "sluice.toml:3: exporter.sampling_rate: ");
  ExpectErrorStartsWith("[[exporter]]\naddress = \"192.0.2.1\"\nrate = 10\n",
                        "sluice.toml:3: exporter.rate: unknown ");
  EXPECT_EQ(ParseError("\n[[exporter]]\nname = \"x\"\n"),
            "sluice.toml:2: exporter: an [[exporter]] needs an address");
  EXPECT_EQ(ParseError("[[exporter]]\naddress = \"192.0.2.1\"\n[[exporter]]\naddress = "
                       "\"192.0.2.1\"\n"),
            "sluice.toml:3: exporter.address: 192.0.2.1 appears twice");
  EXPECT_EQ(ParseError("[exporter]\naddress = \"192.0.2.1\"\n"),
            "sluice.toml:1: exporter: expected [[exporter]] tables");
}

TEST(ServeConfigTest, SyntaxErrorsCarryTheLine) {
  const std::string error = ParseError("[collector]\nrcvbuf = \"64M\"\nqueue = [\n");
  EXPECT_EQ(error.substr(0, 14), "sluice.toml:3:") << error;
  ExpectErrorStartsWith("[collector]\nrcvbuf = 1\nrcvbuf = 2\n", "sluice.toml:3:");
  EXPECT_FALSE(ParseError(std::string_view("a = \"\xff\"\n")).empty());
}

TEST(ServeConfigTest, AMissingFileIsAnError) {
  Result<ServeConfig> config = LoadServeConfig("/nonexistent/sluice.toml");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().Message().substr(0, 35), "/nonexistent/sluice.toml: cannot re");
}

TEST(ServeFlagsTest, FlagsOverrideTheFile) {
  ServeConfig config = Parse(R"(
[collector]
listen = ["0.0.0.0:2055", "0.0.0.0:4739"]
allow = ["10.0.0.0/8"]
rcvbuf = "8M"
stats_interval = 30
[[exporter]]
address = "192.0.2.1"
sampling_rate = 1000
[store]
rotation = "10m"
)");
  ASSERT_TRUE(Flags({"--listen",
                     "127.0.0.1:9995",
                     "--listen",
                     "[::1]:9996",
                     "--rcvbuf",
                     "1M",
                     "--sampling",
                     "192.0.2.1=10",
                     "--sampling",
                     "192.0.2.2=20",
                     "--stats-interval",
                     "5s",
                     "--rotation",
                     "1m",
                     "--retention",
                     "2d",
                     "--flush-interval",
                     "30s",
                     "--http",
                     "127.0.0.1:8081",
                     "--data",
                     "d",
                     "--decode-threads",
                     "2",
                     "--receive-threads",
                     "3",
                     "--queue",
                     "1M",
                     "--receive-offload",
                     "off",
                     "--config",
                     "ignored.toml"},
                    config));
  EXPECT_EQ(config.pipeline.listen,
            (std::vector<net::Endpoint>{At("127.0.0.1", 9995), At("::1", 9996)}));
  EXPECT_EQ(Prefixes(config), std::vector<std::string>{"10.0.0.0/8"});  // not given: kept
  EXPECT_EQ(config.pipeline.rcvbuf_bytes, 1u << 20);
  EXPECT_EQ(config.pipeline.decoder.sampling_overrides.at(Ip("192.0.2.1")), 10u);
  EXPECT_EQ(config.pipeline.decoder.sampling_overrides.at(Ip("192.0.2.2")), 20u);
  EXPECT_EQ(config.stats_interval, seconds(5));
  EXPECT_EQ(config.store.rotation, seconds(60));
  EXPECT_EQ(config.store.retention, seconds(2 * 86400));
  EXPECT_EQ(config.store.flush_interval, seconds(30));
  EXPECT_EQ(config.http.listen, At("127.0.0.1", 8081));
  EXPECT_EQ(config.store.data_dir, "d");
  EXPECT_EQ(config.pipeline.decode_threads, 2u);
  EXPECT_EQ(config.pipeline.receive_threads, 3u);
  EXPECT_EQ(config.pipeline.queue_bytes, 1u << 20);
  EXPECT_FALSE(config.pipeline.receive_offload);

  ASSERT_TRUE(Flags({"--allow", "192.0.2.0/24", "--exit-after", "2m", "--stats-file", "s.json",
                     "--ready-file", "r"},
                    config));
  EXPECT_EQ(Prefixes(config), std::vector<std::string>{"192.0.2.0/24"});
  EXPECT_EQ(config.exit_after_s, 120u);
  EXPECT_EQ(config.stats_file, "s.json");
  EXPECT_EQ(config.ready_file, "r");
}

TEST(ServeFlagsTest, BadFlagsAreErrorsNamingTheFlag) {
  const std::vector<std::vector<std::string_view>> bad = {
      {"--listen", "nowhere"},     {"--allow", "10.0.0.0/99"}, {"--rcvbuf", "2G"}, {"--receive-offload", "1"},
      {"--queue", "5G"},           {"--receive-threads", "0"}, {"--decode-threads", "65"},
      {"--stats-interval", "2d"},  {"--rotation", "61m"},      {"--retention", "5m"},
      {"--flush-interval", "10m"}, {"--http", "localhost:80"}, {"--sampling", "1.2.3.4"},
      {"--exit-after", "0"},       {"--bogus", "1"},           {"--listen"},
      {"listen", "127.0.0.1:1"},
  };
  for (const auto& args : bad) {
    ServeConfig config;
    const Status status = Flags(args, config);
    ASSERT_FALSE(status.has_value()) << args[0];
    EXPECT_NE(status.error().Message().find(args[0]), std::string::npos)
        << status.error().Message();
  }
  ServeConfig config;
  EXPECT_EQ(Flags({"--rotation", "1m", "--flush-interval", "2m"}, config).error().Message(),
            "store.flush_interval (120s) is longer than store.rotation (60s)");
}

TEST(ServeFlagsTest, NoFileAndNoFlagsKeepsTheBuiltInDefaults) {
  Result<ServeConfig> config = BuildServeConfig({});
  ASSERT_TRUE(config.has_value());
  EXPECT_GE(config->pipeline.decode_threads, 1u);
  EXPECT_LE(config->pipeline.decode_threads, 8u);
  ASSERT_GE(config->pipeline.listen.size(), 3u);
  EXPECT_EQ(config->pipeline.listen[0], At("0.0.0.0", 2055));
  EXPECT_EQ(config->pipeline.listen.back().port, 6343);
  EXPECT_EQ(config->store.data_dir, "data");
  EXPECT_EQ(config->config_path, "");
}

TEST(ServeFlagsTest, BuildReadsTheConfigFileThenTheFlags) {
  test::TempDir dir;
  const std::string path = dir.File("sluice.toml");
  std::ofstream(path) << "[collector]\nlisten = [\"127.0.0.1:9995\"]\nstats_interval = 7\n";
  const std::vector<std::string_view> args = {"--stats-interval", "8", "--config", path};
  Result<ServeConfig> config = BuildServeConfig(args);
  ASSERT_TRUE(config.has_value()) << config.error().Message();
  EXPECT_EQ(config->config_path, path);
  EXPECT_EQ(config->pipeline.listen, (std::vector<net::Endpoint>{At("127.0.0.1", 9995)}));
  EXPECT_EQ(config->stats_interval, seconds(8));

  const std::vector<std::string_view> twice = {"--config", path, "--config", path};
  EXPECT_FALSE(BuildServeConfig(twice).has_value());
  const std::string missing_path = dir.File("missing.toml");  // outlives the views below
  const std::vector<std::string_view> missing = {"--config", missing_path};
  EXPECT_FALSE(BuildServeConfig(missing).has_value());
}

}  // namespace
}  // namespace sluice::cli
