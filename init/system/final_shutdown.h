// The last act of PID 1, after the supervisor has stopped every service in reverse
// dependency order (docs/pid1.md "Shutdown"):
//   1. freeze the services' cgroups (cgroup.freeze) so nothing forks while we kill;
//   2. SIGTERM every remaining process: kill(-1) (PID 1 is never hit by its own kill(-1));
//      in development mode (not PID 1) only this process's descendants;
//   3. thaw, so the SIGTERMs are delivered; wait up to `term_timeout`, reaping;
//   4. SIGKILL whatever is left, wait up to `kill_timeout`, reaping;
//   5. sync in a child with `sync_timeout` (sync can hang on dead storage);
//   6. unmount everything in reverse mountinfo order (API filesystems excepted); a busy
//      overlay (/etc, whose upper dir pins /var) is detached lazily (MNT_DETACH); remount
//      read-only what cannot be unmounted (the root, busy mounts), repeat until a pass makes
//      no progress. (The caller closes its own files on /var first: cairn-init's main closes
//      the service log files before calling final_shutdown.)
//   7. reboot(RB_AUTOBOOT | RB_POWER_OFF | RB_HALT_SYSTEM) from a forked child.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "init/system/power_action.h"
#include "init/system/system_calls.h"

namespace cairn::init::system {

// How cairn-init runs (setup_pid1 decides, docs/pid1.md "Modes").
enum class Pid1Mode {
  Boot,       // PID 1 of the machine (initial PID namespace)
  Namespace,  // PID 1 of a PID namespace (`unshare --pid --mount --fork`, containers, tests):
              // no superblock remounts (they would reach the host's filesystems), no unmounts
  Dev,        // not PID 1: a child subreaper; never kill(-1), never reboot
};
const char* to_string(Pid1Mode mode) noexcept;

struct ShutdownPlan {
  PowerAction action = PowerAction::Poweroff;
  Pid1Mode mode = Pid1Mode::Boot;
  std::vector<std::string> freeze_cgroups;  // e.g. "<cgroup base>/cairn" (the services' tree)
  std::chrono::milliseconds term_timeout{10'000};
  std::chrono::milliseconds kill_timeout{5'000};
  std::chrono::milliseconds sync_timeout{10'000};
  int max_unmount_passes = 8;
  // Called with each ShutdownReport::log line as it happens (final_shutdown: the console).
  std::function<void(const std::string&)> progress;
};

struct ShutdownReport {
  size_t reaped = 0;                // processes reaped during the sequence
  bool all_exited_on_term = false;  // nothing needed SIGKILL
  bool all_exited = false;          // no child left at the end of step 4
  bool synced = false;
  std::vector<std::string> unmounted;  // including the lazily detached ones
  std::vector<std::string> detached;   // overlays detached with MNT_DETACH (umount was EBUSY)
  std::vector<std::string> remounted_ro;
  std::vector<std::string> busy;  // neither unmounted nor read-only at the end
  int reboot_error = 0;           // errno from the reboot child (0 if not attempted/ok)
  std::vector<std::string> log;   // one line per step, for the console
};

// Steps 1-7 through the seam; returns in every mode (the caller decides what happens next).
// Step 7 is skipped in Dev mode; in Namespace mode the reboot child ends the namespace
// (the kernel kills its PID 1), so normally this does not return there either.
ShutdownReport run_shutdown_sequence(SystemCalls& sys, const ShutdownPlan& plan) noexcept;

// The entry point for cairn-init's main: runs the sequence with the real system calls and,
// in Boot and Namespace mode, never returns (if the reboot fails it reaps forever, logging
// to the console). In Dev mode it returns after step 4 and 5.
void final_shutdown(const ShutdownPlan& plan) noexcept;

// Reaps children forever, never returns. The state PID 1 ends in when nothing else is left.
[[noreturn]] void idle_forever() noexcept;

}  // namespace cairn::init::system
