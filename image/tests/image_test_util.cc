#include "image/tests/image_test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <stdexcept>
#include <vector>

extern char** environ;

namespace cairn::image::testing {
namespace fs = std::filesystem;

Result run_tool(const std::vector<std::string>& argv, const std::string& term_after_line) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<std::string> copy = argv;
  std::vector<char*> args;
  for (auto& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    throw std::runtime_error("cannot run " + argv[0]);
  }
  Result r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  bool sent = false;
  char buffer[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      (i == 0 ? r.out : r.err).append(buffer, static_cast<size_t>(n));
    }
    if (!sent && !term_after_line.empty() && r.err.find(term_after_line) != std::string::npos) {
      kill(pid, SIGTERM);
      sent = true;
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

fs::path build_dir() {
  return fs::read_symlink("/proc/self/exe").parent_path().parent_path();
}

fs::path source_dir() {
  return CAIRN_SOURCE_DIR;
}

void extract(const fs::path& image, uint64_t offset, uint64_t size, const fs::path& out) {
  std::ifstream in(image, std::ios::binary);
  std::ofstream o(out, std::ios::binary | std::ios::trunc);
  in.seekg(static_cast<std::streamoff>(offset));
  std::vector<char> buffer(1 << 20);
  while (size > 0 && in) {
    size_t n = std::min<uint64_t>(size, buffer.size());
    in.read(buffer.data(), static_cast<std::streamsize>(n));
    o.write(buffer.data(), in.gcount());
    size -= static_cast<uint64_t>(in.gcount());
  }
  if (size != 0) throw std::runtime_error("short image " + image.string());
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string find(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (std::regex_search(text, m, std::regex(pattern)) && m.size() > 1) return m[1];
  return "";
}

}  // namespace cairn::image::testing
