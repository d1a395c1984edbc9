#include "datastore/main/memory.h"

#include <malloc.h>

namespace cairn::datastore::cli {

void configure_allocator() {
  // Two arenas: the dqlite thread and everyone else rarely contend (the writer batches), and
  // fewer arenas means freed memory is reused instead of idling in per-thread free lists.
  ::mallopt(M_ARENA_MAX, 2);
  // Setting these also turns off glibc's dynamic thresholds (which rise to 32 MiB after the
  // first large free, e.g. a snapshot buffer, and then keep big buffers on the heap).
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 128 * 1024);
}

HeapTrimmer::HeapTrimmer(std::chrono::milliseconds period)
    : period_(period), thread_([this] { run(); }) {}

HeapTrimmer::~HeapTrimmer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HeapTrimmer::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, period_, [this] { return stop_; })) {
    lock.unlock();
    ::malloc_trim(0);
    lock.lock();
  }
}

}  // namespace cairn::datastore::cli
