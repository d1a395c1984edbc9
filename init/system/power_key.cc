#include "init/system/power_key.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

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

struct PowerKeyWatcher::Impl {
  Impl(EventLoop& l, std::function<void()> cb) : loop(l), on_press(std::move(cb)) {}

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
    for (auto it = fds.begin(); it != fds.end(); ++it) {
      if (*it == fd) {
        fds.erase(it);
        break;
      }
    }
  }

  EventLoop& loop;
  std::function<void()> on_press;
  std::vector<int> fds;
};

PowerKeyWatcher::PowerKeyWatcher(EventLoop& loop, std::function<void()> on_press)
    : impl_(std::make_unique<Impl>(loop, std::move(on_press))) {}

PowerKeyWatcher::~PowerKeyWatcher() {
  for (int fd : impl_->fds) {
    impl_->loop.unwatch(fd);
    ::close(fd);
  }
}

size_t PowerKeyWatcher::open_devices(const std::string& dir) noexcept {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return impl_->fds.size();
  while (dirent* entry = ::readdir(d)) {
    if (std::strncmp(entry->d_name, "event", 5) != 0) continue;
    std::string path = dir + "/" + entry->d_name;
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) continue;
    if (!device_has_power_key(fd)) {
      ::close(fd);
      continue;
    }
    add_fd(fd);
  }
  ::closedir(d);
  return impl_->fds.size();
}

bool PowerKeyWatcher::add_fd(int fd) noexcept {
  int flags = ::fcntl(fd, F_GETFL);
  Impl* impl = impl_.get();
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
      !impl->loop.watch(fd, EPOLLIN, [impl, fd](uint32_t) { impl->drain(fd); })) {
    ::close(fd);
    return false;
  }
  impl->fds.push_back(fd);
  return true;
}

size_t PowerKeyWatcher::device_count() const noexcept {
  return impl_->fds.size();
}

}  // namespace cairn::init::system
