// The one thin seam between PID 1's duties and the kernel. Everything in init/system/ that
// mounts, kills, waits, writes cgroup files or reboots goes through SystemCalls, so unit
// tests hand in a fake that records calls and plays back results without being PID 1.
// Production code uses real_system_calls(). Every call is noexcept and returns 0 or an errno
// value unless documented otherwise.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::init::system {

class SystemCalls {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~SystemCalls() = default;

  virtual pid_t getpid() noexcept = 0;
  virtual int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
                    const char* data) noexcept = 0;
  virtual int umount(const char* target, int flags) noexcept = 0;
  // mkdir -p with `mode` for the created components; an existing directory is success.
  virtual int make_dirs(const std::string& path, mode_t mode) noexcept = 0;
  // Whole-file read (stops at 4 MiB). 0 or errno.
  virtual int read_file(const std::string& path, std::string& out) noexcept = 0;
  // One write(2) of `data` to an existing file (cgroupfs/procfs need one write per value).
  virtual int write_file(const std::string& path, std::string_view data) noexcept = 0;
  // Creates or replaces `path` with `data` atomically (a temporary file in the same
  // directory, fsync, rename), mode `mode`. For files PID 1 owns: /etc/hostname, saved config.
  virtual int replace_file(const std::string& path, std::string_view data,
                           mode_t mode) noexcept = 0;
  // unlink(2); a missing file is success.
  virtual int remove_file(const std::string& path) noexcept = 0;
  virtual int sethostname(std::string_view name) noexcept = 0;
  // Names in a directory, without "." and "..". 0 or errno.
  virtual int list_dir(const std::string& path, std::vector<std::string>& names) noexcept = 0;
  virtual int kill(pid_t pid, int signal) noexcept = 0;
  // waitpid(2): the pid, 0 (WNOHANG, nothing to reap) or -errno (-ECHILD: no children).
  virtual pid_t waitpid(pid_t pid, int* wait_status, int flags) noexcept = 0;
  // Sleeps until a SIGCHLD is pending (it stays blocked) or `timeout` passes. Used only by
  // the final shutdown sequence, when the event loop no longer runs.
  virtual void wait_for_child_event(std::chrono::milliseconds timeout) noexcept = 0;
  // sync(2) in a forked child; true if it finished within `timeout` (dead storage can make
  // sync hang forever: the child is then left behind, PID 1 goes on).
  virtual bool sync_with_timeout(std::chrono::milliseconds timeout) noexcept = 0;
  // Forks a child that calls reboot(cmd); PID 1 itself never calls reboot(2) for a power
  // action (if the call fails in PID 1's own context it would return into a half-dead
  // system; a child's failure is just an exit status). Returns the child's errno or 0.
  // On success, in the initial PID namespace, this normally never returns.
  virtual int reboot_in_child(int cmd) noexcept = 0;
  // reboot(2) called directly, only for RB_DISABLE_CAD / RB_ENABLE_CAD (no power action).
  virtual int set_ctrl_alt_del(bool kernel_reboots) noexcept = 0;
  virtual Clock::time_point now() noexcept = 0;
};

// The process-wide real implementation (plain syscalls).
SystemCalls& real_system_calls() noexcept;

}  // namespace cairn::init::system
