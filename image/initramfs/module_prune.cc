#include "image/initramfs/module_prune.h"

#include <algorithm>
#include <set>

namespace cairn::image {
namespace {

bool under(const std::string& path, std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return false;
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

}  // namespace

std::vector<std::string> ModulePrune::all() const {
  std::vector<std::string> out = omitted;
  for (const auto& [path, _] : dependents) out.push_back(path);
  std::sort(out.begin(), out.end());
  return out;
}

ModulePrune plan_module_prune(const ModuleDeps& deps, const std::vector<std::string>& omit_dirs) {
  ModulePrune plan;
  std::set<std::string> removed;
  for (const auto& [path, _] : deps) {
    for (const auto& dir : omit_dirs) {
      if (under(path, dir)) {
        plan.omitted.push_back(path);
        removed.insert(path);
        break;
      }
    }
  }
  // depmod lists dependencies transitively, but a hand-made or partial modules.dep may not:
  // repeat until nothing changes, so a chain a -> b -> omitted removes both.
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& [path, needs] : deps) {
      if (removed.count(path)) continue;
      for (const auto& dep : needs) {
        if (removed.count(dep) || !deps.count(dep)) {
          plan.dependents[path] = dep;
          removed.insert(path);
          changed = true;
          break;
        }
      }
    }
  }
  return plan;
}

}  // namespace cairn::image
