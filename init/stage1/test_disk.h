// Test helper: disk images made by sfdisk (the real tool), read back through ReadAt.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "init/stage1/partition_table.h"

namespace cairn::init::stage1::testing {

class TestDisk {
 public:
  // A sparse file of `mib` MiB partitioned with the sfdisk `script`.
  TestDisk(int mib, const std::string& script) {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("stage1_disk." + std::to_string(::getpid()) + "." + std::to_string(counter++));
    std::ofstream(path_, std::ios::binary | std::ios::trunc).close();
    resize(mib);
    std::string cmd = "sfdisk --quiet --no-reread --no-tell-kernel " + path_.string() +
                      " >/dev/null 2>&1 <<'EOF'\n" + script + "\nEOF\n";
    ok_ = std::system(cmd.c_str()) == 0;
  }
  ~TestDisk() { std::filesystem::remove(path_); }
  bool ok() const { return ok_; }
  const std::filesystem::path& path() const { return path_; }
  void resize(int mib) { std::filesystem::resize_file(path_, uint64_t(mib) << 20); }
  std::string bytes() const {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  ReadAt reader() const {
    auto data = std::make_shared<std::string>(bytes());
    return [data](uint64_t offset, size_t size) -> std::optional<std::string> {
      if (offset > data->size() || data->size() - offset < size) return std::nullopt;
      return data->substr(offset, size);
    };
  }
  void write_at(uint64_t offset, const std::string& b) {
    std::fstream f(path_, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(b.data(), static_cast<std::streamsize>(b.size()));
  }
  // Output of a shell command run on the disk path ("{}" replaced by it).
  std::string run(std::string cmd) const {
    for (size_t at; (at = cmd.find("{}")) != std::string::npos;) cmd.replace(at, 2, path_.string());
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
    return out;
  }

 private:
  std::filesystem::path path_;
  bool ok_ = false;
};

}  // namespace cairn::init::stage1::testing
