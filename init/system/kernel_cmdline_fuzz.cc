// libFuzzer: the kernel command line parser accepts any bytes without crashing, and every
// parsed key can be looked up again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "init/system/kernel_cmdline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cmdline = cairn::init::system::KernelCmdline::parse(text);
  for (const auto& p : cmdline.all()) {
    if (!cmdline.has(p.key)) __builtin_trap();
  }
  return 0;
}
