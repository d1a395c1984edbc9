#include "init/stage1/stage1_log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

namespace cairn::init::stage1 {
namespace {

int kmsg_fd = -1;

void write_all(int fd, const std::string& s) noexcept {
  size_t done = 0;
  while (fd >= 0 && done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

void emit(const char* level, const std::string& message) noexcept {
  try {
    write_all(2, std::string("cairn-stage1: ") + level + message + "\n");
  } catch (...) {
  }
}

}  // namespace

void log_open_kmsg() noexcept {
  if (kmsg_fd < 0) kmsg_fd = ::open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NONBLOCK);
}

void log_info(const std::string& message) noexcept {
  emit("", message);
}
void log_warning(const std::string& message) noexcept {
  emit("warning: ", message);
}

void log_error(const std::string& message) noexcept {
  emit("", message);
  try {
    write_all(kmsg_fd, "<3>cairn-stage1: " + message.substr(0, 900) + "\n");
  } catch (...) {
  }
}

long long uptime_ms() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace cairn::init::stage1
