// cairnctl: the operator's command-line client of cairn-init (see cli.cc for the commands).
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "init/cairnctl/cli.h"
#include "init/cairnctl/client.h"

int main(int argc, char** argv) {
  // A closed stdout (`cairnctl logs -f | head`) must end us quietly, not kill us mid-write.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  cairn::init::cairnctl::Invocation invocation;
  std::string problem = cairn::init::cairnctl::parse_command_line(
      args, std::getenv("CAIRN_CONTROL_SOCKET"), invocation);
  if (!problem.empty()) {
    std::cerr << "cairnctl: " << problem << "\n\n" << cairn::init::cairnctl::usage();
    return 2;
  }
  if (invocation.help) {
    std::cout << cairn::init::cairnctl::usage();
    return 0;
  }
  return cairn::init::cairnctl::run(invocation, std::cout, std::cerr);
}
