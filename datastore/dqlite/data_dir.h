// Checks and locks a dqlite node's data directory BEFORE libdqlite sees it.
//
// Why here and not by reading dqlite's errors: in libdqlite 1.11 a dqlite_node_create()
// that fails inside raft_init (unusable directory, broken raft metadata) frees the node
// together with its error message and leaves a dangling SQLite VFS registered. So every
// condition raft_init would reject is detected here first, with a message naming the path
// and what is wrong. Closed log segments are verified here too (segment_check.h: raft would
// silently drop a corrupt last one); open segments and snapshots are checked by raft_start,
// whose message Node reports.
#pragma once

#include <string>
#include <vector>

namespace cairn::dqlite {

class DataDir {
 public:
  // Creates the directory (0700, parents too) if missing, checks it is a writable
  // directory holding only raft files, verifies every closed log segment (checksums, entry
  // count; a "corrupt-*" file raft moved aside is refused too), validates raft's
  // metadata1/metadata2, and takes an
  // exclusive flock on "cairn-dqlite.lock" (held until destruction). Throws
  // std::runtime_error naming the path and the problem.
  static DataDir prepare(const std::string& path);

  DataDir() = default;
  ~DataDir();
  DataDir(DataDir&& other) noexcept;
  DataDir& operator=(DataDir&& other) noexcept;
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  const std::string& path() const { return path_; }
  // True if the directory holds no raft state yet (a new node).
  bool fresh() const { return fresh_; }

  // The file names raft 0.15 and this class create; anything else is foreign.
  static bool is_known_file(const std::string& name);

 private:
  std::string path_;
  int lock_fd_ = -1;
  bool fresh_ = true;
};

}  // namespace cairn::dqlite
