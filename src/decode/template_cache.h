// SPDX-License-Identifier: Apache-2.0
// TemplateCache: NetFlow v9 and IPFIX templates of one exporter, per observation domain
// (v9 source id), compiled when announced; the data sets that arrived before their
// template; and the per-domain system init time (IE 160) learnt from options data.
//
// Bounded: at most DecoderOptions::max_templates_per_exporter templates (further new
// ones are refused), max_pending_sets_per_exporter / max_pending_bytes_per_exporter held
// sets (the oldest are dropped first).
//
// Ownership: owned by ExporterState. Thread-safety: none (one exporter, one worker).
// Template pointers stay valid until that template is withdrawn, redefined or expired.

#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "decode/compiled_template.h"
#include "decode/decode_error.h"
#include "decode/decoder_options.h"

namespace sluice::decode {

class SamplerTable;

// A data set held until its template arrives: kLoadSlack zero bytes, then the set body
// (records and padding, no set header); and the export header fields needed to decode it.
struct PendingSet {
  ExportHeader header;
  std::uint16_t template_id = 0;
  UnixMillis time_received = 0;
  std::vector<std::uint8_t> body;
};

class TemplateCache {
 public:
  explicit TemplateCache(const DecoderOptions& options) : options_(&options) {}

  TemplateCache(const TemplateCache&) = delete;
  TemplateCache& operator=(const TemplateCache&) = delete;

  // Templates held (data and options, every domain and family).
  std::size_t size() const { return templates_.size(); }

  enum class AddResult : std::uint8_t {
    kAdded,      // a new template
    kRefreshed,  // the same definition again: only its age is reset
    kRedefined,  // same id, new definition: replaced
    kRefused,    // see `error`
  };

  struct AddOutcome {
    AddResult result = AddResult::kRefused;
    DecodeErrorKind error = DecodeErrorKind::kBadTemplate;  // when refused
    const Template* added = nullptr;                          // when not refused
  };

  // Adds, refreshes or redefines `tmpl` (compiling it). Refuses it with kTooManyFields
  // over max_fields_per_template, kTooManyTemplates when the cache is full and the id is
  // new, kBadTemplate when it cannot be compiled.
  AddOutcome Add(Template tmpl);

  const Template* Find(TemplateFamily family, std::uint32_t domain, std::uint16_t id) const {
    auto it = templates_.find(Key(family, domain, id));
    return it == templates_.end() ? nullptr : it->second.get();
  }

  // Drops one template; returns 1 if it existed.
  std::size_t Withdraw(TemplateFamily family, std::uint32_t domain, std::uint16_t id);

  // Drops every data (or options) template of `domain` (RFC 7011 8.1 all-withdrawal).
  std::size_t WithdrawAll(TemplateFamily family, std::uint32_t domain, bool options);

  struct ExpireCounts {
    std::size_t templates = 0;
    std::size_t pending_sets = 0;
  };

  // Drops templates not (re)announced within options.template_lifetime_ms of `now`, and
  // held sets older than kPendingLifetimeMs (or the template lifetime, if shorter).
  ExpireCounts Expire(UnixMillis now);

  // Holds a set whose template is unknown. Returns how many held sets were dropped to
  // make room (including this one if it can never fit).
  std::size_t HoldPending(PendingSet set);

  // Removes and returns the held sets waiting for this template, oldest first.
  std::vector<PendingSet> TakePending(TemplateFamily family, std::uint32_t domain,
                                      std::uint16_t id);

  std::size_t pending_sets() const { return pending_.size(); }

  std::size_t pending_bytes() const { return pending_bytes_; }

  // IPFIX systemInitTimeMilliseconds of a domain, learnt from options data; 0 if unknown.
  std::int64_t SystemInit(std::uint32_t domain) const {
    if (system_init_.empty()) {
      return 0;
    }
    auto it = system_init_.find(domain);
    return it == system_init_.end() ? 0 : it->second;
  }

  void SetSystemInit(std::uint32_t domain, std::int64_t millis);

  // Visits every template (for reports).
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [key, tmpl] : templates_) {
      fn(*tmpl);
    }
  }

  // State file support. Format (all integers big-endian), version 1:
  //   "SLTC" u16 version u16 reserved
  //   u32 template_count, then per template:
  //     u8 family, u8 is_options, u16 id, u32 domain, u16 scope_count, u16 field_count,
  //     i64 last_seen, field_count * (u16 ie, u16 length, u32 pen)
  //   u32 system_init_count, then per entry: u32 domain, i64 millis
  // Appends the encoding to `out`.
  void Serialize(std::string& out) const;

  // Replaces the templates and system init times with those of `bytes` (as written by
  // Serialize()). On error the cache is left unchanged. Templates over the current
  // limits are skipped. Held sets are kept.
  Status Deserialize(std::span<const std::uint8_t> bytes);

  // Held sets older than this are dropped by Expire().
  static constexpr UnixMillis kPendingLifetimeMs = 5 * 60 * 1000;
  // Domains whose system init time is remembered.
  static constexpr std::size_t kMaxSystemInitDomains = 1024;

 private:
  static std::uint64_t Key(TemplateFamily family, std::uint32_t domain, std::uint16_t id) {
    return (std::uint64_t{static_cast<std::uint8_t>(family)} << 48) |
           (std::uint64_t{domain} << 16) | id;
  }

  const DecoderOptions* options_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Template>> templates_;
  std::deque<PendingSet> pending_;
  std::size_t pending_bytes_ = 0;
  std::unordered_map<std::uint32_t, std::int64_t> system_init_;
};

// Sampler table state file support, same conventions: "SLSM" u16 version u16 reserved,
// u32 count, count * (u32 domain, u32 sampler_id, u32 rate).
void SerializeSamplers(const SamplerTable& samplers, std::string& out);

// Adds the entries of `bytes` to `samplers`. On a format error nothing is added.
Status DeserializeSamplers(std::span<const std::uint8_t> bytes, SamplerTable& samplers);

}  // namespace sluice::decode
