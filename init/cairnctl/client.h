// cairnctl's conversation with cairn-init: connect to the control socket, send one request,
// print the answers. Blocking I/O; a silent server times out instead of hanging forever
// (except `logs -f`, which waits for new lines as long as the server lives).
#pragma once

#include <chrono>
#include <ostream>
#include <string>

#include "init/cairnctl/cli.h"

namespace cairn::init::cairnctl {

inline constexpr std::chrono::seconds kReplyTimeout{120};

// Connects to the unix stream socket at `path`. Returns the fd, or -1 with `error` set to a
// message for the user ("cannot connect to PATH: ...; is cairn-init running?").
int connect_control(const std::string& path, std::string& error);

// Sends `invocation.request` and prints the responses to `out` (data) and `err` (errors).
// Returns the process exit status: 0 on success, 1 on any error.
int run(const Invocation& invocation, std::ostream& out, std::ostream& err);

}  // namespace cairn::init::cairnctl
