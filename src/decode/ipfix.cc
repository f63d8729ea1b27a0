// SPDX-License-Identifier: Apache-2.0

#include "decode/ipfix.h"

#include <utility>

#include "common/byte_order.h"
#include "decode/template_decoder.h"

namespace sluice::decode {
namespace {

// RFC 7011 section 3.1, message header, 16 bytes:
//   0 version(2) = 10   2 length(2): the whole message, header included
//   4 export_time(4, Unix seconds)   8 sequence_number(4): data records sent in this
//     domain before this message   12 observation_domain_id(4)
constexpr std::size_t kHeaderSize = 16;
// RFC 7011 section 3.3.2, set header: set_id(2) length(2, header and padding included).
constexpr std::size_t kSetHeaderSize = 4;
constexpr std::uint16_t kTemplateSetId = 2;
constexpr std::uint16_t kOptionsTemplateSetId = 3;
constexpr std::uint16_t kMinDataSetId = 256;

// RFC 7011 sections 3.4.1 (template record: template_id(2) field_count(2)), 3.4.2.2
// (options template record: template_id(2) field_count(2) scope_field_count(2)) and
// 3.2 (field specifier: ie(2, bit 15 = enterprise) length(2) [enterprise_number(4)]).
// Section 8.1: a record with field count 0 withdraws its template; template id = set id
// withdraws every (options) template of the domain.
void DecodeTemplateSet(DecodeContext& ctx, std::uint32_t domain, bool options,
                       std::uint16_t set_id, std::span<const std::uint8_t> body,
                       std::size_t offset, SoftErrors& errors) {
  TemplateCache& cache = ctx.exporter.templates;
  const std::size_t record_header = options ? 6 : 4;
  std::size_t pos = 0;
  while (body.size() - pos >= 4) {
    const std::uint16_t template_id = LoadBe16(body.data() + pos);
    const std::uint16_t field_count = LoadBe16(body.data() + pos + 2);
    if (field_count == 0) {
      if (template_id == 0 && AllZero(body.subspan(pos))) {
        return;  // padding
      }
      std::size_t withdrawn = 0;
      if (template_id == set_id) {
        withdrawn = cache.WithdrawAll(TemplateFamily::kIpfix, domain, options);
      } else if (template_id >= kMinDataSetId) {
        withdrawn = cache.Withdraw(TemplateFamily::kIpfix, domain, template_id);
      } else {
        errors.Add(DecodeErrorKind::kBadTemplate, offset + pos);
      }
      ctx.exporter.counters.templates_withdrawn += withdrawn;
      pos += 4;
      continue;
    }
    if (body.size() - pos < record_header) {
      errors.Add(DecodeErrorKind::kTruncated, offset + pos);
      return;
    }
    const std::uint16_t scope_count = options ? LoadBe16(body.data() + pos + 4) : 0;
    // Walk the field specifiers first: the record's length depends on them.
    std::size_t end = pos + record_header;
    bool truncated = false;
    for (std::uint16_t field_idx = 0; field_idx < field_count; ++field_idx) {
      if (body.size() - end < 4) {
        truncated = true;
        break;
      }
      const bool enterprise = (LoadBe16(body.data() + end) & 0x8000) != 0;
      end += 4;
      if (enterprise) {
        if (body.size() - end < 4) {
          truncated = true;
          break;
        }
        end += 4;
      }
    }
    if (truncated) {
      errors.Add(DecodeErrorKind::kTruncated, offset + pos);
      return;
    }
    if (template_id < kMinDataSetId || scope_count > field_count) {
      errors.Add(DecodeErrorKind::kBadTemplate, offset + pos);
    } else if (field_count > ctx.options.max_fields_per_template) {
      ++ctx.exporter.counters.templates_refused;
      errors.Add(DecodeErrorKind::kTooManyFields, offset + pos);
    } else {
      Template tmpl;
      tmpl.family = TemplateFamily::kIpfix;
      tmpl.domain = domain;
      tmpl.id = template_id;
      tmpl.is_options = options;
      tmpl.scope_count = scope_count;
      tmpl.fields.resize(field_count);
      const std::uint8_t* field = body.data() + pos + record_header;
      for (FieldSpec& spec : tmpl.fields) {
        const std::uint16_t ie = LoadBe16(field);
        spec.ie = ie & 0x7FFF;
        spec.length = LoadBe16(field + 2);
        field += 4;
        if ((ie & 0x8000) != 0) {
          spec.pen = LoadBe32(field);
          field += 4;
        }
      }
      AcceptTemplate(ctx, std::move(tmpl), offset + pos, errors);
    }
    pos = end;
  }
}

// Decodes one message (`message` spans the message as its header sizes it; it starts
// at `offset` in the datagram). `datagram_rest` is the datagram from the same start: a
// last set that runs past the message length but not past the datagram (some exporters
// miscount the header length) is decoded from it.
void DecodeMessage(DecodeContext& ctx, std::span<const std::uint8_t> message,
                   std::span<const std::uint8_t> datagram_rest, std::size_t offset,
                   SoftErrors& errors) {
  const std::uint8_t* header = message.data();
  ExportHeader export_header;
  export_header.family = TemplateFamily::kIpfix;
  export_header.export_ms = std::int64_t{LoadBe32(header + 4)} * 1000;
  const std::uint32_t sequence = LoadBe32(header + 8);
  export_header.domain = LoadBe32(header + 12);

  std::uint32_t data_records = 0;
  std::size_t pos = kHeaderSize;
  while (pos < message.size()) {
    const std::span<const std::uint8_t> rest = message.subspan(pos);
    if (rest.size() < kSetHeaderSize) {
      if (!AllZero(rest)) {
        errors.Add(DecodeErrorKind::kTruncated, offset + pos);
      }
      break;
    }
    const std::uint16_t set_id = LoadBe16(rest.data());
    const std::uint16_t set_length = LoadBe16(rest.data() + 2);
    if (set_length < kSetHeaderSize) {
      if (!AllZero(rest)) {
        errors.Add(DecodeErrorKind::kBadLength, offset + pos);
      }
      break;
    }
    std::span<const std::uint8_t> set = rest;
    if (set_length > rest.size()) {
      if (set_length > datagram_rest.size() - pos) {
        errors.Add(DecodeErrorKind::kTruncated, offset + pos);
        break;
      }
      set = datagram_rest.subspan(pos);
    }
    const std::span<const std::uint8_t> body = set.subspan(kSetHeaderSize, set_length - kSetHeaderSize);
    const std::size_t body_offset = offset + pos + kSetHeaderSize;
    if (set_id == kTemplateSetId || set_id == kOptionsTemplateSetId) {
      DecodeTemplateSet(ctx, export_header.domain, set_id == kOptionsTemplateSetId, set_id, body,
                        body_offset, errors);
    } else if (set_id < kMinDataSetId) {
      errors.Add(DecodeErrorKind::kBadSetId, offset + pos);  // 0, 1 (v9), 4-255 reserved
    } else {
      data_records += DecodeDataSet(ctx, export_header, set_id, body, body_offset, errors);
    }
    pos += set_length;
  }
  // The sequence number counts data records (RFC 7011 section 3.1), options records
  // included. Records of sets held for a missing template cannot be counted here.
  ctx.exporter.ObserveSequence(Protocol::kIpfix, export_header.domain, sequence, data_records);
}

}  // namespace

DecodeStatus DecodeIpfix(DecodeContext& ctx) {
  const std::span<const std::uint8_t> data = ctx.datagram.payload;
  if (data.size() < kHeaderSize) {
    return Fail(DecodeErrorKind::kTruncated, 0);
  }
  const std::uint16_t first_length = LoadBe16(data.data() + 2);
  if (first_length < kHeaderSize) {
    return Fail(DecodeErrorKind::kBadLength, 2);
  }
  SoftErrors errors(ctx.exporter.counters);
  // A datagram carries one message (RFC 7011 section 10.3.3). Bytes after it are ignored,
  // as other collectors do (an IPFIX file, RFC 5655, is split into messages by its reader).
  std::size_t message_length = first_length;
  if (message_length > data.size()) {
    errors.Add(DecodeErrorKind::kTruncated, 2);
    message_length = data.size();
  }
  DecodeMessage(ctx, data.first(message_length), data, 0, errors);
  return errors.Status();
}

}  // namespace sluice::decode
