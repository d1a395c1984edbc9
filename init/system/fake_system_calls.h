// A recording fake of SystemCalls for unit tests: an in-memory mount table rendered as
// /proc/self/mountinfo, files, directories, a scripted child table and a fake clock.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "init/system/system_calls.h"

namespace cairn::init::system::testing {

class FakeSystemCalls : public SystemCalls {
 public:
  struct Mount {
    std::string source, target, fstype, options;
  };

  // Configuration.
  pid_t pid = 1;
  bool proc_always = false;  // mountinfo readable even before /proc is mounted
  std::vector<Mount> mounts;
  std::map<std::string, std::string> files;   // read_file contents
  std::map<std::string, int> mount_errors;    // target -> errno
  std::map<std::string, int> umount_errors;   // target -> errno (EBUSY ...)
  std::map<std::string, int> remount_errors;  // target -> errno for MS_REMOUNT
  std::map<std::string, int> detach_errors;   // target -> errno for MNT_DETACH
  // target -> the mount that keeps it busy while mounted (an overlay whose upper dir lives on
  // it): umount and remount of the target fail with EBUSY until that mount is gone.
  std::map<std::string, std::string> pinned_by;
  std::map<std::string, int> write_errors;  // path -> errno (write and replace)
  int sethostname_error = 0;
  std::string hostname;                                  // set by sethostname
  std::map<std::string, std::vector<std::string>> dirs;  // list_dir contents
  std::deque<std::pair<pid_t, int>> exits;               // what waitpid(-1) reaps, in order
  int live_children = 0;                                 // children that have not exited (yet)
  // Called for each kill(); may push exits / change live_children.
  std::function<void(pid_t pid, int signo)> on_kill;
  bool sync_finishes = true;
  int reboot_result = 0;
  int cad_result = 0;  // set_ctrl_alt_del's answer (EINVAL in a PID namespace)

  // Recorded.
  // "mount /proc proc", "umount /x", "umount-lazy /x", "write P D", "replace P D", "remove P",
  // "sethostname H", "kill -1 15"
  std::vector<std::string> calls;
  std::map<std::string, std::string> written;  // path -> last data
  std::set<std::string> made_dirs;
  Clock::time_point clock{};

  std::string mountinfo() const;

  pid_t getpid() noexcept override { return pid; }
  int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
            const char* data) noexcept override;
  int umount(const char* target, int flags) noexcept override;
  int make_dirs(const std::string& path, mode_t mode) noexcept override;
  int read_file(const std::string& path, std::string& out) noexcept override;
  int write_file(const std::string& path, std::string_view data) noexcept override;
  int replace_file(const std::string& path, std::string_view data, mode_t mode) noexcept override;
  int remove_file(const std::string& path) noexcept override;
  int sethostname(std::string_view name) noexcept override;
  int list_dir(const std::string& path, std::vector<std::string>& names) noexcept override;
  int kill(pid_t target, int signo) noexcept override;
  pid_t waitpid(pid_t target, int* wait_status, int flags) noexcept override;
  void wait_for_child_event(std::chrono::milliseconds timeout) noexcept override;
  bool sync_with_timeout(std::chrono::milliseconds timeout) noexcept override;
  int reboot_in_child(int cmd) noexcept override;
  int set_ctrl_alt_del(bool kernel_reboots) noexcept override;
  Clock::time_point now() noexcept override { return clock; }

  size_t count_calls(const std::string& prefix) const;
  bool mounted(const std::string& target) const;
  // Index of the first call starting with prefix, or -1.
  int find_call(const std::string& prefix) const;
};

}  // namespace cairn::init::system::testing
