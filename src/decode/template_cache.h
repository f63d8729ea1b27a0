// SPDX-License-Identifier: Apache-2.0
// TemplateCache: NetFlow v9 and IPFIX templates of one exporter, per observation domain.
// (Placeholder until the v9/IPFIX decoder lands.)

#pragma once

#include <cstddef>

#include "decode/decoder_options.h"

namespace sluice::decode {

class TemplateCache {
 public:
  explicit TemplateCache(const DecoderOptions& options) : options_(&options) {}

  std::size_t size() const { return 0; }

 private:
  const DecoderOptions* options_;
};

}  // namespace sluice::decode
