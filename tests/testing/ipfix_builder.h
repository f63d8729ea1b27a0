// SPDX-License-Identifier: Apache-2.0
// MessageBuilder: writes NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export packets for
// tests, set by set and field by field, and fills in the lengths.

#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace sluice::test {

// A field specifier: element id (without the enterprise bit), length, enterprise number.
struct FieldSpec {
  std::uint16_t ie;
  std::uint16_t length;
  std::uint32_t pen = 0;
};

class MessageBuilder {
 public:
  // IPFIX message header: export time (Unix s), sequence number, observation domain.
  static MessageBuilder Ipfix(std::uint32_t export_time, std::uint32_t sequence,
                              std::uint32_t domain);
  // NetFlow v9 header: uptime (ms), export time (Unix s), packet sequence, source id.
  static MessageBuilder NetflowV9(std::uint32_t sys_uptime_ms, std::uint32_t unix_secs,
                                  std::uint32_t sequence, std::uint32_t source_id);

  // Closes the open set (if any) and opens one with `set_id`.
  MessageBuilder& Set(std::uint16_t set_id);
  // A template record (in a template set: IPFIX 2, v9 0).
  MessageBuilder& Template(std::uint16_t template_id, std::initializer_list<FieldSpec> fields);
  // An options template record (IPFIX set 3: field count + scope count; v9 set 1: scope
  // and option lengths in bytes).
  MessageBuilder& OptionsTemplate(std::uint16_t template_id,
                                  std::initializer_list<FieldSpec> scope_fields,
                                  std::initializer_list<FieldSpec> option_fields);
  // IPFIX template withdrawal record (field count 0).
  MessageBuilder& Withdraw(std::uint16_t template_id);

  MessageBuilder& U8(std::uint8_t v);
  MessageBuilder& U16(std::uint16_t v);
  MessageBuilder& U24(std::uint32_t v);
  MessageBuilder& U32(std::uint32_t v);
  MessageBuilder& U64(std::uint64_t v);
  MessageBuilder& F64(double v);
  // Dotted IPv4 or IPv6 text, written in network order (4 or 16 bytes).
  MessageBuilder& Addr(std::string_view text);
  MessageBuilder& Bytes(std::initializer_list<std::uint8_t> bytes);
  MessageBuilder& Text(std::string_view text);
  // A variable-length field (RFC 7011 section 7): 1-byte length, or 255 and a 2-byte
  // length when `long_form` (or the text is 255 bytes or more).
  MessageBuilder& VarText(std::string_view text, bool long_form = false);
  MessageBuilder& Zeros(std::size_t count);

  // Closes the open set and returns the packet (lengths and v9 count filled in).
  std::vector<std::uint8_t> Build();

 private:
  MessageBuilder(bool ipfix, std::vector<std::uint8_t> header);
  void CloseSet();

  bool ipfix_;
  std::vector<std::uint8_t> bytes_;
  std::size_t set_start_ = 0;  // 0: no set open
  std::uint16_t records_ = 0;  // v9 header count
};

}  // namespace sluice::test
