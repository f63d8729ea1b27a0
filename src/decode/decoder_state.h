// SPDX-License-Identifier: Apache-2.0
// The decoder state file: templates, system init times and sampler rates of every
// exporter, so that a restarted collector decodes v9/IPFIX data from its first packet
// instead of waiting minutes for template refreshes.
//
// Format (integers big-endian), version 1:
//   "SLUICEDS" u32 version u32 exporter_count
//   per exporter: 16-byte address, u32 n + n bytes TemplateCache::Serialize(),
//                 u32 m + m bytes SerializeSamplers()
//   u32 CRC-32 of everything before it
// A file that fails its checksum or bounds is refused whole; the collector then starts
// with no state, as it would the first time.

#pragma once

#include <functional>
#include <span>
#include <string>

#include "common/result.h"
#include "decode/decoder.h"

namespace sluice::decode {

// Encodes the state of every exporter of `decoders` (one per decode worker).
std::string SerializeDecoderState(std::span<const Decoder* const> decoders);

// The same in two steps, for callers that collect each decoder's part on its own thread:
// AppendExporterStates() adds every exporter of `decoder` to `body` and to `count`;
// MakeStateFile() wraps bodies so gathered into a file.
void AppendExporterStates(const Decoder& decoder, std::string& body, std::uint32_t& count);

std::string MakeStateFile(std::string_view body, std::uint32_t count);

// Restores encoded state. `owner` names the decoder that owns an exporter (the worker
// the exporter is pinned to). Templates older than the decoders' lifetime expire as usual.
Status RestoreDecoderState(std::span<const std::uint8_t> bytes,
                           const std::function<Decoder&(const flow::IpAddress&)>& owner);

}  // namespace sluice::decode
