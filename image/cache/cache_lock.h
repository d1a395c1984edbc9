// Shared locks a build holds on the cache entries it uses, so that `cairn-image cache prune`
// (or another build's eviction) never deletes them under it (cache_fs.h: the protocol).
#pragma once

#include <filesystem>
#include <memory>

namespace cairn::image {

// A held flock(2); released on destruction.
class CacheLock {
 public:
  explicit CacheLock(int fd) : fd_(fd) {}
  ~CacheLock();
  CacheLock(const CacheLock&) = delete;
  CacheLock& operator=(const CacheLock&) = delete;

 private:
  int fd_;
};

// A shared lock on the existing file `path`, or null if there is none (a cache miss). Waits
// while an eviction holds it, then re-checks that the path still names the locked file (an
// eviction that won the race deleted it: a miss).
std::unique_ptr<CacheLock> lock_shared_if_exists(const std::filesystem::path& path);

// A shared lock on the directory `dir` (created if missing). Throws std::runtime_error.
std::unique_ptr<CacheLock> lock_shared_dir(const std::filesystem::path& dir);

// An exclusive lock on `path` if nobody holds any lock on it; null if busy or missing.
std::unique_ptr<CacheLock> try_lock_exclusive(const std::filesystem::path& path);

// Sets the mtime of `path` to now: the cache's "last use" (what LRU eviction orders by).
void touch_last_use(const std::filesystem::path& path);

}  // namespace cairn::image
