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
  std::string data_dir;     // raft log + snapshots; created if missing
  std::string bind_address; // "@abstract-name" or "/path/to.sock" (unix) or "host:port"
  std::vector<std::string> join;  // existing cluster members to join (empty = bootstrap)
};

class Node {
 public:
  // Throws std::runtime_error with a clear message (data dir unusable, foreign or corrupt
  // data, address in use, ...).
  static std::unique_ptr<Node> start(const NodeOptions& options);
  virtual ~Node() = default;

  virtual uint64_t id() const = 0;
  virtual std::string address() const = 0;  // the address clients connect to
  virtual void stop() = 0;                  // idempotent; the destructor calls it
};

}  // namespace cairn::dqlite
