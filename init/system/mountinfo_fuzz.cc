// libFuzzer: parse_mountinfo must never crash and every entry/error must be sane.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "init/system/mountinfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto info = cairn::init::system::parse_mountinfo(text);
  for (const auto& e : info.errors) {
    if (e.line <= 0 || e.column <= 0) __builtin_trap();
    (void)e.str();
  }
  for (const auto& e : info.entries) {
    if (e.mount_point.empty() || e.fstype.empty()) __builtin_trap();
    (void)info.find(e.mount_point);
    (void)e.read_only();
  }
  return 0;
}
