// Internal to init/exec: the child half of spawn_service(). Everything here runs between the
// clone and execve, so it only reads the prepared ChildContext and makes raw system calls
// (async-signal-safe; no allocation, no locks, no glibc setxid broadcast).
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "init/config/service_spec.h"

namespace cairn::init::spawn_internal {

// The child's steps, in order; the index goes over the error pipe.
enum Stage : int {
  kStageCgroupWait,
  kStageSignals,
  kStageSetsid,
  kStageStdio,
  kStageReadyFd,
  kStageCloseFds,
  kStageUnshareCgroup,
  kStageRlimit,
  kStageMountPropagation,
  kStageMountProc,
  kStageMountReadOnly,
  kStageMountPrivate,
  kStageHostname,
  kStageLoopback,
  kStageCapabilityBounding,
  kStageKeepCaps,
  kStageSetgroups,
  kStageSetgid,
  kStageSetuid,
  kStageCapset,
  kStageAmbientCaps,
  kStageNoNewPrivs,
  kStageSeccomp,
  kStageChdir,
  kStageExecve,
  kStageCount,
};
const char* stage_name(int stage) noexcept;

// What the child writes to the error pipe before _exit(127).
struct ChildFailure {
  int32_t stage;
  int32_t error;
};

struct ChildContext {
  const char* path = nullptr;  // execve path (argv[0])
  char* const* argv = nullptr;
  char* const* envp = nullptr;

  int error_fd = -1;  // write end of the CLOEXEC error pipe
  int sync_fd = -1;   // fallback path: read end; the parent writes once the cgroup is set
  int stdout_fd = -1, stderr_fd = -1;
  int ready_fd = -1, ready_target = -1;

  bool unshare_cgroup = false;
  const RlimitSpec* rlimits = nullptr;
  size_t rlimit_count = 0;

  bool mount_namespace = false;
  bool mount_proc = false;
  const char* const* read_only_paths = nullptr;
  size_t read_only_count = 0;
  const char* const* private_paths = nullptr;
  size_t private_count = 0;
  const char* private_options = nullptr;  // tmpfs options incl. the service's uid/gid
  const char* hostname = nullptr;         // null: keep
  bool loopback_up = false;               // new network namespace

  bool drop_bounding = false;
  int last_cap = 0;
  uint64_t keep_caps = 0;  // bounding set kept (bit n = CAP n), includes ambient
  uint64_t ambient_caps = 0;

  bool change_credentials = false;
  uid_t uid = 0;
  gid_t gid = 0;
  const gid_t* groups = nullptr;
  size_t group_count = 0;

  bool no_new_privs = false;
  bool has_seccomp = false;
  sock_fprog seccomp{};
  const char* working_directory = "/";
};

// Runs the steps and execs; on failure reports {stage, errno} on error_fd and _exit(127).
[[noreturn]] void run_child(const ChildContext& context) noexcept;

}  // namespace cairn::init::spawn_internal
