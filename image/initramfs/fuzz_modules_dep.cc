// Fuzzes the depmod file parsers, the resolver and the omit-modules planner: any text gives a
// result or a std::runtime_error, never a crash. Input: modules.dep text, NUL, modules.softdep
// text. A prune plan must leave no kept module needing a removed one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <string_view>

#include "image/initramfs/module_index.h"
#include "image/initramfs/module_prune.h"

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
  try {
    auto deps = cairn::image::read_modules_dep(text.substr(0, nul), "modules.dep");
    auto plan = cairn::image::plan_module_prune(deps, {"kernel/a", "kernel/drivers/"});
    auto gone = plan.all();
    std::set<std::string> removed(gone.begin(), gone.end());
    for (const auto& [path, needs] : deps) {
      if (removed.count(path)) continue;
      for (const auto& d : needs)
        if (removed.count(d) || !deps.count(d)) abort();
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
