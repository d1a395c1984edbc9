#include "init/system/system_calls.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cairn::init::system {
namespace {

constexpr size_t kMaxReadBytes = 4 << 20;

class RealSystemCalls final : public SystemCalls {
 public:
  pid_t getpid() noexcept override { return ::getpid(); }

  int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
            const char* data) noexcept override {
    return ::mount(source, target, fstype, flags, data) == 0 ? 0 : errno;
  }

  int umount(const char* target, int flags) noexcept override {
    return ::umount2(target, flags) == 0 ? 0 : errno;
  }

  int make_dirs(const std::string& path, mode_t mode) noexcept override {
    if (path.empty()) return EINVAL;
    std::string partial;
    partial.reserve(path.size());
    size_t pos = 0;
    while (pos <= path.size()) {
      size_t slash = path.find('/', pos);
      if (slash == std::string::npos) slash = path.size();
      partial.assign(path, 0, slash);
      pos = slash + 1;
      if (partial.empty()) continue;  // leading '/'
      if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) return errno;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  }

  int replace_file(const std::string& path, std::string_view data, mode_t mode) noexcept override {
    std::string temporary;
    try {
      temporary = path + ".cairn-new";
    } catch (...) {
      return ENOMEM;
    }
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return errno;
    int result = 0;
    size_t done = 0;
    while (done < data.size() && result == 0) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        result = n < 0 ? errno : EIO;
      else
        done += static_cast<size_t>(n);
    }
    if (result == 0 && ::fchmod(fd, mode) != 0) result = errno;
    if (result == 0 && ::fsync(fd) != 0) result = errno;
    if (::close(fd) != 0 && result == 0) result = errno;
    if (result == 0 && ::rename(temporary.c_str(), path.c_str()) != 0) result = errno;
    if (result != 0) ::unlink(temporary.c_str());
    return result;
  }

  int remove_file(const std::string& path) noexcept override {
    return ::unlink(path.c_str()) == 0 || errno == ENOENT ? 0 : errno;
  }

  int sethostname(std::string_view name) noexcept override {
    return ::sethostname(name.data(), name.size()) == 0 ? 0 : errno;
  }

  int read_file(const std::string& path, std::string& out) noexcept override {
    out.clear();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return errno;
    char buf[8192];
    int result = 0;
    while (out.size() < kMaxReadBytes) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        result = errno;
        break;
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return result;
  }

  int write_file(const std::string& path, std::string_view data) noexcept override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return errno;
    ssize_t n;
    do {
      n = ::write(fd, data.data(), data.size());
    } while (n < 0 && errno == EINTR);
    int result = n < 0 ? errno : (static_cast<size_t>(n) == data.size() ? 0 : EIO);
    ::close(fd);
    return result;
  }

  int list_dir(const std::string& path, std::vector<std::string>& names) noexcept override {
    names.clear();
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return errno;
    while (dirent* entry = ::readdir(dir)) {
      if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
      names.emplace_back(entry->d_name);
    }
    ::closedir(dir);
    return 0;
  }

  int kill(pid_t pid, int signal) noexcept override { return ::kill(pid, signal) == 0 ? 0 : errno; }

  pid_t waitpid(pid_t pid, int* wait_status, int flags) noexcept override {
    pid_t r;
    do {
      r = ::waitpid(pid, wait_status, flags);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
  }

  void wait_for_child_event(std::chrono::milliseconds timeout) noexcept override {
    // SIGCHLD is normally blocked already (PID 1 reads it from a signalfd); block it here too
    // so sigtimedwait can see it, and leave the mask as it was.
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, &old);
    if (timeout.count() < 0) timeout = std::chrono::milliseconds(0);
    timespec ts{static_cast<time_t>(timeout.count() / 1000),
                static_cast<long>((timeout.count() % 1000) * 1'000'000)};
    siginfo_t info;
    ::sigtimedwait(&chld, &info, &ts);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }

  bool sync_with_timeout(std::chrono::milliseconds timeout) noexcept override {
    pid_t child = ::fork();
    if (child < 0) {
      ::sync();  // no child possible: sync ourselves and accept the risk
      return true;
    }
    if (child == 0) {
      ::sync();
      ::_exit(0);
    }
    auto deadline = now() + timeout;
    while (true) {
      int status = 0;
      pid_t r = waitpid(child, &status, WNOHANG);
      if (r == child || r < 0) return true;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now());
      if (left.count() <= 0) return false;
      wait_for_child_event(std::min(left, std::chrono::milliseconds(100)));
    }
  }

  int reboot_in_child(int cmd) noexcept override {
    pid_t child = ::fork();
    if (child < 0) return errno;
    if (child == 0) {
      // Only async-signal-safe calls after fork.
      if (::reboot(cmd) != 0) ::_exit(errno & 0xff);
      ::_exit(0);
    }
    int status = 0;
    if (waitpid(child, &status, 0) < 0) return ECHILD;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return EINTR;
  }

  int set_ctrl_alt_del(bool kernel_reboots) noexcept override {
    return ::reboot(kernel_reboots ? RB_ENABLE_CAD : RB_DISABLE_CAD) == 0 ? 0 : errno;
  }

  Clock::time_point now() noexcept override { return Clock::now(); }
};

}  // namespace

SystemCalls& real_system_calls() noexcept {
  static RealSystemCalls instance;
  return instance;
}

}  // namespace cairn::init::system
