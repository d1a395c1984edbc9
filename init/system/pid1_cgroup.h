// PID 1's place in cgroup v2. The "no internal processes" rule forbids enabling controllers
// for children of a cgroup that itself holds processes (except in the root cgroup), so PID 1
// moves itself into a leaf (<base>/cairn-init, like systemd's init.scope) and then enables
// +cpu +memory +pids +io in <base>/cgroup.subtree_control for the services' tree.
#pragma once

#include <string>
#include <vector>

#include "init/system/mountinfo.h"
#include "init/system/system_calls.h"

namespace cairn::init::system {

// The cgroup2 mount point in `info` ("" if none): /sys/fs/cgroup on a pure v2 system,
// /sys/fs/cgroup/unified on a hybrid one.
std::string cgroup2_mount_point(const Mountinfo& info);

// The directory of this process's cgroup: the cgroup2 mount point + the "0::/path" line of
// /proc/self/cgroup (taking the mount's root into account). "" if there is no cgroup2.
std::string own_cgroup_dir(SystemCalls& sys) noexcept;

struct CgroupSetup {
  std::string base;  // the cgroup the services' tree goes under (Supervisor cgroup_root)
  std::string leaf;  // where PID 1 now lives ("" if it was not moved)
  std::vector<std::string> enabled;   // controllers enabled in base/cgroup.subtree_control
  std::vector<std::string> warnings;  // what could not be done, human readable
};

// Moves the calling process into <base>/<leaf_name> and enables `controllers` (those that
// <base>/cgroup.controllers offers) in <base>/cgroup.subtree_control. Never fatal: every
// failure is a warning (a board without the io controller still boots).
CgroupSetup setup_pid1_cgroup(SystemCalls& sys, const std::string& base,
                              const std::string& leaf_name = "cairn-init",
                              const std::vector<std::string>& controllers = {
                                  "cpu", "memory", "pids", "io"}) noexcept;

}  // namespace cairn::init::system
