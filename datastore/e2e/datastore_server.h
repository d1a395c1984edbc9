// End-to-end harness: one real cairn-datastore process on a private temporary storage dir,
// listening on a unix socket or on 127.0.0.1:<free port>. start() waits for READY=1 on a
// private NOTIFY_SOCKET (the readiness contract systemd relies on), so tests never poll.
// The process's stdout+stderr go to log_path() so failures can show what it said.
#pragma once

#include <sys/types.h>

#include <string>

namespace cairn::datastore::e2e {

class DatastoreServer {
 public:
  enum class Transport { kUnix, kTcp };
  explicit DatastoreServer(Transport transport = Transport::kUnix);
  ~DatastoreServer();  // SIGKILLs a still running process and removes the temp dir
  DatastoreServer(const DatastoreServer&) = delete;
  DatastoreServer& operator=(const DatastoreServer&) = delete;

  // Starts the binary (again, on the same storage dir after a stop). Throws std::runtime_error
  // with the log's content if READY=1 does not arrive within 60 s or the process exits first.
  void start();
  void kill9();
  int terminate();  // SIGTERM; returns the raw wait status (-1 if not running)
  bool running() const { return pid_ > 0; }

  std::string endpoint() const;  // as etcdctl --endpoints wants it
  const std::string& dir() const { return dir_; }
  std::string storage_dir() const { return dir_ + "/store"; }
  std::string log_path() const { return dir_ + "/datastore.log"; }
  std::string log() const;

 private:
  Transport transport_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string output;  // stdout, plus stderr when merged
};

// Runs `sh -c cmd` with ETCDCTL_API=3; stderr is merged into output when merge_stderr.
CommandResult sh(const std::string& cmd, bool merge_stderr = true);

// Shell-quotes one word.
std::string quote(const std::string& word);

}  // namespace cairn::datastore::e2e
