#include "init/system/final_shutdown.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "init/system/console.h"
#include "init/system/mountinfo.h"

namespace cairn::init::system {
namespace {

using std::chrono::milliseconds;

// Filesystems that hold no data to flush and that the reboot path itself may need.
bool is_api_filesystem(const MountEntry& e) {
  static const char* const kTypes[] = {
      "proc",     "sysfs",   "devtmpfs", "devpts",      "cgroup",     "cgroup2", "securityfs",
      "debugfs",  "tracefs", "pstore",   "efivarfs",    "bpf",        "mqueue",  "hugetlbfs",
      "configfs", "fusectl", "autofs",   "binfmt_misc", "rpc_pipefs", "nsfs"};
  for (const char* t : kTypes) {
    if (e.fstype == t) return true;
  }
  const std::string& p = e.mount_point;
  for (const char* prefix : {"/proc", "/sys", "/dev", "/run"}) {
    size_t n = std::strlen(prefix);
    if (p.compare(0, n, prefix) == 0 && (p.size() == n || p[n] == '/')) return true;
  }
  return false;
}

// The per-mount flags a read-only remount must keep (else the kernel refuses or drops them).
unsigned long kept_flags(const MountEntry& e) {
  unsigned long flags = 0;
  if (e.has_mount_option("nosuid")) flags |= MS_NOSUID;
  if (e.has_mount_option("nodev")) flags |= MS_NODEV;
  if (e.has_mount_option("noexec")) flags |= MS_NOEXEC;
  if (e.has_mount_option("noatime")) flags |= MS_NOATIME;
  if (e.has_mount_option("nodiratime")) flags |= MS_NODIRATIME;
  if (e.has_mount_option("relatime")) flags |= MS_RELATIME;
  return flags;
}

// This process's descendants, from /proc/*/stat (Dev mode: kill(-1) would hit the host).
std::vector<pid_t> descendants(SystemCalls& sys) {
  std::vector<std::string> names;
  if (sys.list_dir("/proc", names) != 0) return {};
  std::multimap<pid_t, pid_t> children;  // ppid -> pid
  std::string stat;
  for (const std::string& name : names) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    if (sys.read_file("/proc/" + name + "/stat", stat) != 0) continue;
    // "pid (comm) state ppid ...": comm may contain spaces and ')', so use the last ')'.
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 4 >= stat.size()) continue;
    pid_t ppid = static_cast<pid_t>(std::strtol(stat.c_str() + paren + 4, nullptr, 10));
    children.emplace(ppid, static_cast<pid_t>(std::strtol(name.c_str(), nullptr, 10)));
  }
  std::vector<pid_t> out;
  std::vector<pid_t> todo{sys.getpid()};
  while (!todo.empty() && out.size() < 100'000) {
    pid_t parent = todo.back();
    todo.pop_back();
    auto [begin, end] = children.equal_range(parent);
    for (auto it = begin; it != end; ++it) {
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

void note(const ShutdownPlan& plan, ShutdownReport& report, std::string line) {
  if (plan.progress) plan.progress(line);
  report.log.push_back(std::move(line));
}

void signal_all(SystemCalls& sys, Pid1Mode mode, int signo) {
  if (mode != Pid1Mode::Dev) {
    sys.kill(-1, signo);  // every process but PID 1 itself (and kernel threads)
    return;
  }
  for (pid_t pid : descendants(sys)) sys.kill(pid, signo);
}

// Reaps until no child is left (true) or `timeout` passes (false).
bool reap_until_gone(SystemCalls& sys, milliseconds timeout, ShutdownReport& report) {
  auto deadline = sys.now() + timeout;
  while (true) {
    while (true) {
      int status = 0;
      pid_t pid = sys.waitpid(-1, &status, WNOHANG);
      if (pid == -ECHILD) return true;
      if (pid <= 0) break;
      ++report.reaped;
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - sys.now());
    if (left.count() <= 0) return false;
    sys.wait_for_child_event(std::min(left, milliseconds(100)));
  }
}

void unmount_all(SystemCalls& sys, const ShutdownPlan& plan, ShutdownReport& report) {
  std::string text;
  for (int pass = 0; pass < plan.max_unmount_passes; ++pass) {
    if (sys.read_file("/proc/self/mountinfo", text) != 0) {
      note(plan, report, "cannot read /proc/self/mountinfo: nothing unmounted");
      return;
    }
    Mountinfo info = parse_mountinfo(text);
    bool progress = false;
    for (auto it = info.entries.rbegin(); it != info.entries.rend(); ++it) {
      const MountEntry& e = *it;
      if (is_api_filesystem(e)) continue;
      if (e.mount_point != "/" && sys.umount(e.mount_point.c_str(), 0) == 0) {
        report.unmounted.push_back(e.mount_point);
        progress = true;
        continue;
      }
      // An overlay (/etc) keeps its upper/work dirs' filesystem (/var) busy for as long as it
      // is mounted, so /var could then be neither unmounted nor made read-only. The overlay
      // has no data of its own (writes went to /var, already synced): detach it lazily, and
      // /var (later in this same reverse-order pass) is free once nothing has /etc open.
      if (e.fstype == "overlay" && e.mount_point != "/" &&
          sys.umount(e.mount_point.c_str(), MNT_DETACH) == 0) {
        report.unmounted.push_back(e.mount_point);
        report.detached.push_back(e.mount_point);
        progress = true;
        continue;
      }
      if (e.read_only()) continue;
      if (sys.mount(nullptr, e.mount_point.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | kept_flags(e),
                    nullptr) == 0) {
        report.remounted_ro.push_back(e.mount_point);
        progress = true;
      }
    }
    if (!progress) break;
  }
  // What is left writable is what could be neither unmounted nor made read-only.
  if (sys.read_file("/proc/self/mountinfo", text) == 0) {
    for (const MountEntry& e : parse_mountinfo(text).entries) {
      if (!is_api_filesystem(e) && !e.read_only()) report.busy.push_back(e.mount_point);
    }
  }
}

}  // namespace

const char* to_string(Pid1Mode mode) noexcept {
  switch (mode) {
    case Pid1Mode::Boot:
      return "boot";
    case Pid1Mode::Namespace:
      return "namespace";
    case Pid1Mode::Dev:
      return "dev";
  }
  return "?";
}

ShutdownReport run_shutdown_sequence(SystemCalls& sys, const ShutdownPlan& plan) noexcept {
  ShutdownReport report;
  for (const std::string& cg : plan.freeze_cgroups) {
    if (int err = sys.write_file(cg + "/cgroup.freeze", "1"); err != 0) {
      note(plan, report, "freeze " + cg + ": " + std::strerror(err));
    }
  }
  signal_all(sys, plan.mode, SIGTERM);
  signal_all(sys, plan.mode, SIGCONT);  // stopped processes must run to handle SIGTERM
  for (const std::string& cg : plan.freeze_cgroups) sys.write_file(cg + "/cgroup.freeze", "0");
  report.all_exited_on_term = reap_until_gone(sys, plan.term_timeout, report);
  note(plan, report,
       report.all_exited_on_term ? "every process exited on SIGTERM"
                                 : "sending SIGKILL to remaining processes");
  report.all_exited = report.all_exited_on_term;
  if (!report.all_exited) {
    signal_all(sys, plan.mode, SIGKILL);
    report.all_exited = reap_until_gone(sys, plan.kill_timeout, report);
    if (!report.all_exited) note(plan, report, "some processes survived SIGKILL");
  }
  report.synced = sys.sync_with_timeout(plan.sync_timeout);
  note(plan, report, report.synced ? "filesystems synced" : "sync timed out; going on");
  if (plan.mode == Pid1Mode::Boot) {
    unmount_all(sys, plan, report);
    note(plan, report,
         "unmounted " + std::to_string(report.unmounted.size()) + " (" +
             std::to_string(report.detached.size()) + " lazily), read-only " +
             std::to_string(report.remounted_ro.size()) + ", busy " +
             std::to_string(report.busy.size()));
    for (const std::string& b : report.busy) note(plan, report, "still writable: " + b);
  }
  if (plan.mode != Pid1Mode::Dev) {
    note(plan, report, std::string("calling reboot(") + to_string(plan.action) + ")");
    report.reboot_error = sys.reboot_in_child(reboot_command(plan.action));
    if (report.reboot_error != 0) {
      note(plan, report, std::string("reboot failed: ") + std::strerror(report.reboot_error));
    }
  }
  return report;
}

void final_shutdown(const ShutdownPlan& plan) noexcept {
  console_log(std::string("final shutdown: ") + to_string(plan.action) + " (" +
              to_string(plan.mode) + " mode)");
  ShutdownPlan with_console = plan;
  with_console.progress = [](const std::string& line) { console_log(line); };
  run_shutdown_sequence(real_system_calls(), with_console);
  if (plan.mode == Pid1Mode::Dev) return;
  console_log("nothing left to do; halted", ConsoleLevel::Warning);
  idle_forever();
}

[[noreturn]] void idle_forever() noexcept {
  SystemCalls& sys = real_system_calls();
  while (true) {
    int status = 0;
    if (sys.waitpid(-1, &status, 0) == -ECHILD) sys.wait_for_child_event(milliseconds(60'000));
  }
}

}  // namespace cairn::init::system
