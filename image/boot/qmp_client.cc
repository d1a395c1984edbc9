#include "image/boot/qmp_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace cairn::image {
namespace {

// Reads one JSON message (QMP sends one per line). "" on timeout/EOF.
std::string read_message(int fd, std::string& buffer,
                         std::chrono::steady_clock::time_point deadline) {
  while (true) {
    const size_t nl = buffer.find('\n');
    if (nl != std::string::npos) {
      std::string msg = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      return msg;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return "";
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return "";
    buffer.append(buf, static_cast<size_t>(n));
  }
}

// The reply to the last command: skips asynchronous events ({"event": ...}).
std::string await_reply(int fd, std::string& buffer,
                        std::chrono::steady_clock::time_point deadline) {
  while (true) {
    std::string msg = read_message(fd, buffer, deadline);
    if (msg.empty()) return "no reply (timeout or QEMU closed the socket)";
    if (msg.find("\"return\"") != std::string::npos) return "";
    if (msg.find("\"error\"") != std::string::npos) return "QMP error: " + msg;
  }
}

bool send_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string qmp_execute(const std::string& socket_path, const std::string& command,
                        int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    ::close(fd);
    return "QMP socket path too long: " + socket_path;
  }
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::string why = "connect " + socket_path + ": " + std::strerror(errno);
    ::close(fd);
    return why;
  }
  std::string buffer;
  std::string error;
  if (read_message(fd, buffer, deadline).find("QMP") == std::string::npos) {
    error = "no QMP greeting";
  } else if (!send_all(fd, "{\"execute\":\"qmp_capabilities\"}\n")) {
    error = "send failed";
  } else if (error = await_reply(fd, buffer, deadline); error.empty()) {
    if (!send_all(fd, "{\"execute\":\"" + command + "\"}\n")) {
      error = "send failed";
    } else {
      error = await_reply(fd, buffer, deadline);
      // `quit` may close the socket before replying: that is success too.
      if (command == "quit" && !error.empty() && error.rfind("QMP error", 0) != 0) error.clear();
    }
  }
  ::close(fd);
  return error;
}

}  // namespace cairn::image
