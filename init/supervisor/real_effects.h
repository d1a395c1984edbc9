// SupervisorEffects on the real system: cgroups and spawning through init/exec, logs through
// LogHub, readiness through Readiness, timers on the EventLoop. Events go back to the Engine
// (set_engine) by service name.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "init/exec/cgroup.h"
#include "init/exec/spawn.h"
#include "init/loop/event_loop.h"
#include "init/supervisor/effects.h"
#include "init/supervisor/readiness.h"

namespace cairn::init {

class Engine;
class LogHub;

struct RealEffectsOptions {
  std::string run_dir = "/run/cairn";          // notify sockets in <run_dir>/notify/
  std::string cgroup_root = "/sys/fs/cgroup";  // services in <root>/cairn/<name>; "" = none
  // Origin of now_ms(): a default time_point is CLOCK_MONOTONIC's zero, i.e. the kernel's
  // boot (PID 1); development passes the start time.
  EventLoop::Clock::time_point origin{};
  std::function<void(const std::string&)> console;  // default: LogHub::system
  std::string etc_dir = "/etc";  // passwd/group for resolving users (tests use fixtures)
};

class RealEffects final : public SupervisorEffects {
 public:
  RealEffects(EventLoop& loop, LogHub& logs, RealEffectsOptions options);
  ~RealEffects() override;

  void set_engine(Engine* engine) noexcept { engine_ = engine; }
  // Creates <run_dir>/notify and the cgroup tree. Returns warnings (never fatal: without a
  // cgroup tree services run without limits, and "stopped" means the main process exited).
  std::vector<std::string> prepare();
  // Exec readiness checks are children too: true if `pid` was one.
  bool on_child_exit(pid_t pid, int wait_status) noexcept;
  bool has_cgroups() const noexcept { return cgroups_ok_; }

  int64_t now_ms() const noexcept override;
  TimerId add_timer(int64_t delay_ms, std::function<void()> callback) noexcept override;
  void cancel_timer(TimerId id) noexcept override;
  StartOutcome start(const ServiceSpec& spec) noexcept override;
  void end_readiness(const std::string& name) noexcept override;
  void release(const std::string& name) noexcept override;
  void signal_service(const std::string& name, pid_t main_pid, int signal) noexcept override;
  bool populated(const std::string& name) noexcept override;
  uint64_t oom_kills(const std::string& name) noexcept override;
  uint64_t memory_current(const std::string& name) noexcept override;
  void console(const std::string& line) noexcept override;
  void note(const std::string& service, const std::string& line) noexcept override;

 private:
  struct Run;
  Run* run_for(const std::string& name) noexcept;
  bool ensure_cgroup(Run& run, const std::string& name, std::string& error) noexcept;
  void watch_events(Run& run, const std::string& name) noexcept;
  void unwatch_events(Run& run) noexcept;
  void retire(std::unique_ptr<Readiness> readiness) noexcept;
  pid_t spawn_check(const std::string& name) noexcept;

  EventLoop& loop_;
  LogHub& logs_;
  RealEffectsOptions options_;
  Engine* engine_ = nullptr;
  CgroupTree tree_;
  bool cgroups_ok_ = false;
  std::string cgroup_mount_;
  std::map<std::string, std::unique_ptr<Run>> runs_;
  std::vector<std::unique_ptr<Readiness>> retired_;
  EventLoop::TimerId retire_timer_ = 0;
};

}  // namespace cairn::init
