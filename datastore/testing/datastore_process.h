// Integration-test harness: one real cairn-datastore process on a private temporary storage
// dir, listening on a unix socket or on 127.0.0.1:<free port> (optionally with extra flags,
// e.g. TLS). start() waits for READY=1 on a private NOTIFY_SOCKET (the readiness contract
// systemd relies on), so tests never poll for the socket. The process's stdout+stderr go to
// log_path() so failures can show what it said. Plus the shell helpers the etcdctl tests share.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cairn::datastore::testing {

// Path of the cairn-datastore binary under test (set by the build).
const char* datastore_binary();

class DatastoreProcess {
 public:
  enum class Transport { kUnix, kTcp };
  explicit DatastoreProcess(Transport transport = Transport::kUnix);
  // SIGKILLs a still running process, fails the current gtest test if the server's log holds a
  // sanitizer report, and removes the temp dir.
  ~DatastoreProcess();
  DatastoreProcess(const DatastoreProcess&) = delete;
  DatastoreProcess& operator=(const DatastoreProcess&) = delete;

  // Flags appended to --storage-dir/--listen at the next start() (e.g. --tls-cert F).
  std::vector<std::string> extra_args;

  // Starts the binary (again, on the same storage dir after a stop). Throws std::runtime_error
  // with the log's content if READY=1 does not arrive within 60 s or the process exits first.
  void start();
  void kill9();
  int terminate();  // SIGTERM; returns the raw wait status (-1 if not running)
  bool running() const { return pid_ > 0; }

  // As etcdctl --endpoints and grpc::CreateChannel want it: unix:///path or 127.0.0.1:PORT.
  std::string endpoint() const;
  const std::string& dir() const { return dir_; }  // scratch space for the test, too
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

// Whole content of a file ("" if it cannot be read).
std::string read_file(const std::string& path);

// First integer value of "field" in JSON text (etcdctl -w json), or -1.
int64_t json_int(const std::string& json, const std::string& field);

// Number of (possibly overlapping) occurrences of needle in text.
size_t count_of(const std::string& text, const std::string& needle);

// Calls done() every `every` until it returns true (true) or timeout passes (false).
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(200));

}  // namespace cairn::datastore::testing
