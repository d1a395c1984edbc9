#include "datastore/main/memory.h"

#include <malloc.h>

// gperftools' C interface, present when the binary links tcmalloc (-DCAIRN_DATASTORE_TCMALLOC=ON,
// datastore/main/allocator.cmake); weak, so that the same code runs on glibc's malloc (the
// default, tests, sanitizers).
extern "C" {
void MallocExtension_ReleaseFreeMemory(void) __attribute__((weak));
int MallocExtension_SetNumericProperty(const char* property, size_t value) __attribute__((weak));
}

namespace cairn::datastore::cli {

const char* allocator_name() {
  return MallocExtension_ReleaseFreeMemory != nullptr ? "tcmalloc" : "glibc";
}

void configure_allocator() {
  if (MallocExtension_SetNumericProperty != nullptr) {
    // tcmalloc keeps at most this much in its per-thread caches (all threads together;
    // default 32 MiB): freed memory there counts as resident.
    MallocExtension_SetNumericProperty("tcmalloc.max_total_thread_cache_bytes", 8 << 20);
    return;
  }
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
    if (MallocExtension_ReleaseFreeMemory != nullptr) {
      MallocExtension_ReleaseFreeMemory();  // tcmalloc's free page spans back to the kernel
    } else {
      ::malloc_trim(0);
    }
    lock.lock();
  }
}

}  // namespace cairn::datastore::cli
