// SPDX-License-Identifier: Apache-2.0
// NetFlow v9 (RFC 3954) decoder.

#pragma once

#include "decode/decode_context.h"

namespace sluice::decode {

// Decodes one NetFlow v9 (RFC 3954) datagram into ctx.out.
DecodeStatus DecodeNetflowV9(DecodeContext& ctx);

}  // namespace sluice::decode
