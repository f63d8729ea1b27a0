// SPDX-License-Identifier: Apache-2.0

#include "decode/template_cache.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/byte_order.h"
#include "decode/ie_map.h"
#include "decode/sampler_table.h"

namespace sluice::decode {
namespace {

constexpr std::uint16_t kTemplateFormatVersion = 1;
constexpr std::uint16_t kSamplerFormatVersion = 1;

void PutU8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

void PutU16(std::string& out, std::uint16_t v) {
  std::uint8_t b[2];
  StoreBe16(b, v);
  out.append(reinterpret_cast<const char*>(b), sizeof b);
}

void PutU32(std::string& out, std::uint32_t v) {
  std::uint8_t b[4];
  StoreBe32(b, v);
  out.append(reinterpret_cast<const char*>(b), sizeof b);
}

void PutI64(std::string& out, std::int64_t v) {
  std::uint8_t b[8];
  StoreBe64(b, static_cast<std::uint64_t>(v));
  out.append(reinterpret_cast<const char*>(b), sizeof b);
}

// Bounds-checked reader over a state file: every Get fails once the input runs out.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  bool Has(std::size_t n) const { return bytes_.size() - pos_ >= n; }

  bool U8(std::uint8_t& v) {
    if (!Has(1)) {
      return false;
    }
    v = bytes_[pos_++];
    return true;
  }

  bool U16(std::uint16_t& v) {
    if (!Has(2)) {
      return false;
    }
    v = LoadBe16(bytes_.data() + pos_);
    pos_ += 2;
    return true;
  }

  bool U32(std::uint32_t& v) {
    if (!Has(4)) {
      return false;
    }
    v = LoadBe32(bytes_.data() + pos_);
    pos_ += 4;
    return true;
  }

  bool I64(std::int64_t& v) {
    if (!Has(8)) {
      return false;
    }
    v = static_cast<std::int64_t>(LoadBe64(bytes_.data() + pos_));
    pos_ += 8;
    return true;
  }

  bool Magic(const char (&magic)[5]) {
    if (!Has(4) || std::memcmp(bytes_.data() + pos_, magic, 4) != 0) {
      return false;
    }
    pos_ += 4;
    return true;
  }

  bool AtEnd() const { return pos_ == bytes_.size(); }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

Status Corrupt(const char* what) {
  return MakeError(ErrorCode::kCorruption, std::string("template state: ") + what);
}

}  // namespace

TemplateCache::AddOutcome TemplateCache::Add(Template tmpl) {
  AddOutcome outcome;
  if (tmpl.fields.size() > options_->max_fields_per_template) {
    outcome.error = DecodeErrorKind::kTooManyFields;
    return outcome;
  }
  const std::uint64_t key = Key(tmpl.family, tmpl.domain, tmpl.id);
  auto it = templates_.find(key);
  if (it != templates_.end()) {
    Template& existing = *it->second;
    if (existing.is_options == tmpl.is_options && existing.scope_count == tmpl.scope_count &&
        existing.fields == tmpl.fields) {
      existing.last_seen = std::max(existing.last_seen, tmpl.last_seen);
      outcome.result = AddResult::kRefreshed;
      outcome.added = &existing;
      return outcome;
    }
  } else if (templates_.size() >= options_->max_templates_per_exporter) {
    outcome.error = DecodeErrorKind::kTooManyTemplates;
    return outcome;
  }
  if (const auto error = CompileTemplate(tmpl)) {
    outcome.error = *error;
    return outcome;
  }
  auto compiled = std::make_unique<Template>(std::move(tmpl));
  outcome.added = compiled.get();
  if (it != templates_.end()) {
    it->second = std::move(compiled);
    outcome.result = AddResult::kRedefined;
  } else {
    templates_.emplace(key, std::move(compiled));
    outcome.result = AddResult::kAdded;
  }
  return outcome;
}

std::size_t TemplateCache::Withdraw(TemplateFamily family, std::uint32_t domain,
                                    std::uint16_t id) {
  return templates_.erase(Key(family, domain, id));
}

std::size_t TemplateCache::WithdrawAll(TemplateFamily family, std::uint32_t domain,
                                       bool options) {
  return std::erase_if(templates_, [&](const auto& entry) {
    const Template& tmpl = *entry.second;
    return tmpl.family == family && tmpl.domain == domain && tmpl.is_options == options;
  });
}

TemplateCache::ExpireCounts TemplateCache::Expire(UnixMillis now) {
  ExpireCounts counts;
  const UnixMillis lifetime = options_->template_lifetime_ms;
  counts.templates = std::erase_if(templates_, [&](const auto& entry) {
    return now - entry.second->last_seen > lifetime;
  });
  const UnixMillis pending_lifetime = std::min(lifetime, kPendingLifetimeMs);
  const std::size_t before = pending_.size();
  std::erase_if(pending_, [&](const PendingSet& set) {
    if (now - set.time_received > pending_lifetime) {
      pending_bytes_ -= set.body.size();
      return true;
    }
    return false;
  });
  counts.pending_sets = before - pending_.size();
  return counts;
}

std::size_t TemplateCache::HoldPending(PendingSet set) {
  const std::size_t max_sets = options_->max_pending_sets_per_exporter;
  const std::size_t max_bytes = options_->max_pending_bytes_per_exporter;
  if (max_sets == 0 || set.body.size() > max_bytes) {
    return 1;
  }
  std::size_t dropped = 0;
  while (!pending_.empty() &&
         (pending_.size() >= max_sets || pending_bytes_ + set.body.size() > max_bytes)) {
    pending_bytes_ -= pending_.front().body.size();
    pending_.pop_front();
    ++dropped;
  }
  pending_bytes_ += set.body.size();
  pending_.push_back(std::move(set));
  return dropped;
}

std::vector<PendingSet> TemplateCache::TakePending(TemplateFamily family, std::uint32_t domain,
                                                   std::uint16_t id) {
  std::vector<PendingSet> taken;
  if (pending_.empty()) {
    return taken;
  }
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->header.family == family && it->header.domain == domain && it->template_id == id) {
      pending_bytes_ -= it->body.size();
      taken.push_back(std::move(*it));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  return taken;
}

void TemplateCache::SetSystemInit(std::uint32_t domain, std::int64_t millis) {
  auto it = system_init_.find(domain);
  if (it != system_init_.end()) {
    it->second = millis;
  } else if (system_init_.size() < kMaxSystemInitDomains) {
    system_init_.emplace(domain, millis);
  }
}

void TemplateCache::Serialize(std::string& out) const {
  out.append("SLTC");
  PutU16(out, kTemplateFormatVersion);
  PutU16(out, 0);
  PutU32(out, static_cast<std::uint32_t>(templates_.size()));
  for (const auto& [key, tmpl] : templates_) {
    PutU8(out, static_cast<std::uint8_t>(tmpl->family));
    PutU8(out, tmpl->is_options ? 1 : 0);
    PutU16(out, tmpl->id);
    PutU32(out, tmpl->domain);
    PutU16(out, tmpl->scope_count);
    PutU16(out, static_cast<std::uint16_t>(tmpl->fields.size()));
    PutI64(out, tmpl->last_seen);
    for (const FieldSpec& field : tmpl->fields) {
      PutU16(out, field.ie);
      PutU16(out, field.length);
      PutU32(out, field.pen);
    }
  }
  PutU32(out, static_cast<std::uint32_t>(system_init_.size()));
  for (const auto& [domain, millis] : system_init_) {
    PutU32(out, domain);
    PutI64(out, millis);
  }
}

Status TemplateCache::Deserialize(std::span<const std::uint8_t> bytes) {
  Reader in(bytes);
  std::uint16_t version = 0;
  std::uint16_t reserved = 0;
  if (!in.Magic("SLTC") || !in.U16(version) || !in.U16(reserved)) {
    return Corrupt("bad header");
  }
  if (version != kTemplateFormatVersion) {
    return MakeError(ErrorCode::kUnsupported, "template state: unknown version");
  }
  std::uint32_t count = 0;
  if (!in.U32(count)) {
    return Corrupt("truncated");
  }
  // Each template takes at least 20 bytes: a count beyond that is a lie.
  if (!in.Has(std::size_t{count} * 20)) {
    return Corrupt("template count exceeds the data");
  }
  std::unordered_map<std::uint64_t, std::unique_ptr<Template>> loaded;
  for (std::uint32_t tmpl_idx = 0; tmpl_idx < count; ++tmpl_idx) {
    Template tmpl;
    std::uint8_t family = 0;
    std::uint8_t is_options = 0;
    std::uint16_t field_count = 0;
    if (!in.U8(family) || !in.U8(is_options) || !in.U16(tmpl.id) || !in.U32(tmpl.domain) ||
        !in.U16(tmpl.scope_count) || !in.U16(field_count) || !in.I64(tmpl.last_seen)) {
      return Corrupt("truncated template");
    }
    if (family > 1 || is_options > 1 || tmpl.scope_count > field_count || field_count == 0 ||
        !in.Has(std::size_t{field_count} * 8)) {
      return Corrupt("bad template");
    }
    tmpl.family = static_cast<TemplateFamily>(family);
    tmpl.is_options = is_options == 1;
    tmpl.fields.resize(field_count);
    for (FieldSpec& field : tmpl.fields) {
      (void)(in.U16(field.ie) && in.U16(field.length) && in.U32(field.pen));
    }
    if (field_count > options_->max_fields_per_template ||
        loaded.size() >= options_->max_templates_per_exporter) {
      continue;  // over the current limits: skipped
    }
    if (CompileTemplate(tmpl)) {
      return Corrupt("template does not compile");
    }
    const std::uint64_t key = Key(tmpl.family, tmpl.domain, tmpl.id);
    loaded[key] = std::make_unique<Template>(std::move(tmpl));
  }
  std::uint32_t init_count = 0;
  if (!in.U32(init_count) || !in.Has(std::size_t{init_count} * 12)) {
    return Corrupt("truncated system init table");
  }
  std::unordered_map<std::uint32_t, std::int64_t> system_init;
  for (std::uint32_t entry_idx = 0; entry_idx < init_count; ++entry_idx) {
    std::uint32_t domain = 0;
    std::int64_t millis = 0;
    (void)(in.U32(domain) && in.I64(millis));
    if (system_init.size() < kMaxSystemInitDomains) {
      system_init[domain] = millis;
    }
  }
  if (!in.AtEnd()) {
    return Corrupt("trailing bytes");
  }
  templates_ = std::move(loaded);
  system_init_ = std::move(system_init);
  return OkStatus();
}

void SerializeSamplers(const SamplerTable& samplers, std::string& out) {
  out.append("SLSM");
  PutU16(out, kSamplerFormatVersion);
  PutU16(out, 0);
  PutU32(out, static_cast<std::uint32_t>(samplers.size()));
  samplers.ForEach([&out](std::uint32_t domain, std::uint32_t sampler_id, std::uint32_t rate) {
    PutU32(out, domain);
    PutU32(out, sampler_id);
    PutU32(out, rate);
  });
}

Status DeserializeSamplers(std::span<const std::uint8_t> bytes, SamplerTable& samplers) {
  Reader in(bytes);
  std::uint16_t version = 0;
  std::uint16_t reserved = 0;
  std::uint32_t count = 0;
  if (!in.Magic("SLSM") || !in.U16(version) || !in.U16(reserved) || !in.U32(count)) {
    return MakeError(ErrorCode::kCorruption, "sampler state: bad header");
  }
  if (version != kSamplerFormatVersion) {
    return MakeError(ErrorCode::kUnsupported, "sampler state: unknown version");
  }
  if (!in.Has(std::size_t{count} * 12)) {
    return MakeError(ErrorCode::kCorruption, "sampler state: truncated");
  }
  Reader check = in;
  for (std::uint32_t entry_idx = 0; entry_idx < count; ++entry_idx) {
    std::uint32_t ignored = 0;
    (void)(check.U32(ignored) && check.U32(ignored) && check.U32(ignored));
  }
  if (!check.AtEnd()) {
    return MakeError(ErrorCode::kCorruption, "sampler state: trailing bytes");
  }
  for (std::uint32_t entry_idx = 0; entry_idx < count; ++entry_idx) {
    std::uint32_t domain = 0;
    std::uint32_t sampler_id = 0;
    std::uint32_t rate = 0;
    (void)(in.U32(domain) && in.U32(sampler_id) && in.U32(rate));
    if (rate != 0) {
      (void)samplers.Set(domain, sampler_id, rate);
    }
  }
  return OkStatus();
}

}  // namespace sluice::decode
