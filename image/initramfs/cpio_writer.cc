#include "image/initramfs/cpio_writer.h"

#include <sys/stat.h>

#include <cstdio>
#include <stdexcept>

namespace cairn::image {
namespace {

void append_header_field(std::string& out, uint64_t value) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(value & 0xffffffffu));
  out.append(buf, 8);
}

void pad4(std::string& out) {
  while (out.size() % 4 != 0) out.push_back('\0');
}

void append_entry(std::string& out, uint32_t ino, uint32_t mode, uint32_t nlink, int64_t mtime,
                  const std::string& name, const std::string& data, uint32_t rdev_major = 0,
                  uint32_t rdev_minor = 0) {
  out += "070701";
  append_header_field(out, ino);
  append_header_field(out, mode);
  append_header_field(out, 0);  // uid
  append_header_field(out, 0);  // gid
  append_header_field(out, nlink);
  append_header_field(out, static_cast<uint64_t>(mtime));
  append_header_field(out, data.size());
  append_header_field(out, 0);  // devmajor (of the file system holding it: none)
  append_header_field(out, 0);  // devminor
  append_header_field(out, rdev_major);
  append_header_field(out, rdev_minor);
  append_header_field(out, name.size() + 1);
  append_header_field(out, 0);  // check (newc has no checksum)
  out += name;
  out.push_back('\0');
  pad4(out);
  out += data;
  pad4(out);
}

}  // namespace

std::string CpioArchive::normalize(const std::string& path) {
  std::string p = path;
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  if (p.empty()) throw std::invalid_argument("cpio: empty path '" + path + "'");
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string_view part(p.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") {
      throw std::invalid_argument("cpio: bad path '" + path + "'");
    }
    start = end + 1;
  }
  return p;
}

void CpioArchive::add(const std::string& path, Entry entry) {
  std::string p = normalize(path);
  auto existing = entries_.find(p);
  if (existing != entries_.end()) {
    // Two requests for the same directory are harmless; anything else is a conflict.
    if (S_ISDIR(existing->second.mode) && S_ISDIR(entry.mode)) return;
    throw std::invalid_argument("cpio: two entries for '/" + p + "'");
  }
  for (size_t slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
    std::string parent = p.substr(0, slash);
    auto it = entries_.find(parent);
    if (it == entries_.end()) {
      entries_[parent] = Entry{S_IFDIR | 0755, {}};
    } else if (!S_ISDIR(it->second.mode)) {
      throw std::invalid_argument("cpio: '/" + parent + "' is not a directory");
    }
  }
  entries_[p] = std::move(entry);
}

void CpioArchive::add_file(const std::string& path, uint32_t permissions, std::string contents) {
  add(path, Entry{S_IFREG | (permissions & 07777), std::move(contents)});
}

void CpioArchive::add_directory(const std::string& path, uint32_t permissions) {
  add(path, Entry{S_IFDIR | (permissions & 07777), {}});
}

void CpioArchive::add_symlink(const std::string& path, const std::string& target) {
  if (target.empty()) throw std::invalid_argument("cpio: empty symlink target for '" + path + "'");
  add(path, Entry{S_IFLNK | 0777, target});
}

void CpioArchive::add_char_device(const std::string& path, uint32_t permissions, uint32_t major,
                                  uint32_t minor) {
  add(path, Entry{S_IFCHR | (permissions & 07777), {}, major, minor});
}

bool CpioArchive::contains(const std::string& path) const {
  return entries_.count(normalize(path)) != 0;
}

std::string CpioArchive::serialize(int64_t mtime) const {
  std::string out;
  uint32_t ino = 1;
  for (const auto& [path, entry] : entries_) {
    append_entry(out, ino++, entry.mode, S_ISDIR(entry.mode) ? 2 : 1, mtime, path, entry.data,
                 entry.rdev_major, entry.rdev_minor);
  }
  append_entry(out, 0, 0, 1, 0, "TRAILER!!!", {});
  return out;
}

}  // namespace cairn::image
