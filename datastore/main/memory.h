// Heap settings that keep cairn-datastore's resident size close to what it really uses.
//
// dqlite keeps the database and the raft log in malloc'd memory (4 KiB pages and entry
// buffers) and gRPC allocates and frees request buffers on many threads. With glibc's
// defaults that freed memory stays resident: one arena per busy thread (up to 8 per core),
// each holding its own free lists, and a dynamic mmap threshold that, once the first
// snapshot-sized buffer is freed, sends every later allocation below 32 MiB to the heaps.
// Measured with 100,000 keys of 1 KiB: 201 MiB in use, 350 MiB resident (see
// docs/datastore.md, "Memory").
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace cairn::datastore::cli {

// "tcmalloc" when the binary links gperftools' tcmalloc (datastore/main/allocator.cmake,
// -DCAIRN_DATASTORE_TCMALLOC=ON), else "glibc".
const char* allocator_name();

// glibc: at most 2 arenas, a fixed 128 KiB mmap threshold (large buffers go straight back
// to the kernel when freed) and a 128 KiB trim threshold. tcmalloc: thread caches capped at
// 8 MiB in all. Call first thing in main(), before any thread starts. No effect under
// sanitizers, which bring their own allocator.
void configure_allocator();

// Returns free heap pages to the kernel every `period` on its own thread (glibc: malloc_trim;
// tcmalloc: ReleaseFreeMemory), so memory freed inside the heaps (not only at their tops)
// stops counting as resident.
class HeapTrimmer {
 public:
  explicit HeapTrimmer(std::chrono::milliseconds period);
  ~HeapTrimmer();  // stops and joins the thread
  HeapTrimmer(const HeapTrimmer&) = delete;
  HeapTrimmer& operator=(const HeapTrimmer&) = delete;

 private:
  void run();

  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace cairn::datastore::cli
