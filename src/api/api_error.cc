// SPDX-License-Identifier: Apache-2.0

#include "api/api_error.h"

#include <nlohmann/json.hpp>

#include "api/json_text.h"

namespace sluice::api {

std::string ApiError::ToJson() const {
  nlohmann::json error = {{"code", code}, {"message", message}};
  if (position) {
    error["position"] = *position;
  }
  return JsonText(nlohmann::json{{"error", error}});
}

ApiError BadParameter(std::string message) {
  return ApiError{400, "bad_parameter", std::move(message), std::nullopt};
}

ApiError FromEngineError(const Error& error) {
  switch (error.Code()) {
    case ErrorCode::kInvalidArgument:
      return ApiError{400, "bad_query", std::string(error.Message()), std::nullopt};
    case ErrorCode::kCancelled:
      return ApiError{503, "query_timeout", std::string(error.Message()), std::nullopt};
    case ErrorCode::kResourceExhausted:
      return ApiError{413, "query_too_large", std::string(error.Message()), std::nullopt};
    default:
      return ApiError{500, "internal", std::string(error.Message()), std::nullopt};
  }
}

}  // namespace sluice::api
