// SPDX-License-Identifier: Apache-2.0

#include "ingest/decode_workers.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "net/capture_reader.h"
#include "testing/hex.h"

namespace sluice::ingest {
namespace {

// The first datagram of a real NetFlow v5 capture (29 records).
std::vector<std::uint8_t> RealV5Datagram() {
  std::vector<std::uint8_t> bytes;
  const auto stats =
      net::ReadCapture(test::SharedTestData("flows/akvorado/netflow/nfv5.pcap"), {},
                       [&](const flow::Datagram& datagram, std::uint16_t) {
                         if (bytes.empty()) {
                           bytes.assign(datagram.payload.begin(), datagram.payload.end());
                         }
                       });
  EXPECT_TRUE(stats.has_value());
  return bytes;
}

flow::Datagram From(const std::vector<std::uint8_t>& bytes, std::uint32_t exporter_v4) {
  flow::Datagram datagram;
  datagram.exporter = flow::IpAddress::FromV4(exporter_v4);
  datagram.exporter_port = 2055;
  datagram.time_received = 1'700'000'000'000;
  datagram.payload = bytes;
  return datagram;
}

// Remembers the exporters of the records it was given. Each worker has its own.
class ExporterRecordingSink final : public flow::FlowSink {
 public:
  void Consume(flow::FlowBatch& batch) override {
    for (std::size_t row = 0; row < batch.size(); ++row) {
      exporters.insert(batch.cols().exporter[row]);
    }
    records += batch.size();
    consumer_threads.insert(std::this_thread::get_id());
  }

  std::set<flow::IpAddress> exporters;
  std::set<std::thread::id> consumer_threads;
  std::size_t records = 0;
};

TEST(DecodeWorkersTest, CountsAFullQueueAndDoesNotBlock) {
  const std::vector<std::uint8_t> v5 = RealV5Datagram();
  ASSERT_FALSE(v5.empty());
  SystemClock clock;
  DecodeWorkersOptions options;
  options.queue_bytes = 0;  // the smallest ring
  DecodeWorkers workers(options, nullptr, clock);
  // The workers are not started: nothing drains, so the ring must fill and refuse.
  constexpr std::size_t kPushes = 5000;
  std::size_t accepted = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t push = 0; push < kPushes; ++push) {
    accepted += workers.Push(0, From(v5, 0x0A000001)) ? 1 : 0;
  }
  workers.Publish(0);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(1)) << "a full queue must not make Push() wait";
  ASSERT_GT(accepted, 0u);
  ASSERT_LT(accepted, kPushes);
  DecodeStats stats = workers.Stats();
  EXPECT_EQ(stats.datagrams_queued, accepted);
  EXPECT_EQ(stats.dropped_queue_full, kPushes - accepted);

  workers.Start();
  workers.Stop();
  stats = workers.Stats();
  EXPECT_EQ(stats.datagrams_decoded, accepted)
      << "everything accepted is decoded before Stop() returns";
  EXPECT_EQ(stats.records, accepted * 29);
  EXPECT_EQ(stats.decode_errors, 0u);
}

TEST(DecodeWorkersTest, DecodesEachExporterOnTheWorkerItIsPinnedTo) {
  const std::vector<std::uint8_t> v5 = RealV5Datagram();
  ASSERT_FALSE(v5.empty());
  SystemClock clock;
  DecodeWorkersOptions options;
  options.workers = 4;
  options.producers = 2;
  std::vector<ExporterRecordingSink*> sinks;
  std::mutex sinks_mu;
  DecodeWorkers workers(
      options,
      [&](std::size_t worker_idx) {
        auto sink = std::make_unique<ExporterRecordingSink>();
        std::lock_guard lock(sinks_mu);
        sinks.resize(std::max(sinks.size(), worker_idx + 1));
        sinks[worker_idx] = sink.get();
        return sink;
      },
      clock);
  ASSERT_EQ(sinks.size(), 4u);
  workers.Start();

  constexpr std::uint32_t kExporters = 64;
  constexpr std::size_t kRounds = 20;
  std::vector<std::thread> producers;
  for (std::size_t producer_idx = 0; producer_idx < 2; ++producer_idx) {
    producers.emplace_back([&, producer_idx] {
      for (std::size_t round = 0; round < kRounds; ++round) {
        // Producer 0 sends for the even exporters, producer 1 for the odd ones.
        for (std::uint32_t exporter = static_cast<std::uint32_t>(producer_idx);
             exporter < kExporters; exporter += 2) {
          while (!workers.Push(producer_idx, From(v5, 0x0A000000 + exporter))) {
            workers.Publish(producer_idx);
            std::this_thread::yield();
          }
        }
        workers.Publish(producer_idx);
      }
    });
  }
  for (std::thread& producer : producers) {
    producer.join();
  }
  workers.Stop();

  const DecodeStats stats = workers.Stats();
  EXPECT_EQ(stats.datagrams_decoded, kExporters * kRounds);
  EXPECT_EQ(stats.records, kExporters * kRounds * 29);
  std::size_t records = 0;
  std::set<flow::IpAddress> seen;
  std::size_t busy_workers = 0;
  for (std::size_t worker_idx = 0; worker_idx < sinks.size(); ++worker_idx) {
    records += sinks[worker_idx]->records;
    busy_workers += sinks[worker_idx]->exporters.empty() ? 0 : 1;
    EXPECT_LE(sinks[worker_idx]->consumer_threads.size(), 1u) << "one thread per sink";
    for (const flow::IpAddress& exporter : sinks[worker_idx]->exporters) {
      EXPECT_EQ(workers.WorkerFor(exporter), worker_idx) << exporter.ToString();
      EXPECT_TRUE(seen.insert(exporter).second) << exporter.ToString() << " decoded by two workers";
    }
    // Each decoder knows exactly the exporters pinned to it.
    EXPECT_EQ(workers.decoder(worker_idx).exporters().size(), sinks[worker_idx]->exporters.size());
  }
  EXPECT_EQ(records, kExporters * kRounds * 29);
  EXPECT_EQ(seen.size(), kExporters);
  EXPECT_GE(busy_workers, 3u) << "64 exporters should spread over the 4 workers";
}

TEST(DecodeWorkersTest, StopsCleanlyWhenIdle) {
  SystemClock clock;
  DecodeWorkersOptions options;
  options.workers = 3;
  DecodeWorkers workers(options, nullptr, clock);
  workers.Start();
  workers.Stop();
  workers.Stop();
  EXPECT_EQ(workers.Stats().datagrams_decoded, 0u);
}

// Counts the records and the partial batches it is given (read from the test's thread
// meanwhile).
class BatchCountingSink final : public flow::FlowSink {
 public:
  BatchCountingSink(std::atomic<std::size_t>& partial_batches, std::atomic<std::size_t>& records)
      : partial_batches_(&partial_batches), records_(&records) {}

  void Consume(flow::FlowBatch& batch) override {
    if (batch.size() < flow::FlowBatch::kCapacity) {
      partial_batches_->fetch_add(1);
    }
    records_->fetch_add(batch.size());
  }

 private:
  std::atomic<std::size_t>* partial_batches_;
  std::atomic<std::size_t>* records_;
};

TEST(DecodeWorkersTest, ATrickleOfDatagramsReachesTheSinkSoonInFewBatches) {
  const std::vector<std::uint8_t> v5 = RealV5Datagram();
  ASSERT_FALSE(v5.empty());
  SystemClock clock;
  std::atomic<std::size_t> partial_batches{0};
  std::atomic<std::size_t> records{0};
  DecodeWorkers workers(
      DecodeWorkersOptions{},
      [&](std::size_t) { return std::make_unique<BatchCountingSink>(partial_batches, records); },
      clock);
  workers.Start();
  // One datagram a millisecond: a worker that handed on its batch whenever its ring ran
  // empty would give the sink a partial batch per datagram (29 records; batches hold
  // flow::FlowBatch::kCapacity, 2 in the sanitizer build).
  constexpr std::size_t kDatagrams = 100;
  for (std::size_t sent = 0; sent < kDatagrams; ++sent) {
    ASSERT_TRUE(workers.Push(0, From(v5, 0x0A000001)));
    workers.Publish(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Without a stop, the last partial batch still reaches the sink once its hold is over.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline && records.load() < kDatagrams * 29) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(records.load(), kDatagrams * 29);
  EXPECT_LT(partial_batches.load(), kDatagrams / 3)
      << "datagrams gather into batches while a worker naps";
  workers.Stop();
  EXPECT_EQ(workers.Stats().records, kDatagrams * 29);
}

}  // namespace
}  // namespace sluice::ingest

namespace sluice::ingest {
namespace {

// A v9 template datagram (template 256: IPv4 src, dst, octets, packets).
std::vector<std::uint8_t> V9TemplateDatagram() {
  return test::Hex(R"(
    0009 0001 00002710 6553f100 00000001 00000007
    0000 0018 0100 0004  0008 0004 000c 0004 0001 0004 0002 0004
  )");
}

TEST(DecodeWorkersTest, PublishesDecoderStateWhileRunningAndRestoresIt) {
  const std::vector<std::uint8_t> templates = V9TemplateDatagram();
  SystemClock clock;
  DecodeWorkersOptions options;
  options.workers = 2;
  std::string state;
  {
    DecodeWorkers workers(options, nullptr, clock);
    workers.Start();
    ASSERT_TRUE(workers.Push(0, From(templates, 0x0A000001)));
    workers.Publish(0);
    // Each worker publishes a snapshot when asked, once it has drained what is queued.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline &&
           (workers.Stats().datagrams_decoded == 0 || workers.ExporterReports().empty())) {
      workers.RequestSnapshots();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const std::vector<std::string> reports = workers.ExporterReports();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_NE(reports[0].find("\"templates\":1"), std::string::npos) << reports[0];
    state = workers.DecoderStateFile();
    workers.Stop();
  }
  // A new set of workers restores the template into the worker the exporter is pinned to.
  DecodeWorkers restored(options, nullptr, clock);
  ASSERT_TRUE(restored.RestoreDecoderState(
      {reinterpret_cast<const std::uint8_t*>(state.data()), state.size()}));
  const std::size_t owner = restored.WorkerFor(flow::IpAddress::FromV4(0x0A000001));
  EXPECT_EQ(restored.decoder(owner).exporters().size(), 1u);
  EXPECT_EQ(restored.decoder(1 - owner).exporters().size(), 0u);
}

}  // namespace
}  // namespace sluice::ingest
