// Which kernel modules leave the image when a recipe omits some ([kernel] omit-modules).
// A module that stays in the image must load, so removing a module also removes every module
// that needs it (transitively, per modules.dep): e.g. omitting kernel/drivers/scsi/fcoe takes
// bnx2fc (drivers/scsi/bnx2fc, needs libfcoe) with it. The alternative, keeping what the
// omitted ones need, would put back what the recipe asked to leave out; and a module kept
// without its dependencies fails at modprobe time on the node, far from the recipe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "image/initramfs/module_index.h"

namespace cairn::image {

struct ModulePrune {
  // Modules under an omitted directory (paths relative to lib/modules/<version>), sorted.
  std::vector<std::string> omitted;
  // Modules outside the omitted directories that go because they need a removed module:
  // path -> the removed (or absent) module path it needs. Sorted by path.
  std::map<std::string, std::string> dependents;

  // Every module path to remove (omitted + dependents), sorted.
  std::vector<std::string> all() const;
};

// `deps`: the full tree's modules.dep (read before anything is removed). `omit_dirs`: the
// recipe's omit-modules, directories or files relative to lib/modules/<version> ("kernel/
// sound"); a module is under one if its path equals it or starts with it plus '/'. A
// dependency that modules.dep does not list as a module counts as removed.
ModulePrune plan_module_prune(const ModuleDeps& deps, const std::vector<std::string>& omit_dirs);

}  // namespace cairn::image
