// End to end: the real cairn-init in development mode (a child subreaper in a private cgroup,
// through init/tests/harness.h) against fixtures/e2e, driven by the real cairnctl binary over
// the control socket.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "init/tests/harness.h"

namespace cairn::init {
namespace {

using testing::InitUnderTest;

struct Outcome {
  int code = -1;
  std::string out, err;
};

// Runs cairnctl with `args` against `socket`; waits for it (it has its own reply timeout).
Outcome cairnctl(const std::string& socket, std::vector<std::string> args) {
  args.insert(args.begin(), {CAIRNCTL, "--socket", socket});
  std::string out_path = "/tmp/cairnctl-it-out-" + std::to_string(getpid());
  std::string err_path = out_path + ".err";
  pid_t pid = fork();
  if (pid == 0) {
    FILE* out = fopen(out_path.c_str(), "w");
    FILE* err = fopen(err_path.c_str(), "w");
    dup2(fileno(out), 1);
    dup2(fileno(err), 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  Outcome run;
  int status = 0;
  waitpid(pid, &status, 0);
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream o(out_path), e(err_path);
  run.out.assign(std::istreambuf_iterator<char>(o), {});
  run.err.assign(std::istreambuf_iterator<char>(e), {});
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return run;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// The status table row of `name` ("" if absent).
std::string row(const std::string& table, const std::string& name) {
  size_t pos = 0;
  while ((pos = table.find(name + " ", pos)) != std::string::npos) {
    if (pos == 0 || table[pos - 1] == '\n' || table[pos - 1] == ' ') {
      size_t end = table.find('\n', pos);
      return table.substr(pos, end - pos);
    }
    ++pos;
  }
  return "";
}

class CairnctlEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(init_.start()) << init_.console();
    socket_ = init_.dir() + "/control.sock";
    ASSERT_TRUE(init_.wait_for(
        [&] {
          Outcome r = cairnctl(socket_, {"status"});
          return r.code == 0 && contains(row(r.out, "db"), " ready ") &&
                 contains(row(r.out, "web"), " ready ") &&
                 contains(row(r.out, "ticker"), " ready ");
        },
        std::chrono::seconds(60)))
        << cairnctl(socket_, {"status"}).out << "\nconsole:\n"
        << init_.console();
  }

  void TearDown() override {
    if (!init_.running()) return;
    init_.signal(SIGTERM);
    init_.wait_exit(std::chrono::seconds(60));
  }

  InitUnderTest init_{"e2e", InitUnderTest::Mode::Dev};
  std::string socket_;
};

TEST_F(CairnctlEndToEnd, StatusShowsEveryServiceAndInvalidOnes) {
  Outcome r = cairnctl(socket_, {"status"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "NAME")) << r.out;
  EXPECT_TRUE(contains(row(r.out, "db"), "fixture database")) << r.out;
  std::string broken = row(r.out, "broken");
  EXPECT_TRUE(contains(broken, "invalid")) << r.out;
  EXPECT_TRUE(contains(broken, "broken.toml:4:10: error: restart.policy")) << r.out;

  Outcome json = cairnctl(socket_, {"status", "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_TRUE(contains(json.out, "\"name\": \"web\"")) << json.out;
  EXPECT_TRUE(contains(json.out, "\"state\": \"ready\"")) << json.out;
}

TEST_F(CairnctlEndToEnd, LogsStopStartRestart) {
  ASSERT_TRUE(init_.wait_for([&] {
    return contains(cairnctl(socket_, {"logs", "web"}).out, "web says hello");
  })) << init_.console();

  Outcome stop = cairnctl(socket_, {"stop", "web"});
  EXPECT_EQ(stop.code, 0) << stop.err;
  EXPECT_TRUE(init_.wait_for([&] {
    std::string r = row(cairnctl(socket_, {"status"}).out, "web");
    return contains(r, " stopped ") || contains(r, " exited ");
  }));
  Outcome start = cairnctl(socket_, {"start", "web"});
  EXPECT_EQ(start.code, 0) << start.err;
  EXPECT_TRUE(init_.wait_for(
      [&] { return contains(row(cairnctl(socket_, {"status"}).out, "web"), " ready "); }));

  Outcome restart = cairnctl(socket_, {"restart", "db"});
  EXPECT_EQ(restart.code, 0) << restart.err;
  EXPECT_TRUE(init_.wait_for(
      [&] { return contains(row(cairnctl(socket_, {"status"}).out, "db"), " ready "); }));

  Outcome unknown = cairnctl(socket_, {"start", "no-such-service"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_TRUE(contains(unknown.err, "no-such-service")) << unknown.err;
}

TEST_F(CairnctlEndToEnd, FollowStreamsNewLines) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], 1);
    close(pipe_fds[0]);
    execl(CAIRNCTL, CAIRNCTL, "--socket", socket_.c_str(), "logs", "ticker", "-f", nullptr);
    _exit(127);
  }
  close(pipe_fds[1]);
  // Read until two distinct tick numbers beyond what was already in the ring have arrived.
  std::string seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  char buf[512];
  int ticks = 0;
  while (ticks < 10 && std::chrono::steady_clock::now() < deadline) {
    ssize_t n = read(pipe_fds[0], buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<size_t>(n));
    ticks = 0;
    for (size_t p = 0; (p = seen.find("tick ", p)) != std::string::npos; ++p) ++ticks;
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  close(pipe_fds[0]);
  EXPECT_GE(ticks, 10) << seen;
}

TEST_F(CairnctlEndToEnd, TimelineAndReload) {
  Outcome timeline = cairnctl(socket_, {"timeline"});
  ASSERT_EQ(timeline.code, 0) << timeline.err;
  EXPECT_TRUE(contains(timeline.out, "READY-IN")) << timeline.out;
  EXPECT_TRUE(contains(timeline.out, " db ")) << timeline.out;
  EXPECT_TRUE(contains(timeline.out, " web ")) << timeline.out;

  std::ofstream(init_.dir() + "/services/extra.toml")
      << "description = \"added by reload\"\nexec = [\"/bin/sleep\", \"600\"]\n";
  Outcome reload = cairnctl(socket_, {"reload"});
  ASSERT_EQ(reload.code, 0) << reload.err;
  EXPECT_TRUE(contains(reload.out, "1 added (extra)")) << reload.out;
  EXPECT_TRUE(init_.wait_for([&] {
    return contains(row(cairnctl(socket_, {"status"}).out, "extra"), "added by reload");
  }));
}

TEST_F(CairnctlEndToEnd, PoweroffStopsTheSupervisor) {
  Outcome power = cairnctl(socket_, {"poweroff"});
  EXPECT_EQ(power.code, 0) << power.err;
  // In development mode a power action ends the supervisor after the ordered stop.
  int status = init_.wait_exit(std::chrono::seconds(60));
  ASSERT_GE(status, 0) << "cairn-init still running; console:\n" << init_.console();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << init_.console();
  EXPECT_TRUE(init_.service_pids("db").empty());
}

}  // namespace
}  // namespace cairn::init

namespace cairn::init {
namespace {

// `cairn-init --check DIR`: every diagnostic with file:line:col, a summary, exit 1.
TEST(CairnInitCheck, ReportsInvalidFilesAndExitsNonZero) {
  std::string out_path = "/tmp/cairn-check-out-" + std::to_string(getpid());
  std::string command =
      std::string(CAIRN_INIT) + " --check " + CAIRN_FIXTURES "/e2e > " + out_path + " 2>&1";
  int status = std::system(command.c_str());
  std::ifstream in(out_path);
  std::string out((std::istreambuf_iterator<char>(in)), {});
  unlink(out_path.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1) << out;
  EXPECT_NE(out.find("/e2e/broken.toml:4:10: error: restart.policy: unknown policy \"sometimes\""),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("4 services, 3 valid, 1 invalid"), std::string::npos) << out;

  // The shipped examples are all valid.
  command = std::string(CAIRN_INIT) + " --check " + CAIRN_FIXTURES "/../../../services > " +
            out_path + " 2>&1";
  status = std::system(command.c_str());
  std::ifstream in2(out_path);
  std::string out2((std::istreambuf_iterator<char>(in2)), {});
  unlink(out_path.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out2;
}

}  // namespace
}  // namespace cairn::init
