// Stage 1's boot modules (/etc/cairn/boot-modules, written by cairn-image: the recipe's
// [kernel] modules with their dependencies, in load order) loaded on a thread of their own,
// so stage 1 waits for the disks, sets up dm-verity and mounts the root as soon as the
// modules those steps need are in, and starts reading the root ahead on the other CPU while
// the rest (ext4 for the data partition, vfat, overlay, input drivers) still load. Under
// emulation each module costs tens to hundreds of milliseconds (its signature's sha256 over
// the whole file among it); loading them all first kept the second CPU idle (docs/image.md,
// "Boot time").
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cairn::init::stage1 {

// The module paths of a boot-modules list: one path per line (relative to
// /lib/modules/<release>/), '#' comments and blank lines skipped, trailing blanks and CRs
// trimmed; order kept.
std::vector<std::string> parse_module_list(const std::string& text);

// The kernel's name for the module file at PATH: "kernel/drivers/md/dm-verity.ko" ->
// "dm_verity" (basename without ".ko", '-' folded to '_').
std::string module_name_of(const std::string& path);

class ModuleLoader {
 public:
  // Loads the module file at an absolute path: 0 when it is in the kernel afterwards (EEXIST
  // included), else an errno value.
  using LoadFn = std::function<int(const std::string& path)>;

  // PATHS relative to BASE (which ends in '/').
  ModuleLoader(std::string base, std::vector<std::string> paths, LoadFn load);
  ~ModuleLoader();  // waits for the thread
  ModuleLoader(const ModuleLoader&) = delete;
  ModuleLoader& operator=(const ModuleLoader&) = delete;

  // Starts loading every module in list order on a thread; if no thread can be started,
  // loads them all before returning.
  void start() noexcept;

  // Returns once the module NAME (module_name_of form) has been tried, and so every module
  // listed before it: at once when the list does not name it (built into the kernel, or not
  // needed). Before start(): returns at once.
  void wait_for(const std::string& name) noexcept;

  // Waits for every module; returns how many are in the kernel and appends one warning per
  // module that failed ("finit_module <path>: <reason>"). A CPU-specific module such as
  // crc32c-intel may legitimately refuse to load; what is really missing shows up later as a
  // missing device or filesystem, with a clearer message.
  int finish(std::vector<std::string>* warnings) noexcept;

 private:
  void run() noexcept;

  std::string base_;
  std::vector<std::string> paths_;
  std::vector<std::string> names_;
  LoadFn load_;
  std::mutex mutex_;
  std::condition_variable tried_changed_;
  size_t tried_ = 0;  // modules tried so far (list order)
  int loaded_ = 0;
  std::vector<std::string> warnings_;
  bool started_ = false;
  std::thread thread_;
};

// The real LoadFn: open + finit_module.
int load_module_file(const std::string& path) noexcept;

}  // namespace cairn::init::stage1
