#include "init/exec/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <new>

namespace cairn::init {
namespace {

constexpr size_t kMaxReadBytes = 1 << 20;
constexpr int kMaxDepth = 32;  // child cgroups deeper than this are not walked

class RealCgroupFs final : public CgroupFs {
 public:
  int read_file(const std::string& path, std::string& out) noexcept override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    int result = 0;
    try {
      out.clear();
      char buffer[4096];
      while (out.size() < kMaxReadBytes) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
          if (errno == EINTR) continue;
          result = errno;
          break;
        }
        if (n == 0) break;
        out.append(buffer, static_cast<size_t>(n));
      }
    } catch (const std::bad_alloc&) {
      result = ENOMEM;
    }
    ::close(fd);
    return result;
  }

  int write_file(const std::string& path, std::string_view data) noexcept override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    ssize_t n;
    do {
      n = ::write(fd, data.data(), data.size());
    } while (n < 0 && errno == EINTR);
    int result = n < 0 ? errno : (static_cast<size_t>(n) == data.size() ? 0 : EIO);
    ::close(fd);
    return result;
  }

  int make_dir(const std::string& path) noexcept override {
    return ::mkdir(path.c_str(), 0755) == 0 ? 0 : errno;
  }

  int remove_dir(const std::string& path) noexcept override {
    return ::rmdir(path.c_str()) == 0 ? 0 : errno;
  }

  int list_subdirs(const std::string& path, std::vector<std::string>& out) noexcept override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return errno;
    int result = 0;
    try {
      out.clear();
      while (dirent* entry = ::readdir(dir)) {
        if (entry->d_type != DT_DIR) continue;
        if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) {
          continue;
        }
        out.emplace_back(entry->d_name);
      }
    } catch (const std::bad_alloc&) {
      result = ENOMEM;
    }
    ::closedir(dir);
    return result;
  }

  int open_dir(const std::string& path) noexcept override {
    int fd = ::open(path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
  }

  int kill_pid(pid_t pid, int signal) noexcept override {
    return ::kill(pid, signal) == 0 ? 0 : errno;
  }
};

struct ControllerName {
  unsigned bit;
  const char* name;
};
constexpr ControllerName kControllers[] = {
    {kCgroupCpu, "cpu"}, {kCgroupMemory, "memory"}, {kCgroupPids, "pids"}, {kCgroupIo, "io"}};

// Appends the decimal form of `value` to `out`.
void append_number(std::string& out, uint64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  (void)ec;
  out.append(digits, end);
}

std::string limit_text(const std::optional<uint64_t>& value) {
  if (!value) return "max";
  std::string text;
  append_number(text, *value);
  return text;
}

}  // namespace

CgroupFs& real_cgroup_fs() noexcept {
  static RealCgroupFs fs;
  return fs;
}

std::string find_cgroup2_mount() noexcept {
  try {
    std::string text;
    if (real_cgroup_fs().read_file("/proc/self/mountinfo", text) != 0) return "";
    return find_cgroup2_mount_in(text);
  } catch (const std::bad_alloc&) {
    return "";
  }
}

std::string find_cgroup2_mount_in(std::string_view mountinfo) {
  std::string found;
  size_t pos = 0;
  while (pos < mountinfo.size()) {
    size_t end = mountinfo.find('\n', pos);
    if (end == std::string_view::npos) end = mountinfo.size();
    std::string_view line = mountinfo.substr(pos, end - pos);
    pos = end + 1;
    // "<id> <parent> <maj:min> <root> <mount point> <options> [optional...] - <type> ..."
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    std::string_view after = line.substr(dash + 3);
    if (after.substr(0, after.find(' ')) != "cgroup2") continue;
    size_t field = 0, start = 0;
    std::string_view mount_point;
    for (size_t i = 0; i <= dash; ++i) {
      if (i == dash || line[i] == ' ') {
        if (field == 4) {
          mount_point = line.substr(start, i - start);
          break;
        }
        ++field;
        start = i + 1;
      }
    }
    // Mount points with spaces or other escaped characters (\040) are not ours to guess at.
    if (mount_point.empty() || mount_point[0] != '/' ||
        mount_point.find('\\') != std::string_view::npos) {
      continue;
    }
    if (mount_point == "/sys/fs/cgroup") return std::string(mount_point);
    if (found.empty()) found = std::string(mount_point);
  }
  return found;
}

unsigned parse_cgroup_controllers(std::string_view text) noexcept {
  unsigned bits = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find_first_of(" \n\t", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, end - pos);
    for (const auto& controller : kControllers) {
      if (word == controller.name) bits |= controller.bit;
    }
    pos = end + 1;
  }
  return bits;
}

std::string format_cgroup_controllers(unsigned controllers) {
  std::string out;
  for (const auto& controller : kControllers) {
    if ((controllers & controller.bit) == 0) continue;
    if (!out.empty()) out += ' ';
    out += controller.name;
  }
  return out;
}

const char* resource_key_name(unsigned key) noexcept {
  switch (key) {
    case kMemoryMax:
      return "memory-max";
    case kMemoryHigh:
      return "memory-high";
    case kCpuWeight:
      return "cpu-weight";
    case kCpuMax:
      return "cpu-max";
    case kPidsMax:
      return "pids-max";
    case kIoWeight:
      return "io-weight";
  }
  return "?";
}

std::string ResourceApplyResult::describe() const {
  static constexpr unsigned kKeys[] = {kMemoryMax, kMemoryHigh, kCpuWeight,
                                       kCpuMax,    kPidsMax,    kIoWeight};
  static constexpr const char* kControllerOf[] = {"memory", "memory", "cpu", "cpu", "pids", "io"};
  std::string out;
  for (size_t i = 0; i < std::size(kKeys); ++i) {
    if (unsupported & kKeys[i]) {
      if (!out.empty()) out += "; ";
      out += resource_key_name(kKeys[i]);
      out += " skipped: ";
      out += kControllerOf[i];
      out += " controller not available";
    }
  }
  for (unsigned key : kKeys) {
    if (failed & key) {
      if (!out.empty()) out += "; ";
      out += resource_key_name(key);
      out += " not applied";
    }
  }
  if (failed != 0 && first_error != 0) {
    out += " (";
    out += std::strerror(first_error);
    out += ')';
  }
  return out;
}

int parse_keyed_value(std::string_view text, std::string_view key, uint64_t& value) noexcept {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ') {
      std::string_view number = line.substr(key.size() + 1);
      auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
      if (ec != std::errc() || ptr != number.data() + number.size()) return EINVAL;
      return 0;
    }
  }
  return ENOENT;
}

// ---- CgroupTree ----

CgroupTree::CgroupTree(std::string root, CgroupFs& fs, std::string subtree)
    : root_(std::move(root)), fs_(&fs) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  base_ = root_ + "/" + subtree;
}

int CgroupTree::prepare(std::string& error) noexcept {
  try {
    error.clear();
    controllers_ = 0;
    int rc = fs_->make_dir(base_);
    if (rc != 0 && rc != EEXIST) {
      error = "cannot create " + base_ + ": " + std::strerror(rc);
      return rc;
    }
    std::string available;
    rc = fs_->read_file(root_ + "/cgroup.controllers", available);
    if (rc != 0) {
      error = "cannot read " + root_ + "/cgroup.controllers: " + std::strerror(rc);
      return rc;
    }
    unsigned wanted = parse_cgroup_controllers(available);
    // One controller per write: the kernel rejects the whole line if one name fails, and a
    // missing io controller must not cost us memory and pids.
    for (const auto& controller : kControllers) {
      if ((wanted & controller.bit) == 0) continue;
      std::string enable = std::string("+") + controller.name;
      rc = fs_->write_file(root_ + "/cgroup.subtree_control", enable);
      if (rc == 0) rc = fs_->write_file(base_ + "/cgroup.subtree_control", enable);
      if (rc == 0) {
        controllers_ |= controller.bit;
      } else {
        if (!error.empty()) error += "; ";
        error += std::string("cannot enable ") + controller.name + ": " + std::strerror(rc);
      }
    }
    return 0;
  } catch (const std::bad_alloc&) {
    error = "out of memory";
    return ENOMEM;
  }
}

int CgroupTree::freeze_all(bool frozen) noexcept {
  try {
    return ServiceCgroup(fs_, base_).freeze(frozen);
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

int CgroupTree::kill_all() noexcept {
  try {
    return ServiceCgroup(fs_, base_).kill_all();
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

// ---- ServiceCgroup ----

ServiceCgroup::~ServiceCgroup() {
  close();
}

ServiceCgroup::ServiceCgroup(ServiceCgroup&& other) noexcept
    : fs_(other.fs_),
      controllers_(other.controllers_),
      path_(std::move(other.path_)),
      fd_(other.fd_) {
  other.fd_ = -1;
}

ServiceCgroup& ServiceCgroup::operator=(ServiceCgroup&& other) noexcept {
  if (this != &other) {
    close();
    fs_ = other.fs_;
    controllers_ = other.controllers_;
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void ServiceCgroup::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int ServiceCgroup::open(const CgroupTree& tree, std::string_view name) noexcept {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) {
    return EINVAL;
  }
  try {
    close();
    fs_ = &tree.fs();
    controllers_ = tree.controllers();
    path_ = tree.base() + "/" + std::string(name);
    int rc = fs_->make_dir(path_);
    if (rc != 0 && rc != EEXIST) return rc;
    int fd = fs_->open_dir(path_);
    if (fd < 0) return -fd;
    fd_ = fd;
    return 0;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

ResourceApplyResult ServiceCgroup::apply(const ResourceSpec& spec) noexcept {
  ResourceApplyResult result;
  if (fs_ == nullptr) {
    result.failed = kMemoryMax | kMemoryHigh | kCpuWeight | kCpuMax | kPidsMax | kIoWeight;
    result.first_error = EBADF;
    return result;
  }
  auto write = [&](unsigned key, unsigned controller, bool set, const char* file,
                   const std::string& value) {
    if ((controllers_ & controller) == 0) {
      if (set) result.unsupported |= key;
      return;
    }
    int rc = fs_->write_file(path_ + "/" + file, value);
    if (rc == 0) {
      if (set) result.applied |= key;
    } else {
      result.failed |= key;
      if (result.first_error == 0) result.first_error = rc;
    }
  };
  try {
    write(kMemoryMax, kCgroupMemory, spec.memory_max.has_value(), "memory.max",
          limit_text(spec.memory_max));
    write(kMemoryHigh, kCgroupMemory, spec.memory_high.has_value(), "memory.high",
          limit_text(spec.memory_high));
    write(kCpuWeight, kCgroupCpu, spec.cpu_weight.has_value(), "cpu.weight",
          limit_text(spec.cpu_weight ? std::optional<uint64_t>(*spec.cpu_weight)
                                     : std::optional<uint64_t>(100)));
    std::string cpu_max = "max 100000";
    if (spec.cpu_max) {
      cpu_max =
          spec.cpu_max->quota_us == 0 ? std::string("max") : limit_text(spec.cpu_max->quota_us);
      cpu_max += ' ';
      append_number(cpu_max, spec.cpu_max->period_us);
    }
    write(kCpuMax, kCgroupCpu, spec.cpu_max.has_value(), "cpu.max", cpu_max);
    write(kPidsMax, kCgroupPids, spec.pids_max.has_value(), "pids.max", limit_text(spec.pids_max));
    std::string io = "default ";
    append_number(io, spec.io_weight.value_or(100));
    write(kIoWeight, kCgroupIo, spec.io_weight.has_value(), "io.weight", io);
  } catch (const std::bad_alloc&) {
    result.failed |=
        ~result.applied & (kMemoryMax | kMemoryHigh | kCpuWeight | kCpuMax | kPidsMax | kIoWeight);
    if (result.first_error == 0) result.first_error = ENOMEM;
  }
  return result;
}

int ServiceCgroup::freeze(bool frozen) noexcept {
  if (fs_ == nullptr) return EBADF;
  try {
    return fs_->write_file(path_ + "/cgroup.freeze", frozen ? "1" : "0");
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

int ServiceCgroup::kill_all() noexcept {
  if (fs_ == nullptr) return EBADF;
  try {
    int rc = fs_->write_file(path_ + "/cgroup.kill", "1");
    if (rc == 0) return 0;
    if (rc != ENOENT) return rc;  // cgroup.kill exists but failed: report, do not guess
    return kill_fallback();
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

// Before Linux 5.14: freeze so nothing forks behind our back, SIGKILL every listed pid
// (fatal signals reach frozen tasks), repeat while new pids show up, then thaw.
int ServiceCgroup::kill_fallback() noexcept {
  int freeze_rc = freeze(true);  // ENOENT before 5.2: no freezer, kill anyway
  int result = 0;
  for (int pass = 0; pass < 4; ++pass) {
    bool any = false;
    result = kill_listed(path_, 0, any);
    if (result != 0 || !any) break;
  }
  if (freeze_rc == 0) freeze(false);
  return result;
}

int ServiceCgroup::kill_listed(const std::string& dir, int depth, bool& any) noexcept {
  try {
    std::string procs;
    int rc = fs_->read_file(dir + "/cgroup.procs", procs);
    if (rc != 0) return rc == ENOENT && depth > 0 ? 0 : rc;
    size_t pos = 0;
    while (pos < procs.size()) {
      size_t end = procs.find('\n', pos);
      if (end == std::string::npos) end = procs.size();
      pid_t pid = 0;
      auto [ptr, ec] = std::from_chars(procs.data() + pos, procs.data() + end, pid);
      (void)ptr;
      pos = end + 1;
      if (ec != std::errc() || pid <= 0) continue;
      rc = fs_->kill_pid(pid, SIGKILL);
      if (rc == 0) any = true;
    }
    if (depth >= kMaxDepth) return 0;
    std::vector<std::string> children;
    if (fs_->list_subdirs(dir, children) != 0) return 0;
    for (const auto& child : children) {
      rc = kill_listed(dir + "/" + child, depth + 1, any);
      if (rc != 0) return rc;
    }
    return 0;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

namespace {
int read_text(CgroupFs* fs, const std::string& path, std::string_view file, std::string& out) {
  if (fs == nullptr) return EBADF;
  return fs->read_file(path + "/" + std::string(file), out);
}
}  // namespace

int ServiceCgroup::read_populated(bool& populated) noexcept {
  try {
    std::string text;
    int rc = read_text(fs_, path_, "cgroup.events", text);
    uint64_t value = 0;
    if (rc == 0) rc = parse_keyed_value(text, "populated", value);
    if (rc == 0) populated = value != 0;
    return rc;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

int ServiceCgroup::read_frozen(bool& frozen) noexcept {
  try {
    std::string text;
    int rc = read_text(fs_, path_, "cgroup.events", text);
    uint64_t value = 0;
    if (rc == 0) rc = parse_keyed_value(text, "frozen", value);
    if (rc == 0) frozen = value != 0;
    return rc;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

int ServiceCgroup::read_oom_kills(uint64_t& count) noexcept {
  try {
    std::string text;
    int rc = read_text(fs_, path_, "memory.events", text);
    if (rc == 0) rc = parse_keyed_value(text, "oom_kill", count);
    return rc;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

int ServiceCgroup::read_memory_current(uint64_t& bytes) noexcept {
  try {
    std::string text;
    int rc = read_text(fs_, path_, "memory.current", text);
    if (rc != 0) return rc;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), bytes);
    if (ec != std::errc() || ptr != text.data() + text.size()) return EINVAL;
    return 0;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

int ServiceCgroup::read_pids(std::vector<pid_t>& pids) noexcept {
  try {
    std::string text;
    int rc = read_text(fs_, path_, "cgroup.procs", text);
    if (rc != 0) return rc;
    pids.clear();
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      pid_t pid = 0;
      auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + end, pid);
      (void)ptr;
      if (ec == std::errc() && pid > 0) pids.push_back(pid);
      pos = end + 1;
    }
    return 0;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

int ServiceCgroup::remove_tree(const std::string& dir, int depth) noexcept {
  try {
    if (depth < kMaxDepth) {
      std::vector<std::string> children;
      if (fs_->list_subdirs(dir, children) == 0) {
        for (const auto& child : children) {
          int rc = remove_tree(dir + "/" + child, depth + 1);
          if (rc != 0 && rc != ENOENT) return rc;
        }
      }
    }
    return fs_->remove_dir(dir);
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

int ServiceCgroup::remove() noexcept {
  if (fs_ == nullptr) return EBADF;
  close();
  int rc = remove_tree(path_, 0);
  return rc == ENOENT ? 0 : rc;
}

}  // namespace cairn::init
