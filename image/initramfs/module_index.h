// Which kernel module files boot needs, in load order. The index is filled from depmod's
// output (modules.dep, modules.softdep, modules.alias, modules.builtin) when the rootfs has
// it, or from each module's own .modinfo (depends=, softdep=, alias=) when it does not (a
// rootfs unpacked without maintainer scripts never ran depmod). Both give the same answer.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::image {

// "kernel/drivers/md/dm-verity.ko.xz" -> "dm_verity": the basename without the .ko[.xz|.zst|
// .gz] suffix, '-' folded to '_' (the kernel treats both the same in module names).
std::string module_name(std::string_view path_or_name);

// modules.dep as depmod writes it: module path (relative to lib/modules/<version>) -> the
// paths of every module it needs (depmod lists them transitively). Throws std::runtime_error
// "file:line: reason" on a malformed line or a module listed twice.
using ModuleDeps = std::map<std::string, std::vector<std::string>>;
ModuleDeps read_modules_dep(std::string_view text, const std::string& file);

struct ModuleResolution {
  std::vector<std::string> paths;    // load order, dependencies first (relative paths)
  std::vector<std::string> builtin;  // requested names that are built into the kernel
  // For each of `paths` (same index): the paths, among `paths` and all listed before it, that
  // must be in the kernel before it loads: its dependencies (hard and softdep "pre:") and,
  // for a softdep "post:" module, the module that asked for it. Stage 1 loads modules whose
  // needs are met side by side (init/stage1/module_loader.h).
  std::vector<std::vector<std::string>> needs;
};

class ModuleIndex {
 public:
  // depmod files. `file` names the source in errors ("file:line: reason"). Throw
  // std::runtime_error on malformed lines.
  void add_modules_dep(std::string_view text, const std::string& file);
  void add_modules_softdep(std::string_view text, const std::string& file);
  void add_modules_alias(std::string_view text, const std::string& file);
  void add_modules_builtin(std::string_view text, const std::string& file);

  // One module described by its .modinfo key/value pairs (the no-depmod path). `depends`
  // names become dependencies once every module has been added (see resolve()).
  void add_module_info(const std::string& path,
                       const std::vector<std::pair<std::string, std::string>>& modinfo);

  // The modules to load for `names` (module names or aliases), each after everything it
  // depends on (hard deps and softdep "pre:"), softdep "post:" modules after it. Throws
  // std::runtime_error naming a module that is neither a module, an alias nor built in, or a
  // dependency cycle.
  ModuleResolution resolve(const std::vector<std::string>& names) const;

  size_t size() const { return modules_.size(); }

 private:
  struct Module {
    std::string path;
    std::vector<std::string> dep_paths;  // from modules.dep (transitive, any order)
    std::vector<std::string> dep_names;  // from modinfo depends= (direct)
    std::vector<std::string> pre, post;  // softdeps: names or aliases
  };
  // Names (after module_name) a request may mean: the module itself, or every module with
  // that alias. Empty if unknown.
  std::vector<std::string> lookup(const std::string& name_or_alias) const;
  // post_queue: (module name, path of the module whose softdep "post:" named it).
  void visit(const std::string& name, const std::string& requested_by, ModuleResolution& out,
             std::set<std::string>& done, std::vector<std::string>& stack,
             std::vector<std::pair<std::string, std::string>>& post_queue) const;

  std::map<std::string, Module> modules_;                 // by module name
  std::map<std::string, std::string> by_path_;            // path -> module name
  std::map<std::string, std::set<std::string>> aliases_;  // alias -> module names
  std::set<std::string> builtin_;                         // module names
};

}  // namespace cairn::image
