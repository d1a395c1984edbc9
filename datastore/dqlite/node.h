// An embedded dqlite node (libdqlite 1.11, dqlite_node_* API) serving on a local socket.
// It runs its own libuv thread; this object starts it, and stops it on destruction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cairn::dqlite {

struct NodeOptions {
  uint64_t id = 1;
  // raft log + snapshots; created (0700) if missing. The node owns this directory: it holds
  // only raft files and the lock file "cairn-dqlite.lock"; anything else is refused as
  // foreign data. A second process using the same directory is refused (flock).
  std::string data_dir;
  // "@abstract-name" (unix socket in the abstract namespace; dqlite 1.11 accepts unix
  // connections only from its own process) or "ipv4:port". dqlite 1.11 cannot bind a
  // filesystem unix socket: "/path" is refused with an error saying so.
  std::string bind_address;
  // Members of an existing cluster ("ipv4:port"): a fresh node with id > 1 joins through
  // them as a voter. Ignored once the data dir has raft state. Multi-node clusters need
  // ipv4 addresses: libdqlite 1.11 accepts unix connections only from its own process.
  std::vector<std::string> join;
  // Raft snapshot tuning (0 = dqlite's default: threshold 1024, trailing 8192). A snapshot
  // writes the whole database to disk, so a larger threshold trades memory for write speed.
  unsigned snapshot_threshold = 0;
  unsigned snapshot_trailing = 0;
  // Where libraft's io_destroy(2) runs (process-wide: the last started node's choice wins).
  // Background by default: inline blocks dqlite's loop thread ~30 ms at every segment
  // roll-over and raft snapshot (see aio_reaper.h). Inline is for A/B measurements.
  bool inline_io_destroy = false;
};

class Node {
 public:
  // Throws std::runtime_error with a clear message (data dir unusable, foreign or corrupt
  // data, address in use, ...). Sets SIGPIPE to SIG_IGN if it is SIG_DFL: libdqlite writes
  // to peer sockets without MSG_NOSIGNAL.
  static std::unique_ptr<Node> start(const NodeOptions& options);
  virtual ~Node() = default;

  virtual uint64_t id() const = 0;
  virtual std::string address() const = 0;  // the address clients connect to
  virtual void stop() = 0;                  // idempotent; the destructor calls it
};

// The linked libdqlite's version as "major.minor.release" (from dqlite_version_number()).
std::string library_version();

}  // namespace cairn::dqlite
