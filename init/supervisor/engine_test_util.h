// Shared builders for the engine tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "init/supervisor/engine.h"
#include "init/supervisor/fake_effects.h"

namespace cairn::init::testing {

inline ServiceSpec make_spec(const std::string& name, ReadyType ready = ReadyType::None) {
  ServiceSpec s;
  s.name = name;
  s.file = "/etc/cairn/services/" + name + ".toml";
  s.exec = {"/bin/" + name};
  s.ready.type = ready;
  s.ready.timeout = Duration(5'000);
  s.stop.timeout = Duration(3'000);
  return s;
}

inline UnitDefinition def(ServiceSpec spec) {
  UnitDefinition d;
  d.name = spec.name;
  d.spec = std::make_shared<const ServiceSpec>(std::move(spec));
  return d;
}

inline UnitDefinition invalid(const std::string& name, const std::string& reason) {
  UnitDefinition d;
  d.name = name;
  d.invalid_reason = reason;
  return d;
}

struct EngineFixture {
  FakeEffects fx;
  Engine engine{fx};

  void load(std::vector<ServiceSpec> specs, std::vector<UnitDefinition> extra = {}) {
    std::vector<UnitDefinition> defs;
    for (auto& s : specs) defs.push_back(def(std::move(s)));
    for (auto& d : extra) defs.push_back(std::move(d));
    engine.load(std::move(defs));
  }
  ServiceState state(const std::string& name) const { return engine.state_of(name); }
  // The main process of `name` exits; its cgroup empties with it unless `leftovers`.
  void exit(const std::string& name, int wait_status, bool leftovers = false) {
    pid_t pid = engine.pid_of(name);
    fx.populated_[name] = leftovers;
    engine.on_child_exit(pid, wait_status);
  }
  void empty(const std::string& name) {
    fx.populated_[name] = false;
    engine.on_cgroup_empty(name);
  }
  std::string error(const std::string& name) const {
    for (const auto& s : engine.status()) {
      if (s.name == name) return s.error;
    }
    return "<unknown>";
  }
  ServiceStatus status(const std::string& name) const {
    for (const auto& s : engine.status()) {
      if (s.name == name) return s;
    }
    return {};
  }
};

}  // namespace cairn::init::testing
