// PID 1's setup: the first thing cairn-init's main calls (docs/pid1.md).
//
// As PID 1 (Boot or Namespace mode): crash handler, RB_DISABLE_CAD, API filesystems, /run/cairn,
// move into the cgroup leaf and enable controllers. Not PID 1 (Dev mode): become a child
// subreaper (PR_SET_CHILD_SUBREAPER) so orphans of services are still ours; nothing of the
// host is mounted and nothing is rebooted; the services' cgroup base is this process's own
// cgroup (controllers are then whatever that cgroup already delegates).
#pragma once

#include <string>
#include <vector>

#include "init/system/final_shutdown.h"
#include "init/system/kernel_cmdline.h"
#include "init/system/system_calls.h"

namespace cairn::init::system {

struct Pid1Options {
  std::string run_dir = "/run/cairn";
  std::string cgroup_leaf = "cairn-init";
  std::vector<std::string> controllers = {"cpu", "memory", "pids", "io"};
  bool install_crash_handler = true;  // Boot/Namespace mode only
  bool force_dev = false;             // run in Dev mode even as PID 1 (debugging)
};

struct Pid1Setup {
  Pid1Mode mode = Pid1Mode::Dev;
  KernelCmdline cmdline;            // /proc/cmdline (empty in Namespace/Dev mode)
  std::string cgroup_base;          // SupervisorOptions::cgroup_root; "" = no cgroup2
  std::vector<std::string> errors;  // fatal for a real boot (e.g. /proc could not be mounted)
  std::vector<std::string> log;     // what was done and every warning, for the console
};

// Boot vs Namespace: PID 1 of the initial PID namespace sees kernel threads (pid 2,
// kthreadd, with parent 0) in /proc; a PID namespace never does.
Pid1Mode detect_mode(SystemCalls& sys) noexcept;

Pid1Setup setup_pid1(const Pid1Options& options = {},
                     SystemCalls& sys = real_system_calls()) noexcept;

}  // namespace cairn::init::system
