// The in-memory form of one service file (services/*.toml). The parser (config/) fills it; the
// supervisor and the spawner only read it. Defaults here are the documented defaults.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cairn::init {

using Duration = std::chrono::milliseconds;

enum class ReadyType { None, Notify, Fd, Socket, Exec };

struct ReadySpec {
  ReadyType type = ReadyType::None;
  Duration timeout{30'000};
  int fd = 3;                      // `fd`: the descriptor number the service writes "\n" to
  std::string socket;              // `socket`: "unix:/path" or "tcp:host:port" to connect to
  std::vector<std::string> check;  // `exec`: a command whose exit 0 means ready
  Duration interval{200};          // `socket`/`exec`: time between probes
};

enum class RestartPolicy { Always, OnFailure, Never };

struct RestartSpec {
  RestartPolicy policy = RestartPolicy::OnFailure;
  Duration delay{100};         // first backoff; doubles each consecutive failure
  Duration max_delay{30'000};  // backoff cap
  int burst = 5;               // start limit: at most `burst` restarts ...
  Duration interval{60'000};   // ... within `interval`, else the service is `failed`
};

struct StopSpec {
  int signal = SIGTERM;
  Duration timeout{10'000};  // then SIGKILL to the whole cgroup
};

struct CpuMax {
  uint64_t quota_us = 0;  // 0 means "max"
  uint64_t period_us = 100'000;
};

struct ResourceSpec {
  std::optional<uint64_t> memory_max;   // bytes; nullopt = unlimited
  std::optional<uint64_t> memory_high;  // bytes
  std::optional<uint32_t> cpu_weight;   // 1..10000
  std::optional<CpuMax> cpu_max;
  std::optional<uint64_t> pids_max;
  std::optional<uint32_t> io_weight;  // 1..10000
};

struct RlimitSpec {
  int resource = 0;  // RLIMIT_*
  rlim_t soft = 0;
  rlim_t hard = 0;
};

enum class Namespace { Mount, Pid, Ipc, Uts, Net, Cgroup };

struct IsolationSpec {
  std::vector<Namespace> namespaces;
  bool no_new_privileges = false;
  // nullopt: keep the full bounding set (a root daemon such as containerd needs it).
  std::optional<std::vector<int>> capabilities;  // CAP_* kept in the bounding set
  std::vector<int> ambient_capabilities;         // CAP_* raised to ambient (non-root services)
  std::string seccomp;                           // "" = none, "default" = the default profile
  std::vector<std::string> seccomp_allow;        // syscall names allowed on top of the profile
  std::vector<std::string> seccomp_deny;         // syscall names denied (EPERM) on top
  std::vector<std::string> read_only_paths;      // bind-remounted read-only (needs mount ns)
  std::vector<std::string> private_paths;        // empty tmpfs mounted over (needs mount ns)
  std::vector<RlimitSpec> rlimits;
  std::string hostname;  // set when the uts namespace is new
};

struct LogSpec {
  uint64_t max_file_bytes = 1 << 20;  // rotate the per-service file at this size
  int max_files = 3;                  // keep NAME.log, NAME.log.1 .. NAME.log.(max_files-1)
  uint64_t ring_bytes = 64 << 10;     // in-memory tail kept by PID 1 for `cairnctl logs`
};

struct ServiceSpec {
  std::string name;  // file name without .toml
  std::string file;  // path it was read from, for diagnostics
  std::string description;
  std::vector<std::string> exec;  // argv; exec[0] absolute
  std::string args_file;          // operator flags, one per line, appended to exec
  std::vector<std::pair<std::string, std::string>> environment;
  std::string user;   // name or numeric uid; "" = root
  std::string group;  // name or numeric gid; "" = the user's primary group
  std::string working_directory;
  // `requires` in the file (a C++20 keyword, hence the name): hard dependencies, started and
  // ready first; this service stops with them.
  std::vector<std::string> required;
  std::vector<std::string> after;    // ordering only
  std::vector<std::string> members;  // non-empty: a group; members start in this order
  bool enabled = true;               // started at boot
  ReadySpec ready;
  RestartSpec restart;
  StopSpec stop;
  ResourceSpec resources;
  IsolationSpec isolation;
  LogSpec log;

  bool is_group() const { return !members.empty(); }
};

}  // namespace cairn::init
