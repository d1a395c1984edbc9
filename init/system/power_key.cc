#include "init/system/power_key.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <map>
#include <string>

namespace cairn::init::system {

bool is_power_key_press(const input_event& event) noexcept {
  return event.type == EV_KEY && event.code == KEY_POWER && event.value == 1;
}

bool device_has_power_key(int fd) noexcept {
  constexpr size_t kBits = 8 * sizeof(unsigned long);
  unsigned long keys[(KEY_MAX + kBits) / kBits] = {};
  if (::ioctl(fd, EVIOCGBIT(EV_KEY, sizeof keys), keys) < 0) return false;
  return (keys[KEY_POWER / kBits] >> (KEY_POWER % kBits)) & 1UL;
}

int open_power_key_device(const std::string& path) noexcept {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return -1;
  if (!device_has_power_key(fd)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

namespace {

bool is_event_node(const char* name) {
  return std::strncmp(name, "event", 5) == 0;
}

}  // namespace

struct PowerKeyWatcher::Impl {
  Impl(EventLoop& l, std::function<void()> cb, DeviceProbe p)
      : loop(l), on_press(std::move(cb)), probe(std::move(p)) {}

  ~Impl() {
    for (const auto& [fd, path] : fds) {
      loop.unwatch(fd);
      ::close(fd);
    }
    if (inotify_fd >= 0) {
      loop.unwatch(inotify_fd);
      ::close(inotify_fd);
    }
  }

  void drain(int fd) noexcept {
    // Bounded per wake-up; evdev delivers whole records only.
    for (int round = 0; round < 16; ++round) {
      input_event events[32];
      ssize_t n = ::read(fd, events, sizeof events);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        remove(fd);  // device gone (or pipe closed in tests)
        return;
      }
      if (n < 0) return;
      size_t count = static_cast<size_t>(n) / sizeof(input_event);
      for (size_t i = 0; i < count; ++i) {
        if (is_power_key_press(events[i]) && on_press) on_press();
      }
      if (static_cast<size_t>(n) < sizeof events) return;
    }
  }

  void remove(int fd) noexcept {
    loop.unwatch(fd);
    ::close(fd);
    fds.erase(fd);
  }

  bool watching(const std::string& path) const {
    for (const auto& [fd, p] : fds) {
      if (p == path) return true;
    }
    return false;
  }

  // Probes one node unless it is watched already (a scan and inotify may both report it).
  void try_device(const std::string& path) noexcept {
    if (watching(path)) return;
    int fd = probe ? probe(path) : -1;
    if (fd >= 0) add(fd, path);
  }

  bool add(int fd, const std::string& path) noexcept {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        !loop.watch(fd, EPOLLIN, [this, fd](uint32_t) { drain(fd); })) {
      ::close(fd);
      return false;
    }
    try {
      fds[fd] = path;
    } catch (...) {
      loop.unwatch(fd);
      ::close(fd);
      return false;
    }
    return true;
  }

  void scan(const std::string& directory) noexcept {
    DIR* d = ::opendir(directory.c_str());
    if (d == nullptr) return;
    try {
      while (dirent* entry = ::readdir(d)) {
        if (is_event_node(entry->d_name)) try_device(directory + "/" + entry->d_name);
      }
    } catch (...) {
    }
    ::closedir(d);
  }

  // Watches `dir` itself; false if it does not exist (yet).
  bool watch_dir() noexcept {
    dir_wd = ::inotify_add_watch(inotify_fd, dir.c_str(),
                                 IN_CREATE | IN_ATTRIB | IN_MOVED_TO | IN_ONLYDIR);
    return dir_wd >= 0;
  }

  void on_inotify() noexcept {
    alignas(inotify_event) char buf[8 * (sizeof(inotify_event) + NAME_MAX + 1)];
    for (int round = 0; round < 16; ++round) {
      ssize_t n = ::read(inotify_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      bool rescan = false;
      for (ssize_t pos = 0; pos < n;) {
        const auto* e = reinterpret_cast<const inotify_event*>(buf + pos);
        pos += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
        if (e->mask & IN_Q_OVERFLOW) rescan = true;
        if (e->wd == dir_wd && (e->mask & IN_IGNORED)) dir_wd = -1;  // dir removed
        if (e->len == 0) continue;
        try {
          if (e->wd == dir_wd && is_event_node(e->name)) {
            try_device(dir + "/" + e->name);
          } else if (e->wd == parent_wd && dir_wd < 0 && dir_name == e->name && watch_dir()) {
            rescan = true;  // nodes created before the watch was in place
          }
        } catch (...) {
        }
      }
      if (rescan && dir_wd >= 0) scan(dir);
      if (static_cast<size_t>(n) < sizeof buf / 2) return;
    }
  }

  EventLoop& loop;
  std::function<void()> on_press;
  DeviceProbe probe;
  std::map<int, std::string> fds;  // watched device fd -> its path ("" from add_fd)
  int inotify_fd = -1;
  int dir_wd = -1, parent_wd = -1;
  std::string dir, dir_name;
};

PowerKeyWatcher::PowerKeyWatcher(EventLoop& loop, std::function<void()> on_press, DeviceProbe probe)
    : impl_(std::make_unique<Impl>(loop, std::move(on_press), std::move(probe))) {}

PowerKeyWatcher::~PowerKeyWatcher() = default;

size_t PowerKeyWatcher::open_devices(const std::string& dir) noexcept {
  impl_->scan(dir);
  return impl_->fds.size();
}

bool PowerKeyWatcher::watch_for_new_devices(const std::string& dir) noexcept {
  Impl& impl = *impl_;
  if (impl.inotify_fd >= 0) return true;
  try {
    impl.dir = dir;
    while (impl.dir.size() > 1 && impl.dir.back() == '/') impl.dir.pop_back();
    size_t slash = impl.dir.rfind('/');
    std::string parent = slash == std::string::npos ? "."
                         : slash == 0               ? "/"
                                                    : impl.dir.substr(0, slash);
    impl.dir_name = slash == std::string::npos ? impl.dir : impl.dir.substr(slash + 1);
    impl.inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (impl.inotify_fd < 0) return false;
    // The parent too, so a /dev/input created (or re-created) later is found.
    impl.parent_wd =
        ::inotify_add_watch(impl.inotify_fd, parent.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
    bool have_dir = impl.watch_dir();
    if ((impl.parent_wd < 0 && !have_dir) ||
        !impl.loop.watch(impl.inotify_fd, EPOLLIN, [&impl](uint32_t) { impl.on_inotify(); })) {
      ::close(impl.inotify_fd);
      impl.inotify_fd = -1;
      return false;
    }
    if (have_dir) impl.scan(impl.dir);  // what appeared between open_devices and now
  } catch (...) {
    return false;
  }
  return true;
}

bool PowerKeyWatcher::add_fd(int fd) noexcept {
  return impl_->add(fd, "");
}

size_t PowerKeyWatcher::device_count() const noexcept {
  return impl_->fds.size();
}

}  // namespace cairn::init::system
