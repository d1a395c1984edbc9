// The control server against a real Supervisor (real services from a temporary service
// directory), the real LogHub and the real protocol codec, over a real unix socket.
#include "init/control_server/control_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "init/control/frame.h"
#include "init/control/protocol.h"
#include "init/log/log_hub.h"
#include "init/supervisor/supervisor.h"
#include "init/system/pid1_signals.h"

namespace cairn::init {
namespace {

namespace fs = std::filesystem;
namespace ctl = control;
using std::chrono::milliseconds;

struct ControlServerTest : ::testing::Test {
  ControlServerTest() {
    char t[] = "/tmp/cairn-ctl-XXXXXX";
    dir = mkdtemp(t);
    fs::create_directories(dir + "/services");
    fs::create_directories(dir + "/run");
    write_service("sleeper", R"(exec = ["/bin/sleep", "1000"])");
    write_service("echoer",
                  R"(exec = ["/bin/sh", "-c", "echo hello; echo world; exec sleep 1000"])");
    system::SignalHandlers h;
    h.child_exited = [this](pid_t pid, int status) {
      reaped[pid] = status;  // PID 1's reaper takes every child, the tests' own ones too
      if (supervisor) supervisor->on_child_exit(pid, status);
    };
    signals = std::make_unique<system::Pid1Signals>(loop, h);
    EXPECT_TRUE(signals->start());
    LogHubOptions lo;
    hub = std::make_unique<LogHub>(loop, lo);
    SupervisorOptions so;
    so.service_dir = dir + "/services";
    so.cgroup_root = "";
    so.run_dir = dir + "/run";
    so.clock_from_boot = false;
    so.console = [](const std::string&) {};
    supervisor = std::make_unique<Supervisor>(loop, *hub, so);
    supervisor->load();
    supervisor->start_all();
    socket_path = dir + "/run/control.sock";
  }

  ~ControlServerTest() override {
    server.reset();
    bool done = false;
    supervisor->shutdown([&] { done = true; });
    pump([&] { return done; }, 20'000);
    supervisor.reset();
    hub.reset();
    signals.reset();
    fs::remove_all(dir);
  }

  void write_service(const std::string& name, const std::string& body) {
    std::ofstream(dir + "/services/" + name + ".toml") << body << "\n";
  }

  void start_server(ControlServerOptions o = {}) {
    o.socket_path = socket_path;
    server = std::make_unique<ControlServer>(
        loop, *supervisor, *hub, [this](system::PowerAction a) { power.push_back(a); }, o);
    std::string error;
    ASSERT_TRUE(server->start(error)) << error;
  }

  void pump(const std::function<bool()>& done, int max_ms = 10'000) {
    for (int waited = 0; waited < max_ms && !done(); waited += 10) loop.run_once(milliseconds(10));
  }

  ServiceState state_of(const std::string& name) {
    for (const ServiceStatus& s : supervisor->status()) {
      if (s.name == name) return s.state;
    }
    return ServiceState::Invalid;
  }

  int connect_client() {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  }

  // Reads whatever has arrived (non-blocking) into `decoder`; false at EOF.
  static bool drain(int fd, ctl::FrameDecoder& decoder) {
    char buf[65536];
    while (true) {
      ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        decoder.feed(std::string_view(buf, static_cast<size_t>(n)));
        continue;
      }
      return !(n == 0);
    }
  }

  struct Exchange {
    std::vector<ctl::Response> responses;
    bool closed = false;
  };

  // Sends `payload` framed and collects responses until the server closes or `stop` says so.
  Exchange exchange(int fd, const std::string& payload,
                    const std::function<bool(const Exchange&)>& stop = nullptr) {
    std::string error;
    EXPECT_TRUE(ctl::write_frame(fd, payload, error)) << error;
    Exchange ex;
    ctl::FrameDecoder decoder;
    pump([&] {
      ex.closed = !drain(fd, decoder);
      std::string frame_payload, err;
      while (decoder.next(frame_payload, err) == ctl::FrameDecoder::Status::Frame) {
        ctl::Response r;
        EXPECT_EQ(ctl::decode_response(frame_payload, r), "");
        ex.responses.push_back(std::move(r));
      }
      return ex.closed || (stop && stop(ex));
    });
    return ex;
  }

  Exchange request(const ctl::Request& r) {
    int fd = connect_client();
    Exchange ex = exchange(fd, ctl::encode_request(r));
    close(fd);
    return ex;
  }

  static ctl::Request req(ctl::Command c, std::string name = "") {
    ctl::Request r;
    r.command = c;
    r.name = std::move(name);
    return r;
  }

  EventLoop loop;
  std::string dir, socket_path;
  std::unique_ptr<system::Pid1Signals> signals;
  std::unique_ptr<LogHub> hub;
  std::unique_ptr<Supervisor> supervisor;
  std::unique_ptr<ControlServer> server;
  std::vector<system::PowerAction> power;
  std::map<pid_t, int> reaped;
};

TEST_F(ControlServerTest, StatusStartStopTimeline) {
  start_server();
  pump([&] { return state_of("sleeper") == ServiceState::Ready; });
  Exchange st = request(req(ctl::Command::Status));
  EXPECT_TRUE(st.closed);
  ASSERT_EQ(st.responses.size(), 1u);
  ASSERT_EQ(st.responses[0].type, ctl::ResponseType::Status);
  std::map<std::string, ServiceState> states;
  for (const auto& s : st.responses[0].services) states[s.name] = s.state;
  EXPECT_EQ(states["sleeper"], ServiceState::Ready);
  EXPECT_EQ(states.count("echoer"), 1u);

  Exchange stop = request(req(ctl::Command::Stop, "sleeper"));
  ASSERT_EQ(stop.responses.size(), 1u);
  EXPECT_EQ(stop.responses[0].type, ctl::ResponseType::Ok);
  EXPECT_EQ(stop.responses[0].message, "stop sleeper");
  pump([&] { return state_of("sleeper") == ServiceState::Stopped; });
  EXPECT_EQ(state_of("sleeper"), ServiceState::Stopped);

  Exchange bad = request(req(ctl::Command::Start, "nope"));
  ASSERT_EQ(bad.responses.size(), 1u);
  EXPECT_EQ(bad.responses[0].type, ctl::ResponseType::Error);
  EXPECT_FALSE(bad.responses[0].message.empty());

  Exchange tl = request(req(ctl::Command::Timeline));
  ASSERT_EQ(tl.responses.size(), 1u);
  ASSERT_EQ(tl.responses[0].type, ctl::ResponseType::Timeline);
  bool found = false;
  for (const auto& e : tl.responses[0].timeline) {
    if (e.name == "sleeper") {
      found = true;
      EXPECT_GE(e.started_ms, 0);
      EXPECT_GE(e.stopped_ms, e.started_ms);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(server->client_count(), 0u);
}

TEST_F(ControlServerTest, LogsAndLogsFollow) {
  start_server();
  pump([&] { return hub->tail("echoer", 1000).find("world") != std::string::npos; });
  Exchange logs = request(req(ctl::Command::Logs, "echoer"));
  ASSERT_GE(logs.responses.size(), 2u);
  std::string text;
  for (size_t i = 0; i + 1 < logs.responses.size(); ++i) {
    EXPECT_EQ(logs.responses[i].type, ctl::ResponseType::Log);
    text += logs.responses[i].log;
  }
  EXPECT_EQ(logs.responses.back().type, ctl::ResponseType::Ok);
  EXPECT_NE(text.find(" hello\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" world\n"), std::string::npos) << text;

  Exchange unknown = request(req(ctl::Command::Logs, "nope"));
  ASSERT_EQ(unknown.responses.size(), 1u);
  EXPECT_EQ(unknown.responses[0].type, ctl::ResponseType::Error);

  // Follow: the ring first, then new lines as the service restarts and prints again.
  ctl::Request f = req(ctl::Command::Logs, "echoer");
  f.follow = true;
  int fd = connect_client();
  auto count_hello = [](const Exchange& ex) {
    int n = 0;
    for (const auto& r : ex.responses) {
      for (size_t p = r.log.find("hello"); p != std::string::npos; p = r.log.find("hello", p + 1)) {
        ++n;
      }
    }
    return n;
  };
  std::string error;
  Exchange first = exchange(fd, ctl::encode_request(f),
                            [&](const Exchange& ex) { return count_hello(ex) >= 1; });
  EXPECT_FALSE(first.closed);
  EXPECT_EQ(server->client_count(), 1u);
  ASSERT_TRUE(supervisor->restart("echoer", error)) << error;
  // Read more from the same connection: the restart's "hello" must be pushed.
  ctl::FrameDecoder decoder;
  Exchange more;
  pump([&] {
    drain(fd, decoder);
    std::string payload, err;
    while (decoder.next(payload, err) == ctl::FrameDecoder::Status::Frame) {
      ctl::Response r;
      ctl::decode_response(payload, r);
      more.responses.push_back(r);
    }
    return count_hello(more) >= 1;
  });
  EXPECT_GE(count_hello(more), 1);
  for (const auto& r : more.responses) EXPECT_EQ(r.type, ctl::ResponseType::Log);
  close(fd);  // the follower goes away with the client
  pump([&] { return server->client_count() == 0; });
  EXPECT_EQ(server->client_count(), 0u);
}

TEST_F(ControlServerTest, PowerCommandsAnswerThenCallMain) {
  start_server();
  Exchange ex = request(req(ctl::Command::Reboot));
  ASSERT_EQ(ex.responses.size(), 1u);
  EXPECT_EQ(ex.responses[0].type, ctl::ResponseType::Ok);
  EXPECT_EQ(ex.responses[0].message, "reboot");
  pump([&] { return !power.empty(); });
  EXPECT_EQ(power, (std::vector<system::PowerAction>{system::PowerAction::Reboot}));
}

TEST_F(ControlServerTest, PeersOtherThanTheAllowedUidAreRefused) {
  ControlServerOptions o;
  o.allowed_uid = 4242;  // we are root: not allowed
  start_server(o);
  Exchange ex = request(req(ctl::Command::Status));
  EXPECT_TRUE(ex.closed);
  ASSERT_EQ(ex.responses.size(), 1u);
  EXPECT_EQ(ex.responses[0].type, ctl::ResponseType::Error);
  EXPECT_NE(ex.responses[0].message.find("permission denied"), std::string::npos);
}

TEST_F(ControlServerTest, NonRootCannotEvenConnect) {
  start_server();
  struct stat st;
  ASSERT_EQ(stat(socket_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  chmod(dir.c_str(), 0755);
  chmod((dir + "/run").c_str(), 0755);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(2);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
    bool refused =
        connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno == EACCES;
    _exit(refused ? 0 : 1);
  }
  pump([&] { return reaped.count(child) == 1; });
  ASSERT_EQ(reaped.count(child), 1u);
  EXPECT_TRUE(WIFEXITED(reaped[child]) && WEXITSTATUS(reaped[child]) == 0) << reaped[child];
}

TEST_F(ControlServerTest, BadFramesAndOversizedRequestsAreDropped) {
  ControlServerOptions o;
  o.max_request_bytes = 1024;
  start_server(o);
  // A length above the cap: an error answer, then the connection closes.
  int fd = connect_client();
  const unsigned char huge[] = {0xff, 0xff, 0xff, 0xff, 'x'};
  ASSERT_EQ(write(fd, huge, sizeof huge), static_cast<ssize_t>(sizeof huge));
  Exchange ex;
  ctl::FrameDecoder decoder;
  pump([&] {
    ex.closed = !drain(fd, decoder);
    return ex.closed;
  });
  EXPECT_TRUE(ex.closed);
  std::string payload, err;
  ASSERT_EQ(decoder.next(payload, err), ctl::FrameDecoder::Status::Frame);
  ctl::Response r;
  ASSERT_EQ(ctl::decode_response(payload, r), "");
  EXPECT_EQ(r.type, ctl::ResponseType::Error);
  close(fd);
  // A well-framed but undecodable request.
  int fd2 = connect_client();
  Exchange garbage = exchange(fd2, "not a request at all");
  ASSERT_EQ(garbage.responses.size(), 1u);
  EXPECT_EQ(garbage.responses[0].type, ctl::ResponseType::Error);
  close(fd2);
  pump([&] { return server->client_count() == 0; });
  EXPECT_EQ(server->client_count(), 0u);
}

TEST_F(ControlServerTest, IdleClientsAreDropped) {
  ControlServerOptions o;
  o.idle_timeout = milliseconds(200);
  start_server(o);
  int fd = connect_client();
  pump([&] { return server->client_count() == 1; });
  EXPECT_EQ(server->client_count(), 1u);
  pump([&] { return server->client_count() == 0; }, 5000);
  EXPECT_EQ(server->client_count(), 0u);
  char c;
  EXPECT_EQ(read(fd, &c, 1), 0);  // closed by the server
  close(fd);
}

// A `logs -f` client that does not read while PID 1's own log floods: the server keeps
// serving, queues at most its bound, and tells the client how many lines it lost.
TEST_F(ControlServerTest, SlowFollowerLosesLinesNotMemory) {
  ControlServerOptions o;
  o.max_output_bytes = 256 << 10;
  start_server(o);
  ctl::Request f = req(ctl::Command::Logs, "cairn-init");
  f.follow = true;
  int fd = connect_client();
  int size = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  std::string error;
  ASSERT_TRUE(ctl::write_frame(fd, ctl::encode_request(f), error));
  pump([&] { return server->client_count() == 1; });
  for (int i = 0; i < 100; ++i) loop.run_once(milliseconds(0));
  std::string line(200, 'f');
  for (int i = 0; i < 20'000; ++i) hub->system(line);  // 4 MB, far beyond the bound
  EXPECT_EQ(server->client_count(), 1u);  // still connected: lines were dropped instead
  hub->system("after the flood");
  // Now read everything: the drop notice arrives before the next line.
  ctl::FrameDecoder decoder;
  std::string all;
  pump([&] {
    drain(fd, decoder);
    std::string payload, err;
    while (decoder.next(payload, err) == ctl::FrameDecoder::Status::Frame) {
      ctl::Response r;
      ctl::decode_response(payload, r);
      all += r.log;
    }
    if (all.find("after the flood") == std::string::npos) hub->system("after the flood");
    return all.find("after the flood") != std::string::npos;
  });
  EXPECT_NE(all.find("lines dropped: this client reads too slowly"), std::string::npos);
  EXPECT_NE(all.find("after the flood"), std::string::npos);
  EXPECT_LT(all.size(), 4u << 20);
  close(fd);
}

TEST_F(ControlServerTest, StaleSocketIsReplacedButOtherFilesAreNot) {
  // A socket left behind by a previous run.
  int old = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(old, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  close(old);
  start_server();
  EXPECT_EQ(request(req(ctl::Command::Status)).responses.size(), 1u);
  server.reset();
  EXPECT_FALSE(fs::exists(socket_path));  // removed on shutdown
  std::ofstream(socket_path) << "not a socket";
  ControlServer other(loop, *supervisor, *hub, nullptr, ControlServerOptions{socket_path});
  std::string error;
  EXPECT_FALSE(other.start(error));
  EXPECT_NE(error.find("bind"), std::string::npos) << error;
  EXPECT_TRUE(fs::exists(socket_path));
}

}  // namespace
}  // namespace cairn::init
