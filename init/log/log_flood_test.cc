// A service flooding its log: 50 MB through the pipe while the loop must keep serving other
// work, and the ring and the files must stay within their bounds.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "init/log/log_hub.h"

namespace cairn::init {
namespace {

namespace fs = std::filesystem;

TEST(LogFlood, FiftyMegabytesStayBoundedAndTheLoopKeepsServing) {
  char t[] = "/tmp/cairn-flood-XXXXXX";
  std::string dir = mkdtemp(t);
  EventLoop loop;
  LogHub hub(loop);
  ASSERT_TRUE(hub.set_log_dir(dir));
  LogSpec spec;
  spec.ring_bytes = 64 << 10;
  spec.max_file_bytes = 1 << 20;
  spec.max_files = 3;
  int w = hub.open_service_pipe("flood", spec);
  ASSERT_GE(w, 0);

  constexpr size_t kTotal = 50u << 20;
  pid_t writer = fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    std::string chunk;
    for (int i = 0; chunk.size() < (64 << 10); ++i) {
      chunk += "flood line " + std::to_string(i) + " " + std::string(80, 'z') + "\n";
    }
    chunk.resize(64 << 10);
    // The last 1 MiB has no newline at all: it must be cut, not held.
    std::string no_newline(1 << 20, 'n');
    size_t sent = 0;
    while (sent + no_newline.size() < kTotal) {
      size_t n = std::min(chunk.size(), kTotal - no_newline.size() - sent);
      if (write(w, chunk.data(), n) != static_cast<ssize_t>(n)) _exit(1);
      sent += n;
    }
    for (size_t off = 0; off < no_newline.size();) {
      ssize_t n = write(w, no_newline.data() + off, no_newline.size() - off);
      if (n <= 0) _exit(2);
      off += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(w);

  // Other work on the loop: a 5 ms timer that must keep firing during the flood.
  int ticks = 0;
  int ticks_in_first_half = 0;  // timer rounds while less than half the flood was read
  std::function<void()> tick = [&] {
    ++ticks;
    if (hub.counters("flood").bytes < kTotal / 2) ++ticks_in_first_half;
    loop.add_timer(std::chrono::milliseconds(5), tick);
  };
  loop.add_timer(std::chrono::milliseconds(5), tick);
  size_t max_ring = 0;
  auto start = std::chrono::steady_clock::now();
  while (hub.open_pipes() > 0 &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(240)) {
    loop.run_once(std::chrono::milliseconds(100));
    max_ring = std::max(max_ring, hub.tail("flood", 1 << 30).size());
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  int status = 0;
  ASSERT_EQ(waitpid(writer, &status, 0), writer);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(hub.open_pipes(), 0u) << "flood not drained in time";

  LogCounters c = hub.counters("flood");
  EXPECT_EQ(c.bytes, kTotal);
  EXPECT_GE(c.cut_lines, (1u << 20) / 4096 - 1);  // the newline-less tail was cut
  EXPECT_EQ(c.dropped_file, 0u);
  EXPECT_LE(max_ring, spec.ring_bytes);
  // The timer kept firing while the flood was still being read (a starved loop would only
  // run it after the pipe closed). No rate is asserted: the machine may be loaded.
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  EXPECT_GE(ticks_in_first_half, 3) << "ticks " << ticks << ", elapsed " << ms << " ms";
  uint64_t total_files = 0;
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++files;
    EXPECT_LE(fs::file_size(e), spec.max_file_bytes + 4096);
    total_files += fs::file_size(e);
  }
  EXPECT_EQ(files, 3);
  EXPECT_LE(total_files, 3u * (spec.max_file_bytes + 4096));
  EXPECT_GT(c.rotations, 40u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cairn::init
