// The service supervisor: loads services/*.toml, starts them in dependency order, tracks
// readiness, restarts with capped backoff, enforces the start limit, and stops in reverse
// dependency order (docs/supervisor.md). A thin owner of the Engine (the state machine) and
// RealEffects (its seam on the real system). The runtime paths are noexcept; allocation
// failures are confined to load()/reload() and to the control client being served.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "init/config/service_spec.h"
#include "init/loop/event_loop.h"
#include "init/supervisor/service_status.h"

namespace cairn::init {

class LogHub;

struct SupervisorOptions {
  std::string service_dir = "/etc/cairn/services";
  std::string cgroup_root = "/sys/fs/cgroup";  // services go in <root>/cairn/<name>; "" = none
  std::string run_dir = "/run/cairn";          // notify sockets (<run_dir>/notify/)
  // Clock of the timeline: true = since the kernel booted (PID 1), false = since the
  // Supervisor was constructed (development).
  bool clock_from_boot = true;
  // Receives the node-ready line and the timeline (default: LogHub::system, i.e. console).
  std::function<void(const std::string&)> console;
  std::string etc_dir = "/etc";  // passwd/group for service users
};

struct ReloadResult {
  std::vector<std::string> added, removed, changed, unchanged, invalid;
};

class Supervisor {
 public:
  Supervisor(EventLoop& loop, LogHub& logs, SupervisorOptions options);
  ~Supervisor();

  // Reads every service file; bad ones become Invalid with their diagnostic (each is also
  // logged), the rest load. Creates the notify directory and the cgroup tree.
  void load();
  // Starts every enabled service in dependency order.
  void start_all() noexcept;

  // Operator actions; false with `error` set when the name is unknown or the action invalid.
  bool start(const std::string& name, std::string& error) noexcept;
  bool stop(const std::string& name, std::string& error) noexcept;
  bool restart(const std::string& name, std::string& error) noexcept;
  ReloadResult reload();

  std::vector<ServiceStatus> status() const;
  std::vector<TimelineEntry> timeline() const;
  bool node_ready() const noexcept;

  // Stops everything in reverse dependency order, each within its stop timeout, then calls
  // `done`. Further starts are refused.
  void shutdown(std::function<void()> done) noexcept;

  // Called by the PID 1 main loop for every reaped child; returns true if it was a service
  // (or one of its readiness checks).
  bool on_child_exit(pid_t pid, int wait_status) noexcept;

  const SupervisorOptions& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::init
