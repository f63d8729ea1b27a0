// SPDX-License-Identifier: Apache-2.0
// JsonText: a JSON value as compact text, for every body the API writes. Text from the
// network (parameter values, filter text) may be invalid UTF-8; it is written with U+FFFD
// in place of the bad bytes instead of failing the request.

#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace sluice::api {

inline std::string JsonText(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sluice::api
