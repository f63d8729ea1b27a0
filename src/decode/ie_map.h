// SPDX-License-Identifier: Apache-2.0
// The information element map: IANA IPFIX element numbers (RFC 7012 and the IANA
// "IPFIX Information Elements" registry; NetFlow v9 field types share the numbers below
// 128 and many above), RFC 5103 reverse elements and Cisco NSEL v9 ids, to FlowBatch
// columns or decoder slots. Used once per template, never per record.

#pragma once

#include <cstddef>
#include <optional>

#include "decode/compiled_template.h"
#include "decode/decode_error.h"

namespace sluice::decode {

// Fills the compiled part of `tmpl` from its family, options flag and fields. Returns
// the reason the template cannot be used (a fixed record longer than a set can hold).
std::optional<DecodeErrorKind> CompileTemplate(Template& tmpl);

// Whether a field of `length` bytes can be decoded by `kind` (RFC 7011 6.2: unsigned
// integers may use fewer bytes than their type; addresses must be exact).
bool FieldLengthFits(OpKind kind, std::size_t length);

}  // namespace sluice::decode
