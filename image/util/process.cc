#include "image/util/process.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <stdexcept>

extern char** environ;

namespace cairn::image {
namespace {

std::atomic<int> g_child{0};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

std::string tail_lines(const std::string& text, size_t lines) {
  size_t pos = text.size();
  while (pos > 0 && (text[pos - 1] == '\n')) --pos;
  size_t end = pos;
  size_t count = 0;
  while (pos > 0) {
    if (text[pos - 1] == '\n' && ++count == lines) break;
    --pos;
  }
  return text.substr(pos, end - pos);
}

}  // namespace

int current_child_pid() {
  return g_child.load();
}

std::string quote_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?;&|<>()") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

std::string run(const std::vector<std::string>& argv, const RunOptions& options) {
  if (argv.empty()) throw std::runtime_error("run: empty command");
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  Fd out_r{out_pipe[0]}, out_w{out_pipe[1]}, err_r{err_pipe[0]}, err_w{err_pipe[1]};

  Fd in_fd, file_fd;
  in_fd.fd = open(options.stdin_file.empty() ? "/dev/null" : options.stdin_file.c_str(),
                  O_RDONLY | O_CLOEXEC);
  if (in_fd.fd < 0)
    throw std::runtime_error(options.stdin_file.string() + ": " + std::strerror(errno));
  if (!options.stdout_file.empty()) {
    file_fd.fd = open(options.stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (file_fd.fd < 0)
      throw std::runtime_error(options.stdout_file.string() + ": " + std::strerror(errno));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_fd.fd, 0);
  posix_spawn_file_actions_adddup2(&actions, file_fd.fd >= 0 ? file_fd.fd : out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.fd, 2);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : options.env) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc) +
                             (rc == ENOENT ? " (is its Debian package installed? "
                                             "scripts/install-deps.sh)"
                                           : ""));
  g_child.store(pid);
  close(out_w.fd);
  out_w.fd = -1;
  close(err_w.fd);
  err_w.fd = -1;

  std::string out, err;
  pollfd fds[2] = {{out_r.fd, POLLIN, 0}, {err_r.fd, POLLIN, 0}};
  int open_fds = 2;
  char buffer[65536];
  while (open_fds > 0) {
    int n = poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(fds[i].fd, buffer, sizeof buffer);
      if (got <= 0) {
        if (got < 0 && errno == EINTR) continue;
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      if (i == 0) {
        out.append(buffer, static_cast<size_t>(got));
      } else {
        err.append(buffer, static_cast<size_t>(got));
        if (options.echo_stderr) (void)!write(2, buffer, static_cast<size_t>(got));
        if (err.size() > (1 << 20)) err.erase(0, err.size() - (1 << 19));
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  g_child.store(0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return out;
  std::string why = WIFEXITED(status)
                        ? "exit status " + std::to_string(WEXITSTATUS(status))
                        : std::string("killed by signal ") + strsignal(WTERMSIG(status));
  std::string message = quote_command(argv) + ": " + why;
  std::string tail = tail_lines(err.empty() ? out : err, 12);
  if (!tail.empty()) message += "\n" + tail;
  throw std::runtime_error(message);
}

}  // namespace cairn::image
