// Per-service logs: PID 1 reads each service's stdout/stderr pipe (non-blocking, bounded
// reads per wake-up so a flooding service never starves the loop), keeps an in-memory ring
// per service for `cairnctl logs`, and writes size-rotated files once /var is writable.
// Before that, lines go to the console / kmsg. Followers (`logs -f`) get new lines pushed.
//
// Lines: a service's output is split at '\n'; a partial line is held until its end arrives
// (or the pipe closes), but never more than max_line_bytes: a longer line is cut into pieces
// of that size. Each stored line is "<UTC timestamp> <text>" (2026-01-31T12:00:00.123Z).
// Files: <dir>/<name>.log, rotated to <name>.log.1 .. <name>.log.(max_files-1) when the next
// write would pass max_file_bytes. A write that fails (full or dead disk) drops the line and
// counts it; nothing ever blocks or retries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "init/config/service_spec.h"
#include "init/loop/event_loop.h"

namespace cairn::init {

struct LogHubOptions {
  int console_fd = -1;           // where lines go before set_log_dir (not owned); -1 = nowhere
  bool console_is_kmsg = false;  // prefix console lines with "<6>" (writing to /dev/kmsg)
  size_t max_line_bytes = 4096;
  size_t read_budget_bytes = 64 << 10;  // per pipe and wake-up
  // Wall clock for timestamps, milliseconds since the epoch (tests pin it).
  std::function<int64_t()> wall_clock_ms;
};

struct LogCounters {
  uint64_t lines = 0;            // lines stored for this service
  uint64_t bytes = 0;            // bytes read from its pipes
  uint64_t cut_lines = 0;        // lines cut at max_line_bytes
  uint64_t dropped_file = 0;     // lines not written to its file (write error)
  uint64_t dropped_console = 0;  // lines not written to the console (EAGAIN etc.)
  uint64_t rotations = 0;
};

class LogHub {
 public:
  using Follower = std::function<void(const std::string& line)>;
  using FollowerId = uint64_t;

  explicit LogHub(EventLoop& loop, LogHubOptions options = {});
  ~LogHub();
  LogHub(const LogHub&) = delete;
  LogHub& operator=(const LogHub&) = delete;

  // Creates the pipe for a service's next run; returns the write end for stdout and stderr
  // (the same pipe; O_CLOEXEC — the spawner dup2()s it, the caller closes it after spawning),
  // or -1. The hub keeps the read end watched on the loop until EOF, so output of a previous
  // run still draining is not lost. A new spec (after reload) applies from now on.
  int open_service_pipe(const std::string& service, const LogSpec& spec) noexcept;
  // Switches from console/kmsg to files under `dir` (/var/log/cairn) once it is writable
  // (created if missing). False if the directory cannot be created/opened (stays on console).
  bool set_log_dir(const std::string& dir) noexcept;
  // Flushes and closes every log file and the directory (PID 1's last open files on /var, so
  // the final shutdown can unmount it or remount it read-only); lines go to the console again.
  void close_log_dir() noexcept;
  // PID 1's own messages ("cairn-init" pseudo-service); they also always go to the console.
  void system(const std::string& line) noexcept;

  // The last whole lines of a service's ring, at most max_bytes, each ending in '\n'.
  std::string tail(const std::string& service, size_t max_bytes) const;
  // `follower` receives each new line of `service` (without the '\n'). It may call unfollow
  // (also its own id) from inside the callback.
  FollowerId follow(const std::string& service, Follower follower);
  void unfollow(FollowerId id) noexcept;

  LogCounters counters(const std::string& service) const noexcept;
  // Read ends still open (for tests and the fd-leak check).
  size_t open_pipes() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::init
