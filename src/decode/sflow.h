// SPDX-License-Identifier: Apache-2.0
// sFlow v5 (sflow_version_5.txt) decoder.

#pragma once

#include "decode/decode_context.h"

namespace sluice::decode {

// Decodes one sFlow v5 (sflow_version_5.txt) datagram into ctx.out.
DecodeStatus DecodeSflowV5(DecodeContext& ctx);

}  // namespace sluice::decode
