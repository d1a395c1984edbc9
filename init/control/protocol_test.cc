#include "init/control/protocol.h"

#include <gtest/gtest.h>

namespace cairn::init::control {
namespace {

TEST(ControlProtocol, EveryRequestRoundTrips) {
  std::vector<Request> requests;
  for (Command c : {Command::Status, Command::Reload, Command::Poweroff, Command::Reboot,
                    Command::Halt, Command::Timeline}) {
    requests.push_back({c, "", false, 0});
  }
  for (Command c : {Command::Start, Command::Stop, Command::Restart, Command::Logs}) {
    requests.push_back({c, "kube-apiserver", false, 0});
  }
  requests.push_back({Command::Logs, "datastore", true, 4096});
  requests.push_back({Command::Logs, "datastore", false, 0, 25});
  for (const auto& request : requests) {
    Request back{Command::Halt, "junk", true, 7, 9};
    ASSERT_EQ(decode_request(encode_request(request), back), "") << to_string(request.command);
    EXPECT_EQ(back, request) << to_string(request.command);
  }
}

TEST(ControlProtocol, RequestWireFormatIsReadable) {
  EXPECT_EQ(encode_request({Command::Logs, "datastore", true, 0}),
            "request\nversion=1\ncommand=logs\nname=datastore\nfollow=1\n");
}

TEST(ControlProtocol, BadRequests) {
  struct Case {
    const char* payload;
    const char* error;
  };
  const Case cases[] = {
      {"request\ncommand=status\n", "request without a protocol version"},
      {"request\nversion=2\ncommand=status\n", "unsupported protocol version 2"},
      {"request\nversion=1\ncommand=explode\n", "unknown command \"explode\""},
      {"request\nversion=1\n", "unknown command \"\""},
      {"request\nversion=1\ncommand=start\n", "start needs a service name"},
      {"request\nversion=1\ncommand=logs\nname=x\nfollow=yes\n", "field follow: expected 0 or 1"},
      {"request\nversion=1\ncommand=logs\nname=x\ntail=-5\n", "field tail: not a valid number"},
      {"status\nversion=1\n", "expected a request, got \"status\""},
      {"\x00\x01", "malformed request"},
  };
  for (const auto& c : cases) {
    Request r;
    std::string error = decode_request(c.payload, r);
    EXPECT_NE(error.find(c.error), std::string::npos) << c.payload << " -> " << error;
  }
}

TEST(ControlProtocol, StatusRoundTrips) {
  Response r;
  r.type = ResponseType::Status;
  ServiceStatus a;
  a.name = "datastore";
  a.description = "dqlite datastore";
  a.state = ServiceState::Ready;
  a.pid = 1234;
  a.restarts = 2;
  a.last_exit_status = 9;
  a.oom_killed = true;
  a.memory_current = 123456789;
  a.status_text = "Serving 3 clients\nsecond line";
  a.since_ms = 4321;
  a.wanted = true;
  a.group = "storage";
  ServiceStatus b;
  b.name = "kubelite";
  b.state = ServiceState::Invalid;
  b.error = "kubelite.toml:3:1: error: unknown key \"x\"\nsecond line";
  b.members = {"kube-apiserver", "kubelet"};
  r.services = {a, b};
  Response back;
  ASSERT_EQ(decode_response(encode_response(r), back), "");
  ASSERT_EQ(back.type, ResponseType::Status);
  ASSERT_EQ(back.services.size(), 2u);
  EXPECT_EQ(back.services[0].name, "datastore");
  EXPECT_EQ(back.services[0].description, "dqlite datastore");
  EXPECT_EQ(back.services[0].state, ServiceState::Ready);
  EXPECT_EQ(back.services[0].pid, 1234);
  EXPECT_EQ(back.services[0].restarts, 2);
  EXPECT_EQ(back.services[0].last_exit_status, 9);
  EXPECT_TRUE(back.services[0].oom_killed);
  EXPECT_EQ(back.services[0].memory_current, 123456789u);
  EXPECT_EQ(back.services[0].status_text, a.status_text);
  EXPECT_EQ(back.services[0].since_ms, 4321);
  EXPECT_TRUE(back.services[0].wanted);
  EXPECT_EQ(back.services[0].group, "storage");
  EXPECT_EQ(back.services[1].group, "");
  EXPECT_EQ(back.services[1].status_text, "");
  EXPECT_FALSE(back.services[1].wanted);
  EXPECT_EQ(back.services[1].state, ServiceState::Invalid);
  EXPECT_EQ(back.services[1].error, b.error);
  EXPECT_EQ(back.services[1].members, b.members);
  EXPECT_FALSE(back.services[1].oom_killed);
}

TEST(ControlProtocol, OtherResponsesRoundTrip) {
  Response t;
  t.type = ResponseType::Timeline;
  t.timeline = {{"a", 10, 250, -1, -1}, {"b", 12, -1, 5000, 6000}};
  Response back;
  ASSERT_EQ(decode_response(encode_response(t), back), "");
  ASSERT_EQ(back.timeline.size(), 2u);
  EXPECT_EQ(back.timeline[0].ready_ms, 250);
  EXPECT_EQ(back.timeline[1].failed_ms, 5000);
  EXPECT_EQ(back.timeline[1].stopped_ms, 6000);

  Response reload;
  reload.type = ResponseType::Reload;
  reload.reload.added = {"new"};
  reload.reload.changed = {"c1", "c2"};
  reload.reload.invalid = {"bad"};
  ASSERT_EQ(decode_response(encode_response(reload), back), "");
  EXPECT_EQ(back.reload.added, std::vector<std::string>{"new"});
  EXPECT_EQ(back.reload.changed, (std::vector<std::string>{"c1", "c2"}));
  EXPECT_TRUE(back.reload.removed.empty());
  EXPECT_EQ(back.reload.invalid, std::vector<std::string>{"bad"});

  ASSERT_EQ(decode_response(encode_response(Response::log_chunk("l1\nl2\n")), back), "");
  EXPECT_EQ(back.type, ResponseType::Log);
  EXPECT_EQ(back.log, "l1\nl2\n");

  ASSERT_EQ(decode_response(encode_response(Response::error("no service \"x\"")), back), "");
  EXPECT_EQ(back.type, ResponseType::Error);
  EXPECT_EQ(back.message, "no service \"x\"");

  ASSERT_EQ(decode_response(encode_response(Response::ok()), back), "");
  EXPECT_EQ(back.type, ResponseType::Ok);
  EXPECT_EQ(back.message, "");
}

TEST(ControlProtocol, BadResponses) {
  const char* bad[] = {
      "weird\n",
      "status\n[service]\nstate=ready\n",
      "status\n[service]\nname=a\nstate=dancing\n",
      "status\n[service]\nname=a\nstate=ready\npid=12x\n",
      "status\n[service]\nname=a\nstate=ready\npid=-3\n",
      "status\n[service]\nname=a\nstate=ready\nmemory=-1\n",
      "status\n[service]\nname=a\nstate=ready\noom-killed=2\n",
      "status\n[service]\nname=a\nstate=ready\nsince=-5\n",
      "status\n[service]\nname=a\nstate=ready\nwanted=maybe\n",
      "timeline\n[entry]\nname=a\nstarted=-2\n",
      "timeline\n[entry]\nstarted=1\n",
      "timeline\n[entry]\nname=a\nready=99999999999999999999\n",
  };
  for (const char* payload : bad) {
    Response r;
    EXPECT_NE(decode_response(payload, r), "") << payload;
  }
  // Newer servers may add record types and fields: older clients skip them.
  Response r;
  EXPECT_EQ(decode_response("status\n[service]\nname=a\nstate=ready\nfuture=1\n[gizmo]\nx=1\n", r),
            "");
  EXPECT_EQ(r.services.size(), 1u);
}

TEST(ControlProtocol, NamesAreStable) {
  for (auto [state, name] :
       std::vector<std::pair<ServiceState, const char*>>{{ServiceState::Invalid, "invalid"},
                                                         {ServiceState::Ready, "ready"},
                                                         {ServiceState::Backoff, "backoff"},
                                                         {ServiceState::Failed, "failed"}}) {
    EXPECT_STREQ(state_name(state), name);
    ServiceState back{};
    EXPECT_TRUE(parse_state(name, back));
    EXPECT_EQ(back, state);
  }
  Command c{};
  EXPECT_TRUE(parse_command("poweroff", c));
  EXPECT_EQ(c, Command::Poweroff);
  EXPECT_FALSE(parse_command("shutdown", c));
  EXPECT_TRUE(command_takes_name(Command::Logs));
  EXPECT_FALSE(command_takes_name(Command::Reload));
}

}  // namespace
}  // namespace cairn::init::control
