// The state x event table and what each action does. docs/supervisor.md shows the same table;
// engine_table_test.cc checks that the two agree.
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "init/supervisor/engine_internal.h"

namespace cairn::init {

namespace {

using S = ServiceState;
using E = SupervisorEvent;
using A = SupervisorAction;

constexpr std::array kTable = {
    TransitionRow{S::Stopped, E::Start, A::Want},
    TransitionRow{S::Waiting, E::DepsMet, A::Spawn},
    TransitionRow{S::Waiting, E::DepsFailed, A::FailDeps},
    TransitionRow{S::Waiting, E::Stop, A::Drop},
    TransitionRow{S::Starting, E::Ready, A::BecomeReady},
    TransitionRow{S::Starting, E::ReadyTimeout, A::TimeoutStop},
    TransitionRow{S::Starting, E::StopNotice, A::SelfStop},
    TransitionRow{S::Starting, E::MainExited, A::ExitedRunning},
    TransitionRow{S::Starting, E::CgroupEmpty, A::EmptyRunning},
    TransitionRow{S::Starting, E::ReapTimeout, A::Finish},
    TransitionRow{S::Starting, E::Stop, A::BeginStop},
    TransitionRow{S::Ready, E::StopNotice, A::SelfStop},
    TransitionRow{S::Ready, E::MainExited, A::ExitedRunning},
    TransitionRow{S::Ready, E::CgroupEmpty, A::EmptyRunning},
    TransitionRow{S::Ready, E::ReapTimeout, A::Finish},
    TransitionRow{S::Ready, E::Stop, A::BeginStop},
    TransitionRow{S::Stopping, E::MainExited, A::ExitedStopping},
    TransitionRow{S::Stopping, E::CgroupEmpty, A::EmptyStopping},
    TransitionRow{S::Stopping, E::StopTimeout, A::Kill},
    TransitionRow{S::Stopping, E::KillTimeout, A::Abandon},
    TransitionRow{S::Stopping, E::ReapTimeout, A::Finish},
    TransitionRow{S::Backoff, E::BackoffElapsed, A::Want},
    TransitionRow{S::Backoff, E::Stop, A::Drop},
    TransitionRow{S::Exited, E::Start, A::Want},
    TransitionRow{S::Exited, E::Stop, A::Drop},
    TransitionRow{S::Failed, E::Start, A::Rearm},
    TransitionRow{S::Failed, E::Stop, A::Drop},
};

bool clean_exit(const Engine::Unit& u) {
  return u.status_known && WIFEXITED(u.exit_status) && WEXITSTATUS(u.exit_status) == 0 &&
         u.failure.empty() && u.reason != StopReason::Timeout;
}

}  // namespace

std::span<const TransitionRow> transition_table() noexcept {
  return kTable;
}

const TransitionRow* find_transition(ServiceState state, SupervisorEvent event) noexcept {
  for (const TransitionRow& row : kTable) {
    if (row.state == state && row.event == event) return &row;
  }
  return nullptr;
}

const char* to_string(SupervisorEvent event) noexcept {
  switch (event) {
    case E::Start:
      return "start";
    case E::Stop:
      return "stop";
    case E::DepsMet:
      return "deps-met";
    case E::DepsFailed:
      return "deps-failed";
    case E::Ready:
      return "ready";
    case E::StopNotice:
      return "stop-notice";
    case E::ReadyTimeout:
      return "ready-timeout";
    case E::MainExited:
      return "main-exited";
    case E::CgroupEmpty:
      return "cgroup-empty";
    case E::StopTimeout:
      return "stop-timeout";
    case E::KillTimeout:
      return "kill-timeout";
    case E::ReapTimeout:
      return "reap-timeout";
    case E::BackoffElapsed:
      return "backoff-elapsed";
  }
  return "?";
}

const char* to_string(SupervisorAction action) noexcept {
  switch (action) {
    case A::Want:
      return "want";
    case A::Rearm:
      return "rearm";
    case A::Spawn:
      return "spawn";
    case A::FailDeps:
      return "fail-deps";
    case A::BecomeReady:
      return "become-ready";
    case A::BeginStop:
      return "begin-stop";
    case A::SelfStop:
      return "self-stop";
    case A::TimeoutStop:
      return "timeout-stop";
    case A::ExitedRunning:
      return "exited-running";
    case A::EmptyRunning:
      return "empty-running";
    case A::ExitedStopping:
      return "exited-stopping";
    case A::EmptyStopping:
      return "empty-stopping";
    case A::Kill:
      return "kill";
    case A::Abandon:
      return "abandon";
    case A::Finish:
      return "finish";
    case A::Drop:
      return "drop";
  }
  return "?";
}

const char* to_string(ServiceState state) noexcept {
  switch (state) {
    case S::Invalid:
      return "invalid";
    case S::Stopped:
      return "stopped";
    case S::Waiting:
      return "waiting";
    case S::Starting:
      return "starting";
    case S::Ready:
      return "ready";
    case S::Stopping:
      return "stopping";
    case S::Backoff:
      return "backoff";
    case S::Exited:
      return "exited";
    case S::Failed:
      return "failed";
  }
  return "?";
}

std::string describe_wait_status(int wait_status) {
  if (WIFEXITED(wait_status))
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    const char* abbrev = sigabbrev_np(sig);
    return "killed by signal " + std::to_string(sig) +
           (abbrev ? std::string(" (SIG") + abbrev + ")" : std::string());
  }
  return "wait status " + std::to_string(wait_status);
}

int64_t backoff_delay_ms(const RestartSpec& spec, int consecutive) noexcept {
  int64_t delay = std::max<int64_t>(spec.delay.count(), 0);
  int64_t cap = std::max<int64_t>(spec.max_delay.count(), delay);
  for (int i = 1; i < consecutive && delay < cap; ++i) delay = std::min(cap, delay * 2);
  return std::min(delay, cap);
}

int64_t stable_after_ms(const RestartSpec& spec) noexcept {
  return std::max<int64_t>(spec.max_delay.count(), 1000);
}

void Engine::Impl::arm(Unit& u, int64_t delay_ms, SupervisorEvent event) noexcept {
  disarm(u);
  u.timer_event = event;
  try {
    std::string name = u.name;
    u.timer = fx.add_timer(delay_ms, [this, name, event] { on_timer(name, event); });
  } catch (...) {
    u.timer = 0;
  }
  if (u.timer == 0) fx.note(u.name, "could not arm a timer (out of memory)");
}

void Engine::Impl::disarm(Unit& u) noexcept {
  if (u.timer != 0) fx.cancel_timer(u.timer);
  u.timer = 0;
}

void Engine::Impl::on_timer(const std::string& name, SupervisorEvent event) noexcept {
  Unit* u = find(name);
  if (!u || u->timer == 0 || u->timer_event != event) return;
  u->timer = 0;
  dispatch(*u, event);
  schedule();
}

void Engine::Impl::dispatch(Unit& u, SupervisorEvent event) noexcept {
  if (u.is_group) return;  // a group's state is derived from its members
  const TransitionRow* row = find_transition(u.state, event);
  if (!row) return;
  ServiceState before = u.state;
  ServiceState after = perform(u, row->action);
  if (after == before) return;
  u.state = after;
  u.since_ms = fx.now_ms();
  ++transitions;
  try {
    std::string line =
        std::string(to_string(before)) + " -> " + to_string(after) + " (" + to_string(event) + ")";
    if (!u.error.empty() && (after == S::Failed || after == S::Backoff || after == S::Waiting)) {
      line += ": " + u.error;
    }
    fx.note(u.name, line);
  } catch (...) {
  }
}

ServiceState Engine::Impl::perform(Unit& u, SupervisorAction action) noexcept {
  const ServiceSpec& spec = *u.spec;  // only valid units are ever dispatched
  switch (action) {
    case A::Want:
      u.error.clear();
      return S::Waiting;
    case A::Rearm:
      u.error.clear();
      u.consecutive = 0;
      u.restart_times.clear();
      u.failed_by_deps = false;
      return S::Waiting;
    case A::Spawn:
      return spawn(u);
    case A::FailDeps:
      u.failed_by_deps = true;
      u.timeline.failed_ms = fx.now_ms();
      return S::Failed;  // u.error was set by the scheduler
    case A::BecomeReady:
      return become_ready(u);
    case A::BeginStop:
      return begin_stop(u, StopReason::Requested, true);
    case A::SelfStop:
      return begin_stop(u, StopReason::SelfStop, false);
    case A::TimeoutStop:
      try {
        u.failure = "not ready within " + std::to_string(spec.ready.timeout.count()) + " ms";
      } catch (...) {
      }
      return begin_stop(u, StopReason::Timeout, true);
    case A::ExitedRunning:
      fx.end_readiness(u.name);
      if (!fx.populated(u.name)) return finish(u);
      // The main process is gone but others of its cgroup live on: stop them too.
      u.reason = StopReason::Exited;
      fx.signal_service(u.name, 0, spec.stop.signal);
      arm(u, spec.stop.timeout.count(), E::StopTimeout);
      return S::Stopping;
    case A::EmptyRunning:
    case A::EmptyStopping:
      if (u.main_exited || u.pid <= 0) return finish(u);
      // The cgroup emptied before the exit status was reaped: it comes with the next SIGCHLD.
      arm(u, kReapGraceMs, E::ReapTimeout);
      return u.state;
    case A::ExitedStopping:
      if (!fx.populated(u.name)) return finish(u);
      return u.state;
    case A::Kill:
      fx.note(u.name, "stop timeout: SIGKILL to the whole cgroup");
      fx.signal_service(u.name, u.main_exited ? 0 : u.pid, SIGKILL);
      arm(u, kKillGraceMs, E::KillTimeout);
      return u.state;
    case A::Abandon:
      fx.note(u.name, "processes survived SIGKILL; giving up on them");
      if (u.failure.empty()) u.failure = "processes survived SIGKILL";
      return finish(u);
    case A::Finish:
      return finish(u);
    case A::Drop:
      disarm(u);
      if (u.state != S::Failed || !u.wanted) u.error.clear();
      return S::Stopped;
  }
  return u.state;
}

ServiceState Engine::Impl::spawn(Unit& u) noexcept {
  const ServiceSpec& spec = *u.spec;
  u.error.clear();
  u.failure.clear();
  u.status_text.clear();
  u.main_exited = false;
  u.status_known = false;
  u.exit_status = 0;
  u.reason = StopReason::None;
  u.oom_killed = false;
  u.ready_since = -1;
  u.oom_baseline = fx.oom_kills(u.name);
  int64_t now = fx.now_ms();
  if (u.timeline.started_ms < 0) u.timeline.started_ms = now;
  StartOutcome outcome = fx.start(spec);
  if (!outcome.ok()) {
    u.pid = 0;
    try {
      u.failure = "start failed: " + outcome.error;
    } catch (...) {
    }
    return finish(u);
  }
  u.pid = outcome.pid;
  if (spec.ready.type == ReadyType::None) return become_ready(u);
  if (spec.ready.timeout.count() > 0) arm(u, spec.ready.timeout.count(), E::ReadyTimeout);
  return S::Starting;
}

ServiceState Engine::Impl::become_ready(Unit& u) noexcept {
  disarm(u);
  int64_t now = fx.now_ms();
  u.ready_since = now;
  u.ever_ready = true;
  u.error.clear();
  if (u.timeline.ready_ms < 0) u.timeline.ready_ms = now;
  return S::Ready;
}

ServiceState Engine::Impl::begin_stop(Unit& u, StopReason reason, bool send_signal) noexcept {
  const ServiceSpec& spec = *u.spec;
  // An operator stop of a service that is already stopping itself keeps the stop going.
  if (u.reason == StopReason::None || reason == StopReason::Requested) u.reason = reason;
  fx.end_readiness(u.name);
  if (send_signal) fx.signal_service(u.name, u.pid, spec.stop.signal);
  arm(u, spec.stop.timeout.count(), E::StopTimeout);
  return S::Stopping;
}

ServiceState Engine::Impl::finish(Unit& u) noexcept {
  disarm(u);
  fx.end_readiness(u.name);
  const int64_t now = fx.now_ms();
  uint64_t ooms = fx.oom_kills(u.name);
  u.oom_killed = ooms > u.oom_baseline;
  fx.release(u.name);

  const bool clean = clean_exit(u);
  std::string why;
  try {
    if (!u.failure.empty()) {
      why = u.failure;
    } else if (u.status_known) {
      why = describe_wait_status(u.exit_status);
    } else {
      why = "exit status unknown";
    }
    if (u.oom_killed) why = "killed by the OOM killer (memory.max); " + why;
  } catch (...) {
  }
  const bool was_stable =
      u.ready_since >= 0 && now - u.ready_since >= stable_after_ms(u.spec->restart);
  if (was_stable) u.consecutive = 0;
  u.pid = 0;
  u.ready_since = -1;
  u.timeline.stopped_ms = now;
  const StopReason reason = u.reason;
  u.reason = StopReason::None;

  if (u.has_next) {  // reload: the new definition takes over now that the old run is over
    u.has_next = false;
    u.spec = std::move(u.next_spec);
    u.consecutive = 0;
    u.restart_times.clear();
    if (!u.spec) {
      u.invalid_reason = std::move(u.next_invalid_reason);
      u.error = u.invalid_reason;
      u.wanted = false;
      return S::Invalid;
    }
  }

  if (!u.wanted || stopping_all) return S::Stopped;
  if (reason == StopReason::Requested) return S::Waiting;  // operator restart or reload change

  const RestartSpec& rs = u.spec->restart;
  if (clean && rs.policy != RestartPolicy::Always) {
    u.error.clear();
    return S::Exited;
  }
  if (!clean) {
    u.timeline.failed_ms = now;
    u.error = why;
  }
  if (!clean && rs.policy == RestartPolicy::Never) {
    try {
      u.error = why + "; restart policy is never";
    } catch (...) {
    }
    return S::Failed;
  }
  while (!u.restart_times.empty() && now - u.restart_times.front() >= rs.interval.count()) {
    u.restart_times.pop_front();
  }
  if (rs.burst > 0 && static_cast<int>(u.restart_times.size()) >= rs.burst) {
    u.timeline.failed_ms = now;
    try {
      u.error = "start limit hit: " + std::to_string(u.restart_times.size()) + " restarts within " +
                std::to_string(rs.interval.count()) + " ms; last run " + why;
    } catch (...) {
    }
    return S::Failed;
  }
  try {
    u.restart_times.push_back(now);
  } catch (...) {
  }
  ++u.restarts;
  ++u.consecutive;
  int64_t delay = backoff_delay_ms(rs, u.consecutive);
  try {
    u.error = "restart in " + std::to_string(delay) + " ms after: " + why;
  } catch (...) {
  }
  arm(u, delay, E::BackoffElapsed);
  return S::Backoff;
}

}  // namespace cairn::init
