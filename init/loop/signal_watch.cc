#include "init/loop/signal_watch.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

namespace cairn::init {

SignalWatch::~SignalWatch() {
  close();
}

bool SignalWatch::open(std::initializer_list<int> signals, Callback callback) noexcept {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : signals) sigaddset(&set, sig);
  return open(set, std::move(callback));
}

bool SignalWatch::open(const sigset_t& signals, Callback callback) noexcept {
  close();
  if (sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) return false;
  int fd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    int saved = errno;
    sigprocmask(SIG_UNBLOCK, &signals, nullptr);
    errno = saved;
    return false;
  }
  fd_ = fd;
  mask_ = signals;
  callback_ = std::move(callback);
  if (!loop_.watch(fd_, EPOLLIN, [this](uint32_t) { drain(); })) {
    int saved = errno;
    close();
    errno = saved;
    return false;
  }
  return true;
}

void SignalWatch::close() noexcept {
  if (fd_ < 0) return;
  loop_.unwatch(fd_);
  ::close(fd_);
  fd_ = -1;
  sigprocmask(SIG_UNBLOCK, &mask_, nullptr);
  sigemptyset(&mask_);
}

void SignalWatch::drain() noexcept {
  // Bounded: a signal storm cannot keep the loop here forever.
  for (int round = 0; round < 64 && fd_ >= 0; ++round) {
    signalfd_siginfo infos[16];
    ssize_t n = read(fd_, infos, sizeof infos);
    if (n <= 0) return;
    size_t count = static_cast<size_t>(n) / sizeof(signalfd_siginfo);
    for (size_t i = 0; i < count; ++i) {
      if (callback_) callback_(infos[i]);
    }
  }
}

}  // namespace cairn::init
