#include "init/log/log_hub.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace cairn::init {
namespace {

namespace fs = std::filesystem;

// 2026-01-31T12:00:00.123Z
constexpr int64_t kPinnedMs = 1'769'860'800'123;

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct LogHubTest : ::testing::Test {
  LogHubTest() {
    EXPECT_EQ(pipe2(console, O_CLOEXEC | O_NONBLOCK), 0);
    LogHubOptions o;
    o.console_fd = console[1];
    o.max_line_bytes = 16;
    o.wall_clock_ms = [] { return kPinnedMs; };
    hub = std::make_unique<LogHub>(loop, o);
    char t[] = "/tmp/cairn-hub-XXXXXX";
    dir = mkdtemp(t);
  }
  ~LogHubTest() override {
    hub.reset();
    close(console[0]);
    close(console[1]);
    fs::remove_all(dir);
  }
  void pump(const std::function<bool()>& done) {
    for (int i = 0; i < 400 && !done(); ++i) loop.run_once(std::chrono::milliseconds(20));
  }
  EventLoop loop;
  int console[2];
  std::unique_ptr<LogHub> hub;
  std::string dir;
};

TEST_F(LogHubTest, LinesGoToRingFollowersAndConsoleBeforeTheLogDir) {
  LogSpec spec;
  int w = hub->open_service_pipe("web", spec);
  ASSERT_GE(w, 0);
  EXPECT_EQ(fcntl(w, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);  // no leak into other services
  std::vector<std::string> followed;
  hub->follow("web", [&](const std::string& l) { followed.push_back(l); });
  hub->follow("other", [&](const std::string&) { ADD_FAILURE() << "wrong service"; });
  ASSERT_GT(write(w, "hello\nworld\npart", 16), 0);
  pump([&] { return followed.size() >= 2; });
  EXPECT_EQ(hub->tail("web", 1000),
            "2026-01-31T12:00:00.123Z hello\n2026-01-31T12:00:00.123Z world\n");
  EXPECT_EQ(followed, (std::vector<std::string>{"2026-01-31T12:00:00.123Z hello",
                                                "2026-01-31T12:00:00.123Z world"}));
  EXPECT_EQ(read_all(console[0]), "web: hello\nweb: world\n");
  // The pipe closes: the partial line is flushed and the read end is closed.
  close(w);
  pump([&] { return hub->open_pipes() == 0; });
  EXPECT_EQ(hub->open_pipes(), 0u);
  EXPECT_EQ(followed.back(), "2026-01-31T12:00:00.123Z part");
  LogCounters c = hub->counters("web");
  EXPECT_EQ(c.lines, 3u);
  EXPECT_EQ(c.bytes, 16u);
  EXPECT_EQ(hub->tail("unknown", 100), "");
}

TEST_F(LogHubTest, LongLinesAreCutAndFollowersMayUnfollowThemselves) {
  int w = hub->open_service_pipe("svc", LogSpec{});
  LogHub::FollowerId id = 0;
  int calls = 0;
  id = hub->follow("svc", [&](const std::string&) {
    ++calls;
    hub->unfollow(id);
  });
  std::string line(40, 'x');
  line += "\n";
  ASSERT_EQ(write(w, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  close(w);
  pump([&] { return hub->open_pipes() == 0; });
  EXPECT_EQ(calls, 1);
  LogCounters c = hub->counters("svc");
  EXPECT_EQ(c.lines, 3u);  // 16 + 16 + 8
  EXPECT_EQ(c.cut_lines, 2u);
}

TEST_F(LogHubTest, LogDirGetsEarlyLinesThenFilesInsteadOfConsole) {
  LogSpec spec;
  spec.max_file_bytes = 200;
  spec.max_files = 2;
  int w = hub->open_service_pipe("db", spec);
  ASSERT_EQ(write(w, "early\n", 6), 6);
  pump([&] { return hub->counters("db").lines == 1; });
  ASSERT_TRUE(hub->set_log_dir(dir + "/var/log/cairn"));
  ASSERT_EQ(write(w, "late\n", 5), 5);
  pump([&] { return hub->counters("db").lines == 2; });
  EXPECT_EQ(read_file(dir + "/var/log/cairn/db.log"),
            "2026-01-31T12:00:00.123Z early\n2026-01-31T12:00:00.123Z late\n");
  EXPECT_EQ(read_all(console[0]), "db: early\n");  // not "late": files took over
  for (int i = 0; i < 20; ++i) ASSERT_EQ(write(w, "0123456789\n", 11), 11);
  close(w);
  pump([&] { return hub->open_pipes() == 0; });
  EXPECT_TRUE(fs::exists(dir + "/var/log/cairn/db.log.1"));
  EXPECT_FALSE(fs::exists(dir + "/var/log/cairn/db.log.2"));
  EXPECT_LE(fs::file_size(dir + "/var/log/cairn/db.log"), 200u);
  EXPECT_GE(hub->counters("db").rotations, 1u);
  EXPECT_FALSE(hub->set_log_dir("/proc/version/not-a-dir"));
}

// Before the final unmount pass PID 1 lets go of /var: no fd of this process points into the
// log directory afterwards, and later lines reach the console again.
TEST_F(LogHubTest, CloseLogDirLeavesNoOpenFileThere) {
  auto open_in_dir = [&] {
    int n = 0;
    for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      std::string target = fs::read_symlink(e.path(), ec).string();
      if (!ec && target.rfind(dir, 0) == 0) ++n;
    }
    return n;
  };
  ASSERT_TRUE(hub->set_log_dir(dir));
  hub->system("into the file");
  EXPECT_GE(open_in_dir(), 2);  // the directory and cairn-init.log
  read_all(console[0]);
  hub->close_log_dir();
  EXPECT_EQ(open_in_dir(), 0);
  EXPECT_EQ(read_file(dir + "/cairn-init.log"), "2026-01-31T12:00:00.123Z into the file\n");
  int w = hub->open_service_pipe("db", LogSpec{});
  ASSERT_GE(w, 0);
  ASSERT_EQ(write(w, "after\n", 6), 6);
  close(w);
  pump([&] { return hub->open_pipes() == 0; });
  EXPECT_EQ(read_all(console[0]), "db: after\n");
  EXPECT_EQ(open_in_dir(), 0);
}

TEST_F(LogHubTest, SystemMessagesAlwaysReachTheConsole) {
  ASSERT_TRUE(hub->set_log_dir(dir));
  hub->system("node ready in 812 ms\nsecond line");
  // Cut at max_line_bytes (16 in this fixture) like any other line.
  EXPECT_EQ(read_all(console[0]), "cairn-init: node ready in 81\ncairn-init: second line\n");
  EXPECT_EQ(hub->tail("cairn-init", 1000),
            "2026-01-31T12:00:00.123Z node ready in 81\n2026-01-31T12:00:00.123Z second line\n");
  EXPECT_EQ(read_file(dir + "/cairn-init.log"), hub->tail("cairn-init", 1000));
}

// /var not yet writable: an existing log directory on a read-only filesystem is refused, so
// main keeps retrying instead of dropping every line into a file that cannot be written.
TEST(LogHubDir, ReadOnlyDirectoryIsRefused) {
  char t[] = "/tmp/cairn-rodir-XXXXXX";
  std::string dir = mkdtemp(t);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (unshare(CLONE_NEWNS) != 0) _exit(10);
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(11);
    if (mount("tmpfs", dir.c_str(), "tmpfs", 0, nullptr) != 0) _exit(12);
    if (mkdir((dir + "/log").c_str(), 0755) != 0) _exit(13);
    EventLoop loop;
    LogHub hub(loop);
    if (!hub.set_log_dir(dir + "/log")) _exit(14);  // writable: accepted
    if (mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) _exit(15);
    LogHub ro(loop);
    _exit(ro.set_log_dir(dir + "/log") ? 16 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  rmdir(dir.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(LogHubKmsg, ConsoleLinesAsKmsgRecords) {
  EventLoop loop;
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  LogHubOptions o;
  o.console_fd = p[1];
  o.console_is_kmsg = true;
  LogHub hub(loop, o);
  hub.system("up");
  char buf[64];
  ssize_t n = read(p[0], buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "<6>cairn-init: up");
  close(p[0]);
  close(p[1]);
}

TEST(LogHubConsole, AFullConsoleDropsInsteadOfBlocking) {
  EventLoop loop;
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  LogHubOptions o;
  o.console_fd = p[1];  // nobody reads it: it fills up
  LogHub hub(loop, o);
  std::string big(1000, 'y');
  for (int i = 0; i < 200; ++i) hub.system(big);
  EXPECT_GT(hub.counters("cairn-init").dropped_console, 0u);
  EXPECT_EQ(hub.counters("cairn-init").lines, 200u);
  close(p[0]);
  close(p[1]);
}

}  // namespace
}  // namespace cairn::init
