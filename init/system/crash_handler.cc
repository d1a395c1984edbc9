#include "init/system/crash_handler.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cairn::init::system {
namespace {

// Everything the handler touches is prepared at install time: plain globals, no allocation.
int g_message_fd = -1;
int g_console_fd = -1;
int g_kmsg_fd = -1;
CrashMode g_mode = CrashMode::Freeze;
unsigned g_reboot_delay_s = 10;
void (*g_reboot_child)(unsigned) = nullptr;
volatile sig_atomic_t g_crashed = 0;

// Big enough for the handler's small frames on every architecture (MINSIGSTKSZ is 2 KiB on
// x86_64, up to ~5 KiB with AVX-512 state on arm64 SVE machines).
constexpr size_t kAltStackSize = 64 << 10;
alignas(16) char g_alt_stack[kAltStackSize];

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};

// A tiny async-signal-safe message builder.
struct Message {
  char buf[256];
  size_t len = 0;
  void add(const char* s) {
    while (*s && len < sizeof buf) buf[len++] = *s++;
  }
  void add_uint(unsigned long value, unsigned base) {
    char digits[24];
    size_t n = 0;
    do {
      digits[n++] = "0123456789abcdef"[value % base];
      value /= base;
    } while (value != 0 && n < sizeof digits);
    while (n > 0 && len < sizeof buf) buf[len++] = digits[--n];
  }
};

void write_all(int fd, const char* data, size_t size) {
  while (fd >= 0 && size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void emit(const Message& m) {
  if (g_message_fd >= 0) {
    write_all(g_message_fd, m.buf, m.len);
    return;
  }
  write_all(g_console_fd, m.buf, m.len);
  if (g_kmsg_fd >= 0) {
    char record[sizeof m.buf + 3] = {'<', '2', '>'};  // KERN_CRIT
    std::memcpy(record + 3, m.buf, m.len);
    write_all(g_kmsg_fd, record, m.len + 3);
  }
}

const char* signal_name(int signo) {
  switch (signo) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGILL:
      return "SIGILL";
    case SIGFPE:
      return "SIGFPE";
    case SIGABRT:
      return "SIGABRT";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGSYS:
      return "SIGSYS";
    default:
      return "signal";
  }
}

void sleep_seconds(unsigned seconds) {
  timespec ts{static_cast<time_t>(seconds), 0};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void default_reboot_child(unsigned delay_s) {
  sleep_seconds(delay_s);
  ::sync();
  ::reboot(RB_AUTOBOOT);
  ::_exit(1);
}

// The end state: reap children for ever (so the process table does not fill with zombies),
// sleeping when there are none. Never returns.
[[noreturn]] void freeze() {
  while (true) {
    int status;
    pid_t r = ::waitpid(-1, &status, 0);
    if (r < 0 && errno == ECHILD) sleep_seconds(60);
  }
}

void crash_handler(int signo, siginfo_t* info, void*) {
  int saved_errno = errno;
  (void)saved_errno;
  if (g_crashed) freeze();  // a fault while reporting a fault: just stop here
  g_crashed = 1;
  Message m;
  m.add("cairn-init: FATAL: PID 1 crashed with ");
  m.add(signal_name(signo));
  m.add(" (");
  m.add_uint(static_cast<unsigned>(signo), 10);
  m.add(") at address 0x");
  m.add_uint(reinterpret_cast<unsigned long>(info ? info->si_addr : nullptr), 16);
  if (g_mode == CrashMode::Reboot) {
    m.add("; rebooting in ");
    m.add_uint(g_reboot_delay_s, 10);
    m.add(" s\n");
  } else {
    m.add(
        "; frozen: services run unsupervised until the machine is reset "
        "(cairn.crash=reboot reboots instead)\n");
  }
  emit(m);
  if (g_mode == CrashMode::Reboot) {
    pid_t child = ::fork();
    if (child == 0) {
      if (g_reboot_child) g_reboot_child(g_reboot_delay_s);
      default_reboot_child(g_reboot_delay_s);
    }
  }
  freeze();
}

}  // namespace

CrashMode crash_mode_from_cmdline(const KernelCmdline& cmdline) noexcept {
  auto value = cmdline.get("cairn.crash");
  return value && *value == "reboot" ? CrashMode::Reboot : CrashMode::Freeze;
}

bool install_crash_handler(const CrashHandlerOptions& options) noexcept {
  g_mode = options.mode;
  g_reboot_delay_s = options.reboot_delay_s;
  g_reboot_child = options.reboot_child;
  g_message_fd = options.message_fd;
  if (g_message_fd < 0) {
    if (g_console_fd < 0) {
      g_console_fd = ::open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    }
    if (g_kmsg_fd < 0) g_kmsg_fd = ::open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
  }
  stack_t stack{};
  stack.ss_sp = g_alt_stack;
  stack.ss_size = kAltStackSize;
  if (::sigaltstack(&stack, nullptr) != 0) return false;
  struct sigaction action {};
  action.sa_sigaction = crash_handler;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigfillset(&action.sa_mask);  // nothing else runs on top of the crash report
  for (int signo : kFatalSignals) {
    if (::sigaction(signo, &action, nullptr) != 0) return false;
  }
  return true;
}

}  // namespace cairn::init::system
