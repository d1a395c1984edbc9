// The boot-modules list is parsed by PID 1 in stage 1: any bytes give module paths without
// line breaks, leading comments or surrounding blanks, needs without blanks, names without
// '-' or a ".ko" suffix, and a loader that loads every entry once and ends, never a crash or
// a hang.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "init/stage1/module_loader.h"

using namespace cairn::init::stage1;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  std::vector<ModuleEntry> entries =
      parse_module_list(std::string(reinterpret_cast<const char*>(data), size));
  for (const ModuleEntry& entry : entries) {
    const std::string& path = entry.path;
    if (path.empty() || path[0] == '#' || path.find('\n') != std::string::npos) std::abort();
    if (blank(path.back()) || blank(path.front())) std::abort();
    if (path.find(':') != std::string::npos) std::abort();
    for (const std::string& need : entry.needs) {
      if (need.empty() || need.find('\n') != std::string::npos) std::abort();
      for (char c : need)
        if (blank(c)) std::abort();
    }
    std::string name = module_name_of(path);
    if (name.find('-') != std::string::npos || name.find('/') != std::string::npos) std::abort();
  }
  // Whatever the needs say (missing, later, repeated, circular), loading ends.
  std::atomic<size_t> calls{0};  // the two loader threads count
  ModuleLoader loader(
      "/m/", entries, [&](const std::string&) { return ++calls, 0; }, 2);
  loader.start();
  std::vector<std::string> warnings;
  if (loader.finish(&warnings) != static_cast<int>(entries.size()) || calls != entries.size())
    std::abort();
  return 0;
}
