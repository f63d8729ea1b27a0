// SPDX-License-Identifier: Apache-2.0

#include "query/partitioned_groups.h"

#include <algorithm>
#include <utility>

namespace sluice::query::internal {
namespace {

// A partition from the low bits of a mix of the key's words (GroupTable probes with the
// high 32 bits of its own hash, so the two do not correlate).
std::size_t PartitionOf(const std::uint64_t* key, std::size_t words) {
  std::uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (std::size_t word = 0; word < words; ++word) {
    h = (h ^ key[word]) * 0xff51afd7ed558ccdULL;
    h ^= h >> 31;
  }
  return static_cast<std::size_t>(h ^ (h >> 17)) & (PartitionedGroups::kPartitions - 1);
}

}  // namespace

PartitionedGroups::PartitionedGroups(const KeyCodec& codec, MemoryBudget* budget, TimeCoding times)
    : codec_(&codec), budget_(budget),
      narrow_(3 * (codec.narrow_words() + GroupTable::kMaxValueWords) <= 2 * (codec.words() + GroupTable::kMaxValueWords)),
      narrow_key_(std::max<std::size_t>(1, codec.narrow_words())) {
  dense_size_ = codec.small_domain();
  if (dense_size_ > 0) {
    narrow_ = false;
    return;  // no tables; the array is made (and reserved) on the first rows
  }
  for (std::size_t partition = 0; partition < kPartitions; ++partition) {
    wide_forms_[partition].table = std::make_shared<GroupTable>(codec.words(), budget, times);
    if (narrow_) {
      narrow_forms_[partition].table = std::make_shared<GroupTable>(codec.narrow_words(), budget, times);
    }
  }
}

PartitionedGroups::PartitionedGroups(PartitionedGroups& owner)
    : codec_(owner.codec_), budget_(owner.budget_), dense_size_(owner.dense_size_), narrow_(owner.narrow_),
      narrow_key_(owner.narrow_key_.size()) {
  if (dense_size_ > 0) {
    return;  // its own array, merged as usual
  }
  if (!owner.locks_) {
    owner.locks_ = std::make_shared<std::array<std::mutex, kPartitions>>();
    owner.spread_ = true;  // shared tables are spread from the first row
  }
  locks_ = owner.locks_;
  spread_ = true;
  shares_ = true;
  for (std::size_t partition = 0; partition < kPartitions; ++partition) {
    wide_forms_[partition].table = owner.wide_forms_[partition].table;
    narrow_forms_[partition].table = owner.narrow_forms_[partition].table;
  }
}

PartitionedGroups::~PartitionedGroups() { budget_->Release(dense_reserved_); }

bool PartitionedGroups::ReserveDense() {
  if (dense_reserved_ > 0 || dense_failed_) {
    return !dense_failed_;
  }
  const std::size_t bytes = dense_size_ * (sizeof(Aggregate) + 1);
  if (!budget_->Reserve(bytes)) {
    dense_failed_ = true;
    return false;
  }
  dense_reserved_ = bytes;
  dense_sums_.resize(dense_size_);
  dense_used_.resize(dense_size_, 0);
  return true;
}

bool PartitionedGroups::AddRowsDense(const std::uint64_t* keys, const flow::FlowBatch& batch,
                                     const std::uint32_t* rows, std::size_t count) {
  if (count == 0) {
    return !dense_failed_;
  }
  if (!ReserveDense()) {
    return false;
  }
  const flow::FlowColumns& cols = batch.cols();
  for (std::size_t i = 0; i < count; ++i) {
    // The key is the field's value (small_domain()): below dense_size_.
    const auto value = static_cast<std::size_t>(keys[i] & (dense_size_ - 1));
    const std::uint32_t row = rows[i];
    Aggregate& sum = dense_sums_[value];
    sum.flows = SaturatingAdd(sum.flows, cols.flows[row]);
    sum.packets = SaturatingAdd(sum.packets, cols.packets[row]);
    sum.bytes = SaturatingAdd(sum.bytes, cols.bytes[row]);
    AddTimes(sum, cols.first[row], cols.last[row]);
    dense_used_[value] = 1;
  }
  return true;
}

bool PartitionedGroups::AddRows(const std::uint64_t* keys, const flow::FlowBatch& batch,
                                const std::uint32_t* rows, std::size_t count) {
  if (dense_size_ > 0) {
    return AddRowsDense(keys, batch, rows, count);
  }
  if (!spread_) {
    if (!AddRowsUnspread(keys, batch, rows, count)) {
      return false;
    }
    return size() <= kSpreadAbove || Spread();
  }
  const std::size_t words = std::max<std::size_t>(1, codec_->words());
  const std::size_t narrow_words = std::max<std::size_t>(1, codec_->narrow_words());
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t* key = keys + i * words;
    Form* form = nullptr;
    const std::uint64_t* stored = key;
    std::size_t stored_words = words;
    if (narrow_ && codec_->Narrow(key, narrow_key_.data())) {
      stored = narrow_key_.data();
      stored_words = narrow_words;
      form = &narrow_forms_[PartitionOf(stored, stored_words)];
    } else {
      form = &wide_forms_[PartitionOf(key, words)];
    }
    if (form->rows.empty()) {
      form->rows.resize(flow::FlowBatch::kCapacity);
      form->keys.resize(flow::FlowBatch::kCapacity * stored_words);
    }
    std::uint64_t* to = form->keys.data() + form->count * stored_words;
    for (std::size_t word = 0; word < stored_words; ++word) {
      to[word] = stored[word];
    }
    form->rows[form->count++] = rows[i];
  }
  return AddGathered(&batch, nullptr);
}

bool PartitionedGroups::AddGatheredOf(std::size_t partition, const flow::FlowBatch* batch,
                                      const Aggregate* aggs) {
  bool ok = true;
  for (Form* form : {&narrow_forms_[partition], &wide_forms_[partition]}) {
    if (form->count > 0) {
      ok &= aggs != nullptr
                ? form->table->AddAggregates(form->keys.data(), aggs, form->rows.data(), form->count)
                : form->table->AddRows(form->keys.data(), *batch, form->rows.data(), form->count);
      form->count = 0;
    }
  }
  return ok;
}

bool PartitionedGroups::AddGathered(const flow::FlowBatch* batch, const Aggregate* aggs) {
  bool ok = true;
  if (!locks_) {
    for (std::size_t partition = 0; partition < kPartitions; ++partition) {
      ok &= AddGatheredOf(partition, batch, aggs);
    }
    return ok;
  }
  // First the partitions no other thread holds; then, waiting, the rest.
  std::array<bool, kPartitions> pending{};
  for (std::size_t partition = 0; partition < kPartitions; ++partition) {
    pending[partition] = narrow_forms_[partition].count > 0 || wide_forms_[partition].count > 0;
  }
  for (const bool wait : {false, true}) {
    for (std::size_t partition = 0; partition < kPartitions; ++partition) {
      if (!pending[partition]) {
        continue;
      }
      std::mutex& lock = (*locks_)[partition];
      if (wait) {
        lock.lock();
      } else if (!lock.try_lock()) {
        continue;
      }
      ok &= AddGatheredOf(partition, batch, aggs);
      lock.unlock();
      pending[partition] = false;
    }
  }
  return ok;
}

bool PartitionedGroups::AddAggregates(const std::uint64_t* keys, const Aggregate* aggs,
                                      const std::uint32_t* picks, std::size_t count) {
  const std::size_t words = std::max<std::size_t>(1, codec_->words());
  if (dense_size_ > 0) {
    if (count > 0 && !ReserveDense()) {
      return false;
    }
    for (std::size_t i = 0; i < count; ++i) {
      const auto value = static_cast<std::size_t>(keys[i * words] & (dense_size_ - 1));
      MergeInto(dense_sums_[value], aggs[picks[i]]);
      dense_used_[value] = 1;
    }
    return true;
  }
  // As AddRows(): each key to its form and partition, then one batched add per table.
  const std::size_t narrow_words = std::max<std::size_t>(1, codec_->narrow_words());
  for (std::size_t from = 0; from < count; from += flow::FlowBatch::kCapacity) {
    const std::size_t n = std::min(flow::FlowBatch::kCapacity, count - from);
    for (std::size_t i = from; i < from + n; ++i) {
      const std::uint64_t* key = keys + i * words;
      const std::uint64_t* stored = key;
      std::size_t stored_words = words;
      std::array<Form, kPartitions>* forms = &wide_forms_;
      if (narrow_ && codec_->Narrow(key, narrow_key_.data())) {
        stored = narrow_key_.data();
        stored_words = narrow_words;
        forms = &narrow_forms_;
      }
      Form& form = (*forms)[spread_ ? PartitionOf(stored, stored_words) : 0];
      if (form.rows.empty()) {
        form.rows.resize(flow::FlowBatch::kCapacity);
        form.keys.resize(flow::FlowBatch::kCapacity * words);
      }
      std::copy(stored, stored + stored_words, form.keys.data() + form.count * stored_words);
      form.rows[form.count++] = picks[i];
    }
    if (!AddGathered(nullptr, aggs)) {
      return false;
    }
  }
  return spread_ || size() <= kSpreadAbove || Spread();
}

bool PartitionedGroups::AddRowsUnspread(const std::uint64_t* keys, const flow::FlowBatch& batch,
                                        const std::uint32_t* rows, std::size_t count) {
  Form& wide = wide_forms_[0];
  if (!narrow_) {
    return wide.table->AddRows(keys, batch, rows, count);
  }
  const std::size_t words = codec_->words();
  const std::size_t narrow_words = codec_->narrow_words();
  Form& narrow = narrow_forms_[0];
  for (Form* form : {&narrow, &wide}) {
    if (form->rows.empty()) {
      form->rows.resize(flow::FlowBatch::kCapacity);
      form->keys.resize(flow::FlowBatch::kCapacity * words);
    }
  }
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t* key = keys + i * words;
    if (codec_->Narrow(key, narrow.keys.data() + narrow.count * narrow_words)) {
      narrow.rows[narrow.count++] = rows[i];
    } else {
      std::uint64_t* to = wide.keys.data() + wide.count * words;
      for (std::size_t word = 0; word < words; ++word) {
        to[word] = key[word];
      }
      wide.rows[wide.count++] = rows[i];
    }
  }
  bool ok = true;
  for (Form* form : {&narrow, &wide}) {
    if (form->count > 0) {
      ok &= form->table->AddRows(form->keys.data(), batch, form->rows.data(), form->count);
      form->count = 0;
    }
  }
  return ok;
}

bool PartitionedGroups::AddTo(std::array<Form, kPartitions>& forms, const std::uint64_t* key,
                              std::size_t words, const Aggregate& agg) {
  return forms[PartitionOf(key, words)].table->AddAggregate(key, agg);
}

bool PartitionedGroups::Spread() {
  spread_ = true;
  if (dense_size_ > 0) {
    return true;  // the array has no partitions
  }
  for (std::array<Form, kPartitions>* forms : {&narrow_forms_, &wide_forms_}) {
    Form& first = (*forms)[0];
    if (!first.table) {
      continue;
    }
    // Partition 0's groups are re-added from a fresh table 0. Each partition gets about
    // 1/kPartitions of them at once: room for that (and a quarter more) is made first, so
    // the tables do not double their way up from empty (a hint: refused by a tight
    // budget, the tables grow as they fill).
    std::shared_ptr<GroupTable> old = std::move(first.table);
    first.table = std::make_shared<GroupTable>(old->key_words(), budget_, old->times());
    const std::size_t share = old->size() / kPartitions + old->size() / (4 * kPartitions);
    for (Form& form : *forms) {
      if (form.table) {
        (void)form.table->Reserve(share);
      }
    }
    for (std::size_t group = 0; group < old->size(); ++group) {
      if (!AddTo(*forms, old->key(group), old->key_words(), old->aggregate(group))) {
        return false;
      }
    }
  }
  return true;
}

bool PartitionedGroups::MergePartition(PartitionedGroups& other, std::size_t partition) {
  if (dense_size_ > 0) {
    if (partition != 0 || other.dense_sums_.empty()) {
      return !other.dense_failed_;
    }
    if (!ReserveDense()) {
      return false;
    }
    for (std::size_t value = 0; value < dense_size_; ++value) {
      if (other.dense_used_[value] != 0) {
        MergeInto(dense_sums_[value], other.dense_sums_[value]);
        dense_used_[value] = 1;
      }
    }
    std::vector<Aggregate>().swap(other.dense_sums_);
    std::vector<std::uint8_t>().swap(other.dense_used_);
    other.budget_->Release(other.dense_reserved_);
    other.dense_reserved_ = 0;
    return true;
  }
  if (other.shares_) {
    return true;  // its groups are already in these tables
  }
  bool ok = true;
  if (narrow_) {
    ok &= narrow_forms_[partition].table->Merge(*other.narrow_forms_[partition].table);
    other.narrow_forms_[partition] = Form{};
  }
  ok &= wide_forms_[partition].table->Merge(*other.wide_forms_[partition].table);
  other.wide_forms_[partition] = Form{};
  return ok;
}

void PartitionedGroups::Presize(std::size_t groups) {
  const std::size_t now = size();
  if (!spread_ || dense_size_ > 0 || now == 0 || groups <= now) {
    return;
  }
  // Each form's share of the groups so far, split evenly over the partitions (the hash
  // spreads keys evenly; one partition's own count, early, is too few to go by).
  std::array<std::size_t, 2> form_groups{};
  for (std::size_t partition = 0; partition < kPartitions; ++partition) {
    std::unique_lock<std::mutex> held;
    if (locks_) {
      held = std::unique_lock<std::mutex>((*locks_)[partition]);
    }
    for (std::size_t idx = 0; idx < 2; ++idx) {
      const Form& form = idx == 0 ? narrow_forms_[partition] : wide_forms_[partition];
      form_groups[idx] += form.table ? form.table->size() : 0;
    }
  }
  std::vector<TableMemory> sized;
  for (std::size_t partition = 0; partition < kPartitions; ++partition) {
    std::unique_lock<std::mutex> held;
    if (locks_) {
      held = std::unique_lock<std::mutex>((*locks_)[partition]);
    }
    for (std::size_t idx = 0; idx < 2; ++idx) {
      Form& form = idx == 0 ? narrow_forms_[partition] : wide_forms_[partition];
      if (form.table && form_groups[idx] > 0) {
        const double share = static_cast<double>(form_groups[idx]) / static_cast<double>(now);
        // 2 % over the even split: partitions differ a little.
        if (form.table->Reserve(
                static_cast<std::size_t>(share * static_cast<double>(groups) * 1.02 / kPartitions) + 1)) {
          for (TableMemory& memory : form.table->memory()) {
            sized.push_back(std::move(memory));
          }
        }
      }
    }
  }
  // The new arrays are faulted in here, with no lock held, rather than page by page as
  // groups arrive, under a partition's lock: on this kind of guest a huge page costs a
  // millisecond or more to fault in, and the other threads waited for those locks (each
  // scan thread spent 3 of the 5-tuple's 7 s on 50 M flows waiting). The table may be
  // used meanwhile.
  for (const TableMemory& memory : sized) {
    PopulateTableMemory(memory.memory.get(), memory.bytes);
  }
}

std::size_t PartitionedGroups::bytes_per_group() const {
  std::size_t most = 0;
  for (const Form* form : {&narrow_forms_[0], &wide_forms_[0]}) {
    if (form->table) {  // every partition's table has the same width
      most = std::max(most, form->table->bytes_per_group());
    }
  }
  return most;
}

std::size_t PartitionedGroups::size() const {
  std::size_t groups = 0;
  for (const std::uint8_t used : dense_used_) {
    groups += used;
  }
  for (std::size_t partition = 0; partition < kPartitions; ++partition) {
    std::unique_lock<std::mutex> held;
    if (locks_) {
      held = std::unique_lock<std::mutex>((*locks_)[partition]);
    }
    if (narrow_forms_[partition].table) {
      groups += narrow_forms_[partition].table->size();
    }
    if (wide_forms_[partition].table) {
      groups += wide_forms_[partition].table->size();
    }
  }
  return groups;
}

std::vector<PartitionedGroups::Candidate> PartitionedGroups::TopOfPartition(std::size_t partition,
                                                                            OrderBy order,
                                                                            std::size_t n) const {
  std::vector<Candidate> out;
  if (dense_size_ > 0) {
    if (partition != 0) {
      return out;
    }
    std::vector<std::uint32_t> values;
    for (std::size_t value = 0; value < dense_used_.size(); ++value) {
      if (dense_used_[value] != 0) {
        values.push_back(static_cast<std::uint32_t>(value));
      }
    }
    // Ties by the key: the value, ascending.
    auto before = [&](std::uint32_t a, std::uint32_t b) {
      const int cmp = CompareAggregates(dense_sums_[a], dense_sums_[b], order);
      return cmp != 0 ? cmp < 0 : a < b;
    };
    if (n == 0 || n >= values.size()) {
      std::sort(values.begin(), values.end(), before);
    } else {
      std::partial_sort(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(n), values.end(),
                        before);
      values.resize(n);
    }
    for (const std::uint32_t value : values) {
      out.push_back({{value}, dense_sums_[value]});
    }
    return out;
  }
  const std::size_t words = codec_->words();
  if (narrow_ && narrow_forms_[partition].table) {
    const GroupTable& table = *narrow_forms_[partition].table;
    for (const std::uint32_t group : TopGroups(table, order, n)) {
      Candidate candidate;
      candidate.key.resize(std::max<std::size_t>(1, words));
      codec_->Widen(table.key(group), candidate.key.data());
      candidate.aggregate = table.aggregate(group);
      out.push_back(std::move(candidate));
    }
  }
  if (wide_forms_[partition].table) {
    const GroupTable& table = *wide_forms_[partition].table;
    for (const std::uint32_t group : TopGroups(table, order, n)) {
      Candidate candidate;
      candidate.key.assign(table.key(group), table.key(group) + table.key_words());
      candidate.aggregate = table.aggregate(group);
      out.push_back(std::move(candidate));
    }
  }
  return out;
}

std::vector<GroupRow> TopRows(std::vector<PartitionedGroups::Candidate> candidates,
                              const KeyCodec& codec, OrderBy order, std::size_t n) {
  auto before = [order](const PartitionedGroups::Candidate& a, const PartitionedGroups::Candidate& b) {
    const int cmp = CompareAggregates(a.aggregate, b.aggregate, order);
    if (cmp != 0) {
      return cmp < 0;
    }
    return a.key < b.key;
  };
  if (n == 0 || n >= candidates.size()) {
    std::sort(candidates.begin(), candidates.end(), before);
  } else {
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n),
                      candidates.end(), before);
    candidates.resize(n);
  }
  std::vector<GroupRow> rows;
  rows.reserve(candidates.size());
  for (const PartitionedGroups::Candidate& candidate : candidates) {
    rows.push_back({codec.Decode(candidate.key.data()), ToCounters(candidate.aggregate)});
  }
  return rows;
}

}  // namespace sluice::query::internal
