#include "init/supervisor/readiness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace cairn::init {

namespace {

constexpr int kMaxDatagramsPerWake = 64;  // a chatty service cannot hold the loop

bool parse_pid(std::string_view text, pid_t& out) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0 || value > (1 << 22)) {
    return false;
  }
  out = static_cast<pid_t>(value);
  return true;
}

}  // namespace

NotifyMessage parse_notify_message(std::string_view datagram) {
  NotifyMessage m;
  while (!datagram.empty()) {
    size_t nl = datagram.find('\n');
    std::string_view line = datagram.substr(0, nl);
    datagram = nl == std::string_view::npos ? std::string_view() : datagram.substr(nl + 1);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "READY") {
      m.ready = value == "1";
    } else if (key == "STOPPING") {
      m.stopping = value == "1";
    } else if (key == "STATUS") {
      m.status = std::string(value.substr(0, 512));
    } else if (key == "MAINPID") {
      pid_t pid = 0;
      if (parse_pid(value, pid)) m.main_pid = pid;
    }
    // Everything else (WATCHDOG=, RELOADING=, FDSTORE=, ...) is not supported and ignored.
  }
  return m;
}

bool parse_socket_target(std::string_view text, SocketTarget& out, std::string& error) {
  out = SocketTarget{};
  if (text.rfind("unix:", 0) == 0) {
    std::string_view path = text.substr(5);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(un.sun_path)) {
      error = "unix socket path is empty or longer than " +
              std::to_string(sizeof(un.sun_path) - 1) + " bytes";
      return false;
    }
    std::memcpy(un.sun_path, path.data(), path.size());
    if (path[0] == '@') un.sun_path[0] = '\0';  // abstract namespace
    std::memcpy(&out.address, &un, sizeof un);
    out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                        (path[0] == '@' ? 0 : 1));
    return true;
  }
  if (text.rfind("tcp:", 0) != 0) {
    error = "expected unix:/path or tcp:host:port";
    return false;
  }
  std::string_view rest = text.substr(4);
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    error = "expected tcp:host:port";
    return false;
  }
  std::string host(rest.substr(0, colon));
  std::string_view port_text = rest.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    error = "invalid port '" + std::string(port_text) + "'";
    return false;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&out.address, &v4, sizeof v4);
    out.length = sizeof v4;
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&out.address, &v6, sizeof v6);
    out.length = sizeof v6;
    return true;
  }
  error = "host '" + host + "' is not a numeric address or localhost";
  return false;
}

bool cgroup_line_matches(std::string_view text, const std::string& cgroup_path) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.rfind("0::", 0) != 0) continue;
    std::string_view path = line.substr(3);
    if (path == cgroup_path) return true;
    return path.size() > cgroup_path.size() && path.rfind(cgroup_path, 0) == 0 &&
           (cgroup_path == "/" || path[cgroup_path.size()] == '/');
  }
  return false;
}

bool pid_in_cgroup(pid_t pid, const std::string& cgroup_path) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/cgroup", static_cast<int>(pid));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return false;
  try {
    return cgroup_line_matches(std::string_view(buf, static_cast<size_t>(n)), cgroup_path);
  } catch (...) {
    return false;
  }
}

Readiness::Readiness(EventLoop& loop, Callbacks callbacks)
    : loop_(loop), callbacks_(std::move(callbacks)) {}

Readiness::~Readiness() {
  close();
}

bool Readiness::open_notify(const std::string& socket_path, const std::string& cgroup_path,
                            std::string& error) noexcept {
  try {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path) {
      error = "notify socket path too long: " + socket_path;
      return false;
    }
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      error = std::string("notify socket: ") + strerror(errno);
      return false;
    }
    unlink(socket_path.c_str());
    int one = 1;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0) {
      error = "notify socket " + socket_path + ": " + strerror(errno);
      ::close(fd);
      return false;
    }
    // Any user may send (a service may drop privileges); who is listened to is decided by
    // the sender's cgroup, checked per message.
    chmod(socket_path.c_str(), 0666);
    notify_fd_ = fd;
    notify_path_ = socket_path;
    cgroup_path_ = cgroup_path;
    if (!loop_.watch(fd, EPOLLIN, [this](uint32_t) { on_notify(); })) {
      error = "notify socket: cannot watch";
      close();
      return false;
    }
    return true;
  } catch (...) {
    error = "out of memory";
    return false;
  }
}

void Readiness::on_notify() noexcept {
  for (int i = 0; i < kMaxDatagramsPerWake && notify_fd_ >= 0; ++i) {
    char data[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * 32)];
    iovec iov{data, sizeof data - 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(notify_fd_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) return;
    const ucred* cred = nullptr;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
        cred = reinterpret_cast<const ucred*>(CMSG_DATA(c));
      } else if (c->cmsg_type == SCM_RIGHTS) {
        // FDSTORE is not supported: never keep (leak) descriptors a service sends us.
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t k = 0; k < count; ++k) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
          ::close(fd);
        }
      }
    }
    if (!cred || cred->pid <= 0) continue;
    if (!cgroup_path_.empty() && !pid_in_cgroup(cred->pid, cgroup_path_)) continue;
    NotifyMessage m;
    try {
      m = parse_notify_message(std::string_view(data, static_cast<size_t>(n)));
      if (m.status && callbacks_.status) callbacks_.status(*m.status);
    } catch (...) {
      continue;
    }
    if (m.main_pid > 0 && (cgroup_path_.empty() || pid_in_cgroup(m.main_pid, cgroup_path_))) {
      if (callbacks_.main_pid) callbacks_.main_pid(m.main_pid);
    }
    if (m.ready) report_ready();
    if (m.stopping && callbacks_.stopping) callbacks_.stopping();
  }
}

int Readiness::open_pipe(std::string& error) noexcept {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    error = std::string("readiness pipe: ") + strerror(errno);
    return -1;
  }
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  pipe_read_ = fds[0];
  pipe_write_ = fds[1];
  if (!loop_.watch(pipe_read_, EPOLLIN, [this](uint32_t) { on_pipe(); })) {
    error = "readiness pipe: cannot watch";
    close();
    return -1;
  }
  return pipe_write_;
}

void Readiness::spawned() noexcept {
  if (pipe_write_ >= 0) ::close(pipe_write_);
  pipe_write_ = -1;
}

void Readiness::on_pipe() noexcept {
  char buf[256];
  ssize_t n = read(pipe_read_, buf, sizeof buf);
  if (n > 0) {
    if (std::memchr(buf, '\n', static_cast<size_t>(n)) != nullptr) {
      loop_.unwatch(pipe_read_);
      ::close(pipe_read_);
      pipe_read_ = -1;
      report_ready();
    }
    return;
  }
  if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    // The service closed its end without a newline: it will never report through it.
    loop_.unwatch(pipe_read_);
    ::close(pipe_read_);
    pipe_read_ = -1;
  }
}

bool Readiness::start_socket_probe(const std::string& target, Duration interval,
                                   std::string& error) noexcept {
  try {
    if (!parse_socket_target(target, target_, error)) return false;
  } catch (...) {
    error = "out of memory";
    return false;
  }
  interval_ = interval.count() > 0 ? interval : Duration(200);
  probe_socket();
  return true;
}

void Readiness::close_probe_socket() noexcept {
  if (probe_fd_ < 0) return;
  loop_.unwatch(probe_fd_);
  ::close(probe_fd_);
  probe_fd_ = -1;
}

void Readiness::probe_socket() noexcept {
  timer_ = 0;
  if (reported_) return;
  close_probe_socket();  // a connect still pending after a whole interval has failed
  timer_ = loop_.add_timer(interval_, [this] { probe_socket(); });
  int fd = socket(target_.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return;
  int rc = connect(fd, reinterpret_cast<const sockaddr*>(&target_.address), target_.length);
  if (rc == 0 || (rc < 0 && errno == EAGAIN && target_.address.ss_family == AF_UNIX)) {
    // EAGAIN on a unix socket: the listener exists, its backlog is just full.
    ::close(fd);
    report_ready();
    return;
  }
  if (rc < 0 && errno == EINPROGRESS) {
    probe_fd_ = fd;
    if (!loop_.watch(fd, EPOLLOUT, [this](uint32_t) { on_connect_result(); })) {
      ::close(fd);
      probe_fd_ = -1;
    }
    return;
  }
  ::close(fd);
}

void Readiness::on_connect_result() noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(probe_fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  close_probe_socket();
  if (err == 0) report_ready();
}

void Readiness::start_exec_probe(std::function<pid_t()> spawn_check, Duration interval) noexcept {
  spawn_check_ = std::move(spawn_check);
  interval_ = interval.count() > 0 ? interval : Duration(200);
  run_check();
}

void Readiness::run_check() noexcept {
  timer_ = 0;
  if (reported_ || !spawn_check_) return;
  timer_ = loop_.add_timer(interval_, [this] { run_check(); });
  if (check_pid_ > 0) {
    kill(check_pid_, SIGKILL);  // still running after a whole interval: a failed check
    return;                     // the next tick starts a new one once this one is reaped
  }
  check_pid_ = spawn_check_();
}

bool Readiness::on_child_exit(pid_t pid, int wait_status) noexcept {
  if (pid <= 0 || pid != check_pid_) return false;
  check_pid_ = -1;
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) report_ready();
  return true;
}

void Readiness::report_ready() noexcept {
  if (reported_) return;
  reported_ = true;
  if (timer_ != 0) loop_.cancel_timer(timer_);
  timer_ = 0;
  close_probe_socket();
  if (callbacks_.ready) callbacks_.ready();  // may close() this object: touch nothing after
}

void Readiness::close() noexcept {
  if (notify_fd_ >= 0) {
    loop_.unwatch(notify_fd_);
    ::close(notify_fd_);
    notify_fd_ = -1;
    unlink(notify_path_.c_str());
  }
  if (pipe_read_ >= 0) {
    loop_.unwatch(pipe_read_);
    ::close(pipe_read_);
    pipe_read_ = -1;
  }
  if (pipe_write_ >= 0) ::close(pipe_write_);
  pipe_write_ = -1;
  close_probe_socket();
  if (timer_ != 0) loop_.cancel_timer(timer_);
  timer_ = 0;
  if (check_pid_ > 0) kill(check_pid_, SIGKILL);  // reaped by PID 1's reaper as an orphan
  check_pid_ = -1;
  spawn_check_ = nullptr;
}

}  // namespace cairn::init
