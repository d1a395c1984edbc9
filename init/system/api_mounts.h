// The API filesystems every Linux userspace expects, mounted idempotently: whatever
// /proc/self/mountinfo already shows mounted at a target is skipped (stage 1 moves its mounts
// to the new root; a container runtime or `unshare` may have mounted some already).
// Reused by stage 1 (with its own table / root) and by stage 2's setup_pid1().
#pragma once

#include <string>
#include <vector>

#include "init/system/system_calls.h"

namespace cairn::init::system {

struct ApiMount {
  const char* source;
  const char* target;  // absolute; prefixed with MountRequest::root
  const char* fstype;
  unsigned long flags;
  const char* data;  // may be nullptr
  mode_t dir_mode;   // mode of the mount point if it has to be created
  bool required;     // failure is an error (else a warning: e.g. no cgroup2 in the kernel)
};

// /proc, /sys, /dev (devtmpfs), /dev/pts, /dev/shm, /run, /sys/fs/cgroup (cgroup2), in that
// order (each one's parent first).
const std::vector<ApiMount>& default_api_mounts();

struct MountReport {
  std::vector<std::string> mounted;   // targets mounted now
  std::vector<std::string> skipped;   // already mounted
  std::vector<std::string> errors;    // "target: reason" (required ones failed)
  std::vector<std::string> warnings;  // "target: reason" (optional ones failed)
  bool ok() const { return errors.empty(); }
};

// Mounts `mounts` below `root` ("" or "/" = the real root; stage 1 and tests pass another
// directory). Mount points are created as needed. mountinfo is re-read after /proc is
// mounted, so the first call on a bare system works too.
MountReport mount_api_filesystems(SystemCalls& sys, const std::vector<ApiMount>& mounts,
                                  const std::string& root = "") noexcept;
inline MountReport mount_api_filesystems(SystemCalls& sys) noexcept {
  return mount_api_filesystems(sys, default_api_mounts());
}

}  // namespace cairn::init::system
