// SPDX-License-Identifier: Apache-2.0

#include "store/coding.h"

#include <algorithm>

namespace sluice::store {

void Buffer::Grow(std::size_t at_least) {
  const std::size_t capacity = std::max<std::size_t>({at_least, capacity_ * 2, 256});
  auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(capacity);
  if (size_ > 0) {
    std::memcpy(bigger.get(), data_.get(), size_);
  }
  data_ = std::move(bigger);
  capacity_ = capacity;
}

}  // namespace sluice::store
