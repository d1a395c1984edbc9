#include "init/system/pid1.h"

#include <sys/mount.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "init/system/api_mounts.h"
#include "init/system/crash_handler.h"
#include "init/system/pid1_cgroup.h"

namespace cairn::init::system {
namespace {

// The pid /proc/self resolves to: which PID namespace the mounted /proc belongs to.
pid_t proc_self_pid(SystemCalls& sys) {
  std::string stat;
  if (sys.read_file("/proc/self/stat", stat) != 0) return -1;
  return static_cast<pid_t>(std::strtol(stat.c_str(), nullptr, 10));
}

void add_list(std::vector<std::string>& log, const char* what,
              const std::vector<std::string>& items) {
  if (items.empty()) return;
  std::string line = what;
  for (const std::string& item : items) line += " " + item;
  log.push_back(std::move(line));
}

}  // namespace

Pid1Mode detect_mode(SystemCalls& sys) noexcept {
  if (sys.getpid() != 1) return Pid1Mode::Dev;
  std::string stat;
  if (sys.read_file("/proc/2/stat", stat) != 0) return Pid1Mode::Namespace;
  // "2 (kthreadd) S 0 ...": the kernel's thread parent, child of pid 0.
  return stat.rfind("2 (kthreadd) S 0 ", 0) == 0 || stat.rfind("2 (kthreadd) ", 0) == 0
             ? Pid1Mode::Boot
             : Pid1Mode::Namespace;
}

Pid1Setup setup_pid1(const Pid1Options& options, SystemCalls& sys) noexcept {
  Pid1Setup out;
  if (sys.getpid() != 1 || options.force_dev) {
    out.mode = Pid1Mode::Dev;
    // Orphans of our services are re-parented to us instead of the real init.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
      out.log.push_back(std::string("PR_SET_CHILD_SUBREAPER: ") + std::strerror(errno));
    }
    out.cgroup_base = own_cgroup_dir(sys);
    out.log.push_back("development mode (not PID 1): child subreaper, cgroup base " +
                      (out.cgroup_base.empty() ? std::string("none") : out.cgroup_base));
    return out;
  }

  CrashHandlerOptions crash;
  if (options.install_crash_handler && !install_crash_handler(crash)) {
    out.log.push_back(std::string("crash handler: ") + std::strerror(errno));
  }
  // A /proc inherited from the parent PID namespace (`unshare --pid` without --mount-proc)
  // shows the wrong processes: mount our own over it.
  if (pid_t self = proc_self_pid(sys); self > 0 && self != 1) {
    if (int err = sys.mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
        err != 0) {
      out.errors.push_back(std::string("/proc of this PID namespace: ") + std::strerror(err));
    } else {
      out.log.push_back("mounted a /proc for this PID namespace");
    }
  }
  MountReport mounts = mount_api_filesystems(sys);
  add_list(out.log, "mounted", mounts.mounted);
  add_list(out.log, "already mounted:", mounts.skipped);
  for (const std::string& w : mounts.warnings) out.log.push_back("warning: " + w);
  for (const std::string& e : mounts.errors) out.errors.push_back(e);

  out.mode = detect_mode(sys);
  if (out.mode == Pid1Mode::Boot) {
    // ctrl-alt-del becomes SIGINT to us (a clean reboot) instead of an immediate reboot.
    // A PID namespace has no ctrl-alt-del: there the kernel answers EINVAL, which also proves
    // this is not the initial PID namespace whatever /proc showed (a /proc we could not
    // replace): namespace mode, with nothing to print and no host mounts touched at shutdown.
    if (int err = sys.set_ctrl_alt_del(false); err == EINVAL) {
      out.mode = Pid1Mode::Namespace;
    } else if (err != 0) {
      out.log.push_back(std::string("RB_DISABLE_CAD: ") + std::strerror(err));
    }
  }
  if (out.mode == Pid1Mode::Boot) {
    std::string text;
    if (sys.read_file("/proc/cmdline", text) == 0) out.cmdline = KernelCmdline::parse(text);
    crash.mode = crash_mode_from_cmdline(out.cmdline);
  }
  // Again now that /dev is certainly mounted (the first install may have found no console)
  // and the command line is known.
  if (options.install_crash_handler) install_crash_handler(crash);
  out.log.push_back(std::string("running as PID 1 (") + to_string(out.mode) + " mode)");

  if (int err = sys.make_dirs(options.run_dir, 0755); err != 0) {
    out.errors.push_back(options.run_dir + ": " + std::strerror(err));
  }

  std::string base = own_cgroup_dir(sys);
  CgroupSetup cg = setup_pid1_cgroup(sys, base, options.cgroup_leaf, options.controllers);
  out.cgroup_base = cg.base;
  if (!cg.leaf.empty()) out.log.push_back("moved into cgroup " + cg.leaf);
  add_list(out.log, "controllers enabled:", cg.enabled);
  for (const std::string& w : cg.warnings) out.log.push_back("warning: " + w);
  return out;
}

}  // namespace cairn::init::system
