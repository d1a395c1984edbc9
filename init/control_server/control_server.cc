#include "init/control_server/control_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "init/control/frame.h"
#include "init/control/protocol.h"
#include "init/log/log_hub.h"
#include "init/supervisor/supervisor.h"

namespace cairn::init {
namespace {

namespace ctl = control;

constexpr size_t kReadChunk = 16 << 10;
constexpr int kAcceptsPerWake = 16;
// Ring content is sent in frames of at most this much text (well below kMaxFrameBytes,
// leaving room for escaping and the message head).
constexpr size_t kLogChunkBytes = 64 << 10;

std::string framed(const ctl::Response& response) {
  return ctl::frame(ctl::encode_response(response));
}

// Splits `text` into chunks of whole lines (a single longer line is split anyway).
std::vector<std::string> log_chunks(const std::string& text) {
  std::vector<std::string> chunks;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = std::min(text.size(), pos + kLogChunkBytes);
    if (end < text.size()) {
      size_t nl = text.rfind('\n', end - 1);
      if (nl != std::string::npos && nl >= pos) end = nl + 1;
    }
    chunks.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return chunks;
}

// The last `count` lines of `text` (whole lines, each ending in '\n'); all of it if 0.
std::string last_lines(const std::string& text, uint64_t count) {
  if (count == 0) return text;
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;  // the final line's own newline
  size_t start = end;
  for (uint64_t seen = 0; seen < count; ++seen) {
    size_t newline = start == 0 ? std::string::npos : text.rfind('\n', start - 1);
    if (newline == std::string::npos) return text;
    start = newline;
  }
  return text.substr(start + 1);
}

}  // namespace

struct ControlServer::Impl {
  struct Client {
    int fd = -1;
    uint64_t serial = 0;
    ctl::FrameDecoder decoder;
    std::string out;        // bytes queued for the client
    size_t out_offset = 0;  // already written from `out`
    bool request_seen = false;
    bool close_after_flush = false;
    bool reading = true;
    LogHub::FollowerId follower = 0;
    uint64_t dropped_lines = 0;  // logs -f lines dropped because the client is too slow
    EventLoop::TimerId idle_timer = 0;

    explicit Client(size_t max_request) : decoder(max_request) {}
    size_t queued() const { return out.size() - out_offset; }
  };

  Impl(EventLoop& l, Supervisor& s, LogHub& h, PowerCallback p, ControlServerOptions o)
      : loop(l), supervisor(s), logs(h), power(std::move(p)), options(std::move(o)) {}

  ~Impl() { stop(); }

  bool start(std::string& error) {
    stop();
    if (options.socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
      error = "socket path too long";
      return false;
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error = std::string("socket: ") + std::strerror(errno);
      return false;
    }
    // A socket file left by a previous run (or a crashed PID 1) is replaced; anything else
    // at that path is not ours to delete.
    struct stat st;
    if (::lstat(options.socket_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      ::unlink(options.socket_path.c_str());
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, options.socket_path.c_str(), options.socket_path.size());
    // Created 0600 from the start: no window in which another user could connect.
    mode_t old_mask = ::umask(0177);
    int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    int bind_errno = errno;
    ::umask(old_mask);
    if (rc != 0 || ::listen(fd, 32) != 0) {
      error = std::string(rc != 0 ? "bind " : "listen ") + options.socket_path + ": " +
              std::strerror(rc != 0 ? bind_errno : errno);
      ::close(fd);
      return false;
    }
    if (!loop.watch(fd, EPOLLIN, [this](uint32_t) { accept_clients(); })) {
      error = std::string("watch: ") + std::strerror(errno);
      ::close(fd);
      ::unlink(options.socket_path.c_str());
      return false;
    }
    listen_fd = fd;
    return true;
  }

  void stop() noexcept {
    while (!clients.empty()) close_client(clients.begin()->first);
    if (listen_fd >= 0) {
      loop.unwatch(listen_fd);
      ::close(listen_fd);
      listen_fd = -1;
      ::unlink(options.socket_path.c_str());
    }
    if (power_timer != 0) {
      loop.cancel_timer(power_timer);
      power_timer = 0;
    }
  }

  void accept_clients() noexcept {
    for (int i = 0; i < kAcceptsPerWake; ++i) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or a transient error (EMFILE...): try on the next wake
      try {
        add_client(fd);
      } catch (...) {
        // Out of memory: this client only.
        if (clients.count(fd)) {
          close_client(fd);
        } else {
          ::close(fd);
        }
      }
    }
  }

  void add_client(int fd) {
    auto client = std::make_unique<Client>(options.max_request_bytes);
    client->fd = fd;
    client->serial = ++next_serial;
    Client& c = *client;
    clients.emplace(fd, std::move(client));
    uint64_t serial = c.serial;
    if (!loop.watch(fd, EPOLLIN,
                    [this, fd, serial](uint32_t events) { on_event(fd, serial, events); })) {
      clients.erase(fd);
      ::close(fd);
      return;
    }
    c.idle_timer = loop.add_timer(options.idle_timeout, [this, fd, serial] {
      Client* cl = find(fd, serial);
      if (cl == nullptr) return;
      cl->idle_timer = 0;
      close_client(fd);
    });
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        cred.uid != options.allowed_uid) {
      refuse(c, "permission denied: only root may use the control socket");
      return;
    }
    if (clients.size() > options.max_clients) {
      refuse(c, "too many control clients");
      return;
    }
  }

  void refuse(Client& c, const std::string& why) {
    c.reading = false;
    c.request_seen = true;
    if (send(c, framed(ctl::Response::error(why)))) finish(c);
  }

  Client* find(int fd, uint64_t serial) {
    auto it = clients.find(fd);
    return it != clients.end() && it->second->serial == serial ? it->second.get() : nullptr;
  }

  void on_event(int fd, uint64_t serial, uint32_t events) noexcept {
    Client* c = find(fd, serial);
    if (c == nullptr) return;
    try {
      // A client closed anywhere below is never touched again: every path returns.
      if (events & EPOLLOUT) {
        if (!flush(*c)) return;  // closed
      }
      if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->reading)
        read_from(*c);
      else if (events & (EPOLLHUP | EPOLLERR))
        close_client(fd);
    } catch (...) {
      close_client(fd);  // allocation failure: confined to this client
    }
  }

  void read_from(Client& c) {
    int fd = c.fd;
    char buf[kReadChunk];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      // The client went away (or half-closed). A pending answer is still flushed; a
      // follower is done.
      c.reading = false;
      if (c.follower != 0 || c.queued() == 0 || !c.request_seen) {
        close_client(fd);
      } else {
        c.close_after_flush = true;
        update_events(c);
      }
      return;
    }
    if (c.request_seen) return;  // one request per connection; extra bytes are ignored
    c.decoder.feed(std::string_view(buf, static_cast<size_t>(n)));
    std::string payload, error;
    switch (c.decoder.next(payload, error)) {
      case ctl::FrameDecoder::Status::NeedMore:
        if (c.decoder.buffered() > options.max_request_bytes) close_client(fd);
        return;
      case ctl::FrameDecoder::Status::Error:
        refuse(c, "bad frame: " + error);
        return;
      case ctl::FrameDecoder::Status::Frame:
        break;
    }
    c.request_seen = true;
    ctl::Request request;
    if (std::string why = ctl::decode_request(payload, request); !why.empty()) {
      refuse(c, "bad request: " + why);
      return;
    }
    handle(c, request);
  }

  void handle(Client& c, const ctl::Request& request) {
    std::string error;
    switch (request.command) {
      case ctl::Command::Status: {
        ctl::Response r;
        r.type = ctl::ResponseType::Status;
        r.services = supervisor.status();
        if (!send(c, framed(r))) return;
        break;
      }
      case ctl::Command::Timeline: {
        ctl::Response r;
        r.type = ctl::ResponseType::Timeline;
        r.timeline = supervisor.timeline();
        if (!send(c, framed(r))) return;
        break;
      }
      case ctl::Command::Start:
      case ctl::Command::Stop:
      case ctl::Command::Restart: {
        bool ok = request.command == ctl::Command::Start  ? supervisor.start(request.name, error)
                  : request.command == ctl::Command::Stop ? supervisor.stop(request.name, error)
                                                          : supervisor.restart(request.name, error);
        if (!send(c, framed(ok ? ctl::Response::ok(std::string(ctl::to_string(request.command)) +
                                                   " " + request.name)
                               : ctl::Response::error(error)))) {
          return;
        }
        break;
      }
      case ctl::Command::Reload: {
        ctl::Response r;
        r.type = ctl::ResponseType::Reload;
        r.reload = supervisor.reload();
        if (!send(c, framed(r))) return;
        break;
      }
      case ctl::Command::Logs:
        logs_request(c, request);
        return;
      case ctl::Command::Poweroff:
      case ctl::Command::Reboot:
      case ctl::Command::Halt: {
        system::PowerAction action =
            request.command == ctl::Command::Poweroff ? system::PowerAction::Poweroff
            : request.command == ctl::Command::Reboot ? system::PowerAction::Reboot
                                                      : system::PowerAction::Halt;
        if (!send(c, framed(ctl::Response::ok(system::to_string(action))))) return;
        // Outside this client's callback: the shutdown may stop this very server.
        if (power && power_timer == 0) {
          power_timer = loop.add_timer(std::chrono::milliseconds(0), [this, action] {
            power_timer = 0;
            power(action);
          });
        }
        break;
      }
    }
    finish(c);
  }

  bool known_service(const std::string& name) const {
    if (name == "cairn-init") return true;
    for (const ServiceStatus& s : supervisor.status()) {
      if (s.name == name) return true;
    }
    return false;
  }

  void logs_request(Client& c, const ctl::Request& request) {
    if (!known_service(request.name)) {
      if (send(c, framed(ctl::Response::error("unknown service: " + request.name)))) finish(c);
      return;
    }
    // Never more than half the client's output bound (a huge ring would get it dropped).
    size_t max = options.max_output_bytes / 2;
    if (request.tail_bytes != 0 && request.tail_bytes < max) max = request.tail_bytes;
    for (std::string& chunk :
         log_chunks(last_lines(logs.tail(request.name, max), request.tail_lines))) {
      if (!send(c, framed(ctl::Response::log_chunk(std::move(chunk))))) return;
    }
    if (!request.follow) {
      if (send(c, framed(ctl::Response::ok()))) finish(c);
      return;
    }
    // Following: no idle timeout; lines are pushed until either side closes.
    if (c.idle_timer != 0) {
      loop.cancel_timer(c.idle_timer);
      c.idle_timer = 0;
    }
    int fd = c.fd;
    uint64_t serial = c.serial;
    c.follower = logs.follow(request.name, [this, fd, serial](const std::string& line) {
      Client* cl = find(fd, serial);
      if (cl != nullptr) push_line(*cl, line);
    });
  }

  // A slow follower loses lines (counted, then reported in-band) rather than growing PID 1's
  // memory; one that stops reading entirely is dropped once its queue is full.
  void push_line(Client& c, const std::string& line) noexcept {
    int fd = c.fd;
    try {
      if (c.queued() + line.size() + 64 > options.max_output_bytes / 2) {
        ++c.dropped_lines;
        return;
      }
      if (c.dropped_lines > 0) {
        uint64_t dropped = c.dropped_lines;
        c.dropped_lines = 0;
        if (!send(c, framed(ctl::Response::log_chunk(
                         "cairn-init: " + std::to_string(dropped) +
                         " lines dropped: this client reads too slowly\n")))) {
          return;
        }
      }
      send(c, framed(ctl::Response::log_chunk(line + "\n")));
    } catch (...) {
      close_client(fd);
    }
  }

  // Queues bytes and writes what the socket takes now. False if the client was closed
  // (too far behind, or the socket failed): the caller must not touch it again.
  bool send(Client& c, std::string bytes) {
    if (c.queued() + bytes.size() > options.max_output_bytes) {
      close_client(c.fd);  // too far behind: dropped
      return false;
    }
    if (c.out_offset > 0 && c.out_offset == c.out.size()) {
      c.out.clear();
      c.out_offset = 0;
    }
    c.out += bytes;
    return flush(c);
  }

  // Writes queued bytes; returns false if the client was closed.
  bool flush(Client& c) noexcept {
    while (c.queued() > 0) {
      ssize_t n = ::send(c.fd, c.out.data() + c.out_offset, c.queued(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) {
        close_client(c.fd);
        return false;
      }
      c.out_offset += static_cast<size_t>(n);
    }
    if (c.queued() == 0) {
      c.out.clear();
      c.out_offset = 0;
      if (c.close_after_flush) {
        close_client(c.fd);
        return false;
      }
    }
    update_events(c);
    return true;
  }

  // After the last response: close once everything is written.
  void finish(Client& c) {
    c.close_after_flush = true;
    flush(c);
  }

  void update_events(Client& c) noexcept {
    uint32_t events = (c.reading ? EPOLLIN : 0u) | (c.queued() > 0 ? EPOLLOUT : 0u);
    loop.modify(c.fd, events);
  }

  void close_client(int fd) noexcept {
    auto it = clients.find(fd);
    if (it == clients.end()) return;
    Client& c = *it->second;
    if (c.follower != 0) logs.unfollow(c.follower);
    if (c.idle_timer != 0) loop.cancel_timer(c.idle_timer);
    loop.unwatch(fd);
    ::close(fd);
    clients.erase(it);
  }

  EventLoop& loop;
  Supervisor& supervisor;
  LogHub& logs;
  PowerCallback power;
  ControlServerOptions options;
  int listen_fd = -1;
  std::map<int, std::unique_ptr<Client>> clients;
  uint64_t next_serial = 0;
  EventLoop::TimerId power_timer = 0;
};

ControlServer::ControlServer(EventLoop& loop, Supervisor& supervisor, LogHub& logs,
                             PowerCallback power, ControlServerOptions options)
    : impl_(std::make_unique<Impl>(loop, supervisor, logs, std::move(power), std::move(options))) {}

ControlServer::~ControlServer() = default;

bool ControlServer::start(std::string& error) noexcept {
  try {
    return impl_->start(error);
  } catch (...) {
    return false;
  }
}

void ControlServer::stop() noexcept {
  impl_->stop();
}

size_t ControlServer::client_count() const noexcept {
  return impl_->clients.size();
}

}  // namespace cairn::init
