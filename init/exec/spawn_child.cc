// The child half of spawn_service(): raw system calls only, in the documented order.
#include "init/exec/spawn_child.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

namespace cairn::init::spawn_internal {
namespace {

// struct mount_attr of <linux/mount.h> (which clashes with glibc's <sys/mount.h>).
struct MountAttr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};
constexpr uint64_t kMountAttrReadOnly = 0x00000001;

[[noreturn]] void fail(const ChildContext& context, int stage, int error) noexcept {
  ChildFailure failure{stage, error};
  ssize_t n;
  do {
    n = ::write(context.error_fd, &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  ::_exit(127);
}

// Moves `fd` to a number >= floor (close-on-exec) so placing the targets cannot clobber it.
int move_above(int fd, int floor) noexcept {
  if (fd < 0 || fd >= floor) return fd;
  return ::fcntl(fd, F_DUPFD_CLOEXEC, floor);
}

int close_range_raw(unsigned first, unsigned last) noexcept {
  if (first > last) return 0;
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, first, last, 0) == 0) return 0;
  if (errno != ENOSYS) return -1;
#endif
  // Before Linux 5.9: close one by one up to the descriptor limit.
  rlimit limit{};
  unsigned top = last;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      limit.rlim_cur - 1 < top) {
    top = static_cast<unsigned>(limit.rlim_cur - 1);
  }
  for (unsigned fd = first; fd <= top && fd >= first; ++fd) ::close(static_cast<int>(fd));
  return 0;
}

void reset_signals() noexcept {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal == SIGKILL || signal == SIGSTOP) continue;
    ::sigaction(signal, &action, nullptr);  // glibc-reserved numbers fail with EINVAL: fine
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// stdin /dev/null, stdout/stderr to the log fds, the ready fd at its number, everything else
// closed (the error pipe stays until execve closes it).
void place_fds(ChildContext& c) noexcept {
  int floor = c.ready_target >= 3 && c.ready_fd >= 0 ? c.ready_target + 1 : 3;
  c.error_fd = move_above(c.error_fd, floor);
  if (c.error_fd < 0) ::_exit(127);
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) fail(c, kStageStdio, errno);
  devnull = move_above(devnull, floor);
  int out = move_above(c.stdout_fd >= 0 ? c.stdout_fd : devnull, floor);
  int err = move_above(c.stderr_fd >= 0 ? c.stderr_fd : devnull, floor);
  if (devnull < 0 || out < 0 || err < 0) fail(c, kStageStdio, errno);
  if (::dup2(devnull, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) {
    fail(c, kStageStdio, errno);
  }
  if (c.ready_fd >= 0) {
    int ready = move_above(c.ready_fd, floor);
    if (ready < 0 || ::dup2(ready, c.ready_target) < 0) fail(c, kStageReadyFd, errno);
  }
  // Keep 0, 1, 2, the ready fd (below floor) and the error pipe (at or above floor).
  unsigned error_fd = static_cast<unsigned>(c.error_fd);
  int rc = 0;
  if (c.ready_fd >= 0) {
    unsigned ready = static_cast<unsigned>(c.ready_target);
    rc |= close_range_raw(3, ready - 1);
    rc |= close_range_raw(ready + 1, error_fd - 1);
  } else {
    rc |= close_range_raw(3, error_fd - 1);
  }
  rc |= close_range_raw(error_fd + 1, ~0U);
  if (rc != 0) fail(c, kStageCloseFds, errno);
}

void make_read_only(const ChildContext& c, const char* path) noexcept {
  // A path that is not a mount point must become one first; "/" always is (and a bind onto
  // "/" would be invisible to us anyway).
  if (!(path[0] == '/' && path[1] == '\0')) {
    if (::mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      fail(c, kStageMountReadOnly, errno);
    }
  }
#ifdef SYS_mount_setattr
  MountAttr attr{kMountAttrReadOnly, 0, 0, 0};
  if (::syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof attr) == 0) {
    return;
  }
  if (errno != ENOSYS) fail(c, kStageMountReadOnly, errno);
#endif
  // Before Linux 5.12: the top mount only.
  if (::mount(nullptr, path, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
    fail(c, kStageMountReadOnly, errno);
  }
}

void bring_loopback_up(const ChildContext& c) noexcept {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) fail(c, kStageLoopback, errno);
  ifreq request{};
  std::memcpy(request.ifr_name, "lo", 3);
  if (::ioctl(sock, SIOCGIFFLAGS, &request) < 0) fail(c, kStageLoopback, errno);
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(sock, SIOCSIFFLAGS, &request) < 0) fail(c, kStageLoopback, errno);
  ::close(sock);
}

void raise_ambient(const ChildContext& c) noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) fail(c, kStageCapset, errno);
  for (int i = 0; i < 2; ++i) {
    uint32_t mask = static_cast<uint32_t>(c.ambient_caps >> (32 * i));
    data[i].inheritable = mask;
    if (c.uid != 0) {
      // A non-root service keeps exactly its ambient set (KEEPCAPS kept the permitted set).
      data[i].permitted &= mask;
      data[i].effective = data[i].permitted;
    }
  }
  if (::syscall(SYS_capset, &header, data) != 0) fail(c, kStageCapset, errno);
  for (int cap = 0; cap <= c.last_cap && cap < 64; ++cap) {
    if ((c.ambient_caps >> cap) & 1) {
      if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
        fail(c, kStageAmbientCaps, errno);
      }
    }
  }
}

}  // namespace

const char* stage_name(int stage) noexcept {
  static constexpr const char* kNames[kStageCount] = {
      "cgroup-wait",    "signals",         "setsid",
      "stdio",          "ready-fd",        "close-fds",
      "unshare-cgroup", "setrlimit",       "mount-propagation",
      "mount-proc",     "mount-read-only", "mount-private",
      "sethostname",    "loopback",        "capability-bounding",
      "keep-caps",      "setgroups",       "setgid",
      "setuid",         "capset",          "ambient-caps",
      "no-new-privs",   "seccomp",         "chdir",
      "execve"};
  return stage >= 0 && stage < kStageCount ? kNames[stage] : "unknown";
}

[[noreturn]] void run_child(const ChildContext& context) noexcept {
  ChildContext c = context;  // a copy on our own stack: fds get renumbered below

  if (c.sync_fd >= 0) {
    // Fallback path: the parent moves us into the cgroup, then writes one byte.
    char go = 0;
    ssize_t n;
    do {
      n = ::read(c.sync_fd, &go, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) ::_exit(127);  // the parent gave up and reports the error itself
    ::close(c.sync_fd);
  }

  reset_signals();
  ::umask(022);  // a defined default whatever PID 1 runs with (umask cannot fail)
  if (::setsid() < 0) fail(c, kStageSetsid, errno);
  place_fds(c);

  // Born in the cgroup already, so the new cgroup namespace is rooted at the service's own.
  if (c.unshare_cgroup && ::unshare(CLONE_NEWCGROUP) != 0) fail(c, kStageUnshareCgroup, errno);

  for (size_t i = 0; i < c.rlimit_count; ++i) {
    rlimit64 limit{c.rlimits[i].soft, c.rlimits[i].hard};  // prlimit64 takes 64-bit limits
    if (::syscall(SYS_prlimit64, 0, c.rlimits[i].resource, &limit, nullptr) != 0) {
      fail(c, kStageRlimit, errno);
    }
  }

  if (c.mount_namespace) {
    // Nothing we mount propagates back to the host; host mounts still reach us.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
      fail(c, kStageMountPropagation, errno);
    }
    if (c.mount_proc &&
        ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      fail(c, kStageMountProc, errno);
    }
    for (size_t i = 0; i < c.read_only_count; ++i) make_read_only(c, c.read_only_paths[i]);
    for (size_t i = 0; i < c.private_count; ++i) {
      if (::mount("tmpfs", c.private_paths[i], "tmpfs", MS_NOSUID | MS_NODEV, c.private_options) !=
          0) {
        fail(c, kStageMountPrivate, errno);
      }
    }
  }

  if (c.hostname != nullptr && ::sethostname(c.hostname, std::strlen(c.hostname)) != 0) {
    fail(c, kStageHostname, errno);
  }
  if (c.loopback_up) bring_loopback_up(c);

  if (c.drop_bounding) {
    for (int cap = 0; cap <= c.last_cap && cap < 64; ++cap) {
      if ((c.keep_caps >> cap) & 1) continue;
      if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
        fail(c, kStageCapabilityBounding, errno);
      }
    }
  }

  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);  // EINVAL before 4.3: none
  bool keep_caps = c.ambient_caps != 0 && c.change_credentials && c.uid != 0;
  if (keep_caps && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) fail(c, kStageKeepCaps, errno);
  if (c.change_credentials) {
    // Raw syscalls: glibc's wrappers would try to broadcast to threads that do not exist here.
    if (::syscall(SYS_setgroups, c.group_count, c.groups) != 0) fail(c, kStageSetgroups, errno);
    if (::syscall(SYS_setresgid, c.gid, c.gid, c.gid) != 0) fail(c, kStageSetgid, errno);
    if (::syscall(SYS_setresuid, c.uid, c.uid, c.uid) != 0) fail(c, kStageSetuid, errno);
  }
  if (c.ambient_caps != 0) raise_ambient(c);

  if (c.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    fail(c, kStageNoNewPrivs, errno);
  }
  if (c.has_seccomp && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &c.seccomp, 0, 0) != 0) {
    fail(c, kStageSeccomp, errno);
  }

  if (::chdir(c.working_directory) != 0) fail(c, kStageChdir, errno);
  ::execve(c.path, c.argv, c.envp);
  fail(c, kStageExecve, errno);
}

}  // namespace cairn::init::spawn_internal
