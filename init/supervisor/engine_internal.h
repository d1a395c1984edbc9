// Private to engine*.cc: the per-service record and the engine's shared state. Split out so
// the transition actions (engine_actions.cc) and the scheduler (engine.cc) stay small files.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "init/supervisor/engine.h"

namespace cairn::init {

enum class StopReason {
  None,
  Requested,  // operator stop / restart, shutdown, a dependency stopping, reload
  Exited,     // the main process exited while others of its cgroup lived on
  Timeout,    // not ready within [ready] timeout: the run counts as failed
  SelfStop,   // the service said STOPPING=1
};

struct Engine::Unit {
  std::string name;
  std::shared_ptr<const ServiceSpec> spec;  // null when invalid
  std::string invalid_reason;
  bool is_group = false;
  std::string group;  // the group this unit is a member of

  // Reload: applied when the current run is over.
  bool has_next = false;
  std::shared_ptr<const ServiceSpec> next_spec;
  std::string next_invalid_reason;
  bool remove_when_down = false;

  // Effective edges (groups expanded), recomputed on load/reload.
  std::vector<std::string> needs, after;  // needs = effective `requires`
  std::vector<std::string> required_by, after_by;

  ServiceState state = ServiceState::Stopped;
  int64_t since_ms = 0;
  bool wanted = false;
  unsigned mark = 0;  // visit mark of want()/unwant() walks

  // The current run.
  pid_t pid = 0;
  bool main_exited = false;
  bool status_known = false;
  int exit_status = 0;
  StopReason reason = StopReason::None;
  std::string failure;  // why this run failed before exiting (spawn error, timeout)
  uint64_t oom_baseline = 0;
  bool oom_killed = false;
  int64_t ready_since = -1;
  SupervisorEffects::TimerId timer = 0;
  SupervisorEvent timer_event = SupervisorEvent::StopTimeout;

  // Restart bookkeeping.
  int restarts = 0;
  int consecutive = 0;  // failed runs in a row, drives the backoff
  std::deque<int64_t> restart_times;
  bool failed_by_deps = false;
  bool ever_ready = false;

  std::string error;
  std::string status_text;
  TimelineEntry timeline;

  bool valid() const { return spec != nullptr; }
  bool running() const {
    return state == ServiceState::Starting || state == ServiceState::Ready ||
           state == ServiceState::Stopping;
  }
};

struct Engine::Impl {
  explicit Impl(SupervisorEffects& effects) : fx(effects) {}

  SupervisorEffects& fx;
  std::map<std::string, std::unique_ptr<Unit>> units;
  bool boot_started = false;  // start_all() ran: node-ready may be announced
  bool stopping_all = false;
  std::function<void()> shutdown_done;
  bool in_schedule = false;
  bool reschedule = false;
  uint64_t transitions = 0;
  unsigned mark = 0;
  bool node_ready = false;
  int64_t node_ready_ms = -1;

  Unit* find(const std::string& name) noexcept;
  const Unit* find(const std::string& name) const noexcept;

  // engine_actions.cc
  void dispatch(Unit& u, SupervisorEvent event) noexcept;
  ServiceState perform(Unit& u, SupervisorAction action) noexcept;
  ServiceState spawn(Unit& u) noexcept;
  ServiceState become_ready(Unit& u) noexcept;
  ServiceState begin_stop(Unit& u, StopReason reason, bool send_signal) noexcept;
  ServiceState finish(Unit& u) noexcept;
  void arm(Unit& u, int64_t delay_ms, SupervisorEvent event) noexcept;
  void disarm(Unit& u) noexcept;
  void on_timer(const std::string& name, SupervisorEvent event) noexcept;

  // engine.cc
  void schedule() noexcept;
  void step(Unit& u);  // one unit, one scheduler pass; may throw std::bad_alloc
  void want(Unit& u) noexcept;
  void unwant(Unit& u) noexcept;
  void restart_unit(Unit& u) noexcept;
  void compute_edges();
  void update_groups() noexcept;
  void update_group(Unit& g, int64_t now);  // may throw std::bad_alloc (messages)
  void check_node_ready() noexcept;
  void check_shutdown_done() noexcept;
};

// "exited with status 3", "killed by signal 9 (SIGKILL)".
std::string describe_wait_status(int wait_status);
// Backoff before restart number `consecutive` (1-based): delay doubling, capped.
int64_t backoff_delay_ms(const RestartSpec& spec, int consecutive) noexcept;
// How long a service must stay ready before its backoff resets: max-delay, at least 1 s.
int64_t stable_after_ms(const RestartSpec& spec) noexcept;

}  // namespace cairn::init
