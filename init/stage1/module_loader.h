// Stage 1's boot modules (/etc/cairn/boot-modules, written by cairn-image: the recipe's
// [kernel] modules with their dependencies, dependencies first, each line "path: needs" naming
// the modules that must be in before it) loaded on threads of their own, so stage 1 waits for
// the disks, sets up dm-verity and mounts the root as soon as the modules those steps need are
// in, and starts reading the root ahead while the rest (ext4 for the data partition, vfat,
// overlay, input drivers) still load. Under emulation each module costs tens to hundreds of
// milliseconds (its signature's sha256 over the whole file among it); loading them all first
// kept the second CPU idle (docs/image.md, "Boot time").
//
// One thread by default (cairn.modules.threads=N for more): with two, independent chains
// (ext4's beside dm-verity's) load side by side, but under TCG on a shared host each load then
// took 2-4x longer and stage 1 was not shorter (docs/benchmarks.md "Boot time, session 7").
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cairn::init::stage1 {

// One line of a boot-modules list.
struct ModuleEntry {
  std::string path;                // relative to /lib/modules/<release>/
  std::vector<std::string> needs;  // paths that must be tried first (see parse_module_list)
  bool needs_all_before = false;   // a line without ':': it needs every line before it
};

// The entries of a boot-modules list: one module per line, "path" or "path: need need...";
// '#' comments and blank lines skipped, blanks and CRs around words trimmed; order kept. A
// line without ':' needs every line before it (the list is then loaded in order, as before
// the needs existed).
std::vector<ModuleEntry> parse_module_list(const std::string& text);

// PATHS as entries that load one after the other, in order (each needs those before it).
std::vector<ModuleEntry> in_list_order(const std::vector<std::string>& paths);

// The kernel's name for the module file at PATH: "kernel/drivers/md/dm-verity.ko" ->
// "dm_verity" (basename without ".ko", '-' folded to '_').
std::string module_name_of(const std::string& path);

class ModuleLoader {
 public:
  // Loads the module file at an absolute path: 0 when it is in the kernel afterwards (EEXIST
  // included), else an errno value.
  using LoadFn = std::function<int(const std::string& path)>;

  // ENTRIES relative to BASE (which ends in '/'); THREADS loaders (at least 1). A need that
  // is not in the list (built in, or a line before was malformed) is no need.
  ModuleLoader(std::string base, std::vector<ModuleEntry> entries, LoadFn load, int threads = 1);
  ~ModuleLoader();  // waits for the thread
  ModuleLoader(const ModuleLoader&) = delete;
  ModuleLoader& operator=(const ModuleLoader&) = delete;

  // Starts the loader threads: each takes the first module in list order that nobody took
  // yet whose needs have all been tried, loads it, and goes on until every module was taken.
  // If no thread can be started, loads them all before returning.
  void start() noexcept;

  // Returns once the module NAME (module_name_of form) has been tried, and so every module it
  // needs: at once when the list does not name it (built into the kernel, or not needed).
  // Before start(): returns at once.
  void wait_for(const std::string& name) noexcept;

  // Waits for every module; returns how many are in the kernel and appends one warning per
  // module that failed ("finit_module <path>: <reason>"). A CPU-specific module such as
  // crc32c-intel may legitimately refuse to load; what is really missing shows up later as a
  // missing device or filesystem, with a clearer message.
  int finish(std::vector<std::string>* warnings) noexcept;

 private:
  void run() noexcept;
  // The first module not taken whose needs were all tried; npos if none is ready. Under mutex_.
  size_t next_ready() const noexcept;
  void join_all() noexcept;

  std::string base_;
  std::vector<std::string> paths_;
  std::vector<std::string> names_;
  std::vector<std::vector<size_t>> needs_;  // indexes into paths_, all below their own
  std::vector<bool> all_before_;            // the line needs every line before it
  LoadFn load_;
  int threads_wanted_;
  std::mutex mutex_;
  std::condition_variable tried_changed_;
  std::vector<bool> taken_;
  std::vector<bool> tried_;
  size_t taken_count_ = 0;
  size_t tried_prefix_ = 0;  // lines 0..tried_prefix_-1 were all tried
  int loaded_ = 0;
  std::vector<std::string> warnings_;
  bool started_ = false;
  std::vector<std::thread> threads_;
};

// The real LoadFn: open + finit_module.
int load_module_file(const std::string& path) noexcept;

}  // namespace cairn::init::stage1
