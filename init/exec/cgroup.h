// cgroup v2 for services: the tree <root>/cairn/<service>, resource limits, kill, freeze,
// and the counters the supervisor reports (memory.events oom_kill, memory.current,
// cgroup.events populated). Layout and keys are documented in docs/isolation.md.
//
// Every read/write/mkdir goes through CgroupFs, a thin seam: unit tests hand in a fake that
// records exactly what is written; production uses real_cgroup_fs(). All calls are noexcept
// and return 0 or an errno value (allocation failure is reported as ENOMEM).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "init/config/service_spec.h"

namespace cairn::init {

// The file-system operations the cgroup code needs; one real implementation and test fakes.
class CgroupFs {
 public:
  virtual ~CgroupFs() = default;
  // Whole-file read (cgroup files are small; reads stop at 1 MiB). 0 or errno.
  virtual int read_file(const std::string& path, std::string& out) noexcept = 0;
  // One write(2) of `data` (cgroupfs needs one write per value). 0 or errno.
  virtual int write_file(const std::string& path, std::string_view data) noexcept = 0;
  // mkdir 0755; EEXIST is returned as is (callers decide). 0 or errno.
  virtual int make_dir(const std::string& path) noexcept = 0;
  virtual int remove_dir(const std::string& path) noexcept = 0;
  // Names of the immediate subdirectories (child cgroups). 0 or errno.
  virtual int list_subdirs(const std::string& path, std::vector<std::string>& out) noexcept = 0;
  // open(O_DIRECTORY|O_RDONLY|O_CLOEXEC): a non-negative fd or -errno.
  virtual int open_dir(const std::string& path) noexcept = 0;
  // kill(2), so the cgroup.kill fallback can be tested without real processes. 0 or errno.
  virtual int kill_pid(pid_t pid, int signal) noexcept = 0;
};

// The process-wide real implementation (plain syscalls).
CgroupFs& real_cgroup_fs() noexcept;

// The mount point of the cgroup2 hierarchy from /proc/self/mountinfo ("" if none). On a
// pure-v2 system that is /sys/fs/cgroup; on a hybrid one /sys/fs/cgroup/unified.
std::string find_cgroup2_mount() noexcept;
// The same over mountinfo text (tests, fuzzing). Prefers /sys/fs/cgroup, else the first.
std::string find_cgroup2_mount_in(std::string_view mountinfo);

// The controllers cairn delegates to services, as a bit set.
enum CgroupController : unsigned {
  kCgroupCpu = 1u << 0,
  kCgroupMemory = 1u << 1,
  kCgroupPids = 1u << 2,
  kCgroupIo = 1u << 3,
};
// Parses a cgroup.controllers / cgroup.subtree_control line ("cpuset cpu io memory").
unsigned parse_cgroup_controllers(std::string_view text) noexcept;
// "cpu memory pids io" subset, space separated, for messages.
std::string format_cgroup_controllers(unsigned controllers);

// The resource keys of ResourceSpec, as a bit set for ResourceApplyResult.
enum ResourceKey : unsigned {
  kMemoryMax = 1u << 0,
  kMemoryHigh = 1u << 1,
  kCpuWeight = 1u << 2,
  kCpuMax = 1u << 3,
  kPidsMax = 1u << 4,
  kIoWeight = 1u << 5,
};
// "memory-max" etc.: the service-file key of one ResourceKey bit.
const char* resource_key_name(unsigned key) noexcept;

struct ResourceApplyResult {
  unsigned applied = 0;      // keys written successfully
  unsigned unsupported = 0;  // keys set in the spec whose controller is not available (skipped)
  unsigned failed = 0;       // keys whose write failed
  int first_error = 0;       // errno of the first failed write
  bool ok() const { return failed == 0 && unsupported == 0; }
  // "io-weight skipped: io controller not available; memory-max: Invalid argument" or "".
  std::string describe() const;
};

// The cgroup tree cairn owns: <root>/<subtree> (default <root>/cairn), with the controllers
// available in <root> enabled in both <root> and <root>/cairn subtree_control.
class CgroupTree {
 public:
  explicit CgroupTree(std::string root, CgroupFs& fs = real_cgroup_fs(),
                      std::string subtree = "cairn");

  // Creates <root>/<subtree> (existing is fine) and enables cpu/memory/pids/io where
  // <root>/cgroup.controllers lists them. Controllers that cannot be enabled are simply not
  // in controllers() (io is optional on many boards). 0 or errno with `error` set.
  int prepare(std::string& error) noexcept;

  // The whole services' tree at once (shutdown: freeze so nothing forks, then kill):
  // cgroup.freeze / cgroup.kill of base(), which the kernel applies to every descendant.
  // kill_all() falls back like ServiceCgroup::kill_all() before Linux 5.14. 0 or errno.
  int freeze_all(bool frozen) noexcept;
  int kill_all() noexcept;

  const std::string& root() const { return root_; }
  const std::string& base() const { return base_; }  // <root>/<subtree>
  unsigned controllers() const { return controllers_; }
  CgroupFs& fs() const { return *fs_; }

 private:
  std::string root_, base_;
  CgroupFs* fs_;
  unsigned controllers_ = 0;
};

// One service's cgroup directory, <base>/<name>. Movable, not copyable; owns the dir fd.
class ServiceCgroup {
 public:
  ServiceCgroup() = default;
  ~ServiceCgroup();
  ServiceCgroup(ServiceCgroup&& other) noexcept;
  ServiceCgroup& operator=(ServiceCgroup&& other) noexcept;
  ServiceCgroup(const ServiceCgroup&) = delete;
  ServiceCgroup& operator=(const ServiceCgroup&) = delete;

  // mkdir <tree.base()>/<name> (existing is fine: a leftover from a previous run is reused)
  // and opens it for CLONE_INTO_CGROUP. 0 or errno.
  int open(const CgroupTree& tree, std::string_view name) noexcept;
  bool is_open() const { return fd_ >= 0; }
  // Directory fd for SpawnRequest::cgroup_fd (owned by this object; O_CLOEXEC).
  int dir_fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // <path>/cgroup.events: epoll it for EPOLLPRI to learn when "populated" changes.
  std::string events_path() const { return path_ + "/cgroup.events"; }

  // Writes the limits of `spec`; keys left unset are written as their "no limit" value so
  // a reload that removes a limit takes effect. Skips keys whose controller is missing.
  ResourceApplyResult apply(const ResourceSpec& spec) noexcept;

  // SIGKILL everything in the cgroup and its children: cgroup.kill (Linux >= 5.14), else
  // freeze, SIGKILL every pid listed in cgroup.procs (recursively), thaw. 0 or errno.
  int kill_all() noexcept;
  // cgroup.freeze 1/0. 0 or errno.
  int freeze(bool frozen) noexcept;

  int read_populated(bool& populated) noexcept;  // cgroup.events "populated"
  int read_frozen(bool& frozen) noexcept;        // cgroup.events "frozen"
  int read_oom_kills(uint64_t& count) noexcept;  // memory.events "oom_kill"
  int read_memory_current(uint64_t& bytes) noexcept;
  int read_pids(std::vector<pid_t>& pids) noexcept;  // cgroup.procs (this cgroup only)

  // rmdir the cgroup (child cgroups first) and close the fd. EBUSY while populated.
  int remove() noexcept;
  void close() noexcept;

 private:
  friend class CgroupTree;
  ServiceCgroup(CgroupFs* fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  int kill_fallback() noexcept;
  int kill_listed(const std::string& dir, int depth, bool& any) noexcept;
  int remove_tree(const std::string& dir, int depth) noexcept;

  CgroupFs* fs_ = nullptr;
  unsigned controllers_ = 0;
  std::string path_;
  int fd_ = -1;
};

// Reads "key value" lines (cgroup.events, memory.events, cpu.stat) and returns the value of
// `key`. 0, ENOENT when the key is missing, EINVAL when the value is not a number.
int parse_keyed_value(std::string_view text, std::string_view key, uint64_t& value) noexcept;

}  // namespace cairn::init
