// Starting one service process: fork (clone3 into its cgroup), then in the child only
// async-signal-safe steps in the documented privilege-drop order (docs/isolation.md):
//   rlimits, namespaces, mounts (read-only/private paths), hostname, capability bounding set,
//   gid/uid, ambient caps, no_new_privs, seccomp last, then execve.
// A failing step is reported to the parent as {stage, errno} over a CLOEXEC pipe, so the
// supervisor learns why a start failed before the first log line could.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "init/config/service_spec.h"

namespace cairn::init {

struct SpawnRequest {
  const ServiceSpec* spec = nullptr;
  std::vector<std::string> argv;  // exec + args-file lines, already resolved
  std::vector<std::string> env;   // complete environment, "K=V"
  int cgroup_fd = -1;             // directory fd of the service's cgroup (CLONE_INTO_CGROUP)
  int stdout_fd = -1;             // log pipe write ends; -1 = /dev/null
  int stderr_fd = -1;
  int ready_fd = -1;              // write end for `ready.type = fd`, dup'ed to spec->ready.fd
};

struct SpawnResult {
  pid_t pid = -1;
  int pidfd = -1;       // owned by the caller; the child watch, reserved before the fork
  const char* stage = nullptr;  // on failure: the step that failed ("setrlimit", "execve", ..)
  int error = 0;                // on failure: errno of that step
  bool ok() const { return pid > 0; }
};

// noexcept: memory for the child's argv/env is prepared before the fork.
SpawnResult spawn_service(const SpawnRequest& request) noexcept;

}  // namespace cairn::init
