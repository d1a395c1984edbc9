#include "init/log/byte_ring.h"

#include <algorithm>

namespace cairn::init {

void ByteRing::append(std::string_view data) {
  if (capacity_ == 0 || data.empty()) return;
  if (data.size() >= capacity_) {
    // Only the newest `capacity_` bytes can stay.
    data = data.substr(data.size() - capacity_);
    buf_.assign(data.begin(), data.end());
    start_ = 0;
    size_ = capacity_;
    wrapped_ = true;
    return;
  }
  // Growing phase: append until the buffer reaches capacity.
  if (buf_.size() < capacity_ && start_ == 0) {
    size_t room = capacity_ - buf_.size();
    size_t take = std::min(room, data.size());
    buf_.insert(buf_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
    size_ = buf_.size();
    data.remove_prefix(take);
    if (data.empty()) return;
  }
  // Circular phase: buf_.size() == capacity_.
  for (char c : data) {
    size_t end = (start_ + size_) % buf_.size();
    buf_[end] = c;
    if (size_ == buf_.size()) {
      start_ = (start_ + 1) % buf_.size();
      wrapped_ = true;
    } else {
      ++size_;
    }
  }
}

std::string ByteRing::tail(size_t max_bytes) const {
  size_t n = std::min(max_bytes, size_);
  size_t first = size_ - n;
  // Start at a line boundary unless we begin exactly at the oldest intact byte.
  if (first > 0 || wrapped_) {
    while (first < size_ && (first == 0 || at(first - 1) != '\n')) ++first;
  }
  std::string out;
  out.reserve(size_ - first);
  for (size_t i = first; i < size_; ++i) out.push_back(at(i));
  return out;
}

void ByteRing::set_capacity(size_t capacity) {
  if (capacity == capacity_) return;
  std::string keep;
  keep.reserve(std::min(size_, capacity));
  for (size_t i = size_ - std::min(size_, capacity); i < size_; ++i) keep.push_back(at(i));
  bool was_wrapped = wrapped_ || keep.size() < size_;
  capacity_ = capacity;
  buf_.clear();
  buf_.shrink_to_fit();
  start_ = size_ = 0;
  wrapped_ = false;
  append(keep);
  wrapped_ = wrapped_ || was_wrapped;
}

}  // namespace cairn::init
