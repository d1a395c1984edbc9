// Helpers shared by the dqlite integration tests: a temporary directory that removes itself
// and a process-unique abstract socket name.
#pragma once

#include <string>

namespace cairn::dqlite::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// "@cairn-test-<pid>-<n>": unique per call within the process and across processes.
std::string unique_address();

}  // namespace cairn::dqlite::testing
