// SPDX-License-Identifier: Apache-2.0

#include "decode/netflow_v9.h"

#include <utility>

#include "common/byte_order.h"
#include "decode/template_decoder.h"

namespace sluice::decode {
namespace {

// RFC 3954 section 5.1, packet header, 20 bytes:
//   0 version(2) = 9   2 count(2): records (template, options template, data) in the
//   packet, unreliable in practice and not used   4 sysUpTime(4, ms)   8 unix_secs(4)
//  12 package_sequence(4): packets of this source id   16 source_id(4)
constexpr std::size_t kHeaderSize = 20;
// RFC 3954 section 5.2: every FlowSet starts with flowset_id(2) and length(2); the length
// covers the header, the records and the padding to a 4-byte boundary.
constexpr std::size_t kSetHeaderSize = 4;
constexpr std::uint16_t kTemplateFlowSetId = 0;
constexpr std::uint16_t kOptionsTemplateFlowSetId = 1;
constexpr std::uint16_t kMinDataFlowSetId = 256;

// RFC 3954 section 5.2, template FlowSet: records of template_id(2) field_count(2), then
// field_count * (field_type(2), field_length(2)).
void DecodeTemplateSet(DecodeContext& ctx, std::uint32_t source_id,
                       std::span<const std::uint8_t> body, std::size_t offset,
                       SoftErrors& errors) {
  std::size_t pos = 0;
  while (body.size() - pos >= 4) {
    const std::uint16_t template_id = LoadBe16(body.data() + pos);
    const std::uint16_t field_count = LoadBe16(body.data() + pos + 2);
    if (field_count == 0) {
      if (!AllZero(body.subspan(pos))) {
        errors.Add(DecodeErrorKind::kBadTemplate, offset + pos);
      }
      return;  // padding, or a record we cannot size
    }
    const std::size_t record_length = 4 + std::size_t{field_count} * 4;
    if (body.size() - pos < record_length) {
      errors.Add(DecodeErrorKind::kTruncated, offset + pos);
      return;
    }
    if (template_id < kMinDataFlowSetId) {
      errors.Add(DecodeErrorKind::kBadTemplate, offset + pos);
    } else if (field_count > ctx.options.max_fields_per_template) {
      ++ctx.exporter.counters.templates_refused;
      errors.Add(DecodeErrorKind::kTooManyFields, offset + pos);
    } else {
      Template tmpl;
      tmpl.family = TemplateFamily::kNetflowV9;
      tmpl.domain = source_id;
      tmpl.id = template_id;
      tmpl.fields.resize(field_count);
      const std::uint8_t* field = body.data() + pos + 4;
      for (FieldSpec& spec : tmpl.fields) {
        spec.ie = LoadBe16(field);
        spec.length = LoadBe16(field + 2);
        field += 4;
      }
      AcceptTemplate(ctx, std::move(tmpl), offset + pos, errors);
    }
    pos += record_length;
  }
}

// RFC 3954 section 6.1, options template FlowSet: records of template_id(2)
// option_scope_length(2, bytes) option_length(2, bytes), then the scope fields and the
// option fields as (type(2), length(2)); padding at the end of the FlowSet.
void DecodeOptionsTemplateSet(DecodeContext& ctx, std::uint32_t source_id,
                              std::span<const std::uint8_t> body, std::size_t offset,
                              SoftErrors& errors) {
  std::size_t pos = 0;
  while (body.size() - pos >= 6) {
    const std::uint16_t template_id = LoadBe16(body.data() + pos);
    const std::uint16_t scope_length = LoadBe16(body.data() + pos + 2);
    const std::uint16_t option_length = LoadBe16(body.data() + pos + 4);
    if (template_id == 0 && AllZero(body.subspan(pos))) {
      return;  // padding
    }
    if (scope_length % 4 != 0 || option_length % 4 != 0 || scope_length + option_length == 0) {
      errors.Add(DecodeErrorKind::kBadTemplate, offset + pos);
      return;
    }
    const std::size_t record_length = 6 + std::size_t{scope_length} + option_length;
    if (body.size() - pos < record_length) {
      errors.Add(DecodeErrorKind::kTruncated, offset + pos);
      return;
    }
    const std::size_t field_count = (std::size_t{scope_length} + option_length) / 4;
    if (template_id < kMinDataFlowSetId) {
      errors.Add(DecodeErrorKind::kBadTemplate, offset + pos);
    } else if (field_count > ctx.options.max_fields_per_template) {
      ++ctx.exporter.counters.templates_refused;
      errors.Add(DecodeErrorKind::kTooManyFields, offset + pos);
    } else {
      Template tmpl;
      tmpl.family = TemplateFamily::kNetflowV9;
      tmpl.domain = source_id;
      tmpl.id = template_id;
      tmpl.is_options = true;
      tmpl.scope_count = static_cast<std::uint16_t>(scope_length / 4);
      tmpl.fields.resize(field_count);
      const std::uint8_t* field = body.data() + pos + 6;
      for (FieldSpec& spec : tmpl.fields) {
        spec.ie = LoadBe16(field);
        spec.length = LoadBe16(field + 2);
        field += 4;
      }
      AcceptTemplate(ctx, std::move(tmpl), offset + pos, errors);
    }
    pos += record_length;
  }
}

}  // namespace

DecodeStatus DecodeNetflowV9(DecodeContext& ctx) {
  const std::span<const std::uint8_t> data = ctx.datagram.payload;
  if (data.size() < kHeaderSize) {
    return Fail(DecodeErrorKind::kTruncated, 0);
  }
  const std::uint8_t* header = data.data();
  ExportHeader export_header;
  export_header.family = TemplateFamily::kNetflowV9;
  export_header.sys_uptime_ms = LoadBe32(header + 4);
  export_header.export_ms = std::int64_t{LoadBe32(header + 8)} * 1000;
  const std::uint32_t sequence = LoadBe32(header + 12);
  export_header.domain = LoadBe32(header + 16);
  // package_sequence counts export packets per source id (RFC 3954 section 5.1).
  ctx.exporter.ObserveSequence(Protocol::kNetflowV9, export_header.domain, sequence, 1);

  SoftErrors errors(ctx.exporter.counters);
  std::size_t pos = kHeaderSize;
  while (pos < data.size()) {
    const std::span<const std::uint8_t> rest = data.subspan(pos);
    if (rest.size() < kSetHeaderSize) {
      if (!AllZero(rest)) {
        errors.Add(DecodeErrorKind::kTruncated, pos);
      }
      break;
    }
    const std::uint16_t set_id = LoadBe16(rest.data());
    const std::uint16_t set_length = LoadBe16(rest.data() + 2);
    if (set_length < kSetHeaderSize) {
      // A zero-filled tail (some exporters pad the datagram) ends the packet quietly;
      // anything else cannot be walked past.
      if (!AllZero(rest)) {
        errors.Add(DecodeErrorKind::kBadLength, pos);
      }
      break;
    }
    if (set_length > rest.size()) {
      errors.Add(DecodeErrorKind::kTruncated, pos);
      break;
    }
    const std::span<const std::uint8_t> body = rest.subspan(kSetHeaderSize, set_length - kSetHeaderSize);
    const std::size_t body_offset = pos + kSetHeaderSize;
    if (set_id == kTemplateFlowSetId) {
      DecodeTemplateSet(ctx, export_header.domain, body, body_offset, errors);
    } else if (set_id == kOptionsTemplateFlowSetId) {
      DecodeOptionsTemplateSet(ctx, export_header.domain, body, body_offset, errors);
    } else if (set_id < kMinDataFlowSetId) {
      errors.Add(DecodeErrorKind::kBadSetId, pos);  // reserved (RFC 3954 section 5.3)
    } else {
      (void)DecodeDataSet(ctx, export_header, set_id, body, body_offset, errors);
    }
    pos += set_length;
  }
  return errors.Status();
}

}  // namespace sluice::decode
