// SPDX-License-Identifier: Apache-2.0

#include "enrich/prefix_enricher.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace sluice::enrich {
namespace {

flow::IpAddress Ip(const char* text) { return *flow::IpAddress::Parse(text); }

PrefixMap Map(const char* csv) {
  auto map = PrefixMap::ParseCsv(csv, "test.csv");
  EXPECT_TRUE(map.has_value()) << map.error().Message();
  return std::move(*map);
}

constexpr const char* kMap =
    "prefix,subscriber_id,reseller_id,nas_id,cir\n"
    "100.64.1.0/24,cust-1,res-a,nas-1,100M\n"
    "100.64.2.0/24,cust-2,,nas-2,\n"
    "2001:db8:5::/48,cust-6,res-b,nas-6,1G\n";

std::size_t AddFlow(flow::FlowBatch& batch, const char* src, const char* dst) {
  const std::size_t row = batch.AppendRow();
  batch.cols().src_addr[row] = Ip(src);
  batch.cols().dst_addr[row] = Ip(dst);
  return row;
}

// What one flow gets: subscriber, reseller, site and cir (each flow in a batch of its own,
// so that the test holds for any batch capacity).
struct Tagged {
  std::string subscriber;
  std::string reseller;
  std::string site;
  std::uint64_t cir = 0;
};

Tagged TagOne(const PrefixMap& map, PrefixEnricher& enricher, const char* src, const char* dst) {
  flow::FlowBatch batch;
  const std::size_t row = AddFlow(batch, src, dst);
  enricher.Enrich(map, batch);
  const flow::FlowColumns& c = batch.cols();
  return Tagged{std::string(batch.String(c.subscriber[row])), std::string(batch.String(c.reseller[row])),
                std::string(batch.String(c.site[row])), c.cir[row]};
}

TEST(PrefixEnricherTest, SourceFirstThenDestination) {
  const PrefixMap map = Map(kMap);
  PrefixEnricher enricher;
  const Tagged upload = TagOne(map, enricher, "100.64.1.9", "8.8.8.8");
  EXPECT_EQ(upload.subscriber, "cust-1");
  EXPECT_EQ(upload.reseller, "res-a");
  EXPECT_EQ(upload.site, "nas-1");
  EXPECT_EQ(upload.cir, 100'000'000u);
  const Tagged download = TagOne(map, enricher, "1.1.1.1", "100.64.2.3");
  EXPECT_EQ(download.subscriber, "cust-2");
  EXPECT_EQ(download.reseller, "");
  EXPECT_EQ(download.cir, 0u);
  EXPECT_EQ(TagOne(map, enricher, "100.64.2.3", "100.64.1.9").subscriber, "cust-2");  // both: the source's
  const Tagged neither = TagOne(map, enricher, "1.1.1.1", "8.8.8.8");
  EXPECT_EQ(neither.subscriber, "");
  EXPECT_EQ(neither.site, "");
  const Tagged v6 = TagOne(map, enricher, "2001:db8:5::1", "2001:db8:9::1");
  EXPECT_EQ(v6.subscriber, "cust-6");
  EXPECT_EQ(v6.cir, 1'000'000'000u);
}

TEST(PrefixEnricherTest, KeepsWhatTheExporterSentAndStoresEachStringOncePerBatch) {
  const PrefixMap map = Map(kMap);
  flow::FlowBatch batch;
  const std::size_t sent = AddFlow(batch, "100.64.1.9", "8.8.8.8");
  batch.cols().subscriber[sent] = batch.AddString("from-exporter");
  for (int idx = 0; idx < 100 && !batch.full(); ++idx) {
    AddFlow(batch, "100.64.1.9", "8.8.8.8");
  }
  PrefixEnricher enricher;
  enricher.Enrich(map, batch);
  EXPECT_EQ(batch.String(batch.cols().subscriber[sent]), "from-exporter");
  if (batch.size() > 2) {
    // Rows of one subscriber share one copy of its strings.
    EXPECT_EQ(batch.cols().subscriber[1].offset, batch.cols().subscriber[2].offset);
  }
}

TEST(PrefixEnricherTest, ManyBatchesAndAMapReplacedBetweenThem) {
  const PrefixMap first = Map(kMap);
  const PrefixMap second = Map("prefix,subscriber_id\n100.64.1.0/24,renamed\n");
  PrefixEnricher enricher;
  for (int round = 0; round < 3; ++round) {
    flow::FlowBatch batch;
    AddFlow(batch, "100.64.1.9", "8.8.8.8");
    AddFlow(batch, "100.64.2.9", "8.8.8.8");
    const PrefixMap& map = round == 1 ? second : first;
    enricher.Enrich(map, batch);
    EXPECT_EQ(batch.String(batch.cols().subscriber[0]), round == 1 ? "renamed" : "cust-1");
    EXPECT_EQ(batch.cols().subscriber[1].length == 0, round == 1);
  }
}

// Every row with its own long ids: the arena holds them all.
TEST(PrefixEnricherTest, AFullBatchOfDistinctSubscribersFitsTheArena) {
  std::string csv = "prefix,subscriber_id,reseller_id,nas_id\n";
  for (std::size_t idx = 0; idx < flow::FlowBatch::kCapacity; ++idx) {
    const std::string id = std::to_string(idx) + std::string(50, 'x');
    csv += "10." + std::to_string(idx / 256) + "." + std::to_string(idx % 256) + ".0/24," + id +
           ",r" + id + ",n" + id + "\n";
  }
  const PrefixMap map = Map(csv.c_str());
  flow::FlowBatch batch;
  for (std::size_t idx = 0; idx < flow::FlowBatch::kCapacity; ++idx) {
    const std::string address =
        "10." + std::to_string(idx / 256) + "." + std::to_string(idx % 256) + ".1";
    AddFlow(batch, address.c_str(), "8.8.8.8");
  }
  PrefixEnricher enricher;
  EXPECT_EQ(enricher.Enrich(map, batch), batch.size());
  const std::size_t last = batch.size() - 1;
  EXPECT_EQ(batch.String(batch.cols().site[last]), "n" + std::to_string(last) + std::string(50, 'x'));
}

class CollectingSink final : public flow::FlowSink {
 public:
  void Consume(flow::FlowBatch& batch) override {
    for (std::size_t row = 0; row < batch.size(); ++row) {
      subscribers.emplace_back(batch.String(batch.cols().subscriber[row]));
    }
  }
  std::vector<std::string> subscribers;
};

TEST(EnrichingSinkTest, EnrichesWithTheMapInForceAndForwards) {
  PrefixMapSource source;
  EnrichCounters counters;
  auto collecting = std::make_unique<CollectingSink>();
  CollectingSink* seen = collecting.get();
  EnrichingSink sink(source, counters, std::move(collecting));
  flow::FlowBatch batch;
  AddFlow(batch, "100.64.1.9", "8.8.8.8");
  sink.Consume(batch);  // no map yet
  source.Replace(std::make_shared<const PrefixMap>(Map(kMap)));
  sink.Consume(batch);
  ASSERT_EQ(seen->subscribers.size(), 2u);
  EXPECT_EQ(seen->subscribers[0], "");
  EXPECT_EQ(seen->subscribers[1], "cust-1");
  EXPECT_EQ(counters.Stats().rows, 2u);
  EXPECT_EQ(counters.Stats().matched, 1u);
}

}  // namespace
}  // namespace sluice::enrich
