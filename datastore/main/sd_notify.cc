#include "datastore/main/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace cairn::datastore::cli {

bool sd_notify(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) return false;
  std::string p = path;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (p.size() >= sizeof sa.sun_path) throw std::runtime_error("NOTIFY_SOCKET is too long");
  std::memcpy(sa.sun_path, p.data(), p.size());
  if (p[0] == '@') sa.sun_path[0] = '\0';
  socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + p.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("sd_notify: socket: ") + strerror(errno));
  ssize_t n =
      ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sa), len);
  int err = errno;
  ::close(fd);
  if (n < 0) throw std::runtime_error("sd_notify to " + p + ": " + strerror(err));
  return true;
}

}  // namespace cairn::datastore::cli
