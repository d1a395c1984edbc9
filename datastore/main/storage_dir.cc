#include "datastore/main/storage_dir.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cairn::datastore::cli {

namespace fs = std::filesystem;

namespace {
std::string fnv_hex(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}
}  // namespace

StorageDir prepare_storage_dir(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw std::runtime_error("storage dir " + path + ": cannot create: " + ec.message());
  if (!fs::is_directory(path))
    throw std::runtime_error("storage dir " + path + ": not a directory");
  ::chmod(path.c_str(), 0700);
  std::string root = fs::canonical(path).string();
  std::string marker = root + "/" + kMarkerName;

  if (fs::exists(marker)) {
    std::ifstream in(marker);
    std::stringstream content;
    content << in.rdbuf();
    if (content.str() != kMarkerContent) {
      throw std::runtime_error("storage dir " + root + ": " + kMarkerName +
                               " names an unknown format ('" + content.str() +
                               "'); refusing to touch it");
    }
  } else {
    for (auto& entry : fs::directory_iterator(root)) {
      std::string name = entry.path().filename().string();
      if (name == "datastore.sock") continue;  // a socket we left behind
      throw std::runtime_error("storage dir " + root + " holds '" + name + "' but no " +
                               kMarkerName +
                               ": not a cairn-datastore directory; refusing to use it");
    }
    std::ofstream out(marker + ".tmp");
    out << kMarkerContent;
    out.close();
    if (!out) throw std::runtime_error("storage dir " + root + ": cannot write " + kMarkerName);
    fs::rename(marker + ".tmp", marker);
  }
  StorageDir d;
  d.root = root;
  d.dqlite_dir = root + "/dqlite";
  d.node_address = "@cairn-datastore-" + fnv_hex(root);
  return d;
}

}  // namespace cairn::datastore::cli
