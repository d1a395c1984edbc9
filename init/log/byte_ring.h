// A bounded byte ring for a service's recent log lines. Memory grows only as lines arrive
// (a quiet service costs almost nothing) and never beyond `capacity`; once full, the oldest
// bytes are overwritten.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::init {

class ByteRing {
 public:
  explicit ByteRing(size_t capacity) : capacity_(capacity) {}

  void append(std::string_view data);
  // The newest bytes, at most max_bytes, starting at a line start (just after a '\n' or at
  // the oldest byte when the ring has not wrapped).
  std::string tail(size_t max_bytes) const;
  // Changes the capacity, keeping the newest bytes.
  void set_capacity(size_t capacity);

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  size_t allocated() const { return buf_.capacity(); }

 private:
  char at(size_t logical) const { return buf_[(start_ + logical) % buf_.size()]; }

  size_t capacity_;
  std::vector<char> buf_;  // grows up to capacity_, then is used circularly
  size_t start_ = 0;       // index of the oldest byte
  size_t size_ = 0;
  bool wrapped_ = false;  // bytes were overwritten: the oldest line may be partial
};

}  // namespace cairn::init
