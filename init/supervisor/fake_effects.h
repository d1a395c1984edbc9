// A scripted SupervisorEffects for the engine's unit tests: a manual clock with timers, a log
// of every call ("start a", "signal a 15", ...), and per-service knobs (start fails, cgroup
// populated, OOM counter). Test-only; nothing here touches the system.
#pragma once

#include <sys/wait.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "init/supervisor/effects.h"

namespace cairn::init::testing {

class FakeEffects : public SupervisorEffects {
 public:
  int64_t now_ms() const noexcept override { return now; }

  TimerId add_timer(int64_t delay_ms, std::function<void()> callback) noexcept override {
    TimerId id = next_timer++;
    timers.push_back(Timer{now + std::max<int64_t>(delay_ms, 0), id, std::move(callback)});
    return id;
  }
  void cancel_timer(TimerId id) noexcept override {
    timers.erase(
        std::remove_if(timers.begin(), timers.end(), [&](const Timer& t) { return t.id == id; }),
        timers.end());
  }

  StartOutcome start(const ServiceSpec& spec) noexcept override {
    calls.push_back("start " + spec.name);
    StartOutcome out;
    if (fail_start.count(spec.name)) {
      out.error = "execve: No such file or directory";
      return out;
    }
    out.pid = next_pid++;
    pids[spec.name] = out.pid;
    populated_[spec.name] = true;
    return out;
  }
  void end_readiness(const std::string& name) noexcept override { ended.insert(name); }
  void release(const std::string& name) noexcept override { calls.push_back("release " + name); }
  void signal_service(const std::string& name, pid_t, int signal) noexcept override {
    calls.push_back("signal " + name + " " + std::to_string(signal));
  }
  bool populated(const std::string& name) noexcept override { return populated_[name]; }
  uint64_t oom_kills(const std::string& name) noexcept override { return ooms[name]; }
  uint64_t memory_current(const std::string&) noexcept override { return 4096; }
  void console(const std::string& line) noexcept override { console_lines.push_back(line); }
  void note(const std::string& service, const std::string& line) noexcept override {
    notes.push_back(service + ": " + line);
  }

  // Moves the clock forward, firing due timers in deadline order.
  void advance(int64_t ms) {
    int64_t target = now + ms;
    while (true) {
      auto it = std::min_element(timers.begin(), timers.end(), [](const Timer& a, const Timer& b) {
        return a.due != b.due ? a.due < b.due : a.id < b.id;
      });
      if (it == timers.end() || it->due > target) break;
      now = it->due;
      auto callback = std::move(it->callback);
      timers.erase(it);
      callback();
    }
    now = target;
  }

  // Calls matching a prefix, in order ("start ", "signal ").
  std::vector<std::string> calls_with(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& c : calls) {
      if (c.rfind(prefix, 0) == 0) out.push_back(c);
    }
    return out;
  }

  struct Timer {
    int64_t due;
    TimerId id;
    std::function<void()> callback;
  };
  int64_t now = 0;
  TimerId next_timer = 1;
  std::vector<Timer> timers;
  std::vector<std::string> calls, console_lines, notes;
  std::set<std::string> fail_start, ended;
  std::map<std::string, bool> populated_;
  std::map<std::string, uint64_t> ooms;
  std::map<std::string, pid_t> pids;
  pid_t next_pid = 1000;
};

inline int exit_code(int code) {
  return (code & 0xff) << 8;
}  // a wait status: exited `code`
inline int killed_by(int sig) {
  return sig & 0x7f;
}  // a wait status: killed by `sig`

}  // namespace cairn::init::testing
