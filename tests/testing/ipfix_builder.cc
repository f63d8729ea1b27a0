// SPDX-License-Identifier: Apache-2.0

#include "testing/ipfix_builder.h"

#include <bit>
#include <cstdio>
#include <cstdlib>

#include "common/byte_order.h"
#include "flow/ip_address.h"

namespace sluice::test {

MessageBuilder::MessageBuilder(bool ipfix, std::vector<std::uint8_t> header)
    : ipfix_(ipfix), bytes_(std::move(header)) {}

MessageBuilder MessageBuilder::Ipfix(std::uint32_t export_time, std::uint32_t sequence,
                                     std::uint32_t domain) {
  std::vector<std::uint8_t> header(16);
  StoreBe16(header.data(), 10);
  StoreBe32(header.data() + 4, export_time);
  StoreBe32(header.data() + 8, sequence);
  StoreBe32(header.data() + 12, domain);
  return MessageBuilder(true, std::move(header));
}

MessageBuilder MessageBuilder::NetflowV9(std::uint32_t sys_uptime_ms, std::uint32_t unix_secs,
                                         std::uint32_t sequence, std::uint32_t source_id) {
  std::vector<std::uint8_t> header(20);
  StoreBe16(header.data(), 9);
  StoreBe32(header.data() + 4, sys_uptime_ms);
  StoreBe32(header.data() + 8, unix_secs);
  StoreBe32(header.data() + 12, sequence);
  StoreBe32(header.data() + 16, source_id);
  return MessageBuilder(false, std::move(header));
}

void MessageBuilder::CloseSet() {
  if (set_start_ == 0) {
    return;
  }
  StoreBe16(bytes_.data() + set_start_ + 2, static_cast<std::uint16_t>(bytes_.size() - set_start_));
  set_start_ = 0;
}

MessageBuilder& MessageBuilder::Set(std::uint16_t set_id) {
  CloseSet();
  set_start_ = bytes_.size();
  U16(set_id);
  U16(0);
  return *this;
}

MessageBuilder& MessageBuilder::Template(std::uint16_t template_id,
                                         std::initializer_list<FieldSpec> fields) {
  U16(template_id);
  U16(static_cast<std::uint16_t>(fields.size()));
  for (const FieldSpec& field : fields) {
    U16(static_cast<std::uint16_t>(field.ie | (field.pen != 0 ? 0x8000 : 0)));
    U16(field.length);
    if (field.pen != 0) {
      U32(field.pen);
    }
  }
  ++records_;
  return *this;
}

MessageBuilder& MessageBuilder::OptionsTemplate(std::uint16_t template_id,
                                                std::initializer_list<FieldSpec> scope_fields,
                                                std::initializer_list<FieldSpec> option_fields) {
  U16(template_id);
  if (ipfix_) {
    U16(static_cast<std::uint16_t>(scope_fields.size() + option_fields.size()));
    U16(static_cast<std::uint16_t>(scope_fields.size()));
  } else {
    U16(static_cast<std::uint16_t>(scope_fields.size() * 4));
    U16(static_cast<std::uint16_t>(option_fields.size() * 4));
  }
  for (const auto& list : {scope_fields, option_fields}) {
    for (const FieldSpec& field : list) {
      U16(static_cast<std::uint16_t>(field.ie | (field.pen != 0 ? 0x8000 : 0)));
      U16(field.length);
      if (field.pen != 0) {
        U32(field.pen);
      }
    }
  }
  ++records_;
  return *this;
}

MessageBuilder& MessageBuilder::Withdraw(std::uint16_t template_id) {
  U16(template_id);
  return U16(0);
}

MessageBuilder& MessageBuilder::U8(std::uint8_t v) {
  bytes_.push_back(v);
  return *this;
}

MessageBuilder& MessageBuilder::U16(std::uint16_t v) {
  U8(static_cast<std::uint8_t>(v >> 8));
  return U8(static_cast<std::uint8_t>(v));
}

MessageBuilder& MessageBuilder::U24(std::uint32_t v) {
  U8(static_cast<std::uint8_t>(v >> 16));
  return U16(static_cast<std::uint16_t>(v));
}

MessageBuilder& MessageBuilder::U32(std::uint32_t v) {
  U16(static_cast<std::uint16_t>(v >> 16));
  return U16(static_cast<std::uint16_t>(v));
}

MessageBuilder& MessageBuilder::U64(std::uint64_t v) {
  U32(static_cast<std::uint32_t>(v >> 32));
  return U32(static_cast<std::uint32_t>(v));
}

MessageBuilder& MessageBuilder::F64(double v) { return U64(std::bit_cast<std::uint64_t>(v)); }

MessageBuilder& MessageBuilder::Addr(std::string_view text) {
  const auto address = flow::IpAddress::Parse(text);
  if (!address) {
    std::fprintf(stderr, "MessageBuilder::Addr: bad address\n");
    std::abort();
  }
  if (address->IsV4()) {
    return U32(address->V4());
  }
  bytes_.insert(bytes_.end(), address->bytes.begin(), address->bytes.end());
  return *this;
}

MessageBuilder& MessageBuilder::Bytes(std::initializer_list<std::uint8_t> bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  return *this;
}

MessageBuilder& MessageBuilder::Text(std::string_view text) {
  bytes_.insert(bytes_.end(), text.begin(), text.end());
  return *this;
}

MessageBuilder& MessageBuilder::VarText(std::string_view text, bool long_form) {
  if (long_form || text.size() >= 255) {
    U8(255);
    U16(static_cast<std::uint16_t>(text.size()));
  } else {
    U8(static_cast<std::uint8_t>(text.size()));
  }
  return Text(text);
}

MessageBuilder& MessageBuilder::Zeros(std::size_t count) {
  bytes_.insert(bytes_.end(), count, 0);
  return *this;
}

std::vector<std::uint8_t> MessageBuilder::Build() {
  CloseSet();
  if (ipfix_) {
    StoreBe16(bytes_.data() + 2, static_cast<std::uint16_t>(bytes_.size()));
  } else {
    StoreBe16(bytes_.data() + 2, records_);
  }
  return bytes_;
}

}  // namespace sluice::test
