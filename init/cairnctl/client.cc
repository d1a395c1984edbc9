#include "init/cairnctl/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "init/cairnctl/format.h"
#include "init/control/frame.h"
#include "init/control/protocol.h"

namespace cairn::init::cairnctl {
namespace {

using control::ResponseType;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

int connect_control(const std::string& path, std::string& error) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    error = "invalid control socket path \"" + path + "\"";
    return -1;
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int saved = errno;
    ::close(fd);
    error = "cannot connect to " + path + ": " + std::strerror(saved);
    if (saved == EACCES || saved == EPERM) {
      error += " (only root may use the control socket)";
    } else {
      error += "; is cairn-init running?";
    }
    return -1;
  }
  return fd;
}

int run(const Invocation& invocation, std::ostream& out, std::ostream& err) {
  const control::Request& request = invocation.request;
  std::string error;
  Fd fd(connect_control(invocation.socket_path, error));
  if (fd.get() < 0) {
    err << "cairnctl: " << error << '\n';
    return 1;
  }
  if (!request.follow) {
    timeval timeout{static_cast<time_t>(kReplyTimeout.count()), 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  if (!control::write_frame(fd.get(), control::encode_request(request), error)) {
    err << "cairnctl: sending the request to " << invocation.socket_path << ": " << error << '\n';
    return 1;
  }
  while (true) {
    std::string payload;
    auto status = control::read_frame(fd.get(), payload, error);
    if (status == control::ReadStatus::Eof) {
      if (request.command == control::Command::Logs && request.follow) return 0;
      err << "cairnctl: cairn-init closed the connection without answering\n";
      return 1;
    }
    if (status == control::ReadStatus::Error) {
      if (error.find(std::strerror(EAGAIN)) != std::string::npos) {
        error = "no answer within " + std::to_string(kReplyTimeout.count()) + "s";
      }
      err << "cairnctl: reading the answer: " << error << '\n';
      return 1;
    }
    control::Response response;
    std::string problem = control::decode_response(payload, response);
    if (!problem.empty()) {
      err << "cairnctl: cannot understand cairn-init's answer: " << problem << '\n';
      return 1;
    }
    switch (response.type) {
      case ResponseType::Error:
        err << "cairnctl: " << response.message << '\n';
        return 1;
      case ResponseType::Log:
        out << response.log << std::flush;
        if (!out) return 0;  // stdout closed (`| head`): nothing more to do
        continue;
      case ResponseType::Ok:
        if (!response.message.empty()) out << response.message << '\n';
        return 0;
      case ResponseType::Status:
        out << (invocation.json ? format_status_json(response.services)
                                : format_status_table(response.services));
        return 0;
      case ResponseType::Timeline:
        out << (invocation.json ? format_timeline_json(response.timeline)
                                : format_timeline(response.timeline));
        return 0;
      case ResponseType::Reload:
        out << format_reload(response.reload);
        return 0;
    }
  }
}

}  // namespace cairn::init::cairnctl
