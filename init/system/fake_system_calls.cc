#include "init/system/fake_system_calls.h"

#include <sys/mount.h>
#include <sys/wait.h>

#include <cerrno>

namespace cairn::init::system::testing {

std::string FakeSystemCalls::mountinfo() const {
  std::string out;
  int id = 20;
  for (const Mount& m : mounts) {
    out += std::to_string(id) + " " + std::to_string(id - 1) + " 0:" + std::to_string(id) + " / " +
           m.target + " " + m.options + " shared:1 - " + m.fstype + " " + m.source + " rw\n";
    ++id;
  }
  return out;
}

int FakeSystemCalls::mount(const char* source, const char* target, const char* fstype,
                           unsigned long flags, const char* data) noexcept {
  std::string t = target;
  if (flags & MS_REMOUNT) {
    calls.push_back("remount " + t + ((flags & MS_RDONLY) ? " ro" : " rw"));
    if (auto it = remount_errors.find(t); it != remount_errors.end()) return it->second;
    if (auto it = pinned_by.find(t); it != pinned_by.end() && mounted(it->second)) return EBUSY;
    for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
      if (it->target == t) {
        it->options = (flags & MS_RDONLY) ? "ro" : "rw";
        return 0;
      }
    }
    return EINVAL;
  }
  calls.push_back("mount " + t + " " + fstype + (data ? std::string(" ") + data : ""));
  if (auto it = mount_errors.find(t); it != mount_errors.end()) return it->second;
  mounts.push_back({source ? source : "none", t, fstype, "rw"});
  return 0;
}

bool FakeSystemCalls::mounted(const std::string& target) const {
  for (const Mount& m : mounts) {
    if (m.target == target) return true;
  }
  return false;
}

int FakeSystemCalls::umount(const char* target, int flags) noexcept {
  std::string t = target;
  bool lazy = (flags & MNT_DETACH) != 0;
  calls.push_back((lazy ? "umount-lazy " : "umount ") + t);
  if (lazy) {
    if (auto it = detach_errors.find(t); it != detach_errors.end()) return it->second;
  } else {
    if (auto it = umount_errors.find(t); it != umount_errors.end()) return it->second;
    if (auto it = pinned_by.find(t); it != pinned_by.end() && mounted(it->second)) return EBUSY;
  }
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
    if (it->target == t) {
      mounts.erase(std::next(it).base());
      return 0;
    }
  }
  return EINVAL;
}

int FakeSystemCalls::make_dirs(const std::string& path, mode_t) noexcept {
  made_dirs.insert(path);
  return 0;
}

int FakeSystemCalls::read_file(const std::string& path, std::string& out) noexcept {
  if (path == "/proc/self/mountinfo") {
    bool have_proc = proc_always;
    for (const Mount& m : mounts) have_proc |= m.fstype == "proc";
    if (!have_proc) return ENOENT;
    out = mountinfo();
    return 0;
  }
  auto it = files.find(path);
  if (it == files.end()) return ENOENT;
  out = it->second;
  return 0;
}

int FakeSystemCalls::write_file(const std::string& path, std::string_view data) noexcept {
  calls.push_back("write " + path + " " + std::string(data));
  if (auto it = write_errors.find(path); it != write_errors.end()) return it->second;
  written[path] = std::string(data);
  return 0;
}

// A replaced file can be read back (files) and is recorded (written).
int FakeSystemCalls::replace_file(const std::string& path, std::string_view data, mode_t) noexcept {
  calls.push_back("replace " + path + " " + std::string(data));
  if (auto it = write_errors.find(path); it != write_errors.end()) return it->second;
  written[path] = std::string(data);
  files[path] = std::string(data);
  return 0;
}

int FakeSystemCalls::remove_file(const std::string& path) noexcept {
  calls.push_back("remove " + path);
  files.erase(path);
  written.erase(path);
  return 0;
}

int FakeSystemCalls::sethostname(std::string_view name) noexcept {
  calls.push_back("sethostname " + std::string(name));
  if (sethostname_error != 0) return sethostname_error;
  hostname = std::string(name);
  return 0;
}

int FakeSystemCalls::list_dir(const std::string& path, std::vector<std::string>& names) noexcept {
  auto it = dirs.find(path);
  if (it == dirs.end()) return ENOENT;
  names = it->second;
  return 0;
}

int FakeSystemCalls::kill(pid_t target, int signo) noexcept {
  calls.push_back("kill " + std::to_string(target) + " " + std::to_string(signo));
  if (on_kill) on_kill(target, signo);
  return 0;
}

pid_t FakeSystemCalls::waitpid(pid_t, int* wait_status, int) noexcept {
  if (!exits.empty()) {
    auto [p, status] = exits.front();
    exits.pop_front();
    if (wait_status) *wait_status = status;
    return p;
  }
  return live_children > 0 ? 0 : -ECHILD;
}

void FakeSystemCalls::wait_for_child_event(std::chrono::milliseconds timeout) noexcept {
  clock += timeout;
}

bool FakeSystemCalls::sync_with_timeout(std::chrono::milliseconds timeout) noexcept {
  calls.push_back("sync");
  if (!sync_finishes) clock += timeout;
  return sync_finishes;
}

int FakeSystemCalls::reboot_in_child(int cmd) noexcept {
  calls.push_back("reboot " + std::to_string(cmd));
  return reboot_result;
}

int FakeSystemCalls::set_ctrl_alt_del(bool kernel_reboots) noexcept {
  calls.push_back(kernel_reboots ? "cad on" : "cad off");
  return cad_result;
}

size_t FakeSystemCalls::count_calls(const std::string& prefix) const {
  size_t n = 0;
  for (const std::string& c : calls) n += c.rfind(prefix, 0) == 0;
  return n;
}

int FakeSystemCalls::find_call(const std::string& prefix) const {
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].rfind(prefix, 0) == 0) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace cairn::init::system::testing
