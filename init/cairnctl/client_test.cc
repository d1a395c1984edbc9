// The client against a real unix socket. The answering side is a small scripted peer built on
// the same codec: it checks what cairnctl sends and replays responses, so the client's
// handling of every response type, of streamed logs and of a vanishing server is exercised.
// (The end-to-end test against the real cairn-init is cairnctl_integration_test.)
#include "init/cairnctl/client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <thread>

#include "init/control/frame.h"
#include "init/control/protocol.h"

namespace cairn::init::cairnctl {
namespace {

using control::Response;

class ScriptedPeer {
 public:
  explicit ScriptedPeer(std::vector<Response> replies) : replies_(std::move(replies)) {
    char dir[] = "/tmp/cairnctl-test-XXXXXX";
    dir_ = mkdtemp(dir);
    path_ = dir_ + "/control.sock";
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path_.c_str());
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(listen(listen_fd_, 1), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedPeer() {
    thread_.join();
    close(listen_fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }
  const control::Request& received() const { return received_; }

 private:
  void serve() {
    int fd = accept(listen_fd_, nullptr, nullptr);
    ASSERT_GE(fd, 0);
    std::string payload, error;
    if (control::read_frame(fd, payload, error) == control::ReadStatus::Frame) {
      EXPECT_EQ(control::decode_request(payload, received_), "");
      for (const auto& reply : replies_) {
        if (!control::write_frame(fd, control::encode_response(reply), error)) break;
      }
    }
    close(fd);
  }

  std::vector<Response> replies_;
  std::string dir_, path_;
  int listen_fd_ = -1;
  control::Request received_;
  std::thread thread_;
};

struct Result {
  int code;
  std::string out, err;
};

Result run_with(const ScriptedPeer& peer, std::vector<std::string> args) {
  Invocation inv;
  args.insert(args.begin(), {"--socket", peer.path()});
  EXPECT_EQ(parse_command_line(args, nullptr, inv), "");
  std::ostringstream out, err;
  int code = run(inv, out, err);
  return {code, out.str(), err.str()};
}

TEST(CairnctlClient, MissingSocketSaysIsCairnInitRunning) {
  Invocation inv;
  ASSERT_EQ(parse_command_line({"--socket", "/nonexistent/control.sock", "status"}, nullptr, inv),
            "");
  std::ostringstream out, err;
  EXPECT_EQ(run(inv, out, err), 1);
  EXPECT_EQ(err.str(),
            "cairnctl: cannot connect to /nonexistent/control.sock: No such file or directory; "
            "is cairn-init running?\n");
}

TEST(CairnctlClient, StatusIsPrinted) {
  Response status;
  status.type = control::ResponseType::Status;
  status.services.resize(1);
  status.services[0].name = "datastore";
  status.services[0].state = ServiceState::Ready;
  status.services[0].pid = 42;
  status.services[0].since_ms = 1'500;
  status.services[0].status_text = "serving";
  ScriptedPeer peer({status});
  auto r = run_with(peer, {"status"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("datastore  ready  +1.500s  42"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"serving\""), std::string::npos) << r.out;
  EXPECT_EQ(peer.received().command, control::Command::Status);
}

TEST(CairnctlClient, ErrorsGoToStderrWithExitOne) {
  ScriptedPeer peer({Response::error("no service named \"nope\"")});
  auto r = run_with(peer, {"start", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "cairnctl: no service named \"nope\"\n");
  EXPECT_EQ(peer.received().name, "nope");
}

TEST(CairnctlClient, LogsStreamUntilOk) {
  ScriptedPeer peer({Response::log_chunk("one\n"), Response::log_chunk("two\n"), Response::ok()});
  auto r = run_with(peer, {"logs", "datastore"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "one\ntwo\n");
}

TEST(CairnctlClient, FollowEndsCleanlyWhenTheServerCloses) {
  ScriptedPeer peer({Response::log_chunk("line\n")});
  auto r = run_with(peer, {"logs", "-f", "datastore"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "line\n");
  EXPECT_TRUE(peer.received().follow);
}

TEST(CairnctlClient, ServerClosingWithoutAnswerIsAnError) {
  ScriptedPeer peer({});
  auto r = run_with(peer, {"reload"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "cairnctl: cairn-init closed the connection without answering\n");
}

TEST(CairnctlClient, ReloadAndPower) {
  Response reload;
  reload.type = control::ResponseType::Reload;
  reload.reload.changed = {"a"};
  {
    ScriptedPeer peer({reload});
    auto r = run_with(peer, {"reload"});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, "reloaded: 0 added, 1 changed (a), 0 removed, 0 unchanged, 0 invalid\n");
  }
  {
    ScriptedPeer peer({Response::ok("rebooting")});
    auto r = run_with(peer, {"reboot"});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, "rebooting\n");
    EXPECT_EQ(peer.received().command, control::Command::Reboot);
  }
}

}  // namespace
}  // namespace cairn::init::cairnctl
