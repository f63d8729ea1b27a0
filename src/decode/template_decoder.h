// SPDX-License-Identifier: Apache-2.0
// The template-record engine shared by the NetFlow v9 and IPFIX decoders: accepts
// templates into the exporter's cache, decodes data sets with a compiled template (or
// holds them until their template arrives), and turns options records into sampler,
// interface and system-init state.

#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "decode/compiled_template.h"
#include "decode/decode_context.h"

namespace sluice::decode {

// Collects the errors of one datagram that do not stop it (a bad set among good ones).
// The first is returned to the Decoder, which counts it; the others are counted here,
// so each error is counted exactly once.
class SoftErrors {
 public:
  explicit SoftErrors(ExporterCounters& counters) : counters_(&counters) {}

  void Add(DecodeErrorKind kind, std::size_t offset) {
    if (!first_) {
      first_ = DecodeError{kind, static_cast<std::uint32_t>(offset)};
    } else {
      counters_->CountError(kind);
    }
  }

  // The datagram's outcome: OK, or the first error.
  DecodeStatus Status() const {
    if (first_) {
      return tl::unexpected<DecodeError>(*first_);
    }
    return {};
  }

 private:
  ExporterCounters* counters_;
  std::optional<DecodeError> first_;
};

// Adds (or refreshes, redefines) a template announced at `offset`, counting it, and
// decodes any held data sets that were waiting for it.
void AcceptTemplate(DecodeContext& ctx, Template tmpl, std::size_t offset, SoftErrors& errors);

// Decodes the records of a data set (`body`: the set without its 4-byte header, padding
// included; it starts at `offset` in the datagram) for template id `template_id`. If the
// template is unknown the set is counted and held. Returns the data records decoded
// (flow and options records; a biflow record counts once), for IPFIX sequence numbers.
std::uint32_t DecodeDataSet(DecodeContext& ctx, const ExportHeader& header,
                            std::uint16_t template_id, std::span<const std::uint8_t> body,
                            std::size_t offset, SoftErrors& errors);

// True if every byte is zero (trailing padding, e.g. a zero-filled datagram tail).
bool AllZero(std::span<const std::uint8_t> bytes);

}  // namespace sluice::decode
