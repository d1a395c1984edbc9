#include "image/cache/cache_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace cairn::image {
namespace fs = std::filesystem;

CacheLock::~CacheLock() {
  if (fd_ >= 0) close(fd_);
}

std::unique_ptr<CacheLock> lock_shared_if_exists(const fs::path& path) {
  for (;;) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return nullptr;
      throw std::runtime_error(path.string() + ": " + std::strerror(errno));
    }
    while (flock(fd, LOCK_SH) != 0) {
      if (errno != EINTR) {
        int e = errno;
        close(fd);
        throw std::runtime_error(path.string() + ": cannot lock: " + std::strerror(e));
      }
    }
    struct stat held {
    }, now{};
    if (fstat(fd, &held) == 0 && stat(path.c_str(), &now) == 0 && held.st_dev == now.st_dev &&
        held.st_ino == now.st_ino)
      return std::make_unique<CacheLock>(fd);
    close(fd);
    if (stat(path.c_str(), &now) != 0) return nullptr;  // evicted while we waited
    // Replaced by a newer file of the same name: lock that one.
  }
}

std::unique_ptr<CacheLock> lock_shared_dir(const fs::path& dir) {
  fs::create_directories(dir);
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(dir.string() + ": " + std::strerror(errno));
  while (flock(fd, LOCK_SH) != 0) {
    if (errno != EINTR) {
      int e = errno;
      close(fd);
      throw std::runtime_error(dir.string() + ": cannot lock: " + std::strerror(e));
    }
  }
  return std::make_unique<CacheLock>(fd);
}

std::unique_ptr<CacheLock> try_lock_exclusive(const fs::path& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return nullptr;
  }
  return std::make_unique<CacheLock>(fd);
}

void touch_last_use(const fs::path& path) {
  // Best effort: a read-only cache still builds, it just cannot record use.
  utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
}

}  // namespace cairn::image
