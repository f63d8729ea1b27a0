// SPDX-License-Identifier: Apache-2.0
// IPFIX (RFC 7011) decoder.

#pragma once

#include "decode/decode_context.h"

namespace sluice::decode {

// Decodes one IPFIX (RFC 7011) datagram into ctx.out.
DecodeStatus DecodeIpfix(DecodeContext& ctx);

}  // namespace sluice::decode
