// SPDX-License-Identifier: Apache-2.0

#include "decode/netflow_v9.h"

namespace sluice::decode {

DecodeStatus DecodeNetflowV9(DecodeContext& /*ctx*/) {
  return Fail(DecodeErrorKind::kUnsupportedFormat, 0);
}

}  // namespace sluice::decode
