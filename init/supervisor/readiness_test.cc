#include "init/supervisor/readiness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace cairn::init {
namespace {

using std::chrono::milliseconds;

TEST(NotifyMessage, ParsesTheKeysWeSupport) {
  NotifyMessage m = parse_notify_message("READY=1\nSTATUS=serving 3 clients\nMAINPID=4242\n");
  EXPECT_TRUE(m.ready);
  EXPECT_FALSE(m.stopping);
  ASSERT_TRUE(m.status.has_value());
  EXPECT_EQ(*m.status, "serving 3 clients");
  EXPECT_EQ(m.main_pid, 4242);

  m = parse_notify_message("STOPPING=1");
  EXPECT_TRUE(m.stopping);
  EXPECT_FALSE(m.ready);

  m = parse_notify_message("READY=0\nMAINPID=-3\nWATCHDOG=1\ngarbage\n\n=\nMAINPID=12x");
  EXPECT_FALSE(m.ready);
  EXPECT_EQ(m.main_pid, 0);
  EXPECT_FALSE(m.status.has_value());
  EXPECT_FALSE(parse_notify_message("").ready);
  EXPECT_EQ(parse_notify_message("MAINPID=99999999999999999999").main_pid, 0);
}

TEST(SocketTarget, ParsesUnixAndTcp) {
  SocketTarget t;
  std::string err;
  ASSERT_TRUE(parse_socket_target("unix:/run/x.sock", t, err)) << err;
  EXPECT_EQ(t.address.ss_family, AF_UNIX);
  ASSERT_TRUE(parse_socket_target("tcp:127.0.0.1:6443", t, err)) << err;
  EXPECT_EQ(t.address.ss_family, AF_INET);
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(&t.address)->sin_port), 6443);
  ASSERT_TRUE(parse_socket_target("tcp:[::1]:80", t, err)) << err;
  EXPECT_EQ(t.address.ss_family, AF_INET6);
  ASSERT_TRUE(parse_socket_target("tcp:localhost:80", t, err)) << err;
  EXPECT_EQ(t.address.ss_family, AF_INET);

  EXPECT_FALSE(parse_socket_target("tcp:example.com:80", t, err));
  EXPECT_NE(err.find("numeric"), std::string::npos);
  EXPECT_FALSE(parse_socket_target("tcp:127.0.0.1:0", t, err));
  EXPECT_FALSE(parse_socket_target("tcp:127.0.0.1:70000", t, err));
  EXPECT_FALSE(parse_socket_target("tcp:127.0.0.1", t, err));
  EXPECT_FALSE(parse_socket_target("udp:1.2.3.4:5", t, err));
  EXPECT_FALSE(parse_socket_target("unix:", t, err));
  EXPECT_FALSE(parse_socket_target("unix:/" + std::string(200, 'x'), t, err));
}

TEST(CgroupLine, MatchesTheServiceAndItsChildrenOnly) {
  EXPECT_TRUE(cgroup_line_matches("0::/cairn/db\n", "/cairn/db"));
  EXPECT_TRUE(cgroup_line_matches("1:name=systemd:/\n0::/cairn/db/sub\n", "/cairn/db"));
  EXPECT_FALSE(cgroup_line_matches("0::/cairn/dbx\n", "/cairn/db"));
  EXPECT_FALSE(cgroup_line_matches("0::/cairn\n", "/cairn/db"));
  EXPECT_FALSE(cgroup_line_matches("4:memory:/cairn/db\n", "/cairn/db"));
  EXPECT_FALSE(cgroup_line_matches("", "/cairn/db"));
}

class ReadinessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn-readiness-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    callbacks_.ready = [this] { ++ready_; };
    callbacks_.stopping = [this] { ++stopping_; };
    callbacks_.status = [this](const std::string& s) { status_ = s; };
    callbacks_.main_pid = [this](pid_t p) { main_pid_ = p; };
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  void run_until(const std::function<bool()>& done, int ms = 5000) {
    auto until = loop_.now() + milliseconds(ms);
    while (!done() && loop_.now() < until) loop_.run_once(milliseconds(50));
  }

  void send_datagram(const std::string& path, const std::string& text) {
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    ASSERT_EQ(
        sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
        static_cast<ssize_t>(text.size()))
        << strerror(errno);
    close(fd);
  }

  std::string own_cgroup() {
    FILE* f = fopen("/proc/self/cgroup", "r");
    char line[512];
    std::string out;
    while (f && fgets(line, sizeof line, f)) {
      if (strncmp(line, "0::", 3) == 0) {
        out = line + 3;
        out.erase(out.find_last_not_of('\n') + 1);
      }
    }
    if (f) fclose(f);
    return out;
  }

  EventLoop loop_;
  std::string dir_;
  Readiness::Callbacks callbacks_;
  int ready_ = 0, stopping_ = 0;
  std::string status_;
  pid_t main_pid_ = 0;
};

TEST_F(ReadinessTest, NotifySocketAcceptsMessagesFromTheServiceCgroup) {
  Readiness r(loop_, callbacks_);
  std::string err, path = dir_ + "/svc.sock";
  ASSERT_TRUE(r.open_notify(path, own_cgroup(), err)) << err;
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666u);
  send_datagram(path, "STATUS=warming up\nMAINPID=" + std::to_string(getpid()));
  run_until([&] { return !status_.empty(); });
  EXPECT_EQ(status_, "warming up");
  EXPECT_EQ(main_pid_, getpid());
  EXPECT_EQ(ready_, 0);
  send_datagram(path, "READY=1");
  run_until([&] { return ready_ > 0; });
  EXPECT_EQ(ready_, 1);
  EXPECT_TRUE(r.reported_ready());
  send_datagram(path, "STOPPING=1");
  run_until([&] { return stopping_ > 0; });
  EXPECT_EQ(stopping_, 1);
  r.close();
  EXPECT_NE(access(path.c_str(), F_OK), 0);  // unlinked
}

TEST_F(ReadinessTest, NotifyFromOutsideTheCgroupIsIgnored) {
  Readiness r(loop_, callbacks_);
  std::string err, path = dir_ + "/svc.sock";
  ASSERT_TRUE(r.open_notify(path, "/some/other/cgroup", err)) << err;
  send_datagram(path, "READY=1\nSTATUS=spoofed");
  loop_.run_once(milliseconds(200));
  loop_.run_once(milliseconds(50));
  EXPECT_EQ(ready_, 0);
  EXPECT_TRUE(status_.empty());
}

TEST_F(ReadinessTest, NotifyClosesPassedDescriptors) {
  Readiness r(loop_, callbacks_);
  std::string err, path = dir_ + "/svc.sock";
  ASSERT_TRUE(r.open_notify(path, "", err)) << err;
  int before = 0;
  for (int fd = 0; fd < 1024; ++fd) before += fcntl(fd, F_GETFD) != -1;
  int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  int passed = open("/dev/null", O_RDONLY | O_CLOEXEC);
  char text[] = "FDSTORE=1";
  iovec iov{text, sizeof text - 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_name = &addr;
  msg.msg_namelen = sizeof addr;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &passed, sizeof passed);
  ASSERT_GT(sendmsg(sock, &msg, 0), 0) << strerror(errno);
  close(sock);
  close(passed);
  loop_.run_once(milliseconds(200));
  int after = 0;
  for (int fd = 0; fd < 1024; ++fd) after += fcntl(fd, F_GETFD) != -1;
  EXPECT_EQ(after, before) << "the received descriptor must be closed";
}

TEST_F(ReadinessTest, FdPipeNewlineMeansReady) {
  Readiness r(loop_, callbacks_);
  std::string err;
  int w = r.open_pipe(err);
  ASSERT_GE(w, 0) << err;
  int copy = dup(w);  // what the service would hold
  r.spawned();
  ASSERT_EQ(write(copy, "x", 1), 1);
  loop_.run_once(milliseconds(100));
  EXPECT_EQ(ready_, 0);
  ASSERT_EQ(write(copy, "\n", 1), 1);
  run_until([&] { return ready_ > 0; });
  EXPECT_EQ(ready_, 1);
  close(copy);
}

TEST_F(ReadinessTest, FdPipeClosedWithoutNewlineIsNotReady) {
  Readiness r(loop_, callbacks_);
  std::string err;
  int w = r.open_pipe(err);
  ASSERT_GE(w, 0);
  int copy = dup(w);
  r.spawned();
  close(copy);
  loop_.run_once(milliseconds(100));
  loop_.run_once(milliseconds(50));
  EXPECT_EQ(ready_, 0);
}

TEST_F(ReadinessTest, UnixSocketProbeTurnsReadyOnceSomeoneListens) {
  Readiness r(loop_, callbacks_);
  std::string err, path = dir_ + "/api.sock";
  ASSERT_TRUE(r.start_socket_probe("unix:" + path, Duration(20), err)) << err;
  run_until([] { return false; }, 150);
  EXPECT_EQ(ready_, 0);
  int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(l, 4), 0);
  run_until([&] { return ready_ > 0; });
  EXPECT_EQ(ready_, 1);
  close(l);
}

TEST_F(ReadinessTest, TcpSocketProbe) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(l, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  Readiness r(loop_, callbacks_);
  std::string err;
  ASSERT_TRUE(r.start_socket_probe("tcp:127.0.0.1:" + std::to_string(port), Duration(20), err));
  run_until([] { return false; }, 150);
  EXPECT_EQ(ready_, 0);  // bound but not listening: refused
  ASSERT_EQ(listen(l, 4), 0);
  run_until([&] { return ready_ > 0; });
  EXPECT_EQ(ready_, 1);
  close(l);
}

pid_t spawn_shell(const char* script) {
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", script, static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

TEST_F(ReadinessTest, ExecProbeRetriesUntilTheCheckSucceeds) {
  std::string flag = dir_ + "/ok";
  std::string script = "test -e " + flag;
  Readiness r(loop_, callbacks_);
  int checks = 0;
  r.start_exec_probe(
      [&] {
        ++checks;
        return spawn_shell(script.c_str());
      },
      Duration(30));
  auto reap = [&] {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) EXPECT_TRUE(r.on_child_exit(pid, status));
  };
  auto until = loop_.now() + milliseconds(400);
  while (loop_.now() < until) {
    loop_.run_once(milliseconds(20));
    reap();
  }
  EXPECT_EQ(ready_, 0);
  EXPECT_GE(checks, 2);
  close(open(flag.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  until = loop_.now() + milliseconds(5000);
  while (ready_ == 0 && loop_.now() < until) {
    loop_.run_once(milliseconds(20));
    reap();
  }
  EXPECT_EQ(ready_, 1);
  EXPECT_FALSE(r.on_child_exit(12345, 0));
}

TEST_F(ReadinessTest, ExecProbeKillsAHangingCheck) {
  Readiness r(loop_, callbacks_);
  pid_t first = -1;
  r.start_exec_probe(
      [&] {
        pid_t p = spawn_shell("exec sleep 30");
        if (first < 0) first = p;
        return p;
      },
      Duration(50));
  int status = 0;
  auto until = loop_.now() + milliseconds(5000);
  pid_t reaped = 0;
  while (reaped != first && loop_.now() < until) {
    loop_.run_once(milliseconds(20));
    reaped = waitpid(first, &status, WNOHANG);
  }
  ASSERT_EQ(reaped, first);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_TRUE(r.on_child_exit(first, status));
  EXPECT_EQ(ready_, 0);
  r.close();
  while (waitpid(-1, &status, WNOHANG) > 0) {
  }
}

}  // namespace
}  // namespace cairn::init
