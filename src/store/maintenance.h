// SPDX-License-Identifier: Apache-2.0
// Maintainer: the store's periodic housekeeping. Writes the hourly roll-ups of complete
// hours, then applies retention (by age, then by total size) and tidies the directory
// tree. The collector calls RunOnce() every few minutes; docs/retention.md describes the
// behaviour for users.

#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "store/catalog.h"
#include "store/file_system.h"
#include "store/layout.h"
#include "store/rollup.h"
#include "store/segment_writer.h"

namespace sluice::store {

struct MaintenanceOptions {
  std::string data_dir;
  int rotation_minutes = 5;                                // 1..60, as the writer uses
  UnixMillis detail_retention_ms = 30LL * kMillisPerDay;   // 0 = keep forever
  std::uint64_t max_size_bytes = 0;                        // cap on all store files; 0 = none
  UnixMillis rollup_retention_ms = 365LL * kMillisPerDay;  // 0 = keep forever
  SegmentWriterOptions segment;                            // for roll-up segments (compression)
  std::size_t rollup_max_groups = 1 << 19;                 // memory bound of one aggregation (~90 MiB)
  std::size_t summaries_per_run = 288;                     // detail segments; a day of 5-minute slots
  // When set and true, RunOnce() stops early (between blocks of a roll-up), writing no
  // partial roll-up: how a collector that is shutting down interrupts a long run.
  const std::atomic<bool>* stop = nullptr;
};

struct MaintenanceReport {
  std::uint64_t rollups_written = 0, rollup_input_rows = 0, rollup_rows = 0;
  std::uint64_t summaries_written = 0;  // files (each detail segment gets kSummaryDirs.size())
  std::uint64_t hour_summaries_written = 0;  // files (each hour gets kHourSummaries.size())
  std::uint64_t address_filters_written = 0;  // files (one per sealed detail segment)
  std::uint64_t segments_deleted = 0, bytes_deleted = 0;
  std::uint64_t errors = 0;
  std::vector<std::string> messages;  // one line per error or notable action, for the log
};

// One RunOnce() does, in order:
//  1. removes leftover *.tmp files last modified more than one hour before `now`;
//  2. for each sealed detail segment missing some of its summaries (not past their
//     retention), newest first and at most summaries_per_run of them, reads it
//     once and publishes the missing DATA/<source>/rollup/<summary>/.../HHMM[-N].seg
//     (kSummaryDirs; written as *.tmp, renamed, directory synced): one row per group of
//     the summary's key (kSummaryShapes in store/rollup.h), bytes/packets/flows summed,
//     time_received = the slot start, first = min, last = max. A damaged detail segment
//     gets none (queries read it as detail);
//  2b. for each sealed detail segment without its address filters (not past its
//     retention), newest first and at most summaries_per_run of them, reads its source
//     and destination addresses and publishes DATA/<source>/rollup/address-filter/...
//     /HHMM[-N].flt (store/address_filter.h) the same way; a damaged segment gets none,
//     and a filter whose segment is gone is deleted;
//  3. for each source and hour H whose detail segments are all sealed (no *.seg.open, no
//     younger *.tmp of H) with now >= H + 1 h + rotation + 60 s, and no roll-up yet, reads
//     the hour's sealed detail segments and publishes DATA/<source>/rollup/.../HH.seg
//     the same way: one row per group of kRollupKeyFields, time_received = H. Hours already past the roll-up retention are not rolled up;
//  3b. (before 3) for each source, hour H settled as in 3, and summary S of kHourSummaries
//     with no hour summary yet, when every sealed detail segment of H has its summary S:
//     merges those summaries (and any of H whose detail segment is gone) into
//     DATA/<source>/rollup/<S>/.../HH.seg, one row per group of S's key, time_received =
//     H; kept as long as S. A damaged summary means no hour summary (reported; the hour
//     is then answered slot by slot);
//  4. deletes sealed detail segments whose slot ended at least detail_retention_ms before
//     `now` (one whose hour has no roll-up yet waits for it, at most until an hour after
//     the roll-up was due), and roll-ups whose hour ended at least rollup_retention_ms
//     before `now`, and summaries whose slot ended that long before `now` (the minute
//     summary's; the others go with detail_retention_ms);
//  5. if max_size_bytes > 0 and all store files together are larger, deletes the oldest
//     sealed detail segments, then (none left) the oldest roll-ups, then the oldest
//     summaries, until they fit;
//  6. removes year/month/day directories left empty (only those whose period ended more
//     than an hour ago, so as not to race the writer creating today's).
// *.seg.open files (the writer's) are never deleted.
//
// Errors never stop the run: each is counted in MaintenanceReport::errors with a message
// naming the path. A detail segment that fails its checksums is left out of its roll-up
// (and reported) but not deleted before its time. A roll-up that cannot be written
// (disk full, failed rename) leaves no file behind and is tried again on the next run.
//
// Ownership: keeps a reference to `file_system` (must outlive the Maintainer).
// Thread-safety: none; run one Maintainer per data directory, from one thread. It may
// run beside the store's writer (it only deletes sealed files and stale temporaries).
class Maintainer {
 public:
  Maintainer(MaintenanceOptions options, FileSystem& file_system);

  // Writes the roll-ups of complete hours that have none yet, then applies retention.
  // Never throws, never crashes on bad files: a segment that fails its checksums is
  // reported (path in the message), counted in errors, and skipped.
  MaintenanceReport RunOnce(UnixMillis now);

 private:
  void RemoveStaleTemps(const std::vector<CatalogEntry>& catalog, UnixMillis now,
                        MaintenanceReport& report);
  // False if the disk is full.
  bool WriteRollups(const std::vector<CatalogEntry>& catalog, UnixMillis now,
                    MaintenanceReport& report);
  // False if the disk is full.
  bool WriteHourSummaries(const std::vector<CatalogEntry>& catalog, UnixMillis now,
                          MaintenanceReport& report);
  // False if the disk is full.
  bool WriteAddressFilters(const std::vector<CatalogEntry>& catalog, UnixMillis now,
                           MaintenanceReport& report);
  // False if the disk is full.
  bool WriteSummaries(const std::vector<CatalogEntry>& catalog, UnixMillis now,
                      MaintenanceReport& report);
  // Builds and publishes the summaries `spec` names of `detail`; false if the disk is full.
  bool WriteSummaryFiles(const CatalogEntry& detail, SummarySpec spec,
                         const std::vector<std::string>& final_paths, MaintenanceReport& report);
  // Writes one roll-up of `shape` of `segments` to `final_path` (in `dir`); false if the
  // disk is full (no point trying the next one). With `whole_only` (an hour summary) a
  // damaged input means no file (the error is reported) rather than one without it.
  bool WriteRollup(const RollupShape& shape, const std::string& final_path, const std::string& dir,
                   UnixMillis start, std::vector<std::string> segments, MaintenanceReport& report,
                   bool whole_only);
  void ApplyRetention(const std::vector<CatalogEntry>& catalog, UnixMillis now,
                      MaintenanceReport& report);
  void RemoveEmptyDirectories(UnixMillis now);

  // How long files like `name` are kept (0 = forever).
  UnixMillis RetentionOf(const SegmentName& name) const;

  // True once options_.stop is set.
  bool Stopping() const;

  // How long after its start an hour is rolled up: 1 h + rotation + 60 s.
  UnixMillis RollupDelay() const;

  // Deletes one store file; false (reported) if it could not be.
  bool Delete(const CatalogEntry& entry, MaintenanceReport& report);

  MaintenanceOptions options_;
  FileSystem* file_system_;
};

}  // namespace sluice::store
