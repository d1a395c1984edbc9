// Runs the real cairn-init for integration tests: as PID 1 of `unshare --pid --mount --fork`
// (or, for development mode, as a plain child), in a private cgroup subtree, against a copy
// of a fixture service directory (init/tests/fixtures/<set>/, with @SERVICE@, @DIR@ and
// @PORT@ replaced). Its console output goes to <dir>/console; fixture services append their
// events to <dir>/record. The destructor kills whatever is left (cgroup.kill) and removes
// the cgroups and the directory. Every wait polls with a generous deadline: these tests must
// pass on a loaded 2-core machine.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace cairn::init::testing {

struct Event {
  long long ms = 0;  // CLOCK_MONOTONIC
  std::string service;
  std::string what;  // "start", "ready", "stop", "exit 1", "orphans 1000", ...
  pid_t pid = 0;
};

class InitUnderTest {
 public:
  enum class Mode { Pid1, Dev };

  InitUnderTest(const std::string& fixture_set, Mode mode = Mode::Pid1);
  ~InitUnderTest();
  InitUnderTest(const InitUnderTest&) = delete;
  InitUnderTest& operator=(const InitUnderTest&) = delete;

  // Starts cairn-init; false (with a gtest failure) if it cannot.
  bool start(const std::vector<std::string>& extra_args = {});

  const std::string& dir() const { return dir_; }
  const std::string& cgroup() const { return cgroup_; }  // the private subtree
  // The host pid of cairn-init (PID 1 inside its namespace, or the dev process).
  pid_t init_pid() const { return init_pid_; }
  int port() const { return port_; }

  std::string console() const;
  std::vector<Event> events() const;
  std::vector<Event> events_of(const std::string& service, const std::string& what) const;
  // First event's time, or -1.
  long long first(const std::string& service, const std::string& what) const;
  size_t count(const std::string& service, const std::string& what) const;

  bool wait_for(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  bool wait_console(const std::string& needle,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  bool wait_event(const std::string& service, const std::string& what, size_t times = 1,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  void signal(int signo) const;
  // Waits for the launcher (unshare, or cairn-init itself in Dev mode) to end; its wait
  // status, or -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  bool running() const;

  // Host pids of the processes in a service's cgroup (<cgroup>/cairn/<service>). The pids
  // in the record file are namespace pids: never kill those from the test.
  std::vector<pid_t> service_pids(const std::string& service) const;

  // Direct children of cairn-init (host pids) and how many of them are zombies.
  std::vector<pid_t> init_children() const;
  int zombie_children() const;

 private:
  std::string fixture_set_;
  Mode mode_;
  std::string dir_, cgroup_;
  pid_t launcher_ = -1;
  pid_t init_pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
};

// Reads a whole file ("" if missing).
std::string read_text(const std::string& path);
// The cgroup2 mount point ("" if none).
std::string cgroup2_mount();
// Whether the private subtrees can use `controller` (cpu, memory, pids, io).
bool controller_available(const std::string& controller);

}  // namespace cairn::init::testing
