// Fuzzes the dpkg status parser: any text gives a package list or a std::runtime_error naming
// file:line:col, never a crash; a list it returns is sorted and free of duplicates.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "image/build/dpkg_status.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto packages = cairn::image::parse_dpkg_status(text, "status");
    for (size_t i = 1; i < packages.size(); ++i) {
      const auto& a = packages[i - 1];
      const auto& b = packages[i];
      if (!(a.name < b.name || (a.name == b.name && a.architecture < b.architecture))) abort();
    }
    for (const auto& p : packages)
      if (p.name.empty() || p.version.empty() || p.architecture.empty()) abort();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
