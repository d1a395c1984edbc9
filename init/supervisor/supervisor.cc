#include "init/supervisor/supervisor.h"

#include "init/config/service_dir.h"
#include "init/log/log_hub.h"
#include "init/supervisor/engine.h"
#include "init/supervisor/real_effects.h"

namespace cairn::init {

namespace {

RealEffectsOptions effects_options(const SupervisorOptions& options) {
  RealEffectsOptions o;
  o.run_dir = options.run_dir;
  o.cgroup_root = options.cgroup_root;
  o.origin = options.clock_from_boot ? EventLoop::Clock::time_point{} : EventLoop::Clock::now();
  o.console = options.console;
  o.etc_dir = options.etc_dir;
  return o;
}

}  // namespace

struct Supervisor::Impl {
  Impl(EventLoop& loop, LogHub& log_hub, SupervisorOptions opts)
      : logs(log_hub),
        options(std::move(opts)),
        effects(loop, log_hub, effects_options(options)),
        engine(effects) {
    effects.set_engine(&engine);
  }

  // Reads the directory; every diagnostic is logged.
  std::vector<UnitDefinition> read_definitions() {
    ServiceSet set = load_service_dir(options.service_dir);
    for (const Diagnostic& d : set.problems) logs.system(d.str());
    std::vector<UnitDefinition> defs;
    defs.reserve(set.services.size());
    for (LoadedService& s : set.services) {
      UnitDefinition def;
      def.name = s.spec.name;
      if (s.valid()) {
        def.spec = std::make_shared<const ServiceSpec>(std::move(s.spec));
      } else {
        def.invalid_reason = s.error();
        for (const Diagnostic& d : s.diagnostics) logs.system(d.str());
      }
      defs.push_back(std::move(def));
    }
    return defs;
  }

  LogHub& logs;
  SupervisorOptions options;
  RealEffects effects;
  Engine engine;
  bool prepared = false;
};

Supervisor::Supervisor(EventLoop& loop, LogHub& logs, SupervisorOptions options)
    : impl_(std::make_unique<Impl>(loop, logs, std::move(options))) {}

Supervisor::~Supervisor() = default;

void Supervisor::load() {
  if (!impl_->prepared) {
    for (const std::string& warning : impl_->effects.prepare()) impl_->logs.system(warning);
    impl_->prepared = true;
  }
  impl_->engine.load(impl_->read_definitions());
}

void Supervisor::start_all() noexcept {
  impl_->engine.start_all();
}

bool Supervisor::start(const std::string& name, std::string& error) noexcept {
  return impl_->engine.start(name, error);
}

bool Supervisor::stop(const std::string& name, std::string& error) noexcept {
  return impl_->engine.stop(name, error);
}

bool Supervisor::restart(const std::string& name, std::string& error) noexcept {
  return impl_->engine.restart(name, error);
}

ReloadResult Supervisor::reload() {
  EngineReload r = impl_->engine.reload(impl_->read_definitions());
  ReloadResult out;
  out.added = std::move(r.added);
  out.removed = std::move(r.removed);
  out.changed = std::move(r.changed);
  out.unchanged = std::move(r.unchanged);
  out.invalid = std::move(r.invalid);
  return out;
}

std::vector<ServiceStatus> Supervisor::status() const {
  return impl_->engine.status();
}
std::vector<TimelineEntry> Supervisor::timeline() const {
  return impl_->engine.timeline();
}
bool Supervisor::node_ready() const noexcept {
  return impl_->engine.node_ready();
}

void Supervisor::shutdown(std::function<void()> done) noexcept {
  impl_->engine.shutdown(std::move(done));
}

bool Supervisor::on_child_exit(pid_t pid, int wait_status) noexcept {
  if (impl_->effects.on_child_exit(pid, wait_status)) return true;
  return impl_->engine.on_child_exit(pid, wait_status);
}

const SupervisorOptions& Supervisor::options() const noexcept {
  return impl_->options;
}

}  // namespace cairn::init
