// Shared helpers of the spawn/cgroup integration tests: run a service to completion and
// collect its output; a throw-away cgroup tree on the real cgroup2 mount.
#pragma once

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "init/exec/cgroup.h"
#include "init/exec/spawn.h"

namespace cairn::init::testing {

struct Finished {
  SpawnResult result;
  std::string output;  // stdout and stderr together
  int wait_status = -1;
  int exit_code() const { return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1; }
};

// Spawns `spec` with argv, collects output until EOF (at most ~30 s), reaps the child.
inline Finished run_service(const ServiceSpec& spec, std::vector<std::string> argv,
                            SpawnRequest request = {}) {
  Finished done;
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return done;
  request.spec = &spec;
  request.argv = std::move(argv);
  if (request.env.empty()) request.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  request.stdout_fd = out[1];
  request.stderr_fd = out[1];
  done.result = spawn_service(request);
  close(out[1]);
  if (!done.result.ok()) {
    close(out[0]);
    return done;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  char buffer[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    ssize_t n = read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    done.output.append(buffer, static_cast<size_t>(n));
  }
  close(out[0]);
  waitpid(done.result.pid, &done.wait_status, 0);
  if (done.result.pidfd >= 0) close(done.result.pidfd);
  return done;
}

// The value of "Key:\t..." in /proc/<pid>/status text.
inline std::string status_field(const std::string& status, const std::string& key) {
  size_t pos = status.find("\n" + key + ":");
  if (pos == std::string::npos) return "<missing>";
  pos += key.size() + 2;
  while (pos < status.size() && (status[pos] == '\t' || status[pos] == ' ')) ++pos;
  return status.substr(pos, status.find('\n', pos) - pos);
}

// <cgroup2 mount>/cairn-test-<pid>-<tag>: created on demand, torn down (killing what is
// left) in the destructor. `skip_reason` is set when no writable cgroup2 is available.
class ScratchCgroupRoot {
 public:
  explicit ScratchCgroupRoot(const std::string& tag) {
    std::string mount = find_cgroup2_mount();
    if (mount.empty()) {
      skip_reason = "no cgroup2 mount in /proc/self/mountinfo";
      return;
    }
    path = mount + "/cairn-test-" + std::to_string(getpid()) + "-" + tag;
    int rc = real_cgroup_fs().make_dir(path);
    if (rc != 0 && rc != EEXIST) {
      skip_reason = "cannot create " + path + ": " + std::strerror(rc);
      path.clear();
    }
  }
  ~ScratchCgroupRoot() {
    if (path.empty()) return;
    // Kill and remove everything below, deepest first.
    CgroupFs& fs = real_cgroup_fs();
    std::vector<std::string> stack{path}, order;
    while (!stack.empty()) {
      std::string dir = stack.back();
      stack.pop_back();
      order.push_back(dir);
      std::vector<std::string> children;
      if (fs.list_subdirs(dir, children) == 0) {
        for (auto& child : children) stack.push_back(dir + "/" + child);
      }
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      fs.write_file(*it + "/cgroup.kill", "1");
      for (int i = 0; i < 200 && fs.remove_dir(*it) == EBUSY; ++i) usleep(10'000);
    }
  }
  std::string path;
  std::string skip_reason;
};

// Waits (up to `seconds`) until `cgroup` reports populated == want.
inline bool wait_populated(ServiceCgroup& cgroup, bool want, int seconds = 20) {
  for (int i = 0; i < seconds * 100; ++i) {
    bool populated = !want;
    if (cgroup.read_populated(populated) == 0 && populated == want) return true;
    usleep(10'000);
  }
  return false;
}

}  // namespace cairn::init::testing
