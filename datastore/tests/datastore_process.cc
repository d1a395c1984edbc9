#include "datastore/tests/datastore_process.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace cairn::datastore::tests {

DatastoreProcess::DatastoreProcess() {
  char tmpl[] = "/tmp/cairn-ds-it-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
  dir_ = tmpl;
}

DatastoreProcess::~DatastoreProcess() {
  if (pid_ > 0) kill9();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void DatastoreProcess::start() {
  std::string notify = dir_ + "/notify.sock";
  ::unlink(notify.c_str());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, notify.c_str(), sizeof sa.sun_path - 1);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    throw std::runtime_error("bind notify socket");
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setenv("NOTIFY_SOCKET", notify.c_str(), 1);
    std::string log = dir_ + "/../" + std::filesystem::path(dir_).filename().string() + ".log";
    execl(CAIRN_DATASTORE_BIN, "cairn-datastore", "--storage-dir", (dir_ + "/store").c_str(),
          "--listen", ("unix://" + dir_ + "/datastore.sock").c_str(), nullptr);
    _exit(127);
  }
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[256] = {};
  ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
  ::close(fd);
  if (n <= 0 || std::string(buf).find("READY=1") == std::string::npos) {
    throw std::runtime_error("cairn-datastore did not report READY=1");
  }
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

std::string run(const std::string& cmd, int* status) {
  std::string full = "ETCDCTL_API=3 " + cmd + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

}  // namespace cairn::datastore::tests
