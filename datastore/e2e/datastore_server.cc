#include "datastore/e2e/datastore_server.h"

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cairn::datastore::e2e {
namespace {

// Asks the kernel for a free loopback port. A tiny race with other processes remains; the
// start() error then names the bind failure from the log.
int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind 127.0.0.1:0: " + std::string(std::strerror(errno)));
  }
  ::close(fd);
  return ntohs(sa.sin_port);
}

}  // namespace

DatastoreServer::DatastoreServer(Transport transport) : transport_(transport) {
  char tmpl[] = "/tmp/cairn-ds-e2e-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  dir_ = tmpl;
  if (transport_ == Transport::kTcp) port_ = free_loopback_port();
}

DatastoreServer::~DatastoreServer() {
  kill9();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string DatastoreServer::endpoint() const {
  if (transport_ == Transport::kTcp) return "127.0.0.1:" + std::to_string(port_);
  return "unix://" + dir_ + "/datastore.sock";
}

std::string DatastoreServer::log() const {
  std::ifstream in(log_path());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void DatastoreServer::start() {
  if (pid_ > 0) throw std::runtime_error("cairn-datastore already running");
  std::string notify = dir_ + "/notify.sock";
  ::unlink(notify.c_str());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, notify.c_str(), sizeof sa.sun_path - 1);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    throw std::runtime_error("bind " + notify + ": " + std::strerror(errno));
  }
  std::string listen = transport_ == Transport::kTcp ? "tcp://" + endpoint() : endpoint();
  std::string store = storage_dir();
  std::string log = log_path();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  if (pid_ == 0) {
    ::setenv("NOTIFY_SOCKET", notify.c_str(), 1);
    FILE* out = std::freopen(log.c_str(), "a", stdout);
    if (out) ::dup2(::fileno(stdout), 2);
    ::execl(CAIRN_DATASTORE_BIN, "cairn-datastore", "--storage-dir", store.c_str(), "--listen",
            listen.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait for READY=1, but notice an early exit instead of sitting out the whole timeout.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) == 1) {
      char buf[512] = {};
      ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
      if (n > 0 && std::string(buf, static_cast<size_t>(n)).find("READY=1") != std::string::npos) {
        ::close(fd);
        return;
      }
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ::close(fd);
      throw std::runtime_error("cairn-datastore exited before READY=1 (status " +
                               std::to_string(status) + "): " + this->log());
    }
  }
  ::close(fd);
  kill9();
  throw std::runtime_error("cairn-datastore sent no READY=1 within 60 s: " + this->log());
}

void DatastoreServer::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int DatastoreServer::terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

std::string quote(const std::string& word) {
  std::string q = "'";
  for (char c : word) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

CommandResult sh(const std::string& cmd, bool merge_stderr) {
  // A prefix, not a suffix, so that cmd may be a compound command or end in '&'.
  std::string full =
      std::string("export ETCDCTL_API=3; ") + (merge_stderr ? "exec 2>&1; " : "") + cmd;
  CommandResult r;
  FILE* p = ::popen(full.c_str(), "r");
  if (!p) throw std::runtime_error("popen: " + std::string(std::strerror(errno)));
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace cairn::datastore::e2e
