// The scheduler half of the engine: goals (want/unwant), dependency checks, groups, reload,
// reports. The transitions themselves are in engine_actions.cc.
#include "init/supervisor/engine.h"

#include <algorithm>
#include <set>

#include "init/supervisor/engine_internal.h"
#include "init/supervisor/spec_equal.h"

namespace cairn::init {

namespace {

using S = ServiceState;
using E = SupervisorEvent;

enum class Deps { Met, Wait, Failed };

bool satisfies_requires(const Engine::Unit& d) {
  if (d.state == S::Ready) return true;
  // A one-shot that ran to a clean end (restart policy never / on-failure) stays satisfied.
  return d.state == S::Exited && d.ever_ready;
}

}  // namespace

Engine::Unit* Engine::Impl::find(const std::string& name) noexcept {
  auto it = units.find(name);
  return it == units.end() ? nullptr : it->second.get();
}

const Engine::Unit* Engine::Impl::find(const std::string& name) const noexcept {
  auto it = units.find(name);
  return it == units.end() ? nullptr : it->second.get();
}

Engine::Engine(SupervisorEffects& effects) : impl_(std::make_unique<Impl>(effects)) {}
Engine::~Engine() {
  for (auto& [name, unit] : impl_->units) impl_->disarm(*unit);
}

// ---- loading ----------------------------------------------------------------------------

namespace {

std::unique_ptr<Engine::Unit> make_unit(UnitDefinition& def, int64_t now) {
  auto u = std::make_unique<Engine::Unit>();
  u->name = def.name;
  u->timeline.name = def.name;
  u->since_ms = now;
  if (def.spec) {
    u->spec = std::move(def.spec);
    u->is_group = u->spec->is_group();
    u->state = S::Stopped;
  } else {
    u->invalid_reason = def.invalid_reason;
    u->error = def.invalid_reason;
    u->state = S::Invalid;
  }
  return u;
}

}  // namespace

void Engine::load(std::vector<UnitDefinition> defs) {
  Impl& s = *impl_;
  for (auto& [name, unit] : s.units) s.disarm(*unit);
  s.units.clear();
  int64_t now = s.fx.now_ms();
  for (UnitDefinition& def : defs) {
    std::string name = def.name;
    s.units[name] = make_unit(def, now);
  }
  s.compute_edges();
}

void Engine::Impl::compute_edges() {
  // Group membership first: a member belongs to exactly one valid group.
  for (auto& [name, u] : units) {
    u->group.clear();
    u->needs.clear();
    u->after.clear();
    u->required_by.clear();
    u->after_by.clear();
  }
  for (auto& [name, g] : units) {
    if (!g->is_group || !g->valid()) continue;
    std::string problem;
    for (const std::string& m : g->spec->members) {
      Unit* member = find(m);
      if (!member) {
        problem = "member '" + m + "' is not a known service";
      } else if (!member->valid() && !member->has_next) {
        problem = "member '" + m + "' is invalid";
      } else if (member->is_group) {
        problem = "member '" + m + "' is itself a group";
      } else if (!member->group.empty() && member->group != g->name) {
        problem = "member '" + m + "' already belongs to group '" + member->group + "'";
      }
      if (!problem.empty()) break;
    }
    if (!problem.empty()) {
      g->error = problem;
      g->state = S::Invalid;
      continue;
    }
    if (g->state == S::Invalid) {
      g->error.clear();
      g->state = S::Stopped;
    }
    for (const std::string& m : g->spec->members) find(m)->group = g->name;
  }

  auto expand = [&](const std::string& name, std::vector<std::string>& out) {
    Unit* d = find(name);
    if (d && d->is_group && d->valid() && d->state != S::Invalid) {
      for (const std::string& m : d->spec->members) out.push_back(m);
    } else {
      out.push_back(name);
    }
  };
  for (auto& [name, u] : units) {
    if (!u->valid() || u->is_group) continue;
    for (const std::string& r : u->spec->required) expand(r, u->needs);
    for (const std::string& a : u->spec->after) expand(a, u->after);
    if (!u->group.empty()) {
      const Unit* g = find(u->group);
      const auto& members = g->spec->members;
      auto pos = std::find(members.begin(), members.end(), u->name);
      if (pos == members.begin()) {
        for (const std::string& r : g->spec->required) expand(r, u->needs);
        for (const std::string& a : g->spec->after) expand(a, u->after);
      } else {
        u->needs.push_back(*(pos - 1));  // each member waits for the previous one
      }
    }
  }
  for (auto& [name, u] : units) {
    for (const std::string& r : u->needs) {
      if (Unit* d = find(r)) d->required_by.push_back(name);
    }
    for (const std::string& a : u->after) {
      if (Unit* d = find(a)) d->after_by.push_back(name);
    }
  }
}

EngineReload Engine::reload(std::vector<UnitDefinition> defs) {
  Impl& s = *impl_;
  EngineReload result;
  std::set<std::string> seen;
  std::vector<Unit*> to_start;
  int64_t now = s.fx.now_ms();

  for (UnitDefinition& def : defs) {
    seen.insert(def.name);
    if (!def.spec) result.invalid.push_back(def.name);
    Unit* u = s.find(def.name);
    if (!u) {
      result.added.push_back(def.name);
      auto fresh = make_unit(def, now);
      Unit* raw = fresh.get();
      s.units[raw->name] = std::move(fresh);
      if (raw->valid() && raw->spec->enabled) to_start.push_back(raw);
      continue;
    }
    u->remove_when_down = false;
    bool same = def.spec ? (u->spec && spec_equal(*u->spec, *def.spec))
                         : (!u->spec && u->invalid_reason == def.invalid_reason);
    if (same && !u->has_next) {
      result.unchanged.push_back(def.name);
      continue;
    }
    result.changed.push_back(def.name);
    bool group_involved = u->is_group || (def.spec && def.spec->is_group());
    if (u->running() && !group_involved) {
      // Restart with the new definition: it takes over in finish().
      u->has_next = true;
      u->next_spec = def.spec;
      u->next_invalid_reason = def.invalid_reason;
      if (!def.spec) u->wanted = false;
      if (u->state != S::Stopping) {
        s.dispatch(*u, E::Stop);
      } else if (u->wanted) {
        u->reason = StopReason::Requested;  // come back once the current stop completes
      }
      continue;
    }
    s.disarm(*u);
    bool was_wanted = u->wanted;
    u->has_next = false;
    u->next_spec.reset();
    u->spec = def.spec;
    u->is_group = u->spec && u->spec->is_group();
    u->consecutive = 0;
    u->restart_times.clear();
    u->since_ms = now;
    if (!u->spec) {
      u->invalid_reason = def.invalid_reason;
      u->error = def.invalid_reason;
      u->state = S::Invalid;
      u->wanted = false;
      continue;
    }
    u->invalid_reason.clear();
    u->error.clear();
    bool retry =
        u->state == S::Invalid || u->state == S::Failed || u->state == S::Backoff || was_wanted;
    u->state = S::Stopped;
    u->wanted = false;
    if (u->spec->enabled && retry) to_start.push_back(u);
  }
  for (auto& [name, u] : s.units) {
    if (seen.count(name)) continue;
    result.removed.push_back(name);
    u->remove_when_down = true;
    s.unwant(*u);
  }
  s.compute_edges();
  for (Unit* u : to_start) {
    if (u->group.empty()) s.want(*u);
  }
  // Services that failed only because a dependency was missing or invalid get another try.
  for (auto& [name, u] : s.units) {
    if (u->state == S::Failed && u->failed_by_deps && u->wanted) s.dispatch(*u, E::Start);
  }
  s.schedule();
  return result;
}

// ---- goals ------------------------------------------------------------------------------

void Engine::Impl::want(Unit& u) noexcept {
  // Iterative walk with a visit mark: dependency chains may be long, cycles are possible in
  // definitions the loader let through, and PID 1 must not recurse without bound.
  ++mark;
  std::vector<Unit*> stack;
  try {
    stack.push_back(&u);
    while (!stack.empty()) {
      Unit* x = stack.back();
      stack.pop_back();
      if (x->mark == mark) continue;
      x->mark = mark;
      if (x->state == S::Invalid) continue;
      x->wanted = true;
      if (x->is_group) {
        for (const std::string& m : x->spec->members) {
          if (Unit* member = find(m)) stack.push_back(member);
        }
        continue;
      }
      dispatch(*x, E::Start);
      for (const std::string& r : x->needs) {
        if (Unit* d = find(r)) stack.push_back(d);
      }
    }
  } catch (...) {
    fx.note(u.name, "out of memory while starting dependencies");
  }
}

void Engine::Impl::unwant(Unit& u) noexcept {
  ++mark;
  std::vector<Unit*> stack;
  try {
    stack.push_back(&u);
    while (!stack.empty()) {
      Unit* x = stack.back();
      stack.pop_back();
      if (x->mark == mark) continue;
      x->mark = mark;
      x->wanted = false;
      if (x->is_group && x->valid()) {
        for (const std::string& m : x->spec->members) {
          if (Unit* member = find(m)) stack.push_back(member);
        }
      }
      for (const std::string& v : x->required_by) {
        if (Unit* d = find(v)) stack.push_back(d);
      }
      // Whoever requires a group requires its members: covered by required_by of members.
    }
  } catch (...) {
    fx.note(u.name, "out of memory while stopping dependents");
  }
}

void Engine::Impl::restart_unit(Unit& u) noexcept {
  switch (u.state) {
    case S::Starting:
    case S::Ready:
      u.wanted = true;
      dispatch(u, E::Stop);  // finish() sees wanted + Requested and goes back to Waiting
      break;
    case S::Stopping:
      u.wanted = true;
      u.reason = StopReason::Requested;
      break;
    case S::Backoff:
      u.wanted = true;
      disarm(u);
      dispatch(u, E::BackoffElapsed);
      break;
    default:
      want(u);
      break;
  }
}

// ---- the scheduler ----------------------------------------------------------------------

void Engine::Impl::step(Unit& u) {
  switch (u.state) {
    case S::Waiting: {
      if (!u.wanted) {
        dispatch(u, E::Stop);
        break;
      }
      Deps deps = Deps::Met;
      std::string why;
      for (const std::string& r : u.needs) {
        const Unit* d = find(r);
        if (!d) {
          deps = Deps::Failed;
          why = "requires unknown service '" + r + "'";
        } else if (d->state == S::Invalid) {
          deps = Deps::Failed;
          why = "requires '" + r + "', which is invalid: " + d->error;
        } else if (d->state == S::Failed) {
          deps = Deps::Failed;
          why = "requires '" + r + "', which failed: " + d->error;
        } else if (!satisfies_requires(*d)) {
          deps = Deps::Wait;
          why = "waiting for '" + r + "' (" + to_string(d->state) + ")";
          continue;
        }
        if (deps == Deps::Failed) break;
      }
      if (deps != Deps::Failed) {
        for (const std::string& a : u.after) {
          const Unit* d = find(a);
          if (!d || d->state == S::Invalid || !d->wanted) continue;
          if (d->state == S::Waiting || d->state == S::Starting || d->state == S::Stopping ||
              d->state == S::Stopped) {
            if (deps == Deps::Met) why = "waiting for '" + a + "' (after)";
            deps = Deps::Wait;
          }
        }
      }
      if (deps == Deps::Met) {
        dispatch(u, E::DepsMet);
      } else if (deps == Deps::Failed) {
        u.error = why;
        dispatch(u, E::DepsFailed);
      } else {
        u.error = why;
      }
      break;
    }
    case S::Starting:
    case S::Ready: {
      if (u.wanted) break;
      // Stop only once every un-wanted service that depends on this one is down.
      bool blocked = false;
      for (const auto* list : {&u.required_by, &u.after_by}) {
        for (const std::string& v : *list) {
          const Unit* d = find(v);
          if (d && !d->wanted && d->running()) blocked = true;
        }
      }
      if (!blocked) dispatch(u, E::Stop);
      break;
    }
    case S::Backoff:
    case S::Exited:
    case S::Failed:
      if (!u.wanted) dispatch(u, E::Stop);
      break;
    default:
      break;
  }
}

void Engine::Impl::schedule() noexcept {
  if (in_schedule) {
    reschedule = true;
    return;
  }
  in_schedule = true;
  for (int pass = 0; pass < 10'000; ++pass) {
    reschedule = false;
    uint64_t before = transitions;
    for (auto& [name, up] : units) {
      Unit& u = *up;
      if (u.is_group || !u.valid()) continue;
      try {
        step(u);
      } catch (...) {
        // Only the reason strings allocate; the unit is looked at again in the next pass.
      }
    }
    if (transitions == before && !reschedule) break;
  }
  update_groups();
  // Units removed by a reload leave once they are down (their timers are already disarmed).
  for (auto it = units.begin(); it != units.end();) {
    Unit& u = *it->second;
    bool down = !u.running() && u.state != S::Backoff && u.state != S::Waiting;
    if (u.remove_when_down && down) {
      disarm(u);
      it = units.erase(it);
    } else {
      ++it;
    }
  }
  in_schedule = false;
  check_node_ready();
  check_shutdown_done();
}

void Engine::Impl::update_groups() noexcept {
  int64_t now = fx.now_ms();
  for (auto& [name, gp] : units) {
    Unit& g = *gp;
    if (!g.is_group || !g.valid() || g.state == S::Invalid) continue;
    try {
      update_group(g, now);
    } catch (...) {
      // Only the messages allocate; the state is recomputed on the next change.
    }
  }
}

void Engine::Impl::update_group(Unit& g, int64_t now) {
  {
    bool all_ready = true, all_down = true, any_failed = false, any_stopping = false;
    bool any_backoff = false, any_starting = false, any_wanted = false, any_running = false;
    std::string failed_error;
    int64_t started = -1;
    for (const std::string& m : g.spec->members) {
      const Unit* u = find(m);
      if (!u) continue;
      S st = u->state;
      any_wanted |= u->wanted;
      any_running |= u->running();
      if (!satisfies_requires(*u)) all_ready = false;
      if (st != S::Stopped && st != S::Exited) all_down = false;
      if (st == S::Failed || st == S::Invalid) {
        if (!any_failed) failed_error = "member '" + m + "': " + u->error;
        any_failed = true;
      }
      any_stopping |= st == S::Stopping;
      any_backoff |= st == S::Backoff;
      any_starting |= st == S::Starting;
      if (u->timeline.started_ms >= 0 && (started < 0 || u->timeline.started_ms < started)) {
        started = u->timeline.started_ms;
      }
    }
    S next;
    if (any_failed) {
      next = S::Failed;
    } else if (all_ready) {
      next = S::Ready;
    } else if (all_down) {
      next = S::Stopped;
    } else if (any_stopping || (!any_wanted && any_running)) {
      next = S::Stopping;
    } else if (any_backoff) {
      next = S::Backoff;
    } else if (any_starting || any_running) {
      next = S::Starting;
    } else {
      next = S::Waiting;
    }
    g.wanted = any_wanted;
    if (g.timeline.started_ms < 0) g.timeline.started_ms = started;
    if (next == g.state) return;
    g.state = next;
    g.since_ms = now;
    g.error = next == S::Failed ? failed_error : std::string();
    if (next == S::Ready) {
      g.ever_ready = true;
      if (g.timeline.ready_ms < 0) g.timeline.ready_ms = now;
    }
    if (next == S::Failed) g.timeline.failed_ms = now;
    if (next == S::Stopped) g.timeline.stopped_ms = now;
    fx.note(g.name, std::string("group ") + to_string(next));
  }
}

void Engine::Impl::check_node_ready() noexcept {
  if (node_ready || !boot_started || stopping_all) return;
  for (auto& [name, u] : units) {
    // Invalid services are reported as invalid and do not hold the node back; members count
    // through their group.
    if (!u->valid() || u->state == S::Invalid || !u->spec->enabled || !u->group.empty()) continue;
    if (!u->ever_ready) return;
  }
  node_ready = true;
  node_ready_ms = fx.now_ms();
  try {
    fx.console("cairn-init: node ready in " + std::to_string(node_ready_ms) + " ms");
    std::vector<const Unit*> order;
    for (auto& [name, u] : units) {
      if (u->timeline.ready_ms >= 0) order.push_back(u.get());
    }
    std::stable_sort(order.begin(), order.end(), [](const Unit* a, const Unit* b) {
      return a->timeline.ready_ms < b->timeline.ready_ms;
    });
    for (const Unit* u : order) {
      int64_t started = u->timeline.started_ms;
      int64_t ready = u->timeline.ready_ms;
      fx.console("cairn-init: timeline " + u->name + " started " + std::to_string(started) +
                 " ms, ready " + std::to_string(ready) + " ms (+" +
                 std::to_string(started >= 0 ? ready - started : 0) + " ms)");
    }
  } catch (...) {
  }
}

void Engine::Impl::check_shutdown_done() noexcept {
  if (!stopping_all || !shutdown_done) return;
  for (auto& [name, u] : units) {
    if (u->is_group) continue;
    if (u->running() || u->state == S::Waiting || u->state == S::Backoff) return;
  }
  std::function<void()> done = std::move(shutdown_done);
  shutdown_done = nullptr;
  done();
}

// ---- public operations ------------------------------------------------------------------

void Engine::start_all() noexcept {
  Impl& s = *impl_;
  if (s.stopping_all) return;
  s.boot_started = true;
  for (auto& [name, u] : s.units) {
    if (u->valid() && u->state != S::Invalid && u->spec->enabled && u->group.empty()) {
      s.want(*u);
    }
  }
  s.schedule();
}

bool Engine::start(const std::string& name, std::string& error) noexcept {
  Impl& s = *impl_;
  try {
    Unit* u = s.find(name);
    if (s.stopping_all) {
      error = "shutting down";
    } else if (!u) {
      error = "unknown service '" + name + "'";
    } else if (u->state == S::Invalid) {
      error = "'" + name + "' is invalid: " + u->error;
    } else if (!u->group.empty()) {
      error = "'" + name + "' is a member of group '" + u->group + "'; start the group";
    } else {
      s.want(*u);
      s.schedule();
      return true;
    }
  } catch (...) {
    error = "out of memory";
  }
  return false;
}

bool Engine::stop(const std::string& name, std::string& error) noexcept {
  Impl& s = *impl_;
  Unit* u = s.find(name);
  if (!u) {
    try {
      error = "unknown service '" + name + "'";
    } catch (...) {
    }
    return false;
  }
  s.unwant(*u);
  s.schedule();
  return true;
}

bool Engine::restart(const std::string& name, std::string& error) noexcept {
  Impl& s = *impl_;
  try {
    Unit* u = s.find(name);
    if (s.stopping_all) {
      error = "shutting down";
    } else if (!u) {
      error = "unknown service '" + name + "'";
    } else if (u->state == S::Invalid) {
      error = "'" + name + "' is invalid: " + u->error;
    } else if (u->is_group) {
      // Each member restarts in place; the chain of requires brings them back in order.
      for (const std::string& m : u->spec->members) {
        if (Unit* member = s.find(m)) s.restart_unit(*member);
      }
      s.schedule();
      return true;
    } else {
      s.restart_unit(*u);
      s.schedule();
      return true;
    }
  } catch (...) {
    error = "out of memory";
  }
  return false;
}

void Engine::shutdown(std::function<void()> done) noexcept {
  Impl& s = *impl_;
  s.stopping_all = true;
  if (done) s.shutdown_done = std::move(done);
  for (auto& [name, u] : s.units) u->wanted = false;
  s.schedule();
}

bool Engine::shutting_down() const noexcept {
  return impl_->stopping_all;
}

// ---- events from the effects side -------------------------------------------------------

void Engine::on_ready(const std::string& name) noexcept {
  if (Unit* u = impl_->find(name)) {
    impl_->dispatch(*u, E::Ready);
    impl_->schedule();
  }
}

void Engine::on_stopping(const std::string& name) noexcept {
  if (Unit* u = impl_->find(name)) {
    impl_->dispatch(*u, E::StopNotice);
    impl_->schedule();
  }
}

void Engine::on_status_text(const std::string& name, const std::string& text) noexcept {
  if (Unit* u = impl_->find(name)) {
    try {
      u->status_text = text;
    } catch (...) {
    }
  }
}

void Engine::on_main_pid(const std::string& name, pid_t pid) noexcept {
  Unit* u = impl_->find(name);
  if (!u || pid <= 0) return;
  if (u->state == S::Starting || u->state == S::Ready) u->pid = pid;
}

void Engine::on_cgroup_empty(const std::string& name) noexcept {
  if (Unit* u = impl_->find(name)) {
    impl_->dispatch(*u, E::CgroupEmpty);
    impl_->schedule();
  }
}

bool Engine::on_child_exit(pid_t pid, int wait_status) noexcept {
  if (pid <= 0) return false;
  for (auto& [name, up] : impl_->units) {
    Unit& u = *up;
    if (u.pid != pid || !u.running() || u.main_exited) continue;
    u.main_exited = true;
    u.status_known = true;
    u.exit_status = wait_status;
    impl_->dispatch(u, E::MainExited);
    impl_->schedule();
    return true;
  }
  return false;
}

void Engine::inject(const std::string& name, SupervisorEvent event, int wait_status) noexcept {
  Unit* u = impl_->find(name);
  if (!u) return;
  if (event == E::MainExited) {
    u->main_exited = true;
    u->status_known = true;
    u->exit_status = wait_status;
  }
  impl_->dispatch(*u, event);
}

// ---- reports ----------------------------------------------------------------------------

std::vector<ServiceStatus> Engine::status() const {
  std::vector<ServiceStatus> out;
  out.reserve(impl_->units.size());
  for (auto& [name, up] : impl_->units) {
    const Unit& u = *up;
    ServiceStatus st;
    st.name = name;
    if (u.spec) {
      st.description = u.spec->description;
      st.members = u.spec->members;
    }
    st.state = u.state;
    st.pid = u.running() ? u.pid : 0;
    st.restarts = u.restarts;
    st.last_exit_status = u.exit_status;
    st.oom_killed = u.oom_killed;
    st.error = u.error;
    st.group = u.group;
    st.status_text = u.status_text;
    st.since_ms = u.since_ms;
    st.wanted = u.wanted;
    if (u.is_group) {
      for (const std::string& m : st.members) {
        const Unit* member = impl_->find(m);
        if (member && member->running()) st.memory_current += impl_->fx.memory_current(m);
      }
    } else if (u.running()) {
      st.memory_current = impl_->fx.memory_current(name);
    }
    out.push_back(std::move(st));
  }
  return out;
}

std::vector<TimelineEntry> Engine::timeline() const {
  std::vector<TimelineEntry> out;
  out.reserve(impl_->units.size());
  for (auto& [name, u] : impl_->units) out.push_back(u->timeline);
  return out;
}

ServiceState Engine::state_of(const std::string& name) const noexcept {
  const Unit* u = impl_->find(name);
  return u ? u->state : S::Invalid;
}

pid_t Engine::pid_of(const std::string& name) const noexcept {
  const Unit* u = impl_->find(name);
  return u && u->running() ? u->pid : 0;
}

const ServiceSpec* Engine::spec_of(const std::string& name) const noexcept {
  const Unit* u = impl_->find(name);
  return u ? u->spec.get() : nullptr;
}

bool Engine::node_ready() const noexcept {
  return impl_->node_ready;
}
int64_t Engine::node_ready_ms() const noexcept {
  return impl_->node_ready_ms;
}

}  // namespace cairn::init
