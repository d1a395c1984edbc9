// The process-wide syscall() wrapper: other system calls pass through with all six
// arguments and errno intact; io_destroy of a live AIO context returns at once and the
// context is gone once the background thread drained; concurrent callers lose none; a dead
// context still gets EINVAL; inline mode destroys synchronously; and libraft's own
// io_destroy calls (a real node's start and stop) reach the wrapper.
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "datastore/dqlite/aio_reaper.h"
#include "datastore/dqlite/client.h"
#include "datastore/dqlite/node.h"
#include "datastore/dqlite/test_support.h"

// See node_integration_test.cc: leaks inside the libraries are theirs.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libraft.so\nleak:libuv.so\nleak:libdqlite.so\n";
}

namespace cairn::dqlite {
namespace {

aio_context_t new_context() {
  aio_context_t ctx = 0;
  EXPECT_EQ(::syscall(SYS_io_setup, 1, &ctx), 0) << std::strerror(errno);
  return ctx;
}

// 0 if the context exists, else errno (EINVAL once destroyed).
int context_state(aio_context_t ctx) {
  timespec zero{};
  return ::syscall(SYS_io_getevents, ctx, 0L, 0L, nullptr, &zero) == 0 ? 0 : errno;
}

TEST(AioReaper, OtherSystemCallsPassThroughWithErrno) {
  EXPECT_EQ(::syscall(SYS_getpid), ::getpid());
  errno = 0;
  EXPECT_EQ(::syscall(SYS_close, -1), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST(AioReaper, SixArgumentsReachTheKernel) {
  testing::TempDir tmp;
  std::string path = tmp.sub("pages");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  long page = ::sysconf(_SC_PAGESIZE);
  std::string second(static_cast<size_t>(page), 'b');
  ASSERT_EQ(::pwrite(fd, std::string(static_cast<size_t>(page), 'a').data(), page, 0), page);
  ASSERT_EQ(::pwrite(fd, second.data(), page, page), page);
  // mmap's sixth argument, the file offset, selects the second page.
  long addr = ::syscall(SYS_mmap, nullptr, page, PROT_READ, MAP_PRIVATE, fd, page);
  ASSERT_NE(addr, -1) << std::strerror(errno);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(addr), static_cast<size_t>(page)), second);
  ::munmap(reinterpret_cast<void*>(addr), static_cast<size_t>(page));
  ::close(fd);
}

TEST(AioReaper, DestroyOfALiveContextIsDeferredAndHappens) {
  ASSERT_EQ(io_destroy_mode(), IoDestroyMode::kBackground);
  IoDestroyStats before = io_destroy_stats();
  aio_context_t ctx = new_context();
  ASSERT_EQ(context_state(ctx), 0);
  EXPECT_EQ(::syscall(SYS_io_destroy, ctx), 0);
  drain_deferred_io_destroys();
  EXPECT_EQ(context_state(ctx), EINVAL);
  IoDestroyStats after = io_destroy_stats();
  EXPECT_EQ(after.deferred, before.deferred + 1);
  EXPECT_EQ(after.completed, before.completed + 1);
  EXPECT_EQ(after.failed, before.failed);
}

TEST(AioReaper, ConcurrentDestroysFromManyThreadsAllHappen) {
  IoDestroyStats before = io_destroy_stats();
  constexpr int kThreads = 4;
  constexpr int kEach = 5;
  std::vector<std::vector<aio_context_t>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kEach; ++i) {
        aio_context_t ctx = new_context();
        made[t].push_back(ctx);
        EXPECT_EQ(::syscall(SYS_io_destroy, ctx), 0);
      }
    });
  }
  for (auto& th : threads) th.join();
  drain_deferred_io_destroys();
  for (auto& list : made) {
    for (aio_context_t ctx : list) EXPECT_EQ(context_state(ctx), EINVAL);
  }
  IoDestroyStats after = io_destroy_stats();
  EXPECT_EQ(after.deferred, before.deferred + kThreads * kEach);
  EXPECT_EQ(after.completed, before.completed + kThreads * kEach);
  EXPECT_EQ(after.failed, before.failed);
}

TEST(AioReaper, DeadContextStillGetsEinvalSynchronously) {
  IoDestroyStats before = io_destroy_stats();
  aio_context_t ctx = new_context();
  ASSERT_EQ(::syscall(SYS_io_destroy, ctx), 0);
  drain_deferred_io_destroys();
  errno = 0;
  EXPECT_EQ(::syscall(SYS_io_destroy, ctx), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(io_destroy_stats().deferred, before.deferred + 1);  // only the first one
}

TEST(AioReaper, InlineModeDestroysBeforeReturning) {
  IoDestroyStats before = io_destroy_stats();
  set_io_destroy_mode(IoDestroyMode::kInline);
  aio_context_t ctx = new_context();
  EXPECT_EQ(::syscall(SYS_io_destroy, ctx), 0);
  EXPECT_EQ(context_state(ctx), EINVAL);  // no drain needed
  set_io_destroy_mode(IoDestroyMode::kBackground);
  EXPECT_EQ(io_destroy_stats().deferred, before.deferred);
}

// libraft reaches io_destroy through glibc's syscall() from inside libraft.so: the wrapper
// must be what it calls (exported from the executable), or the loop-thread stall is back.
TEST(AioReaper, LibraftsDestroysGoThroughTheWrapper) {
  IoDestroyStats before = io_destroy_stats();
  testing::TempDir tmp;
  NodeOptions o;
  o.data_dir = tmp.sub("data");
  o.bind_address = testing::unique_address();
  {
    auto node = Node::start(o);
    ClientOptions co;
    co.addresses = {node->address()};
    co.connect_timeout_ms = 30000;
    co.request_timeout_ms = 60000;
    auto c = Client::connect(co);
    c->open("db");
    c->exec_sql("CREATE TABLE t (v BLOB)");
    node->stop();  // closes the open segment: its AIO context is destroyed
  }
  drain_deferred_io_destroys();
  IoDestroyStats after = io_destroy_stats();
  EXPECT_GT(after.deferred, before.deferred);
  EXPECT_EQ(after.completed, after.deferred);
  EXPECT_EQ(after.failed, before.failed);
}

}  // namespace
}  // namespace cairn::dqlite
