#include "init/system/console.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cairn::init::system {
namespace {

// Plain ints so the crash handler and forked children can use them (no locks, no allocation).
int g_kmsg = -1;
int g_console = -1;
int g_redirect = -1;
bool g_redirected = false;
int g_console_loglevel = 8;  // records below this level the kernel prints on the console

// The first number of /proc/sys/kernel/printk: the console log level.
int read_console_loglevel() {
  int fd = ::open("/proc/sys/kernel/printk", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 8;
  char buf[32] = {};
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0 || buf[0] < '0' || buf[0] > '9') return 8;
  int level = 0;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i)
    level = level * 10 + buf[i] - '0';
  return level;
}

int open_device(const char* path) {
  return ::open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EAGAIN on a slow console: drop rather than block PID 1
    data += n;
    size -= static_cast<size_t>(n);
  }
}

constexpr char kPrefix[] = "cairn-init: ";
constexpr size_t kMaxMessage = 900;

}  // namespace

void console_open() noexcept {
  if (g_redirected) return;
  if (g_kmsg < 0) g_kmsg = open_device("/dev/kmsg");
  if (g_console < 0) g_console = open_device("/dev/console");
  g_console_loglevel = read_console_loglevel();
}

void console_redirect(int fd) noexcept {
  g_redirected = true;
  g_redirect = fd;
}

int console_fd() noexcept {
  return g_redirected ? g_redirect : g_console;
}
int kmsg_fd() noexcept {
  return g_redirected ? -1 : g_kmsg;
}

void console_log(std::string_view message, ConsoleLevel level) noexcept {
  int errno_saved = errno;
  size_t size = message.size() < kMaxMessage ? message.size() : kMaxMessage;
  while (size > 0 && message[size - 1] == '\n') --size;
  char buf[kMaxMessage + 32];
  // kmsg record: "<N>cairn-init: message" (one write = one record; no newline needed).
  size_t len = 0;
  buf[len++] = '<';
  buf[len++] = static_cast<char>('0' + static_cast<int>(level));
  buf[len++] = '>';
  std::memcpy(buf + len, kPrefix, sizeof kPrefix - 1);
  len += sizeof kPrefix - 1;
  std::memcpy(buf + len, message.data(), size);
  len += size;
  buf[len++] = '\n';
  // Exactly one copy on the console: written there directly (kmsg records are rate limited
  // and could be dropped); kmsg gets the record only when the kernel would not print it on
  // the console itself (so dmesg has it in a `quiet` boot, the usual case).
  int console = console_fd();
  int kmsg = kmsg_fd();
  if (kmsg >= 0 && (console < 0 || static_cast<int>(level) >= g_console_loglevel)) {
    write_all(kmsg, buf, len);
  }
  if (console >= 0) write_all(console, buf + 3, len - 3);
  errno = errno_saved;
}

}  // namespace cairn::init::system
