// bench-orphans N RESULT_FILE [--stay]: leaves N orphans behind for PID 1 to reap and measures
// how long PID 1 takes, the same way under every PID 1 (cairn-init, tini, s6-svscan).
//
// For each orphan: double fork. The middle child forks the grandchild and exits at once (we
// reap it, without waiting for each one, so a loaded machine does not turn every fork into a
// wait for the scheduler), the grandchild waits until it has been reparented (getppid()
// changes: it is now an orphan), reports its pid on a pipe and exits, so it becomes a zombie
// of PID 1.
//   exited: all N orphans have exited (EOF on the pipe: every write end is closed);
//   reaped: none of them is a zombie any more. kill(pid, 0) succeeds on a zombie and fails
//           with ESRCH once its parent reaped it (pids are not reused this soon: the namespace
//           allocates upwards).
// Writes "forked_ms exited_ms reaped_ms" (milliseconds since start) to RESULT_FILE, then exits,
// or with --stay sleeps until a signal (so a supervisor that restarts services does not run
// it again).
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

double now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

void sleep_us(long us) {
  timespec ts{us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench-orphans N RESULT_FILE [--stay]\n");
    return 2;
  }
  const long n = std::strtol(argv[1], nullptr, 10);
  const char* result = argv[2];
  const bool stay = argc > 3 && std::strcmp(argv[3], "--stay") == 0;
  if (n <= 0 || n > 1000000) {
    std::fprintf(stderr, "bench-orphans: N must be 1..1000000\n");
    return 2;
  }
  // The pipe holds 4 bytes per orphan; make room for all of them so no grandchild blocks
  // while we are still forking.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return 1;
  fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(n * sizeof(pid_t) + 4096));

  const double start = now_ms();
  long middles = 0;
  for (long i = 0; i < n; ++i) {
    pid_t middle = fork();
    if (middle < 0) {
      // Out of processes for a moment: collect middle children and retry.
      if (waitpid(-1, nullptr, 0) > 0) --middles;
      --i;
      continue;
    }
    if (middle == 0) {
      // The grandchild learns that its parent is gone from EOF on a pipe only the middle
      // child writes to (the middle's files close before the kernel reparents its children,
      // hence the getppid() loop after it).
      int gone[2];
      if (pipe(gone) != 0) _exit(1);
      pid_t me = getpid();
      pid_t grandchild = fork();
      if (grandchild == 0) {
        close(gone[1]);
        char byte;
        while (read(gone[0], &byte, 1) < 0 && errno == EINTR) {
        }
        while (getppid() == me) sched_yield();
        pid_t self = getpid();
        if (write(fds[1], &self, sizeof self) != sizeof self) _exit(1);
        _exit(0);
      }
      _exit(grandchild < 0 ? 1 : 0);
    }
    ++middles;
    while (middles > 0 && waitpid(-1, nullptr, WNOHANG) > 0) --middles;
  }
  while (middles > 0) {
    if (waitpid(-1, nullptr, 0) > 0) {
      --middles;
    } else if (errno != EINTR) {
      break;
    }
  }
  const double forked = now_ms();
  close(fds[1]);

  std::vector<pid_t> pending;
  pending.reserve(static_cast<size_t>(n));
  pid_t pid;
  for (;;) {
    ssize_t got = read(fds[0], &pid, sizeof pid);
    if (got == sizeof pid) {
      pending.push_back(pid);
    } else if (got == 0) {
      break;
    } else if (got < 0 && errno != EINTR) {
      break;
    }
  }
  const double exited = now_ms();

  while (!pending.empty()) {
    std::vector<pid_t> still;
    for (pid_t p : pending) {
      if (kill(p, 0) == 0 || errno != ESRCH) still.push_back(p);
    }
    pending.swap(still);
    if (!pending.empty()) sleep_us(200);
  }
  const double reaped = now_ms();

  char line[128];
  int len = std::snprintf(line, sizeof line, "%.1f %.1f %.1f\n", forked - start, exited - start,
                          reaped - start);
  int out = open(result, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0 || write(out, line, static_cast<size_t>(len)) != len) return 1;
  close(out);
  if (stay) {
    for (;;) pause();
  }
  return 0;
}
