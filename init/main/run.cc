#include "init/main/run.h"

#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>

#ifdef CAIRN_HAVE_CONTROL_SERVER
#include "init/control_server/control_server.h"
#endif
#include "init/log/log_hub.h"
#include "init/loop/event_loop.h"
#include "init/node/node_apply.h"
#include "init/supervisor/supervisor.h"
#include "init/system/console.h"
#include "init/system/final_shutdown.h"
#include "init/system/pid1.h"
#include "init/system/pid1_signals.h"
#include "init/system/power_key.h"

namespace cairn::init {

namespace {

namespace sys = cairn::init::system;

constexpr const char* kDefaultLogDir = "/var/log/cairn";
constexpr int kLogDirAttempts = 150;  // every 2 s: five minutes for /var to become writable
constexpr int kMaxIgnoredSignalLogs = 16;

// The engine writes whole console lines starting with "cairn-init: "; console_log adds it.
void console_line(const std::string& line) noexcept {
  std::string_view text = line;
  constexpr std::string_view prefix = "cairn-init: ";
  if (text.substr(0, prefix.size()) == prefix) text.remove_prefix(prefix.size());
  sys::console_log(text);
}

// Everything the signal handlers and the control server reach; filled in as it is built.
struct Runtime {
  EventLoop loop;
  std::optional<LogHub> logs;
  std::optional<Supervisor> supervisor;
#ifdef CAIRN_HAVE_CONTROL_SERVER
  std::optional<ControlServer> control;
#endif
  bool shutting_down = false;
  bool dev_mode = false;
  sys::PowerAction action = sys::PowerAction::Poweroff;
  int ignored_signals = 0;
  int log_dir_attempts = 0;

  void begin_shutdown(sys::PowerAction requested) noexcept {
    if (shutting_down) {
      sys::console_log("shutdown already in progress");
      return;
    }
    shutting_down = true;
    action = requested;
    try {
      sys::console_log(std::string("stopping services (then ") +
                       (dev_mode ? "exit" : sys::to_string(requested)) + ")");
    } catch (...) {
    }
    if (!supervisor) {
      loop.stop();
      return;
    }
    supervisor->shutdown([this] { loop.stop(); });
  }

  void reload() noexcept {
    if (!supervisor || shutting_down) return;
    try {
      ReloadResult r = supervisor->reload();
      sys::console_log("reload: " + std::to_string(r.added.size()) + " added, " +
                       std::to_string(r.removed.size()) + " removed, " +
                       std::to_string(r.changed.size()) + " changed, " +
                       std::to_string(r.unchanged.size()) + " unchanged, " +
                       std::to_string(r.invalid.size()) + " invalid");
    } catch (...) {
      sys::console_log("reload failed: out of memory", sys::ConsoleLevel::Error);
    }
  }

  // As PID 1 the logs move to /var/log/cairn once /var is writable (stage 1 mounts it, but
  // a slow or fixed-up data partition may come later).
  void try_log_dir() noexcept {
    if (logs->set_log_dir(kDefaultLogDir)) {
      sys::console_log("service logs in /var/log/cairn");
      return;
    }
    if (++log_dir_attempts >= kLogDirAttempts) {
      sys::console_log("service logs stay on the console: /var/log/cairn is not writable",
                       sys::ConsoleLevel::Warning);
      return;
    }
    loop.add_timer(std::chrono::seconds(2), [this] { try_log_dir(); });
  }
};

}  // namespace

int run_supervisor(const MainOptions& options, bool as_pid1) noexcept {
  // Static storage: PID 1 never returns from here, and the crash handler must not find a
  // half-destroyed runtime on the stack of a dying frame.
  static Runtime* runtime_storage = nullptr;
  try {
    runtime_storage = new Runtime();
  } catch (...) {
    sys::console_log("out of memory at start", sys::ConsoleLevel::Error);
    if (as_pid1) sys::idle_forever();
    return 1;
  }
  Runtime& rt = *runtime_storage;

  // Signals first: until the signalfd owns them a SIGTERM would kill us with its default.
  sys::SignalHandlers handlers;
  handlers.child_exited = [&rt](pid_t pid, int status) {
    if (rt.supervisor) rt.supervisor->on_child_exit(pid, status);
  };
  handlers.power = [&rt](sys::PowerAction a) { rt.begin_shutdown(a); };
  handlers.reload = [&rt] { rt.reload(); };
  handlers.ignored = [&rt](int signo) {
    if (rt.ignored_signals++ >= kMaxIgnoredSignalLogs) return;
    char line[48];
    std::snprintf(line, sizeof line, "ignoring signal %d", signo);
    sys::console_log(line);
  };
  sys::Pid1Signals signals(rt.loop, std::move(handlers));
  bool signals_ok = signals.start();

  sys::Pid1Options pid1_options;
  pid1_options.run_dir = options.run_dir;
  pid1_options.force_dev = !as_pid1;
  sys::Pid1Setup setup = sys::setup_pid1(pid1_options);
  if (setup.mode == sys::Pid1Mode::Boot) {
    sys::console_open();
  } else {
    sys::console_redirect(STDERR_FILENO);  // a namespace's or a developer's terminal
  }
  if (!signals_ok) sys::console_log("cannot watch signals", sys::ConsoleLevel::Error);
  for (const std::string& line : setup.log) sys::console_log(line);
  for (const std::string& line : setup.errors) {
    sys::console_log("error: " + line, sys::ConsoleLevel::Error);
  }
  for (const std::string& arg : options.ignored) {
    sys::console_log("ignoring argument '" + arg + "'");
  }
  // node.toml from the boot partition: the hostname (and sysctls) before any service runs.
  // A bad file is reported (console and /boot/cairn-node-error.txt), never fatal.
  if (setup.mode == sys::Pid1Mode::Boot) {
    node::NodeApplyReport node_report = node::apply_node_config(sys::real_system_calls());
    for (const std::string& line : node_report.log) sys::console_log("node: " + line);
    for (const std::string& line : node_report.errors) {
      sys::console_log(line, sys::ConsoleLevel::Error);
    }
  }
  std::string cgroup_root = options.cgroup_root.value_or(setup.cgroup_base);
  rt.dev_mode = setup.mode == sys::Pid1Mode::Dev;

  try {
    LogHubOptions log_options;
    log_options.console_fd = sys::console_fd();
    rt.logs.emplace(rt.loop, log_options);

    SupervisorOptions so;
    so.service_dir = options.services;
    so.cgroup_root = cgroup_root;
    so.run_dir = options.run_dir;
    so.clock_from_boot = setup.mode == sys::Pid1Mode::Boot;  // a namespace's boot is ours
    so.console = console_line;
    rt.supervisor.emplace(rt.loop, *rt.logs, so);

#ifdef CAIRN_HAVE_CONTROL_SERVER
    ControlServerOptions co;
    co.socket_path = options.control_socket_path();
    rt.control.emplace(
        rt.loop, *rt.supervisor, *rt.logs, [&rt](sys::PowerAction a) { rt.begin_shutdown(a); }, co);
    std::string error;
    if (!rt.control->start(error)) {
      sys::console_log("control socket " + co.socket_path + ": " + error, sys::ConsoleLevel::Error);
    }

#else
    sys::console_log("no control server in this build: cairnctl cannot connect",
                     sys::ConsoleLevel::Warning);
#endif
    if (options.log_dir) {
      if (!rt.logs->set_log_dir(*options.log_dir)) {
        sys::console_log("cannot use log dir " + *options.log_dir, sys::ConsoleLevel::Warning);
      }
    } else if (as_pid1) {
      rt.try_log_dir();
    }
    rt.supervisor->load();
  } catch (...) {
    sys::console_log("out of memory while loading services", sys::ConsoleLevel::Error);
  }

  if (rt.supervisor) rt.supervisor->start_all();

  // The power key after the services are spawned: scanning /dev/input (open and ioctl
  // each event device, ~70-240 ms under QEMU TCG) is on no service's path to ready, and the
  // key is acted on only by the loop below anyway.
  std::optional<sys::PowerKeyWatcher> power_key;
  if (setup.mode == sys::Pid1Mode::Boot) {
    try {
      power_key.emplace(rt.loop, [&rt] { rt.begin_shutdown(sys::PowerAction::Poweroff); });
      size_t keys = power_key->open_devices();
      // Button drivers loaded late (and hot-plugged keyboards) add devices after this point.
      bool watching = power_key->watch_for_new_devices();
      sys::console_log("power key: " + std::to_string(keys) + " device(s)" +
                       (watching ? ", watching /dev/input for more" : ""));
    } catch (...) {
    }
  }

  rt.loop.run();

  // Every service is down (in reverse dependency order); what is left goes now.
#ifdef CAIRN_HAVE_CONTROL_SERVER
  if (rt.control) rt.control->stop();
#endif
  // The log files are PID 1's own open files on /var: with them open /var could not be
  // unmounted or remounted read-only ("still writable: /var").
  if (rt.logs) rt.logs->close_log_dir();
  sys::ShutdownPlan plan;
  plan.action = rt.action;
  plan.mode = setup.mode;
  try {
    if (!cgroup_root.empty()) plan.freeze_cgroups.push_back(cgroup_root + "/cairn");
  } catch (...) {
  }
  plan.progress = [](const std::string& line) { sys::console_log(line); };
  sys::final_shutdown(plan);
  if (as_pid1) sys::idle_forever();
  sys::console_log("all services stopped");
  return 0;
}

}  // namespace cairn::init
