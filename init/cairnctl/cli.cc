#include "init/cairnctl/cli.h"

#include <cstdint>

namespace cairn::init::cairnctl {
namespace {

bool parse_line_count(const std::string& text, uint64_t& out) {
  if (text.empty() || text.size() > 9) return false;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n == 0) return false;
  out = n;
  return true;
}

}  // namespace

const char* usage() noexcept {
  return "usage: cairnctl [--socket PATH] COMMAND [ARGS]\n"
         "\n"
         "Talks to cairn-init (PID 1) over its control socket (default "
         "/run/cairn/control.sock,\n"
         "or $CAIRN_CONTROL_SOCKET). Only root may connect.\n"
         "\n"
         "commands:\n"
         "  status [--json]        every service: state, since, pid, restarts, memory, group,\n"
         "                         sd_notify STATUS= text, error\n"
         "  start NAME             start a service (and what it requires)\n"
         "  stop NAME              stop a service (and what requires it)\n"
         "  restart NAME           stop then start a service\n"
         "  reload                 re-read service files; restart only what changed\n"
         "  logs NAME [-f] [--tail N]\n"
         "                         the service's output kept in memory (all of it, or the\n"
         "                         last N lines); -f keeps following\n"
         "  timeline [--json]      start, ready and failure times since boot, slowest first\n"
         "  poweroff | reboot | halt\n"
         "                         stop every service in order, then power off / reboot / "
         "halt\n";
}

std::string parse_command_line(const std::vector<std::string>& args, const char* environment_socket,
                               Invocation& out) {
  Invocation inv;
  inv.socket_path =
      environment_socket && *environment_socket ? environment_socket : control::kDefaultSocketPath;
  std::vector<std::string> positional;
  bool follow = false;
  uint64_t tail_lines = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help" || arg == "help") {
      inv.help = true;
      out = inv;
      return "";
    }
    if (arg == "--socket") {
      if (i + 1 >= args.size() || args[i + 1].empty()) return "--socket needs a path";
      inv.socket_path = args[++i];
    } else if (arg.rfind("--socket=", 0) == 0) {
      inv.socket_path = arg.substr(9);
      if (inv.socket_path.empty()) return "--socket needs a path";
    } else if (arg == "--json") {
      inv.json = true;
    } else if (arg == "-f" || arg == "--follow") {
      follow = true;
    } else if (arg == "--tail" || arg == "-n" || arg.rfind("--tail=", 0) == 0) {
      std::string value;
      if (arg.rfind("--tail=", 0) == 0) {
        value = arg.substr(7);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      }
      if (!parse_line_count(value, tail_lines)) {
        return "--tail needs a number of lines (1 or more), got \"" + value + "\"";
      }
    } else if (arg.size() > 1 && arg[0] == '-') {
      return "unknown option " + arg;
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.empty()) return "missing command";
  control::Command command{};
  if (!control::parse_command(positional[0], command)) {
    return "unknown command \"" + positional[0] + "\"";
  }
  inv.request.command = command;
  size_t expected = control::command_takes_name(command) ? 2 : 1;
  if (positional.size() < expected) return positional[0] + " needs a service name";
  if (positional.size() > expected) return "unexpected argument \"" + positional[expected] + "\"";
  if (expected == 2) inv.request.name = positional[1];
  if (follow && command != control::Command::Logs) return "-f is only for logs";
  inv.request.follow = follow;
  if (tail_lines != 0 && command != control::Command::Logs) return "--tail is only for logs";
  inv.request.tail_lines = tail_lines;
  if (inv.json && command != control::Command::Status && command != control::Command::Timeline) {
    return "--json is only for status and timeline";
  }
  out = inv;
  return "";
}

}  // namespace cairn::init::cairnctl
