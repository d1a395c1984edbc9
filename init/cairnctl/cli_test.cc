#include "init/cairnctl/cli.h"

#include <gtest/gtest.h>

namespace cairn::init::cairnctl {
namespace {

using control::Command;

Invocation parse_ok(std::vector<std::string> args, const char* env = nullptr) {
  Invocation inv;
  std::string error = parse_command_line(args, env, inv);
  EXPECT_EQ(error, "");
  return inv;
}

TEST(CairnctlCli, Commands) {
  auto inv = parse_ok({"status"});
  EXPECT_EQ(inv.request.command, Command::Status);
  EXPECT_FALSE(inv.json);
  EXPECT_EQ(inv.socket_path, "/run/cairn/control.sock");

  inv = parse_ok({"status", "--json"});
  EXPECT_TRUE(inv.json);

  inv = parse_ok({"restart", "datastore"});
  EXPECT_EQ(inv.request.command, Command::Restart);
  EXPECT_EQ(inv.request.name, "datastore");

  inv = parse_ok({"logs", "-f", "kubelet"});
  EXPECT_EQ(inv.request.command, Command::Logs);
  EXPECT_EQ(inv.request.name, "kubelet");
  EXPECT_TRUE(inv.request.follow);
  EXPECT_EQ(inv.request.tail_lines, 0u);  // default: all of the ring

  inv = parse_ok({"logs", "kubelet", "--tail", "20"});
  EXPECT_EQ(inv.request.tail_lines, 20u);
  EXPECT_FALSE(inv.request.follow);
  EXPECT_EQ(parse_ok({"logs", "--tail=3", "-f", "x"}).request.tail_lines, 3u);
  EXPECT_EQ(parse_ok({"logs", "-n", "7", "x"}).request.tail_lines, 7u);

  for (const char* c : {"reload", "poweroff", "reboot", "halt", "timeline"}) {
    inv = parse_ok({c});
    EXPECT_STREQ(control::to_string(inv.request.command), c);
  }
  EXPECT_TRUE(parse_ok({"--help"}).help);
  EXPECT_TRUE(parse_ok({"status", "-h"}).help);
}

TEST(CairnctlCli, SocketPathPrecedence) {
  EXPECT_EQ(parse_ok({"status"}, "/tmp/env.sock").socket_path, "/tmp/env.sock");
  EXPECT_EQ(parse_ok({"status"}, "").socket_path, "/run/cairn/control.sock");
  EXPECT_EQ(parse_ok({"--socket", "/tmp/a.sock", "status"}, "/tmp/env.sock").socket_path,
            "/tmp/a.sock");
  EXPECT_EQ(parse_ok({"status", "--socket=/tmp/b.sock"}).socket_path, "/tmp/b.sock");
}

TEST(CairnctlCli, UsageErrors) {
  struct Case {
    std::vector<std::string> args;
    const char* error;
  };
  const Case cases[] = {
      {{}, "missing command"},
      {{"frobnicate"}, "unknown command \"frobnicate\""},
      {{"start"}, "start needs a service name"},
      {{"status", "extra"}, "unexpected argument \"extra\""},
      {{"stop", "a", "b"}, "unexpected argument \"b\""},
      {{"status", "-f"}, "-f is only for logs"},
      {{"reload", "--json"}, "--json is only for status and timeline"},
      {{"status", "--bogus"}, "unknown option --bogus"},
      {{"--socket"}, "--socket needs a path"},
      {{"--socket=", "status"}, "--socket needs a path"},
      {{"logs", "x", "--tail"}, "--tail needs a number of lines (1 or more), got \"\""},
      {{"logs", "x", "--tail", "0"}, "--tail needs a number of lines (1 or more), got \"0\""},
      {{"logs", "x", "--tail=-2"}, "--tail needs a number of lines (1 or more), got \"-2\""},
      {{"logs", "x", "--tail", "ten"}, "--tail needs a number of lines (1 or more), got \"ten\""},
      {{"status", "--tail", "5"}, "--tail is only for logs"},
  };
  for (const auto& c : cases) {
    Invocation inv;
    EXPECT_EQ(parse_command_line(c.args, nullptr, inv), c.error);
  }
}

}  // namespace
}  // namespace cairn::init::cairnctl
