// cairn-test-service: the fixture program the integration tests (and scripts/run-dev.sh) run
// as services. It executes its arguments as a script of actions, recording what it does to a
// file shared by all fixtures so a test can check ordering across services:
//   <CLOCK_MONOTONIC ms> <name> <event> [detail]      (one line per event, O_APPEND)
//
// Readiness actions record "ready" just before they signal it (a dependent may start at
// once), and "ready-failed" if signalling fails.
//
// usage: cairn-test-service [--name N] [--record FILE] [--term exit|ignore|slow:MS] ACTION...
//   sleep MS            wait
//   notify-ready        sd_notify READY=1 to $NOTIFY_SOCKET (records "ready")
//   notify-status TEXT  sd_notify STATUS=TEXT
//   notify-mainpid      sd_notify MAINPID=<own pid>
//   fd-ready N          write "\n" to fd N, close it (records "ready")
//   listen-unix PATH    listen on a unix socket (records "ready")
//   listen-tcp PORT     listen on 127.0.0.1:PORT (records "ready")
//   touch PATH          create PATH (records "ready"; for exec readiness checks)
//   exit CODE           exit now with CODE (records "exit CODE")
//   orphans N           make N orphans (double fork) that exit after ~50 ms; records
//                       "orphans N" once all are detached
//   inspect FILE        write namespaces, seccomp/no_new_privs, hostname, argv, $GREETING,
//                       $PATH and the open fds to FILE
//   alloc MIB           touch MIB MiB of memory (records "alloc-done" if it survives)
//   signal-pid1 N       send a storm of N rounds of harmless signals to PID 1
//   stubborn-child      fork a child that ignores SIGTERM and sleeps (a cgroup leftover)
//   forever             sleep until a signal (the default at the end of the script)
// SIGTERM (and SIGINT): records "stop", then per --term: exit 0 (default), ignore it, or
// sleep MS first.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::string g_name = "service";
std::string g_record;
std::string g_term = "exit";
std::vector<int> g_listeners;
std::vector<std::string> g_argv;

long long now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Async-signal-safe enough for our use: one write(2) of a preformatted line.
void record(const std::string& event) {
  if (g_record.empty()) return;
  char line[512];
  int n = std::snprintf(line, sizeof line, "%lld %s %s %d\n", now_ms(), g_name.c_str(),
                        event.c_str(), static_cast<int>(getpid()));
  int fd = open(g_record.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, line, static_cast<size_t>(n)) < 0) {
  }
  close(fd);
}

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void on_term(int) {
  record("stop");
  if (g_term == "ignore") return;
  if (g_term.rfind("slow:", 0) == 0) sleep_ms(std::atol(g_term.c_str() + 5));
  _exit(0);
}

bool notify(const std::string& text) {
  const char* path = getenv("NOTIFY_SOCKET");
  if (!path || !*path) {
    std::fprintf(stderr, "%s: no NOTIFY_SOCKET\n", g_name.c_str());
    return false;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  ssize_t n =
      sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  close(fd);
  if (n < 0) std::fprintf(stderr, "%s: notify: %s\n", g_name.c_str(), std::strerror(errno));
  return n >= 0;
}

std::string read_link(const std::string& path) {
  char buf[256];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? "?" : std::string(buf, static_cast<size_t>(n));
}

void inspect(const std::string& file) {
  std::string out;
  for (const char* ns : {"mnt", "pid", "ipc", "uts", "net", "cgroup"}) {
    out += std::string("ns ") + ns + " " + read_link(std::string("/proc/self/ns/") + ns) + "\n";
  }
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
      if (std::strncmp(line, "Seccomp:", 8) == 0 || std::strncmp(line, "NoNewPrivs:", 11) == 0 ||
          std::strncmp(line, "CapBnd:", 7) == 0 || std::strncmp(line, "Uid:", 4) == 0) {
        out += line;
      }
    }
    std::fclose(f);
  }
  char host[128] = {};
  gethostname(host, sizeof host - 1);
  out += std::string("hostname ") + host + "\n";
  out += "pid " + std::to_string(getpid()) + "\n";
  for (const std::string& a : g_argv) out += "arg " + a + "\n";
  if (const char* greeting = getenv("GREETING"))
    out += std::string("env GREETING=") + greeting + "\n";
  if (const char* path = getenv("PATH")) out += std::string("env PATH=") + path + "\n";
  // Probe a syscall the default seccomp profile denies (harmless when allowed).
  errno = 0;
  long rc = syscall(103 /* SYS_syslog on x86_64 */, 10, nullptr, 0);
  out += "syslog " + std::to_string(rc < 0 ? errno : 0) + "\n";
  if (DIR* d = opendir("/proc/self/fd")) {
    int own = dirfd(d);
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.' || std::atoi(e->d_name) == own) continue;
      out += std::string("fd ") + e->d_name + " " +
             read_link(std::string("/proc/self/fd/") + e->d_name) + "\n";
    }
    closedir(d);
  }
  std::string tmp = file + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    if (write(fd, out.data(), out.size()) < 0) {
    }
    close(fd);
    rename(tmp.c_str(), file.c_str());
  }
  record("inspected");
}

void make_orphans(int count) {
  for (int i = 0; i < count; ++i) {
    pid_t child = fork();
    if (child == 0) {
      if (fork() == 0) {
        sleep_ms(50);
        _exit(0);
      }
      _exit(0);
    }
    if (child > 0) waitpid(child, nullptr, 0);
  }
  record("orphans " + std::to_string(count));
}

int listen_on(sockaddr* addr, socklen_t len, int family) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, addr, len) != 0 || listen(fd, 16) != 0) {
    std::fprintf(stderr, "%s: listen: %s\n", g_name.c_str(), std::strerror(errno));
    return -1;
  }
  g_listeners.push_back(fd);
  return fd;
}

void signal_storm(int rounds) {
  const int signals[] = {SIGHUP,  SIGCHLD, SIGWINCH,  SIGALRM,   SIGPIPE,      SIGURG,  SIGCONT,
                         SIGTSTP, SIGTTIN, SIGTTOU,   SIGVTALRM, SIGPROF,      SIGIO,   SIGXCPU,
                         SIGXFSZ, SIGQUIT, SIGSTKFLT, SIGRTMIN,  SIGRTMIN + 5, SIGRTMAX};
  for (int r = 0; r < rounds; ++r) {
    for (int s : signals) kill(1, s);
  }
  record("storm " + std::to_string(rounds));
}

}  // namespace

int main(int argc, char** argv) {
  g_argv.assign(argv, argv + argc);
  int i = 1;
  for (; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--name") {
      g_name = argv[i + 1];
    } else if (flag == "--record") {
      g_record = argv[i + 1];
    } else if (flag == "--term") {
      g_term = argv[i + 1];
    } else {
      break;
    }
  }
  struct sigaction sa {};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  record("start");

  for (; i < argc; ++i) {
    std::string action = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: %s needs an argument\n", g_name.c_str(), action.c_str());
        std::exit(64);
      }
      return argv[++i];
    };
    if (action == "sleep") {
      sleep_ms(std::atol(next().c_str()));
    } else if (action == "notify-ready") {
      record("ready");  // before telling: PID 1 may start a dependent at once
      if (!notify("READY=1")) record("ready-failed");
    } else if (action == "notify-status") {
      notify("STATUS=" + next());
    } else if (action == "notify-mainpid") {
      notify("MAINPID=" + std::to_string(getpid()));
    } else if (action == "fd-ready") {
      int fd = std::atoi(next().c_str());
      record("ready");
      if (write(fd, "\n", 1) != 1) record("ready-failed");
      close(fd);
    } else if (action == "listen-unix") {
      std::string path = next();
      sockaddr_un un{};
      un.sun_family = AF_UNIX;
      std::strncpy(un.sun_path, path.c_str(), sizeof un.sun_path - 1);
      unlink(path.c_str());
      record("ready");
      if (listen_on(reinterpret_cast<sockaddr*>(&un), sizeof un, AF_UNIX) < 0)
        record("ready-failed");
    } else if (action == "listen-tcp") {
      sockaddr_in in{};
      in.sin_family = AF_INET;
      in.sin_port = htons(static_cast<uint16_t>(std::atoi(next().c_str())));
      in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      record("ready");
      if (listen_on(reinterpret_cast<sockaddr*>(&in), sizeof in, AF_INET) < 0)
        record("ready-failed");
    } else if (action == "touch") {
      std::string path = next();
      record("ready");
      close(open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    } else if (action == "exit") {
      int code = std::atoi(next().c_str());
      record("exit " + std::to_string(code));
      return code;
    } else if (action == "orphans") {
      make_orphans(std::atoi(next().c_str()));
    } else if (action == "inspect") {
      inspect(next());
    } else if (action == "alloc") {
      long mib = std::atol(next().c_str());
      for (long k = 0; k < mib; ++k) {
        char* block = static_cast<char*>(std::malloc(1 << 20));
        if (!block) return 3;
        std::memset(block, 0x5a, 1 << 20);
      }
      record("alloc-done");
    } else if (action == "signal-pid1") {
      signal_storm(std::atoi(next().c_str()));
    } else if (action == "stubborn-child") {
      if (fork() == 0) {
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        for (;;) pause();
      }
    } else if (action == "forever") {
      break;
    } else {
      std::fprintf(stderr, "%s: unknown action '%s'\n", g_name.c_str(), action.c_str());
      return 64;
    }
  }
  for (;;) pause();
}
