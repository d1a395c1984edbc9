#include "init/system/pid1_cgroup.h"

#include <cerrno>
#include <cstring>

namespace cairn::init::system {
namespace {

// The "0::/path" line of /proc/self/cgroup (the unified hierarchy).
std::string unified_path(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.substr(0, 3) == "0::") return std::string(line.substr(3));
    pos = end + 1;
  }
  return {};
}

bool has_word(std::string_view text, std::string_view word) {
  size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n')) ++pos;
    size_t end = pos;
    while (end < text.size() && text[end] != ' ' && text[end] != '\n') ++end;
    if (text.substr(pos, end - pos) == word) return true;
    pos = end;
  }
  return false;
}

}  // namespace

std::string cgroup2_mount_point(const Mountinfo& info) {
  const MountEntry* best = nullptr;
  for (const MountEntry& e : info.entries) {
    if (e.fstype != "cgroup2") continue;
    if (best == nullptr || (best->root != "/" && e.root == "/")) best = &e;
  }
  return best ? best->mount_point : std::string();
}

std::string own_cgroup_dir(SystemCalls& sys) noexcept {
  std::string text;
  if (sys.read_file("/proc/self/mountinfo", text) != 0) return {};
  Mountinfo info = parse_mountinfo(text);
  const MountEntry* mount = nullptr;
  for (const MountEntry& e : info.entries) {
    if (e.fstype == "cgroup2" && (mount == nullptr || (mount->root != "/" && e.root == "/"))) {
      mount = &e;
    }
  }
  if (mount == nullptr) return {};
  if (sys.read_file("/proc/self/cgroup", text) != 0) return {};
  std::string path = unified_path(text);
  if (path.empty()) return {};
  // A mount of a sub-tree (its root is not "/") shows paths below its root.
  if (mount->root != "/" && path.compare(0, mount->root.size(), mount->root) == 0) {
    path.erase(0, mount->root.size());
  }
  if (path.empty() || path == "/") return mount->mount_point;
  std::string dir = mount->mount_point;
  if (!dir.empty() && dir.back() == '/') dir.pop_back();
  return dir + path;
}

CgroupSetup setup_pid1_cgroup(SystemCalls& sys, const std::string& base,
                              const std::string& leaf_name,
                              const std::vector<std::string>& controllers) noexcept {
  CgroupSetup out;
  out.base = base;
  if (base.empty()) {
    out.warnings.push_back("no cgroup2 hierarchy: services run without resource control");
    return out;
  }
  std::string leaf = base + "/" + leaf_name;
  if (int err = sys.make_dirs(leaf, 0755); err != 0) {
    out.warnings.push_back(leaf + ": " + std::strerror(err));
  } else if (int werr = sys.write_file(leaf + "/cgroup.procs", std::to_string(sys.getpid()));
             werr != 0) {
    out.warnings.push_back(leaf + "/cgroup.procs: " + std::strerror(werr));
  } else {
    out.leaf = leaf;
  }
  std::string available;
  if (int err = sys.read_file(base + "/cgroup.controllers", available); err != 0) {
    out.warnings.push_back(base + "/cgroup.controllers: " + std::strerror(err));
    return out;
  }
  for (const std::string& c : controllers) {
    if (!has_word(available, c)) {
      out.warnings.push_back("controller " + c + " not available");
      continue;
    }
    // One write per controller: one that cannot be enabled does not keep the others off.
    if (int err = sys.write_file(base + "/cgroup.subtree_control", "+" + c); err != 0) {
      out.warnings.push_back("enable " + c + " in " + base + ": " + std::strerror(err));
      continue;
    }
    out.enabled.push_back(c);
  }
  return out;
}

}  // namespace cairn::init::system
