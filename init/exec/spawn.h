// Starting one service process: clone3 straight into its cgroup and namespaces, then in the
// child only async-signal-safe steps in the documented privilege-drop order
// (docs/isolation.md):
//   signals, setsid, stdio + ready fd, close other fds, cgroup ns, rlimits, mounts
//   (read-only/private paths, /proc), hostname, loopback up, capability bounding set,
//   groups/gid/uid, ambient caps, no_new_privs, seccomp last, working directory, execve.
// Everything that allocates (argv/envp arrays, uid/gid/groups from /etc/passwd and
// /etc/group, the seccomp BPF, mount options) is prepared before the clone.
// A failing step is reported to the parent as {stage, errno} over a CLOEXEC pipe, so the
// supervisor learns why a start failed before the first log line could.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "init/config/service_spec.h"
#include "init/exec/seccomp_profile.h"

namespace cairn::init {

// What can be computed once per service definition and reused by every start (the seccomp
// program). Optional: spawn_service() builds one itself when SpawnRequest::plan is null.
struct SpawnPlan {
  SeccompProgram seccomp;
};

// Builds `plan` for `spec`. Returns "" or the reason (bad seccomp profile or syscall name).
std::string prepare_spawn_plan(const ServiceSpec& spec, SpawnPlan& plan);

struct SpawnRequest {
  const ServiceSpec* spec = nullptr;
  std::vector<std::string> argv;  // exec + args-file lines, already resolved; argv[0] absolute
  std::vector<std::string> env;   // complete environment, "K=V"
  int cgroup_fd = -1;             // directory fd of the service's cgroup (CLONE_INTO_CGROUP)
  int stdout_fd = -1;             // log pipe write ends; -1 = /dev/null
  int stderr_fd = -1;
  int ready_fd = -1;                // write end for `ready.type = fd`, dup'ed to spec->ready.fd
  const SpawnPlan* plan = nullptr;  // prebuilt plan for spec (else built per spawn)
  // Tests and bench only: skip clone3 and take the fallback path (clone(2) + writing the pid
  // to cgroup.procs while the child waits), as on kernels before 5.7.
  bool force_fallback = false;
  // Directory holding passwd and group for resolving spec->user/group (tests use fixtures).
  const char* etc_dir = "/etc";
  // PID 1 must not hang on a child stuck before execve (a hung mount, say): after this long
  // without exec or a failure report the child is SIGKILLed and the start fails with stage
  // "exec-timeout", ETIMEDOUT.
  int setup_timeout_ms = 10'000;
};

struct SpawnResult {
  pid_t pid = -1;
  int pidfd = -1;               // owned by the caller; the child watch, reserved before the fork
  const char* stage = nullptr;  // on failure: the step that failed ("setrlimit", "execve", ..)
  int error = 0;                // on failure: errno of that step
  std::string detail;           // on failure before the clone: a human-readable reason
  bool ok() const { return pid > 0; }
};

// On success the child has exec'ed (the error pipe saw EOF) and the caller owns pid/pidfd
// (pidfd is -1 only on kernels without CLONE_PIDFD, before 5.2). On failure no child is left
// behind: a child that failed a step has been reaped here. (Exception: an "exec-timeout"
// child that does not die within a second of SIGKILL — stuck in the kernel — is left to
// PID 1's general reaper.)
// Namespaces: `pid` and read-only/private paths imply a new mount namespace (for a fresh
// /proc and so mounts never leak to the host); a hostname needs the uts namespace.
// noexcept: allocation failure before the clone is reported as stage "prepare", ENOMEM.
SpawnResult spawn_service(const SpawnRequest& request) noexcept;

}  // namespace cairn::init
