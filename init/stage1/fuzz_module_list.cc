// The boot-modules list is parsed by PID 1 in stage 1: any bytes give module paths without
// line breaks, leading comments or trailing blanks, and names without '-' or a ".ko" suffix,
// never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "init/stage1/module_loader.h"

using namespace cairn::init::stage1;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const std::string& path :
       parse_module_list(std::string(reinterpret_cast<const char*>(data), size))) {
    if (path.empty() || path[0] == '#' || path.find('\n') != std::string::npos) std::abort();
    char last = path.back();
    if (last == ' ' || last == '\t' || last == '\r') std::abort();
    std::string name = module_name_of(path);
    if (name.find('-') != std::string::npos || name.find('/') != std::string::npos) std::abort();
  }
  return 0;
}
