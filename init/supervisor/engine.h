// The supervisor's state machine: one record per service, a visible state x event table
// (transition_table(), mirrored in docs/supervisor.md), and a scheduler that turns goals
// ("wanted up" / "wanted down") and dependencies into events. It touches the world only
// through SupervisorEffects, so unit tests drive it table by table without processes.
//
// Goals: start(name) wants a service and, transitively, everything it `requires`; stop(name)
// un-wants it and, transitively, everything that `requires` it. A wanted Waiting service is
// spawned once every `requires` is Ready (or Exited cleanly) and every wanted `after` has
// finished starting; a required service that is unknown, invalid or failed fails it with that
// reason. An un-wanted running service is signalled only once every un-wanted service that
// depends on it (requires or after) is down: stops go in reverse dependency order.
//
// Groups compile to edges: member i+1 requires member i, member 0 inherits the group's
// requires/after, and `requires G` means requires every member of G. The group's own state is
// derived from its members (Ready when all are ready, Failed if one failed, ...).
//
// Every runtime entry point is noexcept; load()/reload() may throw std::bad_alloc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "init/config/service_spec.h"
#include "init/supervisor/effects.h"
#include "init/supervisor/service_status.h"

namespace cairn::init {

enum class SupervisorEvent {
  Start,           // goal became "up" (operator, boot, or pulled in by a dependent)
  Stop,            // goal is "down" and every un-wanted dependent is down (or: operator restart)
  DepsMet,         // every requires is ready, every after has settled
  DepsFailed,      // a required service is unknown, invalid or failed
  Ready,           // readiness reported (notify READY=1, fd newline, probe success)
  StopNotice,      // the service said STOPPING=1
  ReadyTimeout,    // [ready] timeout elapsed before readiness
  MainExited,      // the main process was reaped
  CgroupEmpty,     // cgroup.events populated 0
  StopTimeout,     // [stop] timeout elapsed after the stop signal
  KillTimeout,     // the cgroup did not empty after SIGKILL either
  ReapTimeout,     // the cgroup emptied but the main process' status never came
  BackoffElapsed,  // the restart delay is over
};

enum class SupervisorAction {
  Want,            // -> Waiting
  Rearm,           // Failed -> Waiting, start limit and backoff reset
  Spawn,           // -> Starting (Ready at once for ready type none), or the failure path
  FailDeps,        // -> Failed with the dependency's reason
  BecomeReady,     // -> Ready
  BeginStop,       // stop signal to the cgroup, stop timer -> Stopping
  SelfStop,        // no signal (the service is stopping itself), stop timer -> Stopping
  TimeoutStop,     // like BeginStop, the run counts as failed
  ExitedRunning,   // cgroup empty: finish; else signal the rest -> Stopping
  EmptyRunning,    // main not reaped yet: wait (ReapTimeout) for its status
  ExitedStopping,  // cgroup empty: finish; else keep waiting
  EmptyStopping,   // main reaped: finish; else wait (ReapTimeout)
  Kill,            // SIGKILL the whole cgroup, KillTimeout
  Abandon,         // give up on unkillable processes, finish
  Finish,          // run over: Stopped, Waiting (restart), Backoff, Exited or Failed
  Drop,            // -> Stopped, pending timer cancelled
};

struct TransitionRow {
  ServiceState state;
  SupervisorEvent event;
  SupervisorAction action;
};

// Every (state, event) pair not listed is ignored (the state does not change).
std::span<const TransitionRow> transition_table() noexcept;
const TransitionRow* find_transition(ServiceState state, SupervisorEvent event) noexcept;
const char* to_string(SupervisorEvent event) noexcept;
const char* to_string(SupervisorAction action) noexcept;

// One service as loaded: a valid spec, or the reason its file is invalid.
struct UnitDefinition {
  std::string name;
  std::shared_ptr<const ServiceSpec> spec;  // null when invalid
  std::string invalid_reason;               // "file:line:col: error: ..." when invalid
};

struct EngineReload {
  std::vector<std::string> added, removed, changed, unchanged, invalid;
};

// Fixed timings of the engine (the per-service ones come from the spec).
inline constexpr int64_t kKillGraceMs = 5'000;  // after SIGKILL, before giving up on the cgroup
inline constexpr int64_t kReapGraceMs = 2'000;  // cgroup empty, waiting for the exit status

class Engine {
 public:
  explicit Engine(SupervisorEffects& effects);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Replaces every unit (first load). Throws std::bad_alloc only.
  void load(std::vector<UnitDefinition> units);
  // Diffs against the running set: adds and starts new enabled services, stops and removes
  // deleted ones, restarts changed ones (spec compared field by field), leaves the rest.
  EngineReload reload(std::vector<UnitDefinition> units);

  // Wants every enabled service that is not a group member (members come with their group).
  void start_all() noexcept;
  bool start(const std::string& name, std::string& error) noexcept;
  bool stop(const std::string& name, std::string& error) noexcept;
  bool restart(const std::string& name, std::string& error) noexcept;
  // Un-wants everything; calls `done` once every service is down. Starts are then refused.
  void shutdown(std::function<void()> done) noexcept;
  bool shutting_down() const noexcept;

  // Events from the effects side.
  void on_ready(const std::string& name) noexcept;
  void on_stopping(const std::string& name) noexcept;
  void on_status_text(const std::string& name, const std::string& text) noexcept;
  void on_main_pid(const std::string& name, pid_t pid) noexcept;
  void on_cgroup_empty(const std::string& name) noexcept;
  // Returns true if `pid` was the main process of a service.
  bool on_child_exit(pid_t pid, int wait_status) noexcept;

  // Test hook: delivers one raw event to one service through the table, without running the
  // scheduler afterwards (MainExited takes `wait_status` as the exit status).
  void inject(const std::string& name, SupervisorEvent event, int wait_status = 0) noexcept;

  std::vector<ServiceStatus> status() const;
  std::vector<TimelineEntry> timeline() const;
  // Current state of one service ("" -> Invalid if unknown), for tests and probes.
  ServiceState state_of(const std::string& name) const noexcept;
  pid_t pid_of(const std::string& name) const noexcept;
  // The effective spec of a running service (nullptr if unknown/invalid).
  const ServiceSpec* spec_of(const std::string& name) const noexcept;
  bool node_ready() const noexcept;
  int64_t node_ready_ms() const noexcept;

  struct Unit;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::init
