// SPDX-License-Identifier: Apache-2.0

#include "decode/decoder_state.h"

#include <cstring>

#include "common/byte_order.h"
#include "common/crc32.h"

namespace sluice::decode {
namespace {

constexpr std::string_view kMagic = "SLUICEDS";
constexpr std::uint32_t kVersion = 1;

void AppendU32(std::string& out, std::uint32_t value) {
  std::uint8_t bytes[4];
  StoreBe32(bytes, value);
  out.append(reinterpret_cast<const char*>(bytes), 4);
}

// Appends `blob` prefixed with its length.
void AppendBlob(std::string& out, const std::string& blob) {
  AppendU32(out, static_cast<std::uint32_t>(blob.size()));
  out.append(blob);
}

// Reads a length-prefixed blob at `pos`; false if it runs past `end`.
bool ReadBlob(std::span<const std::uint8_t> bytes, std::size_t& pos, std::size_t end,
              std::span<const std::uint8_t>& blob) {
  if (end - pos < 4) {
    return false;
  }
  const std::size_t length = LoadBe32(bytes.data() + pos);
  pos += 4;
  if (end - pos < length) {
    return false;
  }
  blob = bytes.subspan(pos, length);
  pos += length;
  return true;
}

}  // namespace

void AppendExporterStates(const Decoder& decoder, std::string& body, std::uint32_t& count) {
  std::string blob;
  decoder.exporters().ForEach([&](const ExporterState& exporter) {
    body.append(reinterpret_cast<const char*>(exporter.address.bytes.data()), 16);
    blob.clear();
    exporter.templates.Serialize(blob);
    AppendBlob(body, blob);
    blob.clear();
    SerializeSamplers(exporter.samplers, blob);
    AppendBlob(body, blob);
    ++count;
  });
}

std::string MakeStateFile(std::string_view body, std::uint32_t count) {
  std::string out(kMagic);
  AppendU32(out, kVersion);
  AppendU32(out, count);
  out.append(body);
  AppendU32(out, Crc32({reinterpret_cast<const std::uint8_t*>(out.data()), out.size()}));
  return out;
}

std::string SerializeDecoderState(std::span<const Decoder* const> decoders) {
  std::string body;
  std::uint32_t count = 0;
  for (const Decoder* decoder : decoders) {
    AppendExporterStates(*decoder, body, count);
  }
  return MakeStateFile(body, count);
}

Status RestoreDecoderState(std::span<const std::uint8_t> bytes,
                           const std::function<Decoder&(const flow::IpAddress&)>& owner) {
  const std::size_t header_size = kMagic.size() + 8;
  if (bytes.size() < header_size + 4 ||
      std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
    return MakeError(ErrorCode::kCorruption, "not a sluice decoder state file");
  }
  const std::size_t end = bytes.size() - 4;
  if (Crc32(bytes.first(end)) != LoadBe32(bytes.data() + end)) {
    return MakeError(ErrorCode::kCorruption, "decoder state file fails its checksum");
  }
  const std::uint32_t version = LoadBe32(bytes.data() + kMagic.size());
  if (version != kVersion) {
    return MakeError(ErrorCode::kUnsupported,
                     "decoder state file version " + std::to_string(version) + " is not known");
  }
  const std::uint32_t count = LoadBe32(bytes.data() + kMagic.size() + 4);
  std::size_t pos = header_size;
  for (std::uint32_t exporter_idx = 0; exporter_idx < count; ++exporter_idx) {
    if (end - pos < 16) {
      return MakeError(ErrorCode::kCorruption, "decoder state file is truncated");
    }
    const flow::IpAddress address = flow::IpAddress::FromV6(bytes.data() + pos);
    pos += 16;
    std::span<const std::uint8_t> templates;
    std::span<const std::uint8_t> samplers;
    if (!ReadBlob(bytes, pos, end, templates) || !ReadBlob(bytes, pos, end, samplers)) {
      return MakeError(ErrorCode::kCorruption, "decoder state file is truncated");
    }
    ExporterState* exporter = owner(address).FindOrAddExporter(address);
    if (exporter == nullptr) {
      continue;  // over the exporter limit: it will be refused when it sends, too
    }
    if (auto status = exporter->templates.Deserialize(templates); !status) {
      return status;
    }
    if (auto status = DeserializeSamplers(samplers, exporter->samplers); !status) {
      return status;
    }
  }
  return OkStatus();
}

}  // namespace sluice::decode
