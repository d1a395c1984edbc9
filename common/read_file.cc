#include "common/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cairn {

ReadFileStatus read_small_file(const std::string& path, size_t max_bytes, std::string& out,
                               std::string& error) {
  out.clear();
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return ReadFileStatus::Missing;
    error = std::strerror(errno);
    return ReadFileStatus::Error;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file";
    ::close(fd);
    return ReadFileStatus::Error;
  }
  char buffer[16384];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = std::strerror(errno);
      ::close(fd);
      return ReadFileStatus::Error;
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      error = "larger than " + std::to_string(max_bytes) + " bytes";
      ::close(fd);
      out.clear();
      return ReadFileStatus::Error;
    }
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return ReadFileStatus::Ok;
}

}  // namespace cairn
