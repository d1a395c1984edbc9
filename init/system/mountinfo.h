// A small parser for /proc/self/mountinfo (proc(5)). cairn-init is linked statically and
// Debian ships no static libmount, so this is our own. Format of one line:
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//   (1)(2)(3)   (4)   (5)      (6)     (7)   (8)(9)   (10)         (11)
// Fields (4), (5), (10) and (11) escape space, tab, newline and backslash as octal (\040).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::init::system {

struct MountEntry {
  int mount_id = 0;
  int parent_id = 0;
  unsigned major = 0, minor = 0;
  std::string root;           // (4) path within the filesystem that is the mount's root
  std::string mount_point;    // (5) unescaped
  std::string mount_options;  // (6) per-mount options, "rw,nosuid,..."
  std::vector<std::string> optional_fields;  // (7) "shared:1", "master:2", ...
  std::string fstype;                        // (9)
  std::string source;                        // (10)
  std::string super_options;                 // (11)

  bool has_mount_option(std::string_view option) const;  // exact match in mount_options
  bool read_only() const { return has_mount_option("ro"); }
};

struct MountinfoError {
  int line = 0;    // 1-based
  int column = 0;  // 1-based byte column where the bad field starts
  std::string message;
  std::string str(std::string_view file = "/proc/self/mountinfo") const;  // file:line:col: ...
};

struct Mountinfo {
  std::vector<MountEntry> entries;     // in file order (mount order: parents before children)
  std::vector<MountinfoError> errors;  // malformed lines are skipped and reported here

  // The last (top-most) mount at exactly `path`, or nullptr.
  const MountEntry* find(std::string_view path) const;
  bool is_mount_point(std::string_view path) const { return find(path) != nullptr; }
};

// Never throws on bad input (only on allocation failure); malformed lines become errors.
Mountinfo parse_mountinfo(std::string_view text);
// Decodes the \ooo escapes of fields (4), (5), (10), (11). Bad escapes are kept verbatim.
std::string unescape_mountinfo_field(std::string_view field);

}  // namespace cairn::init::system
