// CacheFs over the real filesystem (lstat, remove_all, flock) and the system clock.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "image/cache/cache_fs.h"
#include "image/cache/cache_lock.h"

namespace cairn::image {
namespace fs = std::filesystem;
namespace {

class RealCacheFs final : public CacheFs {
 public:
  std::vector<CacheFileInfo> list(const fs::path& dir) override {
    std::vector<CacheFileInfo> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      struct stat st {};
      if (lstat(it->path().c_str(), &st) != 0) continue;  // removed meanwhile
      CacheFileInfo info;
      info.name = it->path().filename().string();
      info.is_symlink = S_ISLNK(st.st_mode);
      info.is_dir = S_ISDIR(st.st_mode);
      info.bytes = info.is_dir ? 0 : static_cast<uint64_t>(st.st_blocks) * 512;
      info.mtime = st.st_mtime;
      out.push_back(std::move(info));
    }
    std::sort(out.begin(), out.end(),
              [](const CacheFileInfo& a, const CacheFileInfo& b) { return a.name < b.name; });
    return out;
  }

  std::pair<uint64_t, int64_t> tree_usage(const fs::path& dir) override {
    uint64_t bytes = 0;
    int64_t newest = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      struct stat st {};
      if (lstat(it->path().c_str(), &st) != 0) continue;
      bytes += static_cast<uint64_t>(st.st_blocks) * 512;
      newest = std::max<int64_t>(newest, st.st_mtime);
    }
    return {bytes, newest};
  }

  std::optional<std::string> read(const fs::path& file) override {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string remove(const fs::path& path) override {
    std::error_code ec;
    fs::remove_all(path, ec);
    return ec ? path.string() + ": " + ec.message() : "";
  }

  std::shared_ptr<void> try_lock_exclusive(const fs::path& path) override {
    return std::shared_ptr<CacheLock>(cairn::image::try_lock_exclusive(path));
  }

  int64_t now() override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

std::unique_ptr<CacheFs> make_real_cache_fs() {
  return std::make_unique<RealCacheFs>();
}

}  // namespace cairn::image
