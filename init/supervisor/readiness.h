// How a running service tells PID 1 it is ready (docs/supervisor.md "Readiness"): one
// Readiness object per service run, owning whichever channel its `[ready] type` needs:
//   notify  a unix datagram socket (sd_notify protocol, SO_PASSCRED); only processes of the
//           service's own cgroup are listened to;
//   fd      a pipe whose write end the service gets as fd N; a newline means ready;
//   socket  a connect probe (unix:/path, tcp:host:port) every interval;
//   exec    a check command every interval (spawned by the caller), exit 0 = ready.
// Everything is non-blocking on the event loop; close() (or the destructor) releases it all.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "init/config/service_spec.h"
#include "init/loop/event_loop.h"

namespace cairn::init {

// One sd_notify datagram: newline-separated KEY=VALUE assignments.
struct NotifyMessage {
  bool ready = false;                 // READY=1
  bool stopping = false;              // STOPPING=1
  std::optional<std::string> status;  // STATUS=...
  pid_t main_pid = 0;                 // MAINPID=n (0 = absent or not a valid pid)
};
NotifyMessage parse_notify_message(std::string_view datagram);

// `[ready] socket` targets: "unix:/path", "tcp:127.0.0.1:6443", "tcp:[::1]:6443",
// "tcp:localhost:6443" (numeric addresses only otherwise: PID 1 never waits on DNS).
struct SocketTarget {
  sockaddr_storage address{};
  socklen_t length = 0;
};
bool parse_socket_target(std::string_view text, SocketTarget& out, std::string& error);

// Whether /proc/<pid>/cgroup puts `pid` in the cgroup `cgroup_path` (as that file shows paths:
// relative to the cgroup2 mount, e.g. "/cairn/containerd") or below it.
bool pid_in_cgroup(pid_t pid, const std::string& cgroup_path) noexcept;
bool cgroup_line_matches(std::string_view proc_cgroup_text, const std::string& cgroup_path);

class Readiness {
 public:
  struct Callbacks {
    std::function<void()> ready;
    std::function<void()> stopping;
    std::function<void(const std::string&)> status;
    std::function<void(pid_t)> main_pid;
  };

  Readiness(EventLoop& loop, Callbacks callbacks);
  ~Readiness();
  Readiness(const Readiness&) = delete;
  Readiness& operator=(const Readiness&) = delete;

  // notify: binds `socket_path` (replacing a stale one). `cgroup_path` ("" = accept any
  // sender: no cgroup available) limits who may speak for the service.
  bool open_notify(const std::string& socket_path, const std::string& cgroup_path,
                   std::string& error) noexcept;
  // fd: returns the pipe's write end (O_CLOEXEC; the spawner dup2()s it) or -1.
  int open_pipe(std::string& error) noexcept;
  // After the spawn: drop PID 1's copy of the pipe's write end (EOF then means the service
  // closed it).
  void spawned() noexcept;
  // socket: probes every `interval`, the first one at once.
  bool start_socket_probe(const std::string& target, Duration interval,
                          std::string& error) noexcept;
  // exec: calls `spawn_check` every `interval` (the first at once) unless the previous check
  // is still running, which is then killed. `spawn_check` returns the check's pid or -1.
  void start_exec_probe(std::function<pid_t()> spawn_check, Duration interval) noexcept;
  // A reaped child: true if it was this service's exec check.
  bool on_child_exit(pid_t pid, int wait_status) noexcept;

  void close() noexcept;
  bool reported_ready() const noexcept { return reported_; }

 private:
  void on_notify() noexcept;
  void on_pipe() noexcept;
  void probe_socket() noexcept;
  void on_connect_result() noexcept;
  void run_check() noexcept;
  void report_ready() noexcept;
  void close_probe_socket() noexcept;

  EventLoop& loop_;
  Callbacks callbacks_;
  bool reported_ = false;

  int notify_fd_ = -1;
  std::string notify_path_;
  std::string cgroup_path_;

  int pipe_read_ = -1;
  int pipe_write_ = -1;

  SocketTarget target_{};
  Duration interval_{200};
  int probe_fd_ = -1;
  EventLoop::TimerId timer_ = 0;

  std::function<pid_t()> spawn_check_;
  pid_t check_pid_ = -1;
};

}  // namespace cairn::init
