// Fuzzes the depmod file parsers and the resolver: any text gives a result or a
// std::runtime_error, never a crash. Input: modules.dep text, NUL, modules.softdep text.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "image/initramfs/module_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t nul = text.find('\0');
  cairn::image::ModuleIndex index;
  try {
    index.add_modules_dep(text.substr(0, nul), "modules.dep");
    if (nul != std::string_view::npos) index.add_modules_softdep(text.substr(nul + 1), "softdep");
    index.resolve({"ext4", "a", "b"});
  } catch (const std::runtime_error&) {
  }
  return 0;
}
