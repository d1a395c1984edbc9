// The parent half of spawn_service(): prepare everything, clone, learn the outcome.
#include "init/exec/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <new>

#include "init/exec/credentials.h"
#include "init/exec/spawn_child.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

namespace cairn::init {
namespace {

using spawn_internal::ChildContext;
using spawn_internal::ChildFailure;

// struct clone_args up to `cgroup` (CLONE_ARGS_SIZE_VER2, Linux 5.7).
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};

SpawnResult failure(const char* stage, int error, std::string detail = {}) {
  SpawnResult result;
  result.stage = stage;
  result.error = error;
  result.detail = std::move(detail);
  return result;
}

int read_last_cap() noexcept {
  static int cached = [] {
    int value = 40;  // CAP_CHECKPOINT_RESTORE, Linux 5.9
    if (FILE* file = std::fopen("/proc/sys/kernel/cap_last_cap", "re")) {
      if (std::fscanf(file, "%d", &value) != 1) value = 40;
      std::fclose(file);
    }
    return value;
  }();
  return cached;
}

std::vector<char*> pointer_array(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const auto& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

bool capability_mask(const std::vector<int>& caps, int last_cap, uint64_t& mask) {
  for (int cap : caps) {
    if (cap < 0 || cap > last_cap || cap >= 64) return false;
    mask |= uint64_t{1} << cap;
  }
  return true;
}

// Moves the fallback child into its cgroup: write its pid to cgroup.procs. 0 or errno.
int attach_to_cgroup(int cgroup_fd, pid_t pid) noexcept {
  int fd = ::openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char text[16];
  auto [end, ec] = std::to_chars(text, text + sizeof text, pid);
  (void)ec;
  ssize_t n = ::write(fd, text, static_cast<size_t>(end - text));
  int rc = n < 0 ? errno : 0;
  ::close(fd);
  return rc;
}

void close_if_open(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

SpawnResult spawn(const SpawnRequest& request) {
  const ServiceSpec* spec = request.spec;
  if (spec == nullptr) return failure("prepare", EINVAL, "no service spec");
  if (request.argv.empty() || request.argv[0].empty() || request.argv[0][0] != '/') {
    return failure("prepare", EINVAL, "exec[0] must be an absolute path");
  }
  const IsolationSpec& iso = spec->isolation;
  if (request.ready_fd >= 0 && spec->ready.fd < 3) {
    return failure("prepare", EINVAL, "ready fd must be 3 or higher");
  }

  Credentials credentials;
  std::string problem = resolve_credentials(spec->user, spec->group, credentials,
                                            request.etc_dir != nullptr ? request.etc_dir : "/etc");
  if (!problem.empty()) return failure("credentials", ENOENT, std::move(problem));

  SpawnPlan local_plan;
  const SpawnPlan* plan = request.plan;
  if (plan == nullptr) {
    problem = prepare_spawn_plan(*spec, local_plan);
    if (!problem.empty()) return failure("seccomp-build", EINVAL, std::move(problem));
    plan = &local_plan;
  }

  uint64_t namespace_flags = 0;
  bool unshare_cgroup = false;
  for (Namespace ns : iso.namespaces) {
    switch (ns) {
      case Namespace::Mount:
        namespace_flags |= CLONE_NEWNS;
        break;
      case Namespace::Pid:
        namespace_flags |= CLONE_NEWPID | CLONE_NEWNS;
        break;
      case Namespace::Ipc:
        namespace_flags |= CLONE_NEWIPC;
        break;
      case Namespace::Uts:
        namespace_flags |= CLONE_NEWUTS;
        break;
      case Namespace::Net:
        namespace_flags |= CLONE_NEWNET;
        break;
      case Namespace::Cgroup:
        unshare_cgroup = true;
        break;
    }
  }
  if (!iso.read_only_paths.empty() || !iso.private_paths.empty()) namespace_flags |= CLONE_NEWNS;
  if (!iso.hostname.empty() && (namespace_flags & CLONE_NEWUTS) == 0) {
    return failure("prepare", EINVAL, "hostname needs the uts namespace");
  }

  // Everything the child reads, allocated now.
  std::vector<char*> argv = pointer_array(request.argv);
  std::vector<char*> envp = pointer_array(request.env);
  std::vector<const char*> read_only, private_paths;
  for (const auto& path : iso.read_only_paths) read_only.push_back(path.c_str());
  for (const auto& path : iso.private_paths) private_paths.push_back(path.c_str());
  uid_t service_uid = credentials.change ? credentials.uid : 0;
  gid_t service_gid = credentials.change ? credentials.gid : 0;
  std::string private_options =
      "mode=0755,uid=" + std::to_string(service_uid) + ",gid=" + std::to_string(service_gid);

  ChildContext context;
  context.path = argv[0];
  context.argv = argv.data();
  context.envp = envp.data();
  context.stdout_fd = request.stdout_fd;
  context.stderr_fd = request.stderr_fd;
  context.ready_fd = request.ready_fd;
  context.ready_target = spec->ready.fd;
  context.unshare_cgroup = unshare_cgroup;
  context.rlimits = iso.rlimits.data();
  context.rlimit_count = iso.rlimits.size();
  context.mount_namespace = (namespace_flags & CLONE_NEWNS) != 0;
  context.mount_proc = (namespace_flags & CLONE_NEWPID) != 0;
  context.read_only_paths = read_only.data();
  context.read_only_count = read_only.size();
  context.private_paths = private_paths.data();
  context.private_count = private_paths.size();
  context.private_options = private_options.c_str();
  context.hostname = iso.hostname.empty() ? nullptr : iso.hostname.c_str();
  context.loopback_up = (namespace_flags & CLONE_NEWNET) != 0;
  context.last_cap = read_last_cap();
  if (!capability_mask(iso.ambient_capabilities, context.last_cap, context.ambient_caps)) {
    return failure("prepare", EINVAL, "unknown capability in ambient-capabilities");
  }
  if (iso.capabilities) {
    context.drop_bounding = true;
    if (!capability_mask(*iso.capabilities, context.last_cap, context.keep_caps)) {
      return failure("prepare", EINVAL, "unknown capability in capabilities");
    }
    context.keep_caps |= context.ambient_caps;  // ambient caps must stay in the bounding set
  }
  context.change_credentials = credentials.change;
  context.uid = credentials.uid;
  context.gid = credentials.gid;
  context.groups = credentials.groups.data();
  context.group_count = credentials.groups.size();
  context.has_seccomp = !plan->seccomp.empty();
  context.seccomp = plan->seccomp.program();
  // Without CAP_SYS_ADMIN the kernel only accepts a filter under no_new_privs.
  context.no_new_privs = iso.no_new_privileges || (context.has_seccomp && service_uid != 0);
  context.working_directory =
      spec->working_directory.empty() ? "/" : spec->working_directory.c_str();

  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) return failure("pipe", errno);
  context.error_fd = error_pipe[1];

  // No handler of the parent may run in the child before it resets dispositions.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);

  int pidfd = -1;
  pid_t pid = -1;
  bool fallback = request.force_fallback;
  int sync_pipe[2] = {-1, -1};
  if (!fallback) {
    CloneArgs args{};
    args.flags = CLONE_PIDFD | namespace_flags;
    if (request.cgroup_fd >= 0) {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = static_cast<uint64_t>(request.cgroup_fd);
    }
    args.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    pid = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
    if (pid == 0) spawn_internal::run_child(context);
    if (pid < 0 &&
        (errno == ENOSYS || errno == E2BIG || (errno == EINVAL && request.cgroup_fd >= 0))) {
      fallback = true;  // before 5.3 (clone3) or 5.7 (CLONE_INTO_CGROUP)
    }
  }
  if (fallback) {
    if (request.cgroup_fd >= 0) {
      if (::pipe2(sync_pipe, O_CLOEXEC) != 0) {
        int error = errno;
        pthread_sigmask(SIG_SETMASK, &saved, nullptr);
        ::close(error_pipe[0]);
        ::close(error_pipe[1]);
        return failure("pipe", error);
      }
      context.sync_fd = sync_pipe[0];
    }
    unsigned long flags = namespace_flags | SIGCHLD | CLONE_PIDFD;
    pid = static_cast<pid_t>(::syscall(SYS_clone, flags, 0, &pidfd, 0, 0));
    if (pid < 0 && errno == EINVAL) {  // before 5.2: no pidfd
      pidfd = -1;
      flags &= ~static_cast<unsigned long>(CLONE_PIDFD);
      pid = static_cast<pid_t>(::syscall(SYS_clone, flags, 0, nullptr, 0, 0));
    }
    if (pid == 0) spawn_internal::run_child(context);
  }
  int clone_error = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  ::close(error_pipe[1]);
  close_if_open(sync_pipe[0]);
  if (pid < 0) {
    ::close(error_pipe[0]);
    close_if_open(sync_pipe[1]);
    return failure("clone", clone_error);
  }

  auto reap = [&] {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    close_if_open(pidfd);
  };

  if (sync_pipe[1] >= 0) {
    int rc = attach_to_cgroup(request.cgroup_fd, pid);
    if (rc != 0) {
      ::kill(pid, SIGKILL);
      close_if_open(sync_pipe[1]);  // EOF: the child exits without a report
      ::close(error_pipe[0]);
      reap();
      return failure("cgroup-attach", rc);
    }
    char go = 1;
    ssize_t n;
    do {
      n = ::write(sync_pipe[1], &go, 1);
    } while (n < 0 && errno == EINTR);
    close_if_open(sync_pipe[1]);
  }

  // EOF: execve succeeded (the CLOEXEC write end closed); a record: the step that failed.
  ChildFailure report{};
  size_t got = 0;
  bool timed_out = false;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(std::max(request.setup_timeout_ms, 1));
  while (got < sizeof report) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    pollfd p{error_pipe[0], POLLIN, 0};
    int ready = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      timed_out = true;
      break;
    }
    ssize_t n = ::read(error_pipe[0], reinterpret_cast<char*>(&report) + got, sizeof report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(error_pipe[0]);
  if (timed_out) {
    ::kill(pid, SIGKILL);
    // Wait up to a second for it to die; never block on a task stuck in the kernel.
    bool gone = false;
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      gone = ::poll(&p, 1, 1000) == 1;
      if (gone) reap();
    } else {
      for (int i = 0; i < 100 && !gone; ++i) {
        gone = ::waitpid(pid, nullptr, WNOHANG) == pid;
        if (!gone) ::usleep(10'000);
      }
    }
    close_if_open(pidfd);
    return failure("exec-timeout", ETIMEDOUT);
  }
  if (got == sizeof report) {
    reap();
    return failure(spawn_internal::stage_name(report.stage), report.error);
  }

  SpawnResult result;
  result.pid = pid;
  result.pidfd = pidfd;
  return result;
}

}  // namespace

std::string prepare_spawn_plan(const ServiceSpec& spec, SpawnPlan& plan) {
  return build_seccomp_program(spec.isolation, plan.seccomp);
}

SpawnResult spawn_service(const SpawnRequest& request) noexcept {
  try {
    return spawn(request);
  } catch (const std::bad_alloc&) {
    SpawnResult result;
    result.stage = "prepare";
    result.error = ENOMEM;
    return result;
  }
}

}  // namespace cairn::init
