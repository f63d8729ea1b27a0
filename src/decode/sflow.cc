// SPDX-License-Identifier: Apache-2.0

#include "decode/sflow.h"

namespace sluice::decode {

DecodeStatus DecodeSflowV5(DecodeContext& /*ctx*/) {
  return Fail(DecodeErrorKind::kUnsupportedFormat, 0);
}

}  // namespace sluice::decode
