// epoll + a binary heap of timers. Cancelled timers stay in the heap as tombstones (their id
// is gone from `timers`) and are dropped when they reach the top, so cancel is O(1).
#include "init/loop/event_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <new>
#include <unordered_map>
#include <vector>

namespace cairn::init {

namespace {

struct FdEntry {
  uint32_t generation = 0;
  EventLoop::FdCallback callback;
};

struct TimerNode {
  EventLoop::Clock::time_point deadline;
  EventLoop::TimerId id;
  // std::push_heap builds a max-heap: "greater" puts the earliest deadline on top; ties keep
  // insertion order through the increasing id.
  bool operator<(const TimerNode& other) const {
    if (deadline != other.deadline) return deadline > other.deadline;
    return id > other.id;
  }
};

uint64_t pack(int fd, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | static_cast<uint32_t>(fd);
}

}  // namespace

struct EventLoop::Impl {
  int epoll_fd = -1;
  uint32_t next_generation = 1;
  std::unordered_map<int, std::shared_ptr<FdEntry>> fds;
  TimerId next_timer = 1;
  std::vector<TimerNode> heap;
  std::unordered_map<TimerId, TimerCallback> timers;
  std::vector<TimerId> due;  // scratch for run_once, kept at heap capacity

  // Drops cancelled timers from the top so heap.front() is a live one (or the heap is empty).
  void prune() {
    while (!heap.empty() && timers.find(heap.front().id) == timers.end()) {
      std::pop_heap(heap.begin(), heap.end());
      heap.pop_back();
    }
  }
};

EventLoop::EventLoop() : impl_(new Impl) {
  impl_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
}

EventLoop::~EventLoop() {
  if (impl_->epoll_fd >= 0) close(impl_->epoll_fd);
  delete impl_;
}

bool EventLoop::watch(int fd, uint32_t events, FdCallback callback) noexcept {
  if (fd < 0 || impl_->epoll_fd < 0) return false;
  try {
    auto entry = std::make_shared<FdEntry>();
    entry->generation = impl_->next_generation++;
    if (impl_->next_generation == 0) impl_->next_generation = 1;
    entry->callback = std::move(callback);
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = pack(fd, entry->generation);
    auto it = impl_->fds.find(fd);
    int op = it == impl_->fds.end() ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(impl_->epoll_fd, op, fd, &ev) != 0) return false;
    impl_->fds[fd] = std::move(entry);
    return true;
  } catch (...) {
    return false;
  }
}

bool EventLoop::modify(int fd, uint32_t events) noexcept {
  auto it = impl_->fds.find(fd);
  if (it == impl_->fds.end()) return false;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, it->second->generation);
  return epoll_ctl(impl_->epoll_fd, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::unwatch(int fd) noexcept {
  auto it = impl_->fds.find(fd);
  if (it == impl_->fds.end()) return;
  epoll_ctl(impl_->epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
  impl_->fds.erase(it);
}

bool EventLoop::watching(int fd) const noexcept {
  return impl_->fds.count(fd) != 0;
}

EventLoop::TimerId EventLoop::add_timer(std::chrono::milliseconds delay,
                                        TimerCallback callback) noexcept {
  try {
    if (delay.count() < 0) delay = std::chrono::milliseconds(0);
    TimerId id = impl_->next_timer++;
    impl_->heap.reserve(impl_->heap.size() + 1);
    impl_->due.reserve(impl_->heap.size() + 1);
    impl_->timers.emplace(id, std::move(callback));
    impl_->heap.push_back(TimerNode{Clock::now() + delay, id});
    std::push_heap(impl_->heap.begin(), impl_->heap.end());
    return id;
  } catch (...) {
    return 0;
  }
}

void EventLoop::cancel_timer(TimerId id) noexcept {
  impl_->timers.erase(id);
  impl_->prune();
}

size_t EventLoop::pending_timers() const noexcept {
  return impl_->timers.size();
}

void EventLoop::run_once(std::chrono::milliseconds max_wait) noexcept {
  Impl& s = *impl_;
  s.prune();
  int timeout =
      max_wait.count() < 0 ? -1 : static_cast<int>(std::min<int64_t>(max_wait.count(), 1 << 30));
  if (!s.heap.empty()) {
    auto until =
        std::chrono::ceil<std::chrono::milliseconds>(s.heap.front().deadline - Clock::now());
    int64_t ms = std::max<int64_t>(0, until.count());
    if (timeout < 0 || ms < timeout) timeout = static_cast<int>(std::min<int64_t>(ms, 1 << 30));
  }

  epoll_event events[64];
  int n = epoll_wait(s.epoll_fd, events, 64, timeout);
  for (int i = 0; i < n; ++i) {
    int fd = static_cast<int>(events[i].data.u64 & 0xffffffffu);
    uint32_t generation = static_cast<uint32_t>(events[i].data.u64 >> 32);
    auto it = s.fds.find(fd);
    // A callback earlier in this round may have unwatched (or re-watched) this fd.
    if (it == s.fds.end() || it->second->generation != generation) continue;
    std::shared_ptr<FdEntry> keep = it->second;  // survives an unwatch inside the callback
    if (keep->callback) keep->callback(events[i].events);
  }

  // Timers due now, collected first so ones added by these callbacks wait for the next round.
  auto now = Clock::now();
  s.due.clear();
  while (true) {
    s.prune();
    if (s.heap.empty() || s.heap.front().deadline > now) break;
    s.due.push_back(s.heap.front().id);  // capacity reserved in add_timer: no allocation
    std::pop_heap(s.heap.begin(), s.heap.end());
    s.heap.pop_back();
  }
  // By index: add_timer in a callback may grow (reallocate) `due`.
  for (size_t i = 0; i < s.due.size(); ++i) {
    TimerId id = s.due[i];
    auto it = s.timers.find(id);
    if (it == s.timers.end()) continue;  // cancelled by an earlier callback of this round
    TimerCallback callback = std::move(it->second);
    s.timers.erase(it);
    if (callback) callback();
  }
}

void EventLoop::run() noexcept {
  running_ = true;
  while (running_) run_once(std::chrono::milliseconds(-1));
}

}  // namespace cairn::init
