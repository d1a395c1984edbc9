// Keeps libraft's io_destroy(2) calls off dqlite's event-loop thread.
//
// Why: libraft 0.15 writes its log through Linux AIO, one AIO context per open segment, and
// destroys that context (io_destroy) on the loop thread whenever it closes a segment: each
// time an 8 MiB segment fills and at every raft snapshot (a snapshot closes the open
// segments). The kernel's io_destroy waits for two RCU grace periods before it returns
// (fs/aio.c: kill_ioctx, percpu_ref kills of the context's users and requests); measured
// here 26-38 ms per call on an idle machine, during which the loop thread appends, commits
// and replies to nothing. That was the periodic commit stall behind the watch latency tail
// (docs/benchmarks.md, "watch latency, session 4").
//
// How: libraft calls io_destroy through glibc's variadic syscall(), not through a symbol of
// its own, so this file defines `syscall` for the whole process (the executable's definition
// interposes glibc's; the target exports it, see CMakeLists.txt). Every call except
// io_destroy goes to glibc's syscall() unchanged. io_destroy of a valid context returns 0 at
// once and the real call runs on a background thread; an invalid context still gets EINVAL
// synchronously (probed with a zero-length io_getevents). libraft closes a segment's AIO
// context only after its writes completed (acknowledged writes are durable before that), so
// nothing waits on the destroy but the kernel's cleanup.
#pragma once

#include <cstdint>

namespace cairn::dqlite {

enum class IoDestroyMode {
  kBackground,  // default: io_destroy returns at once, a background thread runs it
  kInline,      // glibc's behaviour: the caller waits (for A/B measurements)
};

// Process-wide; safe to call at any time from any thread.
void set_io_destroy_mode(IoDestroyMode mode);
IoDestroyMode io_destroy_mode();

struct IoDestroyStats {
  uint64_t deferred = 0;   // io_destroy calls handed to the background thread
  uint64_t completed = 0;  // of those, how many returned
  uint64_t failed = 0;     // of those, how many returned an error (should stay 0)
};
IoDestroyStats io_destroy_stats();

// Blocks until every io_destroy handed to the background thread so far has returned.
void drain_deferred_io_destroys();

}  // namespace cairn::dqlite
