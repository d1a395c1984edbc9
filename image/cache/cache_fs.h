// The thin filesystem + clock seam of the cache code: `cairn-image cache` and the eviction
// after each build see the cache only through CacheFs, so unit tests drive them over an
// in-memory tree (with locks held by "other builds") and a fixed clock.
//
// Locking (what keeps a concurrent build's entries alive): a build holds a shared flock(2) on
// the main file of every cache entry it uses (cache_lock.h) and on debs/<dir> while apt reads
// it; eviction takes an exclusive non-blocking flock on the same file before deleting it and
// skips the entry when that fails.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cairn::image {

struct CacheFileInfo {
  std::string name;  // file name inside the listed directory
  bool is_dir = false;
  bool is_symlink = false;  // not followed: a symlinked area is someone else's
  uint64_t bytes = 0;       // allocated bytes (st_blocks), 0 for directories
  int64_t mtime = 0;        // seconds since the epoch
};

class CacheFs {
 public:
  virtual ~CacheFs() = default;
  // The directory's entries sorted by name; empty if it does not exist.
  virtual std::vector<CacheFileInfo> list(const std::filesystem::path& dir) = 0;
  // Allocated bytes of everything under `dir` (symlinks not followed) and the newest mtime.
  virtual std::pair<uint64_t, int64_t> tree_usage(const std::filesystem::path& dir) = 0;
  virtual std::optional<std::string> read(const std::filesystem::path& file) = 0;
  // Removes a file or a whole directory. Returns an error message, "" on success.
  virtual std::string remove(const std::filesystem::path& path) = 0;
  // An exclusive lock on `path` if no other process holds one (null: in use). The lock is
  // released when the returned handle is destroyed.
  virtual std::shared_ptr<void> try_lock_exclusive(const std::filesystem::path& path) = 0;
  virtual int64_t now() = 0;  // seconds since the epoch
};

// The real filesystem and clock.
std::unique_ptr<CacheFs> make_real_cache_fs();

}  // namespace cairn::image
