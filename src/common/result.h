// SPDX-License-Identifier: Apache-2.0
// Result<T> and Status: the one error model of the project (docs/dev/errors.md).

#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace sluice {

// What went wrong, coarsely; the message says the rest.
enum class ErrorCode : std::uint8_t {
  kInvalidArgument,    // the caller passed something unusable (config value, flag, filter text)
  kMalformed,          // untrusted bytes did not parse (datagram, capture file)
  kUnsupported,        // well-formed but not handled (NetFlow v8, unknown link type)
  kNotFound,           // a named thing does not exist (file, exporter)
  kCorruption,         // our own on-disk data failed a checksum or bounds check
  kIoError,            // the operating system refused (open, read, bind, sendmmsg)
  kResourceExhausted,  // a queue, quota or memory budget is full
  kNoSpace,            // the disk (or a disk quota) is full: ENOSPC, EDQUOT
  kCancelled,          // stopped on request or at its deadline (a query past its time limit)
};

// An error for an operator to read. Control-plane code only: the data plane counts
// errors instead of building messages (see decode::DecodeError).
class [[nodiscard]] Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode Code() const { return code_; }

  std::string_view Message() const { return message_; }

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename T, typename E = Error>
using Result = tl::expected<T, E>;

using Status = Result<void>;

// Shorthand for `return MakeError(...)` in functions returning Result<T>.
inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}

inline Status OkStatus() { return {}; }

}  // namespace sluice
