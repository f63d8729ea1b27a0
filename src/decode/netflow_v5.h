// SPDX-License-Identifier: Apache-2.0
// NetFlow v5 decoder (Cisco's fixed format: 24-byte header, 48-byte records).

#pragma once

#include "decode/decode_context.h"

namespace sluice::decode {

// Decodes one NetFlow v5 datagram into ctx.out.
DecodeStatus DecodeNetflowV5(DecodeContext& ctx);

}  // namespace sluice::decode
