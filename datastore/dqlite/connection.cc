#include "datastore/dqlite/connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace cairn::dqlite {
namespace {

// SQLite values are at most 1 GB (SQLITE_MAX_LENGTH); a larger response is garbage.
constexpr uint64_t kMaxBody = uint64_t{1} << 31;
constexpr size_t kInitialBuffer = 64 * 1024;

[[noreturn]] void fail(const std::string& address, const std::string& what, int err) {
  throw Error(kErrTransport, "dqlite " + address + ": " + what + ": " + std::strerror(err));
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return 0;
  return left.count() > INT32_MAX ? INT32_MAX : static_cast<int>(left.count());
}

// Connects a non-blocking socket, waiting for completion until the deadline.
int connect_fd(int family, const sockaddr* sa, socklen_t len, const std::string& address,
               Clock::time_point deadline) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) fail(address, "socket", errno);
  if (::connect(fd, sa, len) != 0) {
    int err = errno;
    if (err != EINPROGRESS && err != EAGAIN) {
      ::close(fd);
      fail(address, "connect", err);
    }
    pollfd p{fd, POLLOUT, 0};
    int n;
    do {
      n = ::poll(&p, 1, remaining_ms(deadline));
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
      ::close(fd);
      throw Error(kErrTimeout, "dqlite " + address + ": connect timed out");
    }
    int so_error = 0;
    socklen_t sl = sizeof so_error;
    if (n < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &sl) != 0 || so_error != 0) {
      int e = n < 0 ? errno : so_error;
      ::close(fd);
      fail(address, "connect", e);
    }
  }
  if (family != AF_UNIX) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

int connect_unix(const std::string& address, Clock::time_point deadline) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  // "@name" is the abstract namespace: sun_path[0] = '\0', no terminator counted.
  if (address.size() >= sizeof sa.sun_path) {
    throw Error(kErrUsage, "dqlite address too long for a unix socket: " + address);
  }
  std::memcpy(sa.sun_path, address.data(), address.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
  if (address[0] == '@') {
    sa.sun_path[0] = '\0';
  } else {
    len += 1;
  }
  return connect_fd(AF_UNIX, reinterpret_cast<sockaddr*>(&sa), len, address, deadline);
}

int connect_tcp(const std::string& address, Clock::time_point deadline) {
  // "host:port" or "[v6]:port".
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) {
    throw Error(kErrUsage,
                "dqlite address '" + address + "' is neither '@abstract', '/path' nor 'host:port'");
  }
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    throw Error(kErrTransport, "dqlite " + address + ": resolve: " + ::gai_strerror(rc));
  }
  std::string last_error = "no addresses";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    try {
      int fd = connect_fd(ai->ai_family, ai->ai_addr, ai->ai_addrlen, address, deadline);
      ::freeaddrinfo(res);
      return fd;
    } catch (const Error& e) {
      last_error = e.what();
      if (e.code() == kErrTimeout) {
        ::freeaddrinfo(res);
        throw;
      }
    }
  }
  ::freeaddrinfo(res);
  throw Error(kErrTransport, last_error);
}

}  // namespace

Connection::~Connection() {
  close();
}

Connection::Connection(Connection&& other) noexcept {
  *this = std::move(other);
}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    address_ = std::move(other.address_);
    in_ = std::move(other.in_);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
    awaiting_reply_ = std::exchange(other.awaiting_reply_, false);
  }
  return *this;
}

void Connection::close() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  begin_ = end_ = 0;
}

Connection Connection::open(const std::string& address, Clock::time_point deadline) {
  if (address.empty()) throw Error(kErrUsage, "empty dqlite address");
  Connection c;
  c.address_ = address;
  c.fd_ = (address[0] == '@' || address[0] == '/') ? connect_unix(address, deadline)
                                                   : connect_tcp(address, deadline);
  c.in_.resize(kInitialBuffer);
  wire::Bytes hello;
  wire::encode_handshake(hello);
  c.send(hello, deadline);
  return c;
}

void Connection::wait(short events, Clock::time_point deadline) {
  pollfd p{fd_, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return;
    if (n == 0) {
      close();
      throw Error(kErrTimeout, "dqlite " + address_ + ": request timed out");
    }
    if (errno != EINTR) {
      int err = errno;
      close();
      fail(address_, "poll", err);
    }
  }
}

void Connection::send(std::span<const uint8_t> bytes, Clock::time_point deadline) {
  if (fd_ < 0) throw Error(kErrTransport, "dqlite " + address_ + ": connection is closed");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wait(POLLOUT, deadline);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      int err = errno;
      close();
      fail(address_, "send", err);
    }
  }
  awaiting_reply_ = true;
}

void Connection::fill(size_t need, Clock::time_point deadline) {
  if (end_ - begin_ >= need) return;
  // Make room: move the unread tail to the front, grow if one message needs more.
  if (begin_ > 0) {
    std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (in_.size() < need) in_.resize(need);
  if (awaiting_reply_) {
    awaiting_reply_ = false;
    wait(POLLIN, deadline);
  }
  while (end_ < need) {
    ssize_t n = ::recv(fd_, in_.data() + end_, in_.size() - end_, 0);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
    } else if (n == 0) {
      close();
      throw Error(kErrTransport, "dqlite " + address_ + ": connection closed by the server");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait(POLLIN, deadline);
    } else if (errno != EINTR) {
      int err = errno;
      close();
      fail(address_, "recv", err);
    }
  }
}

Connection::Message Connection::receive(Clock::time_point deadline) {
  if (fd_ < 0) throw Error(kErrTransport, "dqlite " + address_ + ": connection is closed");
  fill(protocol::kHeaderSize, deadline);
  wire::Header h = wire::decode_header(
      std::span<const uint8_t, protocol::kHeaderSize>(in_.data() + begin_, protocol::kHeaderSize));
  uint64_t body = uint64_t{h.words} * protocol::kWordSize;
  if (body > kMaxBody) {
    close();
    throw Error(kErrProtocol, "dqlite " + address_ + ": response body of " + std::to_string(body) +
                                  " bytes exceeds the limit");
  }
  fill(protocol::kHeaderSize + static_cast<size_t>(body), deadline);
  Message m{h, wire::Body(in_.data() + begin_ + protocol::kHeaderSize, static_cast<size_t>(body))};
  begin_ += protocol::kHeaderSize + static_cast<size_t>(body);
  if (begin_ == end_) begin_ = end_ = 0;
  return m;
}

}  // namespace cairn::dqlite
