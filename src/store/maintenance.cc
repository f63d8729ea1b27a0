// SPDX-License-Identifier: Apache-2.0

#include "store/maintenance.h"

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>

#include "store/address_filter.h"
#include "store/segment_reader.h"

namespace sluice::store {
namespace {

namespace fs = std::filesystem;

// A temporary file untouched for this long is a leftover (sealing takes seconds).
constexpr UnixMillis kStaleTempMillis = kMillisPerHour;
// A roll-up waits this long after its hour's last slot ends (late sealing, clock skew).
constexpr UnixMillis kRollupGraceMillis = kMillisPerMinute;
// Date directories are removed only once their period ended this long ago, so that an
// empty directory the writer has just created for its next file is left alone.
constexpr UnixMillis kDirectoryGraceMillis = kMillisPerHour;

std::string CountText(std::uint64_t count, std::string_view noun) {
  return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

// The last modification time of `path` in ms since the epoch, or nullopt.
std::optional<UnixMillis> ModifiedAt(const std::string& path) {
  std::error_code ec;
  const fs::file_time_type modified = fs::last_write_time(path, ec);
  if (ec) {
    return std::nullopt;
  }
  const auto system = std::chrono::file_clock::to_sys(modified);
  return std::chrono::duration_cast<std::chrono::milliseconds>(system.time_since_epoch()).count();
}


UnixMillis DaysToMillis(std::chrono::sys_days days) {
  return static_cast<UnixMillis>(days.time_since_epoch().count()) * kMillisPerDay;
}

// The subdirectories of `dir` whose names are `digits` decimal digits, with their values.
std::vector<std::pair<fs::path, int>> NumberedSubdirectories(const fs::path& dir,
                                                             std::size_t digits) {
  std::vector<std::pair<fs::path, int>> found;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_directory(type_ec) || it->is_symlink(type_ec)) {
      continue;
    }
    if (const std::optional<int> value = ParseDigits(it->path().filename().string(), digits)) {
      found.emplace_back(it->path(), *value);
    }
  }
  return found;
}

// Removes `dir` if it is empty and its period ended before `cutoff`.
void RemoveIfEmpty(const fs::path& dir, UnixMillis period_end, UnixMillis cutoff) {
  std::error_code ec;
  if (period_end <= cutoff && fs::is_empty(dir, ec) && !ec) {
    fs::remove(dir, ec);  // fails harmlessly if a file appeared meanwhile
  }
}

// Removes the empty YYYY/MM/DD directories under `base` (a source's directory or its
// rollup directory) whose period ended before `cutoff`.
void RemoveEmptyDateDirectories(const fs::path& base, UnixMillis cutoff) {
  namespace chr = std::chrono;
  for (const auto& [year_dir, year] : NumberedSubdirectories(base, 4)) {
    for (const auto& [month_dir, month] : NumberedSubdirectories(year_dir, 2)) {
      const chr::year_month year_month{chr::year{year}, chr::month{static_cast<unsigned>(month)}};
      if (!year_month.ok()) {
        continue;
      }
      for (const auto& [day_dir, day] : NumberedSubdirectories(month_dir, 2)) {
        const chr::year_month_day date = year_month / chr::day{static_cast<unsigned>(day)};
        if (date.ok()) {
          RemoveIfEmpty(day_dir, DaysToMillis(chr::sys_days{date} + chr::days{1}), cutoff);
        }
      }
      RemoveIfEmpty(month_dir, DaysToMillis(chr::sys_days{(year_month + chr::months{1}) / 1}),
                    cutoff);
    }
    RemoveIfEmpty(year_dir, DaysToMillis(chr::sys_days{chr::year{year + 1} / 1 / 1}), cutoff);
  }
}

}  // namespace

Maintainer::Maintainer(MaintenanceOptions options, FileSystem& file_system)
    : options_(std::move(options)), file_system_(&file_system) {}

MaintenanceReport Maintainer::RunOnce(UnixMillis now) {
  MaintenanceReport report;
  if (options_.data_dir.empty() || options_.rotation_minutes < 1 ||
      options_.rotation_minutes > 60) {
    ++report.errors;
    report.messages.push_back(
        "maintenance: invalid options (data_dir empty or rotation_minutes "
        "not in 1..60); nothing done");
    return report;
  }
  // Each step works on a fresh listing, so that it sees what the previous one changed.
  const auto scan = [&]() -> std::optional<std::vector<CatalogEntry>> {
    Result<std::vector<CatalogEntry>> catalog = ScanCatalog(options_.data_dir);
    if (!catalog) {
      ++report.errors;
      report.messages.push_back("maintenance: cannot list the store: " +
                                std::string(catalog.error().Message()));
      return std::nullopt;
    }
    return std::move(*catalog);
  };
  std::optional<std::vector<CatalogEntry>> catalog = scan();
  if (!catalog) {
    return report;
  }
  RemoveStaleTemps(*catalog, now, report);
  if (!(catalog = scan())) {
    return report;
  }
  // The summaries first: they are cheaper, and what the dashboard reads.
  bool room = WriteSummaries(*catalog, now, report);
  if (!(catalog = scan())) {
    return report;
  }
  if (room) {
    room = WriteAddressFilters(*catalog, now, report);
    if (!(catalog = scan())) {
      return report;
    }
  }
  if (room) {
    room = WriteHourSummaries(*catalog, now, report);
    if (!(catalog = scan())) {
      return report;
    }
  }
  if (room) {
    WriteRollups(*catalog, now, report);
  }
  if (!(catalog = scan())) {
    return report;
  }
  ApplyRetention(*catalog, now, report);
  RemoveEmptyDirectories(now);
  return report;
}

void Maintainer::RemoveStaleTemps(const std::vector<CatalogEntry>& catalog, UnixMillis now,
                                  MaintenanceReport& report) {
  for (const CatalogEntry& entry : catalog) {
    if (entry.name.state != SegmentState::kTemp) {
      continue;
    }
    const std::optional<UnixMillis> modified = ModifiedAt(entry.path);
    if (!modified || *modified > now - kStaleTempMillis) {
      continue;
    }
    if (Status removed = file_system_->Remove(entry.path); !removed) {
      ++report.errors;
      report.messages.push_back("cannot remove leftover temporary file: " +
                                std::string(removed.error().Message()));
      continue;
    }
    report.bytes_deleted += entry.size_bytes;
    report.messages.push_back("removed leftover temporary file " + entry.path);
  }
}

bool Maintainer::WriteRollups(const std::vector<CatalogEntry>& catalog, UnixMillis now,
                              MaintenanceReport& report) {
  struct Hour {
    std::vector<std::string> sealed;
    bool busy = false;  // a segment of the hour is still open or being sealed
  };

  using HourKey = std::pair<std::string, UnixMillis>;  // (source, hour start)
  std::map<HourKey, Hour> hours;
  std::set<HourKey> rolled_up;
  for (const CatalogEntry& entry : catalog) {
    if (entry.name.kind == SegmentKind::kRollup) {
      if (entry.name.state == SegmentState::kSealed) {
        rolled_up.emplace(entry.name.source, entry.name.start);
      }
      continue;
    }
    if (entry.name.kind != SegmentKind::kDetail) {
      continue;
    }
    Hour& hour = hours[{entry.name.source, HourStart(entry.name.start)}];
    if (entry.name.state == SegmentState::kSealed) {
      hour.sealed.push_back(entry.path);
    } else {
      hour.busy = true;
    }
  }
  const UnixMillis settle = RollupDelay();
  for (auto& [key, hour] : hours) {
    const auto& [source, hour_start] = key;
    if (hour.busy || hour.sealed.empty() || now < hour_start + settle || rolled_up.contains(key)) {
      continue;
    }
    if (options_.rollup_retention_ms > 0 &&
        hour_start + kMillisPerHour <= now - options_.rollup_retention_ms) {
      continue;  // retention would delete it at once
    }
    if (Stopping()) {
      return true;  // shutting down: the remaining roll-ups wait for the next start
    }
    if (!WriteRollup(kHourlyShape, RollupSegmentPath(options_.data_dir, source, hour_start),
                     RollupDayDir(options_.data_dir, source, hour_start), hour_start,
                     std::move(hour.sealed), report, /*whole_only=*/false)) {
      if (Stopping()) {
        return true;
      }
      report.messages.push_back(
          "rollup: the disk is full; the remaining roll-ups wait for the "
          "next pass");
      return false;  // so that retention runs now and frees space
    }
  }
  return true;
}

bool Maintainer::WriteSummaries(const std::vector<CatalogEntry>& catalog, UnixMillis now,
                                MaintenanceReport& report) {
  const UnixMillis slot_ms = UnixMillis{options_.rotation_minutes} * kMillisPerMinute;
  // (source, slot start, index) of a detail segment -> the summaries it has.
  std::map<std::tuple<std::string, UnixMillis, std::uint32_t>, std::array<bool, kSummaryDirs.size()>> have;
  for (const CatalogEntry& entry : catalog) {
    if (entry.name.kind == SegmentKind::kSummary && entry.name.state == SegmentState::kSealed) {
      have[{entry.name.source, entry.name.start, entry.name.index}][entry.name.summary] = true;
    }
  }
  std::size_t written = 0;
  // Newest first: what the dashboard shows now matters more than a backlog of old slots.
  for (auto it = catalog.rbegin(); it != catalog.rend(); ++it) {
    const CatalogEntry& entry = *it;
    if (entry.name.kind != SegmentKind::kDetail || entry.name.state != SegmentState::kSealed) {
      continue;
    }
    const auto& had = have[{entry.name.source, entry.name.start, entry.name.index}];
    SummarySpec spec;
    std::vector<std::string> final_paths;
    for (std::size_t summary = 0; summary < kSummaryDirs.size(); ++summary) {
      SegmentName name = entry.name;
      name.kind = SegmentKind::kSummary;
      name.summary = summary;
      const UnixMillis retention = RetentionOf(name);
      if (retention > 0 && entry.name.start + slot_ms <= now - retention) {
        continue;  // retention would delete it at once
      }
      if (!had[summary]) {
        spec.summaries.push_back(summary);
        final_paths.push_back(
            SummaryPath(options_.data_dir, entry.name.source, summary, entry.name.start, entry.name.index));
      }
    }
    if (spec.summaries.empty()) {
      continue;
    }
    if (written == options_.summaries_per_run || Stopping()) {
      return true;  // the rest wait for the next run
    }
    if (!WriteSummaryFiles(entry, std::move(spec), final_paths, report)) {
      if (Stopping()) {
        return true;
      }
      report.messages.push_back(
          "summaries: the disk is full; the remaining summaries wait for the next pass");
      return false;
    }
    ++written;
  }
  return true;
}

namespace {

// Reads a block's source and destination addresses into an AddressFilterBuilder: the
// distinct values of a dictionary-coded column (no row is read), else every row's.
class AddressCollector final : public RowSelector {
 public:
  explicit AddressCollector(AddressFilterBuilder& builder) : builder_(&builder) {}

  bool MayKeep(const BlockInfo& /*block*/,
               std::span<const std::span<const std::uint8_t>> dictionaries) override {
    rows_needed_ = {true, true};
    for (std::size_t side = 0; side < kAddressFields.size(); ++side) {
      const std::span<const std::uint8_t> values =
          dictionaries[static_cast<std::size_t>(kAddressFields[side])];
      if (values.empty()) {
        continue;
      }
      rows_needed_[side] = false;
      for (std::size_t offset = 0; offset + 16 <= values.size(); offset += 16) {
        flow::IpAddress address;
        std::memcpy(address.bytes.data(), values.data() + offset, 16);
        builder_->Add(AddressFilterKey(address));
      }
    }
    return rows_needed_[0] || rows_needed_[1];
  }

  std::size_t Select(const flow::FlowBatch& batch, std::size_t /*start*/,
                     std::uint32_t* /*rows*/) override {
    const flow::FlowColumns& cols = batch.cols();
    for (std::size_t row = 0; row < batch.size(); ++row) {
      if (rows_needed_[0]) {
        builder_->Add(AddressFilterKey(cols.src_addr[row]));
      }
      if (rows_needed_[1]) {
        builder_->Add(AddressFilterKey(cols.dst_addr[row]));
      }
    }
    return 0;
  }

  // Called before each block: a block with no dictionary-coded column gets no MayKeep().
  void StartBlock() { rows_needed_ = {true, true}; }

  static constexpr std::array<flow::FieldId, 2> kAddressFields = {flow::FieldId::kSrcAddr,
                                                                  flow::FieldId::kDstAddr};

 private:
  AddressFilterBuilder* builder_;
  std::array<bool, 2> rows_needed_ = {true, true};
};

class DiscardSink final : public flow::FlowSink {
 public:
  void Consume(flow::FlowBatch& /*batch*/) override {}
};

}  // namespace

bool Maintainer::WriteAddressFilters(const std::vector<CatalogEntry>& catalog, UnixMillis now,
                                     MaintenanceReport& report) {
  const UnixMillis slot_ms = UnixMillis{options_.rotation_minutes} * kMillisPerMinute;
  using Key = std::tuple<std::string, UnixMillis, std::uint32_t>;
  std::set<Key> have;
  std::set<Key> details;
  for (const CatalogEntry& entry : catalog) {
    const Key key{entry.name.source, entry.name.start, entry.name.index};
    if (entry.name.kind == SegmentKind::kAddressFilter && entry.name.state == SegmentState::kSealed) {
      have.insert(key);
    } else if (entry.name.kind == SegmentKind::kDetail) {
      details.insert(key);
    }
  }
  // Filters whose segment is gone (deleted by the size cap, say) are of no use.
  for (const CatalogEntry& entry : catalog) {
    if (entry.name.kind == SegmentKind::kAddressFilter && entry.name.state == SegmentState::kSealed &&
        !details.contains({entry.name.source, entry.name.start, entry.name.index})) {
      Delete(entry, report);
    }
  }
  const UnixMillis retention = options_.detail_retention_ms;
  std::size_t written = 0;
  for (auto it = catalog.rbegin(); it != catalog.rend(); ++it) {
    const CatalogEntry& entry = *it;
    if (entry.name.kind != SegmentKind::kDetail || entry.name.state != SegmentState::kSealed ||
        have.contains({entry.name.source, entry.name.start, entry.name.index}) ||
        (retention > 0 && entry.name.start + slot_ms <= now - retention)) {
      continue;
    }
    if (written == options_.summaries_per_run || Stopping()) {
      return true;
    }
    const std::string final_path =
        AddressFilterPath(options_.data_dir, entry.name.source, entry.name.start, entry.name.index);
    const std::string dir = AddressFilterDayDir(options_.data_dir, entry.name.source, entry.name.start);
    const auto fail = [&](const Error& error) {
      ++report.errors;
      report.messages.push_back("address filter of " + entry.path +
                                " not written: " + std::string(error.Message()));
      return error.Code() != ErrorCode::kNoSpace;
    };
    auto reader = SegmentReader::Open(entry.path);
    if (!reader) {
      if (reader.error().Code() == ErrorCode::kCorruption) {
        continue;  // a damaged segment gets no filter: queries read all of it
      }
      if (!fail(reader.error())) {
        return false;
      }
      continue;
    }
    AddressFilterBuilder builder;
    AddressCollector collector(builder);
    DiscardSink discard;
    bool damaged = false;
    for (std::size_t block_idx = 0; block_idx < (*reader)->blocks().size(); ++block_idx) {
      if (Stopping()) {
        return true;
      }
      collector.StartBlock();
      auto read = (*reader)->ReadSelected(block_idx, AddressCollector::kAddressFields, collector, {}, discard);
      if (!read) {
        damaged = true;
        break;
      }
      builder.FinishBlock((*reader)->blocks()[block_idx].row_count);
    }
    if (damaged) {
      continue;
    }
    if (Status created = file_system_->CreateDirectories(dir); !created) {
      if (!fail(created.error())) {
        return false;
      }
      continue;
    }
    const std::string temp = TempPathFor(final_path);
    Status published = builder.WriteTo(temp, *file_system_);
    if (published) {
      published = file_system_->Rename(temp, final_path);
    }
    if (!published) {
      std::error_code ec;
      if (fs::exists(temp, ec)) {
        (void)file_system_->Remove(temp);
      }
      if (!fail(published.error())) {
        return false;
      }
      continue;
    }
    if (Status synced = file_system_->SyncDirectory(dir); !synced) {
      ++report.errors;
      report.messages.push_back("address filter " + final_path + " written but not synced: " +
                                std::string(synced.error().Message()));
    }
    ++report.address_filters_written;
    ++written;
  }
  return true;
}

bool Maintainer::WriteSummaryFiles(const CatalogEntry& detail, SummarySpec spec,
                                   const std::vector<std::string>& final_paths,
                                   MaintenanceReport& report) {
  const auto fail = [&](const Error& error) {
    ++report.errors;
    report.messages.push_back("summaries of " + detail.path +
                              " not written: " + std::string(error.Message()));
    return error.Code() != ErrorCode::kNoSpace && !Stopping();
  };
  for (std::size_t idx = 0; idx < final_paths.size(); ++idx) {
    const std::string dir = SummaryDayDir(options_.data_dir, detail.name.source,
                                          spec.summaries[idx], detail.name.start);
    if (Status created = file_system_->CreateDirectories(dir); !created) {
      return fail(created.error());
    }
    spec.paths.push_back(TempPathFor(final_paths[idx]));
  }
  spec.segment = detail.path;
  spec.slot_start = detail.name.start;
  spec.writer_options = options_.segment;
  spec.writer_options.file_system = file_system_;
  spec.max_groups = options_.rollup_max_groups;
  spec.stop = options_.stop;
  Result<SummaryResult> built = BuildSummaries(spec);
  const auto discard_temps = [&] {
    for (const std::string& temp : spec.paths) {
      std::error_code ec;
      if (!fs::exists(temp, ec)) {
        continue;  // not created (a writer before it failed)
      }
      if (Status removed = file_system_->Remove(temp); !removed) {
        ++report.errors;
        report.messages.push_back("cannot remove " + temp + ": " + std::string(removed.error().Message()));
      }
    }
  };
  if (!built) {
    discard_temps();
    return fail(built.error());
  }
  if (built->damaged) {
    // A damaged detail segment gets no summaries: queries read it as detail (and report
    // the damage there, as its hour's roll-up does), so no good row around it is lost.
    discard_temps();
    return true;
  }
  for (std::size_t idx = 0; idx < final_paths.size(); ++idx) {
    if (Status renamed = file_system_->Rename(spec.paths[idx], final_paths[idx]); !renamed) {
      discard_temps();
      return fail(renamed.error());
    }
    const std::string dir = SummaryDayDir(options_.data_dir, detail.name.source,
                                          spec.summaries[idx], detail.name.start);
    if (Status synced = file_system_->SyncDirectory(dir); !synced) {
      ++report.errors;
      report.messages.push_back("summary " + final_paths[idx] + " written but not synced: " +
                                std::string(synced.error().Message()));
    }
    ++report.summaries_written;
  }
  return true;
}

bool Maintainer::WriteHourSummaries(const std::vector<CatalogEntry>& catalog, UnixMillis now,
                                    MaintenanceReport& report) {
  struct Hour {
    std::size_t details = 0;  // sealed detail segments
    bool busy = false;        // a detail segment of the hour is still open or being sealed
    std::array<std::vector<std::string>, kSummaryDirs.size()> slot_summaries;
    std::array<std::size_t, kSummaryDirs.size()> summarised_details{};
    std::array<bool, kSummaryDirs.size()> done{};  // the hour summary exists
  };
  using HourKey = std::pair<std::string, UnixMillis>;  // (source, hour start)
  std::map<HourKey, Hour> hours;
  // Which detail segments have which summaries: a summary without its detail segment
  // (deleted by the size cap) still counts as a slot summary of the hour.
  std::set<std::tuple<std::string, UnixMillis, std::uint32_t, std::size_t>> summaries;
  for (const CatalogEntry& entry : catalog) {
    if (entry.name.kind == SegmentKind::kSummary && entry.name.state == SegmentState::kSealed) {
      summaries.emplace(entry.name.source, entry.name.start, entry.name.index, entry.name.summary);
      hours[{entry.name.source, HourStart(entry.name.start)}]
          .slot_summaries[entry.name.summary]
          .push_back(entry.path);
    }
  }
  for (const CatalogEntry& entry : catalog) {
    if (entry.name.kind == SegmentKind::kHourSummary) {
      if (entry.name.state == SegmentState::kSealed) {
        hours[{entry.name.source, entry.name.start}].done[entry.name.summary] = true;
      }
      continue;
    }
    if (entry.name.kind != SegmentKind::kDetail) {
      continue;
    }
    Hour& hour = hours[{entry.name.source, HourStart(entry.name.start)}];
    if (entry.name.state != SegmentState::kSealed) {
      hour.busy = true;
      continue;
    }
    ++hour.details;
    for (const std::size_t summary : kHourSummaries) {
      if (summaries.contains({entry.name.source, entry.name.start, entry.name.index, summary})) {
        ++hour.summarised_details[summary];
      }
    }
  }
  const UnixMillis settle = RollupDelay();
  for (auto& [key, hour] : hours) {
    const auto& [source, hour_start] = key;
    if (hour.busy || now < hour_start + settle) {
      continue;
    }
    for (const std::size_t summary : kHourSummaries) {
      SegmentName name;
      name.kind = SegmentKind::kHourSummary;
      name.summary = summary;
      const UnixMillis retention = RetentionOf(name);
      // Every detail segment of the hour must have its summary first (a damaged one gets
      // none: the hour is then answered slot by slot, as before).
      if (hour.done[summary] || hour.slot_summaries[summary].empty() ||
          hour.summarised_details[summary] != hour.details ||
          (retention > 0 && hour_start + kMillisPerHour <= now - retention)) {
        continue;
      }
      if (Stopping()) {
        return true;
      }
      if (!WriteRollup(kSummaryShapes[summary], HourSummaryPath(options_.data_dir, source, summary, hour_start),
                       SummaryDayDir(options_.data_dir, source, summary, hour_start), hour_start,
                       std::move(hour.slot_summaries[summary]), report, /*whole_only=*/true)) {
        if (Stopping()) {
          return true;
        }
        report.messages.push_back(
            "hour summaries: the disk is full; the remaining ones wait for the next pass");
        return false;
      }
    }
  }
  return true;
}

bool Maintainer::WriteRollup(const RollupShape& shape, const std::string& final_path,
                             const std::string& dir, UnixMillis start,
                             std::vector<std::string> segments, MaintenanceReport& report,
                             bool whole_only) {
  const std::string what = whole_only ? "hour summary " : "rollup ";
  const std::size_t segment_count = segments.size();
  // Returns false when the disk is full.
  const auto fail = [&](const Error& error) {
    ++report.errors;
    report.messages.push_back(what + final_path + " not written: " + std::string(error.Message()));
    return error.Code() != ErrorCode::kNoSpace && !Stopping();
  };
  if (Status created = file_system_->CreateDirectories(dir); !created) {
    return fail(created.error());
  }
  RollupSpec spec;
  spec.path = TempPathFor(final_path);
  spec.shape = shape;
  spec.hour_start = start;
  spec.segments = std::move(segments);
  spec.writer_options = options_.segment;
  spec.writer_options.file_system = file_system_;
  spec.max_groups = options_.rollup_max_groups;
  spec.stop = options_.stop;
  Result<RollupResult> built = BuildRollup(spec);
  const auto discard_temp = [&] {
    if (Status removed = file_system_->Remove(spec.path); !removed) {
      ++report.errors;
      report.messages.push_back("cannot remove " + spec.path + ": " +
                                std::string(removed.error().Message()));
    }
  };
  if (!built) {
    discard_temp();
    return fail(built.error());
  }
  for (const Error& skipped : built->skipped) {
    ++report.errors;
    report.messages.push_back(what + final_path + ": left out a damaged " +
                              (whole_only ? "summary: " : "detail segment: ") +
                              std::string(skipped.Message()));
  }
  if (whole_only && !built->skipped.empty()) {
    // An hour summary stands for every slot of its hour: one missing a slot would be wrong.
    discard_temp();
    return true;
  }
  if (Status renamed = file_system_->Rename(spec.path, final_path); !renamed) {
    discard_temp();
    return fail(renamed.error());
  }
  if (Status synced = file_system_->SyncDirectory(dir); !synced) {
    ++report.errors;
    report.messages.push_back(what + final_path +
                              " written but not synced: " + std::string(synced.error().Message()));
  }
  if (whole_only) {
    ++report.hour_summaries_written;
    return true;
  }
  ++report.rollups_written;
  report.rollup_input_rows += built->input_rows;
  report.rollup_rows += built->rows;
  report.messages.push_back(
      "rollup " + final_path + ": " + CountText(built->rows, "row") + " from " +
      CountText(built->input_rows, "detail row") + " in " +
      CountText(built->segments_read, "segment") +
      (built->segments_read == segment_count
           ? std::string()
           : " (" + CountText(segment_count - built->segments_read, "damaged segment") +
                 " left out)"));
  return true;
}

UnixMillis Maintainer::RetentionOf(const SegmentName& name) const {
  switch (name.kind) {
    case SegmentKind::kDetail:
      return options_.detail_retention_ms;
    case SegmentKind::kRollup:
      return options_.rollup_retention_ms;
    case SegmentKind::kAddressFilter:
      return options_.detail_retention_ms;
    case SegmentKind::kSummary:
    case SegmentKind::kHourSummary:
      // The minute summary is tiny and kept like the roll-ups; the others can be a good
      // part of their segment's size on diverse traffic, and go with it.
      return name.summary == kMinuteSummary ? options_.rollup_retention_ms
                                            : options_.detail_retention_ms;
  }
  return options_.detail_retention_ms;
}

bool Maintainer::Stopping() const {
  return options_.stop != nullptr && options_.stop->load(std::memory_order_relaxed);
}

UnixMillis Maintainer::RollupDelay() const {
  return kMillisPerHour + UnixMillis{options_.rotation_minutes} * kMillisPerMinute +
         kRollupGraceMillis;
}

bool Maintainer::Delete(const CatalogEntry& entry, MaintenanceReport& report) {
  if (Status removed = file_system_->Remove(entry.path); !removed) {
    ++report.errors;
    report.messages.push_back("cannot delete " + entry.path + ": " +
                              std::string(removed.error().Message()));
    return false;
  }
  ++report.segments_deleted;
  report.bytes_deleted += entry.size_bytes;
  return true;
}

void Maintainer::ApplyRetention(const std::vector<CatalogEntry>& catalog, UnixMillis now,
                                MaintenanceReport& report) {
  const UnixMillis slot_ms = UnixMillis{options_.rotation_minutes} * kMillisPerMinute;
  std::vector<bool> deleted(catalog.size(), false);
  std::uint64_t total_bytes = 0;
  std::set<std::pair<std::string, UnixMillis>> rolled_up;
  for (const CatalogEntry& entry : catalog) {
    total_bytes += entry.size_bytes;
    if (entry.name.kind == SegmentKind::kRollup && entry.name.state == SegmentState::kSealed) {
      rolled_up.emplace(entry.name.source, entry.name.start);
    }
  }
  // A detail segment past its retention still waits for its hour's roll-up (a retention
  // shorter than the roll-up delay would otherwise leave the first slots of every hour
  // out of it), but not beyond an hour after the roll-up was due.
  const auto awaits_rollup = [&](const CatalogEntry& entry) {
    const UnixMillis hour = HourStart(entry.name.start);
    return !rolled_up.contains({entry.name.source, hour}) &&
           now < hour + RollupDelay() + kMillisPerHour &&
           (options_.rollup_retention_ms <= 0 ||
            hour + kMillisPerHour > now - options_.rollup_retention_ms);
  };
  // Age. Counters: [detail, rollup] files and bytes.
  std::array<std::uint64_t, 2> aged{};
  std::array<std::uint64_t, 2> aged_bytes{};
  for (std::size_t idx = 0; idx < catalog.size(); ++idx) {
    const CatalogEntry& entry = catalog[idx];
    if (entry.name.state != SegmentState::kSealed) {
      continue;
    }
    const bool detail = entry.name.kind == SegmentKind::kDetail;
    const UnixMillis retention = RetentionOf(entry.name);
    const bool hourly = entry.name.kind == SegmentKind::kRollup ||
                        entry.name.kind == SegmentKind::kHourSummary;
    const UnixMillis end = entry.name.start + (hourly ? kMillisPerHour : slot_ms);
    if (retention <= 0 || end > now - retention || (detail && awaits_rollup(entry))) {
      continue;
    }
    if (Delete(entry, report)) {
      deleted[idx] = true;
      total_bytes -= entry.size_bytes;
      ++aged[detail ? 0 : 1];
      aged_bytes[detail ? 0 : 1] += entry.size_bytes;
    }
  }
  if (aged[0] > 0) {
    report.messages.push_back("retention: deleted " + CountText(aged[0], "detail segment") + " (" +
                              std::to_string(aged_bytes[0]) + " bytes) older than " +
                              std::to_string(options_.detail_retention_ms / kMillisPerHour) + " h");
  }
  if (aged[1] > 0) {
    report.messages.push_back("retention: deleted " + CountText(aged[1], "roll-up") + " (" +
                              std::to_string(aged_bytes[1]) + " bytes) older than " +
                              std::to_string(options_.rollup_retention_ms / kMillisPerHour) + " h");
  }
  // Size: the catalog is sorted by (kind, start, ...), so walking it in order visits the
  // oldest detail segments first, then the oldest roll-ups.
  if (options_.max_size_bytes == 0 || total_bytes <= options_.max_size_bytes) {
    return;
  }
  const std::uint64_t size_before = total_bytes;
  std::array<std::uint64_t, 2> evicted{};
  for (std::size_t idx = 0; idx < catalog.size() && total_bytes > options_.max_size_bytes; ++idx) {
    const CatalogEntry& entry = catalog[idx];
    if (deleted[idx] || entry.name.state != SegmentState::kSealed) {
      continue;
    }
    if (Delete(entry, report)) {
      deleted[idx] = true;
      total_bytes -= entry.size_bytes;
      ++evicted[entry.name.kind == SegmentKind::kDetail ? 0 : 1];
    }
  }
  std::string message = "max_size: store held " + std::to_string(size_before) + " bytes > " +
                        std::to_string(options_.max_size_bytes) + "; deleted " +
                        CountText(evicted[0], "detail segment") + " and " +
                        CountText(evicted[1], "roll-up") + ", now " + std::to_string(total_bytes) +
                        " bytes";
  if (total_bytes > options_.max_size_bytes) {
    message += " (still over: open segments are never deleted)";
  }
  report.messages.push_back(std::move(message));
}

void Maintainer::RemoveEmptyDirectories(UnixMillis now) {
  const UnixMillis cutoff = now - kDirectoryGraceMillis;
  std::error_code ec;
  fs::directory_iterator it(options_.data_dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_directory(type_ec) || !IsValidSourceName(it->path().filename().string())) {
      continue;
    }
    RemoveEmptyDateDirectories(it->path(), cutoff);
    RemoveEmptyDateDirectories(it->path() / std::string(kRollupDir), cutoff);
    RemoveEmptyDateDirectories(it->path() / std::string(kRollupDir) / std::string(kAddressFilterDir),
                               cutoff);
    for (const std::string_view summary : kSummaryDirs) {
      RemoveEmptyDateDirectories(it->path() / std::string(kRollupDir) / std::string(summary),
                                 cutoff);
    }
  }
}

}  // namespace sluice::store
