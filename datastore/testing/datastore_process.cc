#include "datastore/testing/datastore_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace cairn::datastore::testing {
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

const char* datastore_binary() {
  return CAIRN_DATASTORE_BIN;
}

DatastoreProcess::DatastoreProcess(Transport transport) : transport_(transport) {
  char tmpl[] = "/tmp/cairn-ds-test-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  dir_ = tmpl;
  if (transport_ == Transport::kTcp) port_ = free_loopback_port();
}

DatastoreProcess::~DatastoreProcess() {
  kill9();
  // In the sanitizer build, a report from the server (UBSan recovers and keeps serving, so
  // the test would not notice otherwise) fails the test that ran it.
  std::string text = log();
  for (const char* mark : {"runtime error:", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer"}) {
    if (text.find(mark) != std::string::npos) {
      ADD_FAILURE() << "cairn-datastore printed a sanitizer report:\n" << text;
      break;
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string DatastoreProcess::endpoint() const {
  if (transport_ == Transport::kTcp) return "127.0.0.1:" + std::to_string(port_);
  return "unix://" + dir_ + "/datastore.sock";
}

std::string DatastoreProcess::log() const {
  return read_file(log_path());
}

void DatastoreProcess::start() {
  if (pid_ > 0) throw std::runtime_error("cairn-datastore already running");
  std::string notify = dir_ + "/notify.sock";
  ::unlink(notify.c_str());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, notify.c_str(), sizeof sa.sun_path - 1);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("bind " + notify + ": " + std::strerror(errno));
  }
  // Everything the child needs is built before fork: after it only exec-safe calls.
  std::vector<std::string> args = {
      "cairn-datastore", "--storage-dir", storage_dir(), "--listen",
      transport_ == Transport::kTcp ? "tcp://" + endpoint() : endpoint()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The environment too: the test may run gRPC threads, so the child must not allocate.
  std::vector<std::string> env = {"NOTIFY_SOCKET=" + notify};
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "NOTIFY_SOCKET=", 14) != 0) env.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string log = log_path();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fd);
    throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  }
  if (pid_ == 0) {
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    ::execve(CAIRN_DATASTORE_BIN, argv.data(), envp.data());
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

void DatastoreProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int DatastoreProcess::terminate() {
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

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t json_int(const std::string& json, const std::string& field) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + field + "\":\\s*(-?[0-9]+)"))) return -1;
  return std::stoll(m[1]);
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

}  // namespace cairn::datastore::testing
