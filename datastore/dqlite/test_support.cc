#include "datastore/dqlite/test_support.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace cairn::dqlite::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/cairn-dqlite-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string unique_address() {
  static std::atomic<int> counter{0};
  return "@cairn-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

}  // namespace cairn::dqlite::testing
