#include "image/initramfs/filter_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace cairn::image {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

void make_pipe(Fd& r, Fd& w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + strerror(errno));
  r.fd = p[0];
  w.fd = p[1];
}

}  // namespace

std::string run_filter(const std::vector<std::string>& argv, const std::string& input) {
  if (argv.empty()) throw std::runtime_error("run_filter: empty command");
  Fd in_r, in_w, out_r, out_w, err_r, err_w;
  make_pipe(in_r, in_w);
  make_pipe(out_r, out_w);
  make_pipe(err_r, err_w);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork: " + std::string(strerror(errno)));
  if (pid == 0) {
    ::dup2(in_r.fd, 0);
    ::dup2(out_w.fd, 1);
    ::dup2(err_w.fd, 2);
    ::execvp(args[0], args.data());
    const char msg[] = "cannot execute\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  in_r.reset();
  out_w.reset();
  err_w.reset();
  // A closed reader must not kill us; the exit status reports the failure instead.
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);
  ::fcntl(in_w.fd, F_SETFL, O_NONBLOCK);
  std::string out, err;
  size_t written = 0;
  if (input.empty()) in_w.reset();
  while (out_r.fd >= 0 || err_r.fd >= 0) {
    pollfd fds[3] = {{in_w.fd, POLLOUT, 0}, {out_r.fd, POLLIN, 0}, {err_r.fd, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (in_w.fd >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = ::write(in_w.fd, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) in_w.reset();
    }
    for (int i = 1; i < 3; ++i) {
      Fd& fd = i == 1 ? out_r : err_r;
      if (fd.fd < 0 || !(fds[i].revents & (POLLIN | POLLERR | POLLHUP))) continue;
      char buf[65536];
      ssize_t n = ::read(fd.fd, buf, sizeof buf);
      if (n > 0) {
        (i == 1 ? out : err).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        fd.reset();
      }
    }
  }
  in_w.reset();
  ::sigaction(SIGPIPE, &old, nullptr);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string why = WIFEXITED(status)
                          ? "exited with status " + std::to_string(WEXITSTATUS(status))
                          : "was killed by signal " + std::to_string(WTERMSIG(status));
    while (!err.empty() && err.back() == '\n') err.pop_back();
    throw std::runtime_error(argv[0] + " " + why + (err.empty() ? "" : ": " + err));
  }
  return out;
}

}  // namespace cairn::image
