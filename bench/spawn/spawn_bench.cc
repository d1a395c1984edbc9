// bench-spawn [N]: starts /bin/true N times (default 1000) per variant and prints p50/p90/p99
// of the time to exec (the parent knows the exec happened) and to exit (waitpid returned).
// "cpu" is the mean CPU time per start (parent + child, from getrusage), which a loaded
// machine disturbs far less than the wall-clock percentiles.
// Variants go from plain fork+exec to cairn's full path: clone3 into a cgroup with
// mount+ipc+uts namespaces (and with the default seccomp profile). Target: p50 <= 1 ms.
// Run as root; needs a writable cgroup2 mount (a scratch cgroup is created and removed).
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "init/exec/cgroup.h"
#include "init/exec/spawn.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using cairn::init::Namespace;

struct Sample {
  double exec_us;
  double exit_us;
};

// One start: returns the pid once the child is known to have exec'ed (or -1).
using Starter = std::function<pid_t()>;

double micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

struct Variant {
  const char* name;
  Starter start;
  std::vector<double> exec_us, exit_us;
  double cpu_us = 0;  // parent + child CPU time, summed over the counted runs
};

// CPU time of this process plus its reaped children, in microseconds.
double cpu_now() {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto us = [](const timeval& t) { return t.tv_sec * 1e6 + t.tv_usec; };
  return us(self.ru_utime) + us(self.ru_stime) + us(children.ru_utime) + us(children.ru_stime);
}

// Runs every variant once per round, round after round, so a load spike on this (shared)
// machine hits all rows alike instead of whichever row happened to be running.
bool run_rounds(std::vector<Variant>& variants, int count) {
  int warmup = count / 10;
  for (int round = 0; round < count + warmup; ++round) {
    for (auto& variant : variants) {
      double cpu0 = cpu_now();
      auto t0 = Clock::now();
      pid_t pid = variant.start();
      auto t1 = Clock::now();
      if (pid <= 0) {
        std::fprintf(stderr, "%s: start failed\n", variant.name);
        return false;
      }
      int status;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      auto t2 = Clock::now();
      double cpu1 = cpu_now();
      if (round < warmup) continue;
      variant.cpu_us += cpu1 - cpu0;
      variant.exec_us.push_back(micros(t1 - t0));
      variant.exit_us.push_back(micros(t2 - t0));
    }
  }
  return true;
}

void print_row(const Variant& v) {
  std::printf("| %-46s | %7.0f | %7.0f | %7.0f | %7.0f | %7.0f | %7.0f | %7.0f |\n", v.name,
              percentile(v.exec_us, 0.5), percentile(v.exec_us, 0.9), percentile(v.exec_us, 0.99),
              percentile(v.exit_us, 0.5), percentile(v.exit_us, 0.9), percentile(v.exit_us, 0.99),
              v.exit_us.empty() ? 0.0 : v.cpu_us / static_cast<double>(v.exit_us.size()));
}

// fork + execve with a CLOEXEC pipe, so "exec" means the same as for spawn_service.
pid_t fork_exec() {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    execve(argv[0], argv, environ);
    _exit(127);
  }
  close(pipefd[1]);
  char c;
  while (read(pipefd[0], &c, 1) < 0 && errno == EINTR) {
  }
  close(pipefd[0]);
  return pid;
}

pid_t posix_spawn_true() {
  pid_t pid = -1;
  char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
  if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0) return -1;
  return pid;  // posix_spawn returns after the exec (CLONE_VFORK)
}

}  // namespace

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 1000;
  if (count < 10) count = 10;

  std::string mount = cairn::init::find_cgroup2_mount();
  std::string scratch = mount.empty() ? "" : mount + "/cairn-bench-" + std::to_string(getpid());
  if (scratch.empty() || cairn::init::real_cgroup_fs().make_dir(scratch) != 0) {
    std::fprintf(stderr, "bench-spawn: needs root and a writable cgroup2 mount\n");
    return 1;
  }
  cairn::init::CgroupTree tree(scratch);
  std::string error;
  if (tree.prepare(error) != 0) {
    std::fprintf(stderr, "bench-spawn: %s\n", error.c_str());
    return 1;
  }
  cairn::init::ServiceCgroup cgroup;
  if (cgroup.open(tree, "bench") != 0) {
    std::fprintf(stderr, "bench-spawn: cannot create the bench cgroup\n");
    return 1;
  }

  cairn::init::ServiceSpec plain;
  plain.name = "plain";
  cairn::init::ServiceSpec isolated = plain;
  isolated.isolation.namespaces = {Namespace::Mount, Namespace::Ipc, Namespace::Uts};
  cairn::init::ServiceSpec mnt_only = plain;
  mnt_only.isolation.namespaces = {Namespace::Mount};
  cairn::init::ServiceSpec seccomp = isolated;
  seccomp.isolation.seccomp = "default";
  seccomp.isolation.no_new_privileges = true;
  seccomp.isolation.capabilities = std::vector<int>{};
  cairn::init::SpawnPlan plain_plan, mnt_plan, isolated_plan, seccomp_plan;
  cairn::init::prepare_spawn_plan(mnt_only, mnt_plan);
  cairn::init::prepare_spawn_plan(plain, plain_plan);
  cairn::init::prepare_spawn_plan(isolated, isolated_plan);
  cairn::init::prepare_spawn_plan(seccomp, seccomp_plan);

  auto cairn_start = [&](const cairn::init::ServiceSpec& spec, const cairn::init::SpawnPlan& plan,
                         int cgroup_fd, bool fallback) {
    return [&spec, &plan, cgroup_fd, fallback]() -> pid_t {
      cairn::init::SpawnRequest request;
      request.spec = &spec;
      request.argv = {"/bin/true"};
      request.env = {"PATH=/usr/bin:/bin"};
      request.cgroup_fd = cgroup_fd;
      request.plan = &plan;
      request.force_fallback = fallback;
      cairn::init::SpawnResult result = cairn::init::spawn_service(request);
      if (!result.ok()) {
        std::fprintf(stderr, "spawn failed at %s: %s\n", result.stage, std::strerror(result.error));
        return -1;
      }
      if (result.pidfd >= 0) close(result.pidfd);
      return result.pid;
    };
  };

  std::printf(
      "spawn latency of /bin/true, %d runs per row (interleaved), microseconds, kernel %s\n\n",
      count, [] {
        static char release[128] = "?";
        if (FILE* f = std::fopen("/proc/sys/kernel/osrelease", "re")) {
          if (std::fgets(release, sizeof release, f)) release[std::strcspn(release, "\n")] = 0;
          std::fclose(f);
        }
        return release;
      }());
  std::vector<Variant> variants;
  variants.push_back({"fork + execve (peer baseline)", fork_exec});
  variants.push_back({"posix_spawn (glibc, CLONE_VFORK)", posix_spawn_true});
  variants.push_back(
      {"cairn: no cgroup, no namespaces", cairn_start(plain, plain_plan, -1, false)});
  variants.push_back(
      {"cairn: clone3 into cgroup", cairn_start(plain, plain_plan, cgroup.dir_fd(), false)});
  variants.push_back({"cairn: clone3 into cgroup + mnt ns",
                      cairn_start(mnt_only, mnt_plan, cgroup.dir_fd(), false)});
  variants.push_back({"cairn: clone3 into cgroup + mnt/ipc/uts ns",
                      cairn_start(isolated, isolated_plan, cgroup.dir_fd(), false)});
  variants.push_back({"cairn: ... + caps dropped, nnp, seccomp",
                      cairn_start(seccomp, seccomp_plan, cgroup.dir_fd(), false)});
  variants.push_back({"cairn: fallback clone + cgroup.procs + mnt/ipc/uts",
                      cairn_start(isolated, isolated_plan, cgroup.dir_fd(), true)});
  bool ok = run_rounds(variants, count);
  std::printf("| %-46s | %7s | %7s | %7s | %7s | %7s | %7s | %7s |\n", "variant", "exec50",
              "exec90", "exec99", "exit50", "exit90", "exit99", "cpu");
  std::printf("|%s|---------|---------|---------|---------|---------|---------|---------|\n",
              std::string(48, '-').c_str());
  for (const auto& variant : variants) print_row(variant);
  if (FILE* f = std::fopen("/proc/loadavg", "re")) {
    char load[64] = "";
    if (std::fgets(load, sizeof load, f)) std::printf("\nload average: %s", load);
    std::fclose(f);
  }

  cgroup.kill_all();
  for (int i = 0; i < 500; ++i) {
    bool populated = true;
    if (cgroup.read_populated(populated) != 0 || !populated) break;
    usleep(10'000);
  }
  cgroup.remove();
  cairn::init::real_cgroup_fs().remove_dir(tree.base());
  cairn::init::real_cgroup_fs().remove_dir(scratch);
  return ok ? 0 : 1;
}
