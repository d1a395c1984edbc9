// cairnctl's command line: `cairnctl [--socket PATH] COMMAND [ARGS]` -> what to send and how
// to print the answer. Pure parsing, tested without a socket.
#pragma once

#include <string>
#include <vector>

#include "init/control/protocol.h"

namespace cairn::init::cairnctl {

struct Invocation {
  control::Request request;
  bool json = false;        // status/timeline --json
  std::string socket_path;  // --socket, else $CAIRN_CONTROL_SOCKET, else the default
  bool help = false;        // print usage and exit 0
};

// `environment_socket` is $CAIRN_CONTROL_SOCKET (nullptr if unset). Returns "" or a usage error.
std::string parse_command_line(const std::vector<std::string>& args, const char* environment_socket,
                               Invocation& out);

// The --help text.
const char* usage() noexcept;

}  // namespace cairn::init::cairnctl
