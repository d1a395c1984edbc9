// What the supervisor reports about a service: the `cairnctl status` row and the
// `cairnctl timeline` entry. Plain data, shared by the supervisor and the control server.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace cairn::init {

// The states of docs/supervisor.md's state x event table.
enum class ServiceState {
  Invalid,   // its file did not parse or validate; never started
  Stopped,   // not running, not wanted (or not yet started)
  Waiting,   // wanted; waiting for its `requires`/`after` to be ready
  Starting,  // process spawned, readiness not yet reported
  Ready,     // running and ready
  Stopping,  // stop signal sent, waiting for the cgroup to empty
  Backoff,   // exited; a restart is scheduled
  Exited,    // exited and not to be restarted (policy never / on-failure after success)
  Failed,    // start limit hit, readiness timeout or spawn failure: needs an operator
};

const char* to_string(ServiceState state) noexcept;

struct ServiceStatus {
  std::string name;
  std::string description;
  ServiceState state = ServiceState::Stopped;
  pid_t pid = 0;
  int restarts = 0;                  // automatic restarts since boot
  int last_exit_status = 0;          // wait status of the last exit
  bool oom_killed = false;           // memory.events oom_kill grew during the last run
  std::string error;                 // why it is invalid/failed, human readable
  std::vector<std::string> members;  // for groups
  uint64_t memory_current = 0;       // bytes, from its cgroup
  std::string group;                 // the group this service is a member of, or ""
  std::string status_text;           // the last sd_notify STATUS= of the service
  int64_t since_ms = 0;              // when it entered `state` (same clock as the timeline)
  bool wanted = false;               // the supervisor is trying to keep it up
};

// Times are milliseconds on the supervisor's clock: since boot when cairn-init is PID 1
// (CLOCK_MONOTONIC), since cairn-init started otherwise; -1 = never. `started_ms` and
// `ready_ms` are the first start and first readiness of this boot (what boot blame needs);
// `failed_ms` and `stopped_ms` are the latest.
struct TimelineEntry {
  std::string name;
  int64_t started_ms = -1;
  int64_t ready_ms = -1;
  int64_t failed_ms = -1;
  int64_t stopped_ms = -1;
};

}  // namespace cairn::init
