// The supervising modes of cairn-init: PID 1 (Boot or Namespace mode) and development (not
// PID 1, a child subreaper). Both run one event loop with the supervisor, the control
// server, the signal map and the log hub; they differ in setup and in how they end.
#pragma once

#include "init/main/options.h"

namespace cairn::init {

// As PID 1 this never returns (the final shutdown reboots, powers off or halts; in a PID
// namespace it ends the namespace). In development mode it returns the exit code: 0 after
// SIGTERM/SIGINT stopped every service in reverse dependency order.
int run_supervisor(const MainOptions& options, bool as_pid1) noexcept;

}  // namespace cairn::init
