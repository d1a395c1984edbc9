#include "init/main/options.h"

#include <cstring>

namespace cairn::init {

const char kMainUsage[] =
    "usage: cairn-init [--check DIR]\n"
    "       cairn-init [--services DIR] [--run-dir DIR] [--cgroup-root DIR] [--log-dir DIR]\n"
    "                  [--control-socket PATH]\n"
    "\n"
    "  --check DIR           validate the service files in DIR and exit (0 = all valid)\n"
    "  --services DIR        service files (default /etc/cairn/services)\n"
    "  --run-dir DIR         notify sockets and the control socket (default /run/cairn)\n"
    "  --cgroup-root DIR     services go in DIR/cairn/<name> (default: found at start)\n"
    "  --log-dir DIR         per-service log files (default /var/log/cairn as PID 1,\n"
    "                        the console otherwise)\n"
    "  --control-socket PATH cairnctl's socket (default <run-dir>/control.sock)\n"
    "\n"
    "As PID 1 it runs stage 1 when /etc/initrd-release exists, else supervises the system.\n"
    "Otherwise it is a child-subreaper supervisor; SIGTERM/SIGINT stop every service in\n"
    "reverse dependency order and exit 0.\n";

MainOptions parse_main_options(int argc, const char* const* argv, bool strict) {
  MainOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_inline = false;
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline = true;
    }
    auto take = [&](std::string& out) {
      if (has_inline) {
        out = value;
      } else if (i + 1 < argc) {
        out = argv[++i];
      } else {
        o.error = arg + " needs a value";
        return false;
      }
      if (out.empty()) {
        o.error = arg + " needs a non-empty value";
        return false;
      }
      return true;
    };
    std::string v;
    if (arg == "--check") {
      if (!take(v)) return o;
      o.check_dir = v;
    } else if (arg == "--services") {
      if (!take(o.services)) return o;
    } else if (arg == "--run-dir") {
      if (!take(o.run_dir)) return o;
    } else if (arg == "--cgroup-root") {
      if (!take(v)) return o;
      o.cgroup_root = v;
    } else if (arg == "--log-dir") {
      if (!take(v)) return o;
      o.log_dir = v;
    } else if (arg == "--control-socket") {
      if (!take(v)) return o;
      o.control_socket = v;
    } else if (arg == "--help" || arg == "-h") {
      o.help = true;
    } else if (arg == "--version") {
      o.version = true;
    } else if (strict) {
      o.error = "unknown argument '" + std::string(argv[i]) + "'";
      return o;
    } else {
      o.ignored.push_back(argv[i]);
    }
  }
  return o;
}

}  // namespace cairn::init
