// Running the external tools a build drives (mmdebstrap, mkfs.*, veritysetup, sfdisk, mtools,
// qemu-img, zstd): argv only, never a shell, so recipe values can't inject commands. A failing
// tool becomes a std::runtime_error carrying the command and the tail of its stderr, which the
// pipeline reports under the stage's name.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace cairn::image {

struct RunOptions {
  std::vector<std::pair<std::string, std::string>> env;  // added to / overriding the environment
  std::filesystem::path cwd;                             // "" = inherit
  std::filesystem::path stdout_file;  // "" = captured (returned); else written there
  std::filesystem::path stdin_file;   // "" = /dev/null
  bool echo_stderr = false;           // also pass stderr through live (verbose builds)
};

// Runs argv[0] (looked up in PATH) and waits. Returns its stdout (unless stdout_file is set).
// Throws std::runtime_error on spawn failure, a non-zero exit or a signal.
std::string run(const std::vector<std::string>& argv, const RunOptions& options = {});

// "a b 'c d'": for messages and logs.
std::string quote_command(const std::vector<std::string>& argv);

// The pid of the tool running now (0 if none): a SIGTERM handler forwards the signal to it.
int current_child_pid();

}  // namespace cairn::image
