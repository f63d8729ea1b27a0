// SPDX-License-Identifier: Apache-2.0
#include <string>

#include "query/filter.h"

namespace sluice::query {

std::string FilterSyntaxError::ToString() const {
  return "at column " + std::to_string(column) + ": " + message;
}

}  // namespace sluice::query
