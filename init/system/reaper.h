// Reaping: PID 1 (or a child subreaper in development) inherits every orphan. Several
// SIGCHLDs coalesce into one signalfd event, so each event reaps in a waitpid(-1, WNOHANG)
// loop until nothing is left; each (pid, wait status) goes to the callback (the supervisor's
// on_child_exit, which ignores pids that are not its services: orphans are just reaped).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>

#include "init/system/system_calls.h"

namespace cairn::init::system {

using ChildExitCallback = std::function<void(pid_t pid, int wait_status)>;

// Returns how many children were reaped. `max` bounds one call so a fork bomb cannot keep
// PID 1 in this loop forever; SIGCHLD is then still pending and the loop comes back.
size_t reap_children(SystemCalls& sys, const ChildExitCallback& on_exit,
                     size_t max = 4096) noexcept;

}  // namespace cairn::init::system
