// SPDX-License-Identifier: Apache-2.0
// ApiError: what an API request did wrong (or what went wrong answering it), as the
// client sees it: an HTTP status and the body {"error":{"code","message","position"?}}.

#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "common/result.h"

namespace sluice::api {

struct ApiError {
  int status = 400;
  std::string code;     // "bad_parameter", "bad_filter", "unauthorized", ...
  std::string message;  // for a person: names the parameter and what was expected
  std::optional<std::size_t> position;  // 1-based column in the filter text (bad_filter)

  // {"error":{"code":...,"message":...,"position":N}}
  std::string ToJson() const;
};

ApiError BadParameter(std::string message);

// An engine Error as the client sees it: kInvalidArgument 400, kCancelled 503 (the
// query's time limit), kResourceExhausted 413 (memory budget), anything else 500.
ApiError FromEngineError(const Error& error);

template <typename T>
using ApiResult = tl::expected<T, ApiError>;

}  // namespace sluice::api
