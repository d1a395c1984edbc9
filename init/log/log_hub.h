// Per-service logs: PID 1 reads each service's stdout/stderr pipe (non-blocking, bounded
// reads per wake-up so a flooding service never starves the loop), keeps an in-memory ring
// per service for `cairnctl logs`, and writes size-rotated files once /var is writable.
// Before that, lines go to the console / kmsg. Followers (`logs -f`) get new lines pushed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "init/config/service_spec.h"
#include "init/loop/event_loop.h"

namespace cairn::init {

class LogHub {
 public:
  using Follower = std::function<void(const std::string& line)>;
  using FollowerId = uint64_t;

  explicit LogHub(EventLoop& loop);
  ~LogHub();

  // Creates the pipe for a service's next run; returns the write end for stdout and stderr
  // (the same pipe), or -1. The hub keeps the read end watched on the loop.
  int open_service_pipe(const std::string& service, const LogSpec& spec) noexcept;
  // Switches from console/kmsg to files under `dir` (/var/log/cairn) once it is writable.
  void set_log_dir(const std::string& dir) noexcept;
  // PID 1's own messages ("cairn-init" pseudo-service).
  void system(const std::string& line) noexcept;

  std::string tail(const std::string& service, size_t max_bytes) const;
  FollowerId follow(const std::string& service, Follower follower);
  void unfollow(FollowerId id) noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::init
