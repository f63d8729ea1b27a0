// SPDX-License-Identifier: Apache-2.0

#include "decode/ipfix.h"

namespace sluice::decode {

DecodeStatus DecodeIpfix(DecodeContext& /*ctx*/) {
  return Fail(DecodeErrorKind::kUnsupportedFormat, 0);
}

}  // namespace sluice::decode
