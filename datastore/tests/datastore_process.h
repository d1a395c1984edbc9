// Integration-test helper: runs the real cairn-datastore binary on a temporary storage dir
// and a unix socket, waits for READY=1 on a private NOTIFY_SOCKET, kills or stops it.
#pragma once

#include <sys/types.h>

#include <string>

namespace cairn::datastore::tests {

class DatastoreProcess {
 public:
  DatastoreProcess();  // creates the storage dir; does not start
  ~DatastoreProcess();
  void start();  // throws if READY=1 does not arrive within 30 s
  void kill9();
  int terminate();  // SIGTERM, returns the exit status
  std::string endpoint() const { return "unix://" + dir_ + "/datastore.sock"; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

// Runs a shell command with ETCDCTL_API=3; returns stdout+stderr, sets *status.
std::string run(const std::string& cmd, int* status = nullptr);

}  // namespace cairn::datastore::tests
