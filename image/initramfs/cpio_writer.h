// A reproducible newc ("070701") cpio archive, the format the kernel unpacks as initramfs.
// Entries are written sorted by path with parents before children (missing parent
// directories are added, 0755), inode numbers 1.. in that order, uid/gid 0, one mtime for
// every entry, so the same content always gives the same bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace cairn::image {

class CpioArchive {
 public:
  // `path` is absolute or relative to the archive root ("/init" and "init" are the same);
  // "..", empty components and a second entry at the same path are rejected with
  // std::invalid_argument naming the path. `permissions` are the low 12 mode bits.
  void add_file(const std::string& path, uint32_t permissions, std::string contents);
  void add_directory(const std::string& path, uint32_t permissions = 0755);
  void add_symlink(const std::string& path, const std::string& target);
  // A character device node (e.g. /dev/console 5:1, so the kernel can open the console for
  // /init before devtmpfs is mounted).
  void add_char_device(const std::string& path, uint32_t permissions, uint32_t major,
                       uint32_t minor);

  bool contains(const std::string& path) const;

  // The whole archive including the TRAILER!!! entry.
  std::string serialize(int64_t mtime) const;

 private:
  struct Entry {
    uint32_t mode = 0;  // file type and permission bits
    std::string data;   // file contents or symlink target
    uint32_t rdev_major = 0, rdev_minor = 0;
  };
  static std::string normalize(const std::string& path);
  void add(const std::string& path, Entry entry);

  std::map<std::string, Entry> entries_;  // sorted: a parent sorts before its children
};

}  // namespace cairn::image
