// The process-wide syscall() wrapper that runs io_destroy on a background thread (why: see
// aio_reaper.h).
#include "datastore/dqlite/aio_reaper.h"

#include <dlfcn.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

namespace cairn::dqlite {
namespace {

using SyscallFn = long (*)(long, ...);

// glibc's syscall(), found once (dlsym is safe to call from any thread; a race resolves the
// same address twice).
SyscallFn real_syscall() {
  static std::atomic<SyscallFn> fn{nullptr};
  SyscallFn f = fn.load(std::memory_order_acquire);
  if (f == nullptr) {
    f = reinterpret_cast<SyscallFn>(::dlsym(RTLD_NEXT, "syscall"));
    if (f == nullptr) {
      // Only a program with glibc itself linked statically gets here (cairn-datastore links
      // glibc dynamically even when the other libraries are static): nothing to forward to.
      std::fputs("cairn-datastore: dlsym(RTLD_NEXT, \"syscall\") failed\n", stderr);
      std::abort();
    }
    fn.store(f, std::memory_order_release);
  }
  return f;
}

std::atomic<bool> g_background{true};

// Never destroyed: the thread may still use it while static destructors run at exit.
struct Reaper {
  std::mutex mu;
  std::condition_variable wake;  // work queued
  std::condition_variable idle;  // queue empty and nothing in progress
  std::deque<long> queue;
  bool thread_started = false;
  bool busy = false;
  std::atomic<uint64_t> deferred{0};
  std::atomic<uint64_t> completed{0};
  std::atomic<uint64_t> failed{0};

  void run() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      wake.wait(lock, [this] { return !queue.empty(); });
      long ctx = queue.front();
      queue.pop_front();
      busy = true;
      lock.unlock();
      long rc = real_syscall()(SYS_io_destroy, ctx);
      if (rc != 0) failed.fetch_add(1, std::memory_order_relaxed);
      completed.fetch_add(1, std::memory_order_relaxed);
      lock.lock();
      busy = false;
      if (queue.empty()) idle.notify_all();
    }
  }

  // False if no thread could be started (the caller then destroys inline).
  bool enqueue(long ctx) {
    std::lock_guard<std::mutex> lock(mu);
    if (!thread_started) {
      try {
        std::thread([this] { run(); }).detach();
      } catch (const std::exception&) {
        return false;
      }
      thread_started = true;
    }
    queue.push_back(ctx);
    deferred.fetch_add(1, std::memory_order_relaxed);
    wake.notify_one();
    return true;
  }
};

Reaper& reaper() {
  static Reaper* r = new Reaper;
  return *r;
}

// io_destroy's own answer for a context that does not exist is EINVAL; keep it synchronous.
// A zero-length io_getevents with a zero timeout returns at once: 0 for a live context.
bool context_is_live(long ctx) {
  timespec zero{};
  return real_syscall()(SYS_io_getevents, ctx, 0L, 0L, nullptr, &zero) == 0;
}

long io_destroy_wrapper(long ctx) {
  if (!g_background.load(std::memory_order_relaxed) || !context_is_live(ctx) ||
      !reaper().enqueue(ctx)) {
    return real_syscall()(SYS_io_destroy, ctx);
  }
  return 0;
}

}  // namespace

void set_io_destroy_mode(IoDestroyMode mode) {
  g_background.store(mode == IoDestroyMode::kBackground, std::memory_order_relaxed);
}

IoDestroyMode io_destroy_mode() {
  return g_background.load(std::memory_order_relaxed) ? IoDestroyMode::kBackground
                                                      : IoDestroyMode::kInline;
}

IoDestroyStats io_destroy_stats() {
  Reaper& r = reaper();
  IoDestroyStats s;
  s.deferred = r.deferred.load(std::memory_order_relaxed);
  s.completed = r.completed.load(std::memory_order_relaxed);
  s.failed = r.failed.load(std::memory_order_relaxed);
  return s;
}

void drain_deferred_io_destroys() {
  Reaper& r = reaper();
  std::unique_lock<std::mutex> lock(r.mu);
  r.idle.wait(lock, [&r] { return r.queue.empty() && !r.busy; });
}

}  // namespace cairn::dqlite

// glibc declares `long syscall(long, ...)` (unistd.h, noexcept in C++). The arguments are
// read as six longs, as many as any Linux system call takes: on x86-64 and arm64 they all
// travel in registers (or the caller's stack area), so reading unused ones is harmless, and
// glibc's own syscall() passes six registers through the same way. On x86-64 the sixth is
// read from the caller's stack even when it passed fewer: mapped memory, but a redzone to
// AddressSanitizer when the caller is instrumented, hence no_sanitize_address.
extern "C" __attribute__((visibility("default"), no_sanitize_address)) long syscall(long number,
                                                                                    ...) noexcept {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& v : a) v = va_arg(ap, long);
  va_end(ap);
  if (number == SYS_io_destroy) return cairn::dqlite::io_destroy_wrapper(a[0]);
  return cairn::dqlite::real_syscall()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
