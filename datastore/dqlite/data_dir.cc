#include "datastore/dqlite/data_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <regex>
#include <stdexcept>
#include <utility>

#include "datastore/dqlite/segment_check.h"

namespace cairn::dqlite {
namespace {

constexpr const char* kLockFile = "cairn-dqlite.lock";
// raft's on-disk format version (UV__DISK_FORMAT) and metadata file size (4 u64 words).
constexpr uint64_t kRaftDiskFormat = 1;
constexpr size_t kMetadataSize = 32;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("dqlite data dir " + path + ": " + what);
}

std::string errno_text(int err) {
  return std::strerror(err);
}

struct Metadata {
  uint64_t version = 0;
  uint64_t term = 0;
};

// Mirrors raft 0.15's uvMetadataLoadN: a missing or short file counts as "never written"
// (raft deletes a short one as a torn write); a long or undecodable one is corruption.
std::optional<Metadata> read_metadata(const std::string& dir, const char* name) {
  std::string file = dir + "/" + name;
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    fail(dir, std::string("cannot read raft metadata ") + name + ": " + errno_text(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    fail(dir, std::string("cannot stat ") + name + ": " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(dir, std::string("raft metadata ") + name + " is not a regular file");
  }
  if (static_cast<size_t>(st.st_size) < kMetadataSize) {
    ::close(fd);
    return std::nullopt;
  }
  if (static_cast<size_t>(st.st_size) > kMetadataSize) {
    ::close(fd);
    fail(dir, std::string("corrupt raft metadata: ") + name + " has " + std::to_string(st.st_size) +
                  " bytes instead of 32");
  }
  uint64_t words[4];
  ssize_t n = ::pread(fd, words, sizeof words, 0);
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(sizeof words)) {
    fail(dir, std::string("cannot read raft metadata ") + name + ": " +
                  (n < 0 ? errno_text(err) : "short read"));
  }
  if (words[0] != kRaftDiskFormat) {
    fail(dir, std::string("corrupt or foreign raft metadata: ") + name + " has format version " +
                  std::to_string(words[0]) + " (raft uses 1)");
  }
  if (words[1] == 0) fail(dir, std::string("corrupt raft metadata: ") + name + " has version 0");
  return Metadata{words[1], words[2]};
}

}  // namespace

bool DataDir::is_known_file(const std::string& name) {
  static const std::regex known(
      "(tmp-)?("
      "metadata[12]"
      "|open-[0-9]+"
      "|[0-9]{16}-[0-9]{16}"
      "|snapshot-[0-9]+-[0-9]+-[0-9]+(\\.meta)?"
      ")"
      "|\\.probe"
      "|cairn-dqlite\\.lock"
      "|lost\\+found");
  return std::regex_match(name, known);
}

DataDir DataDir::prepare(const std::string& path) {
  if (path.empty()) throw std::runtime_error("dqlite data dir: no path given");
  DataDir d;
  d.path_ = path;

  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) fail(path, "cannot stat: " + errno_text(errno));
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) fail(path, "cannot create: " + ec.message());
    ::chmod(path.c_str(), 0700);
    if (::stat(path.c_str(), &st) != 0) fail(path, "cannot stat: " + errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode)) fail(path, "is not a directory");
  // raft refuses a directory without the owner write bit even when running as root.
  if ((st.st_mode & S_IWUSR) == 0) fail(path, "is not writable (mode has no owner write bit)");
  if (::access(path.c_str(), W_OK | X_OK) != 0) fail(path, "is not writable: " + errno_text(errno));

  // Lock before looking at the contents, so a running node's files are not judged mid-write.
  std::string lock = path + "/" + kLockFile;
  d.lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (d.lock_fd_ < 0)
    fail(path, "is not writable: cannot create " + lock + ": " + errno_text(errno));
  if (::flock(d.lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      fail(path, "is in use by another dqlite node (" + lock + " is locked)");
    fail(path, "cannot lock " + lock + ": " + errno_text(errno));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(d.lock_fd_, 0) != 0 ||
      ::pwrite(d.lock_fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    fail(path, "is not writable: cannot write " + lock + ": " + errno_text(errno));
  }

  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) fail(path, "cannot list: " + errno_text(errno));
  std::vector<std::string> foreign;
  std::vector<std::string> moved_aside;  // "corrupt-<ns>-<segment>", renamed by raft
  std::vector<std::string> closed_segments;
  bool has_raft_files = false;
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name == kLockFile || name == "lost+found") continue;
    if (name.rfind("corrupt-", 0) == 0) {
      moved_aside.push_back(name);
    } else if (!is_known_file(name)) {
      foreign.push_back(name);
    } else if (name.rfind("metadata", 0) != 0 && name != ".probe") {
      has_raft_files = true;  // log segments or snapshots
      if (parse_closed_segment_name(name)) closed_segments.push_back(name);
    }
  }
  ::closedir(dir);
  if (!foreign.empty()) {
    std::string list;
    for (size_t i = 0; i < foreign.size() && i < 5; ++i) list += (i ? ", " : "") + foreign[i];
    if (foreign.size() > 5) list += ", ... (" + std::to_string(foreign.size()) + " in all)";
    fail(path, "holds files that are not dqlite/raft data (" + list +
                   "); refusing to use a foreign directory");
  }

  if (!moved_aside.empty()) {
    fail(path, "raft moved corrupt log segment " + moved_aside.front() +
                   " aside in an earlier start and went on without it, so committed writes "
                   "may be missing; restore the directory from a backup (or remove the "
                   "corrupt-* files to accept the loss)");
  }
  // Closed segments are written once and synced before they are closed: damage there is not
  // a crash's torn write. raft 0.15 would rename a corrupt last segment and start without
  // it (auto recovery, which libdqlite 1.11 cannot turn off), silently dropping committed
  // entries. See segment_check.h.
  std::sort(closed_segments.begin(), closed_segments.end());
  for (const std::string& name : closed_segments) {
    std::string reason = check_closed_segment(path, name, *parse_closed_segment_name(name));
    if (!reason.empty()) {
      fail(path, "corrupt raft log segment " + path + "/" + name + ": " + reason +
                     " (damaged after it was written; refusing to start rather than lose "
                     "committed entries)");
    }
  }

  auto m1 = read_metadata(path, "metadata1");
  auto m2 = read_metadata(path, "metadata2");
  if (m1 && m2 && m1->version == m2->version) {
    fail(path, "corrupt raft metadata: metadata1 and metadata2 are both at version " +
                   std::to_string(m1->version));
  }
  if (!m1 && !m2 && has_raft_files) {
    fail(path,
         "has raft log or snapshot files but no valid metadata1/metadata2: "
         "corrupt or partially deleted raft state");
  }
  d.fresh_ = !m1 && !m2;
  return d;
}

DataDir::~DataDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

DataDir::DataDir(DataDir&& other) noexcept {
  *this = std::move(other);
}

DataDir& DataDir::operator=(DataDir&& other) noexcept {
  if (this != &other) {
    if (lock_fd_ >= 0) ::close(lock_fd_);
    path_ = std::move(other.path_);
    lock_fd_ = std::exchange(other.lock_fd_, -1);
    fresh_ = other.fresh_;
  }
  return *this;
}

}  // namespace cairn::dqlite
