// cairn-init's command line. Modes: `--check DIR`; otherwise a supervisor (PID 1 or, when not
// PID 1, a child-subreaper development supervisor). As PID 1 the kernel passes unknown bare
// boot parameters as arguments, so there unknown arguments are ignored (and logged) instead
// of being errors.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cairn::init {

struct MainOptions {
  std::optional<std::string> check_dir;  // --check DIR
  std::string services = "/etc/cairn/services";
  std::string run_dir = "/run/cairn";
  std::optional<std::string> cgroup_root;     // default: what PID 1 setup found
  std::optional<std::string> log_dir;         // default: /var/log/cairn as PID 1, console otherwise
  std::optional<std::string> control_socket;  // default: <run_dir>/control.sock
  bool help = false;
  bool version = false;
  std::vector<std::string> ignored;  // unknown arguments (PID 1 only)
  std::string error;                 // "" = parsed

  std::string control_socket_path() const {
    return control_socket ? *control_socket : run_dir + "/control.sock";
  }
};

// `strict`: unknown arguments are an error (not PID 1); otherwise they are collected.
MainOptions parse_main_options(int argc, const char* const* argv, bool strict);

extern const char kMainUsage[];

}  // namespace cairn::init
