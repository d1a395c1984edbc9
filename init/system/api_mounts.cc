#include "init/system/api_mounts.h"

#include <sys/mount.h>

#include <cerrno>
#include <cstring>

#include "init/system/mountinfo.h"

namespace cairn::init::system {
namespace {

constexpr unsigned long kNoSuidDevExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;

std::string join(const std::string& root, const char* target) {
  if (root.empty() || root == "/") return target;
  std::string out = root;
  if (out.back() == '/') out.pop_back();
  return out + target;
}

Mountinfo read_mountinfo(SystemCalls& sys, const std::string& root) {
  std::string text;
  if (sys.read_file("/proc/self/mountinfo", text) != 0 &&
      sys.read_file(join(root, "/proc/self/mountinfo"), text) != 0) {
    return {};
  }
  return parse_mountinfo(text);
}

}  // namespace

const std::vector<ApiMount>& default_api_mounts() {
  // gid=5 is the tty group of Debian's base-passwd (no NSS lookups in a static PID 1).
  static const std::vector<ApiMount> mounts = {
      {"proc", "/proc", "proc", kNoSuidDevExec, nullptr, 0555, true},
      {"sysfs", "/sys", "sysfs", kNoSuidDevExec, nullptr, 0555, true},
      {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", 0755, true},
      {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,gid=5,ptmxmode=0666", 0755,
       false},
      {"tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777, false},
      {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", 0755, true},
      {"cgroup2", "/sys/fs/cgroup", "cgroup2", kNoSuidDevExec, "nsdelegate", 0755, false},
  };
  return mounts;
}

MountReport mount_api_filesystems(SystemCalls& sys, const std::vector<ApiMount>& mounts,
                                  const std::string& root) noexcept {
  MountReport report;
  Mountinfo info = read_mountinfo(sys, root);
  for (const ApiMount& m : mounts) {
    std::string path = join(root, m.target);
    auto fail = [&](const std::string& reason) {
      (m.required ? report.errors : report.warnings).push_back(path + ": " + reason);
    };
    if (info.is_mount_point(path)) {
      report.skipped.push_back(path);
      continue;
    }
    if (int err = sys.make_dirs(path, m.dir_mode); err != 0) {
      fail(std::string("cannot create mount point: ") + std::strerror(err));
      continue;
    }
    int err = sys.mount(m.source, path.c_str(), m.fstype, m.flags, m.data);
    if (err == EINVAL && m.data != nullptr && std::strcmp(m.fstype, "cgroup2") == 0) {
      // nsdelegate is only accepted in the initial cgroup namespace.
      err = sys.mount(m.source, path.c_str(), m.fstype, m.flags, nullptr);
    }
    if (err != 0) {
      fail(std::string("mount ") + m.fstype + ": " + std::strerror(err));
      continue;
    }
    report.mounted.push_back(path);
    // Once /proc is there, mountinfo tells what else is already mounted.
    if (std::strcmp(m.fstype, "proc") == 0) info = read_mountinfo(sys, root);
  }
  return report;
}

}  // namespace cairn::init::system
