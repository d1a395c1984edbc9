#include "init/supervisor/real_effects.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "init/config/args_file.h"
#include "init/log/log_hub.h"
#include "init/supervisor/engine.h"

namespace cairn::init {

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string errno_text(int error) {
  return std::strerror(error);
}

void set_env(std::vector<std::string>& env, const std::string& key, const std::string& value) {
  std::string prefix = key + "=";
  for (std::string& e : env) {
    if (e.rfind(prefix, 0) == 0) {
      e = prefix + value;
      return;
    }
  }
  env.push_back(prefix + value);
}

}  // namespace

struct RealEffects::Run {
  ServiceCgroup cgroup;
  std::string cgroup_path;  // as /proc/<pid>/cgroup shows it ("" = unknown: accept any)
  int events_fd = -1;
  std::unique_ptr<Readiness> readiness;
  std::vector<std::string> env;  // of the current run (exec checks reuse it)
  ServiceSpec check_spec;        // exec readiness: the check as a plain process
  // The seccomp program depends only on these; rebuilt when they change.
  std::string plan_key;
  bool plan_ready = false;
  SpawnPlan plan;
};

RealEffects::RealEffects(EventLoop& loop, LogHub& logs, RealEffectsOptions options)
    : loop_(loop), logs_(logs), options_(std::move(options)), tree_(options_.cgroup_root) {}

RealEffects::~RealEffects() {
  for (auto& [name, run] : runs_) {
    unwatch_events(*run);
    if (run->readiness) run->readiness->close();
  }
  if (retire_timer_ != 0) loop_.cancel_timer(retire_timer_);
}

std::vector<std::string> RealEffects::prepare() {
  std::vector<std::string> warnings;
  std::string notify_dir = options_.run_dir + "/notify";
  mkdir(options_.run_dir.c_str(), 0755);
  if (mkdir(notify_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    warnings.push_back("cannot create " + notify_dir + ": " + errno_text(errno) +
                       " (notify readiness will fail)");
  }
  if (options_.cgroup_root.empty()) {
    warnings.push_back("no cgroup2 tree: services run without resource limits");
    return warnings;
  }
  std::string error;
  if (tree_.prepare(error) != 0) {
    warnings.push_back("cgroup tree " + tree_.base() + ": " + error +
                       " (services run without resource limits)");
    return warnings;
  }
  cgroups_ok_ = true;
  cgroup_mount_ = find_cgroup2_mount();
  unsigned wanted = kCgroupCpu | kCgroupMemory | kCgroupPids | kCgroupIo;
  if ((tree_.controllers() & wanted) != wanted) {
    std::string available = format_cgroup_controllers(tree_.controllers());
    warnings.push_back("cgroup controllers available to services: " +
                       (available.empty() ? std::string("none") : available) +
                       " (limits needing the others are skipped)");
  }
  return warnings;
}

int64_t RealEffects::now_ms() const noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(EventLoop::Clock::now() -
                                                               options_.origin)
      .count();
}

SupervisorEffects::TimerId RealEffects::add_timer(int64_t delay_ms,
                                                  std::function<void()> callback) noexcept {
  return loop_.add_timer(std::chrono::milliseconds(delay_ms), std::move(callback));
}

void RealEffects::cancel_timer(TimerId id) noexcept {
  loop_.cancel_timer(id);
}

RealEffects::Run* RealEffects::run_for(const std::string& name) noexcept {
  try {
    auto& slot = runs_[name];
    if (!slot) slot = std::make_unique<Run>();
    return slot.get();
  } catch (...) {
    return nullptr;
  }
}

bool RealEffects::ensure_cgroup(Run& run, const std::string& name, std::string& error) noexcept {
  if (!cgroups_ok_ || run.cgroup.is_open()) return true;
  int rc = run.cgroup.open(tree_, name);
  if (rc != 0) {
    try {
      error = "cgroup " + tree_.base() + "/" + name + ": " + errno_text(rc);
    } catch (...) {
    }
    return false;
  }
  try {
    const std::string& path = run.cgroup.path();
    if (!cgroup_mount_.empty() && path.rfind(cgroup_mount_, 0) == 0) {
      run.cgroup_path = path.substr(cgroup_mount_.size());
      if (run.cgroup_path.empty()) run.cgroup_path = "/";
    }
  } catch (...) {
  }
  return true;
}

StartOutcome RealEffects::start(const ServiceSpec& spec) noexcept {
  StartOutcome out;
  try {
    Run* run = run_for(spec.name);
    if (!run) {
      out.error = "out of memory";
      return out;
    }
    if (run->readiness) retire(std::move(run->readiness));
    unwatch_events(*run);
    if (!ensure_cgroup(*run, spec.name, out.error)) return out;
    if (run->cgroup.is_open()) {
      ResourceApplyResult applied = run->cgroup.apply(spec.resources);
      if (!applied.ok()) note(spec.name, "resource limits: " + applied.describe());
    }

    std::vector<std::string> argv = spec.exec;
    if (!spec.args_file.empty()) {
      ArgsFile extra = read_args_file(spec.args_file);
      if (!extra.ok()) {
        out.error = "args-file " + spec.args_file + ": " + extra.error;
        return out;
      }
      argv.insert(argv.end(), extra.args.begin(), extra.args.end());
    }
    std::vector<std::string> env;
    set_env(env, "PATH", kDefaultPath);
    for (const auto& [key, value] : spec.environment) set_env(env, key, value);

    std::string name = spec.name;
    Readiness::Callbacks callbacks;
    callbacks.ready = [this, name] {
      if (engine_) engine_->on_ready(name);
    };
    callbacks.stopping = [this, name] {
      if (engine_) engine_->on_stopping(name);
    };
    callbacks.status = [this, name](const std::string& text) {
      if (engine_) engine_->on_status_text(name, text);
    };
    callbacks.main_pid = [this, name](pid_t pid) {
      if (engine_) engine_->on_main_pid(name, pid);
    };
    run->readiness = std::make_unique<Readiness>(loop_, std::move(callbacks));
    int ready_fd = -1;
    if (spec.ready.type == ReadyType::Notify) {
      std::string path = options_.run_dir + "/notify/" + name + ".sock";
      if (!run->readiness->open_notify(path, run->cgroup_path, out.error)) return out;
      set_env(env, "NOTIFY_SOCKET", path);
    } else if (spec.ready.type == ReadyType::Fd) {
      ready_fd = run->readiness->open_pipe(out.error);
      if (ready_fd < 0) return out;
    }

    std::string key = spec.isolation.seccomp;
    for (const auto& s : spec.isolation.seccomp_allow) key += " +" + s;
    for (const auto& s : spec.isolation.seccomp_deny) key += " -" + s;
    if (!run->plan_ready || run->plan_key != key) {
      run->plan = SpawnPlan{};
      std::string problem = prepare_spawn_plan(spec, run->plan);
      if (!problem.empty()) {
        run->readiness->close();
        out.error = "seccomp: " + problem;
        return out;
      }
      run->plan_key = key;
      run->plan_ready = true;
    }

    int log_fd = logs_.open_service_pipe(name, spec.log);
    SpawnRequest request;
    request.spec = &spec;
    request.argv = std::move(argv);
    request.env = env;
    request.cgroup_fd = run->cgroup.is_open() ? run->cgroup.dir_fd() : -1;
    request.stdout_fd = log_fd;
    request.stderr_fd = log_fd;
    request.ready_fd = ready_fd;
    request.plan = &run->plan;
    request.etc_dir = options_.etc_dir.c_str();
    SpawnResult result = spawn_service(request);
    if (log_fd >= 0) close(log_fd);
    run->readiness->spawned();
    if (!result.ok()) {
      run->readiness->close();
      if (!result.detail.empty()) {
        out.error = result.detail;
      } else {
        out.error =
            std::string(result.stage ? result.stage : "spawn") + ": " + errno_text(result.error);
      }
      return out;
    }
    if (result.pidfd >= 0) close(result.pidfd);  // we reap every child: pids stay ours
    out.pid = result.pid;
    run->env = std::move(env);
    watch_events(*run, name);

    std::string probe_error;
    if (spec.ready.type == ReadyType::Socket) {
      if (!run->readiness->start_socket_probe(spec.ready.socket, spec.ready.interval,
                                              probe_error)) {
        note(name, "readiness socket " + spec.ready.socket + ": " + probe_error);
      }
    } else if (spec.ready.type == ReadyType::Exec) {
      run->check_spec = spec;
      run->check_spec.exec = spec.ready.check;
      run->check_spec.args_file.clear();
      run->check_spec.isolation = IsolationSpec{};  // a plain process in the service's cgroup
      run->check_spec.ready = ReadySpec{};
      run->readiness->start_exec_probe([this, name] { return spawn_check(name); },
                                       spec.ready.interval);
    }
    return out;
  } catch (...) {
    out.pid = -1;
    out.error = "out of memory";
    return out;
  }
}

pid_t RealEffects::spawn_check(const std::string& name) noexcept {
  auto it = runs_.find(name);
  if (it == runs_.end()) return -1;
  Run& run = *it->second;
  try {
    SpawnRequest request;
    request.spec = &run.check_spec;
    request.argv = run.check_spec.exec;
    request.env = run.env;
    request.cgroup_fd = run.cgroup.is_open() ? run.cgroup.dir_fd() : -1;
    request.etc_dir = options_.etc_dir.c_str();
    SpawnResult result = spawn_service(request);
    if (!result.ok()) return -1;
    if (result.pidfd >= 0) close(result.pidfd);
    return result.pid;
  } catch (...) {
    return -1;
  }
}

bool RealEffects::on_child_exit(pid_t pid, int wait_status) noexcept {
  for (auto& [name, run] : runs_) {
    if (run->readiness && run->readiness->on_child_exit(pid, wait_status)) return true;
  }
  return false;
}

void RealEffects::watch_events(Run& run, const std::string& name) noexcept {
  if (!run.cgroup.is_open()) return;
  int fd = open(run.cgroup.events_path().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  run.events_fd = fd;
  bool ok = false;
  try {
    std::string service = name;
    ok = loop_.watch(fd, EPOLLPRI, [this, service, fd](uint32_t) {
      // cgroup.events signals a change with EPOLLPRI; re-reading from 0 re-arms it.
      char buf[128];
      ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
      if (n <= 0) return;
      buf[n] = '\0';
      if (std::strstr(buf, "populated 0") != nullptr && engine_) engine_->on_cgroup_empty(service);
    });
  } catch (...) {
  }
  if (!ok) {
    close(fd);
    run.events_fd = -1;
  }
}

void RealEffects::unwatch_events(Run& run) noexcept {
  if (run.events_fd < 0) return;
  loop_.unwatch(run.events_fd);
  close(run.events_fd);
  run.events_fd = -1;
}

void RealEffects::retire(std::unique_ptr<Readiness> readiness) noexcept {
  // Never destroyed right away: we may be inside one of its callbacks.
  readiness->close();
  try {
    retired_.push_back(std::move(readiness));
  } catch (...) {
    return;  // unique_ptr destroyed here; only reached on allocation failure
  }
  if (retire_timer_ == 0) {
    retire_timer_ = loop_.add_timer(std::chrono::milliseconds(0), [this] {
      retire_timer_ = 0;
      retired_.clear();
    });
  }
}

void RealEffects::end_readiness(const std::string& name) noexcept {
  auto it = runs_.find(name);
  if (it != runs_.end() && it->second->readiness) it->second->readiness->close();
}

void RealEffects::release(const std::string& name) noexcept {
  auto it = runs_.find(name);
  if (it == runs_.end()) return;
  unwatch_events(*it->second);
  if (it->second->readiness) retire(std::move(it->second->readiness));
}

void RealEffects::signal_service(const std::string& name, pid_t main_pid, int signal) noexcept {
  const pid_t self = getpid();
  auto safe_kill = [self](pid_t pid, int sig) {
    if (pid > 1 && pid != self) kill(pid, sig);  // never 0/-1 (process groups, everyone)
  };
  auto it = runs_.find(name);
  Run* run = it == runs_.end() ? nullptr : it->second.get();
  if (signal == SIGKILL) {
    if (run && run->cgroup.is_open()) run->cgroup.kill_all();
    safe_kill(main_pid, SIGKILL);
    return;
  }
  safe_kill(main_pid, signal);
  if (!run || !run->cgroup.is_open()) return;
  // The stop signal goes to every process of the service (the main one got it first).
  std::vector<pid_t> pids;
  if (run->cgroup.read_pids(pids) != 0) return;
  for (pid_t pid : pids) {
    if (pid != main_pid) safe_kill(pid, signal);
  }
}

bool RealEffects::populated(const std::string& name) noexcept {
  auto it = runs_.find(name);
  if (it == runs_.end() || !it->second->cgroup.is_open()) return false;
  bool value = false;
  if (it->second->cgroup.read_populated(value) != 0) return false;
  return value;
}

uint64_t RealEffects::oom_kills(const std::string& name) noexcept {
  Run* run = run_for(name);
  if (!run) return 0;
  std::string ignored;
  // Opened here too so the baseline read before the first start counts an existing
  // cgroup's old kills (a leftover from an earlier cairn-init).
  if (!ensure_cgroup(*run, name, ignored) || !run->cgroup.is_open()) return 0;
  uint64_t count = 0;
  return run->cgroup.read_oom_kills(count) == 0 ? count : 0;
}

uint64_t RealEffects::memory_current(const std::string& name) noexcept {
  auto it = runs_.find(name);
  if (it == runs_.end() || !it->second->cgroup.is_open()) return 0;
  uint64_t bytes = 0;
  return it->second->cgroup.read_memory_current(bytes) == 0 ? bytes : 0;
}

void RealEffects::console(const std::string& line) noexcept {
  if (options_.console) {
    options_.console(line);
  } else {
    logs_.system(line);
  }
}

void RealEffects::note(const std::string& service, const std::string& line) noexcept {
  try {
    logs_.system(service + ": " + line);
  } catch (...) {
  }
}

}  // namespace cairn::init
