// The seam between the supervisor's state machine (engine.h) and the world. Everything the
// engine does that touches the system goes through here: the clock and timers, starting a
// service process (cgroup, log pipe, readiness channel, spawn), signals, cgroup reads and the
// console. Production uses RealEffects (real_effects.h); unit tests use a fake that records
// calls and lets the test drive time, so the state x event table is tested without forking.
//
// Events flow the other way as calls on the Engine (Engine::on_ready, on_cgroup_empty, ...).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "init/config/service_spec.h"

namespace cairn::init {

struct StartOutcome {
  pid_t pid = -1;     // > 0 on success
  std::string error;  // on failure: "execve: No such file or directory", "cgroup: ..."
  bool ok() const { return pid > 0; }
};

class SupervisorEffects {
 public:
  using TimerId = uint64_t;
  virtual ~SupervisorEffects() = default;

  // Milliseconds since the supervisor's clock origin (monotonic).
  virtual int64_t now_ms() const noexcept = 0;
  // 0 = could not add (allocation failure); the engine then treats the timer as already due.
  virtual TimerId add_timer(int64_t delay_ms, std::function<void()> callback) noexcept = 0;
  virtual void cancel_timer(TimerId id) noexcept = 0;

  // Starts one run of `spec`: cgroup (created, limits applied), log pipe, readiness channel
  // (notify socket / fd pipe; socket and exec probes begin right after the spawn), args-file
  // lines appended to exec, environment, then the spawn itself. Readiness is reported later
  // through Engine::on_ready; for ReadyType::None the engine itself marks it ready.
  virtual StartOutcome start(const ServiceSpec& spec) noexcept = 0;
  // The run is over (or being torn down): close its readiness channel, stop its probes.
  virtual void end_readiness(const std::string& name) noexcept = 0;
  // The run is over and its cgroup is empty: release per-run resources (the cgroup itself is
  // kept so memory.events stays readable until the next start).
  virtual void release(const std::string& name) noexcept = 0;

  // Sends `signal` to the main process and to every other process of the service's cgroup.
  // SIGKILL goes to the whole cgroup (cgroup.kill).
  virtual void signal_service(const std::string& name, pid_t main_pid, int signal) noexcept = 0;
  // Whether the service's cgroup still has processes. Without a cgroup: whether main_pid is
  // still alive.
  virtual bool populated(const std::string& name) noexcept = 0;
  // memory.events oom_kill of the service's cgroup (0 when unknown).
  virtual uint64_t oom_kills(const std::string& name) noexcept = 0;
  virtual uint64_t memory_current(const std::string& name) noexcept = 0;

  // A line for the console (and PID 1's own log): the node-ready line and the timeline.
  virtual void console(const std::string& line) noexcept = 0;
  // A line about `service` for its log (state changes, why it failed).
  virtual void note(const std::string& service, const std::string& line) noexcept = 0;
};

}  // namespace cairn::init
