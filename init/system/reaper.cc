#include "init/system/reaper.h"

#include <sys/wait.h>

namespace cairn::init::system {

size_t reap_children(SystemCalls& sys, const ChildExitCallback& on_exit, size_t max) noexcept {
  size_t reaped = 0;
  while (reaped < max) {
    int status = 0;
    pid_t pid = sys.waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;  // 0: children left, none exited; -ECHILD: no children at all
    ++reaped;
    if (on_exit) on_exit(pid, status);
  }
  return reaped;
}

}  // namespace cairn::init::system
