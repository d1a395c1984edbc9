// The storage directory: a format marker file plus dqlite's data dir ("dqlite/").
// A directory with other content, or with a marker of another format, is refused with a
// clear message (it is someone else's data, or from an incompatible version).
#pragma once

#include <string>

namespace cairn::datastore::cli {

inline constexpr const char* kMarkerName = "cairn-datastore.format";
inline constexpr const char* kMarkerContent = "cairn-datastore storage format 1\n";

struct StorageDir {
  std::string root;
  std::string dqlite_dir;    // root + "/dqlite"
  std::string node_address;  // stable abstract socket name derived from the root path
};

// Creates (0700) or verifies the directory. Throws std::runtime_error naming the problem.
StorageDir prepare_storage_dir(const std::string& path);

}  // namespace cairn::datastore::cli
