#include "image/initramfs/modinfo.h"

#include <cstdint>
#include <stdexcept>

namespace cairn::image {
namespace {

// Bounds-checked integer reads in the file's byte order.
class Reader {
 public:
  Reader(std::string_view data, bool big_endian, const std::string& what)
      : data_(data), big_(big_endian), what_(what) {}
  uint64_t read(uint64_t offset, int bytes) const {
    if (offset > data_.size() || data_.size() - offset < static_cast<uint64_t>(bytes)) {
      fail("truncated ELF (read past the end)");
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
      uint64_t b = static_cast<uint8_t>(data_[offset + (big_ ? i : bytes - 1 - i)]);
      v = (v << 8) | b;
    }
    return v;
  }
  std::string_view slice(uint64_t offset, uint64_t size) const {
    if (offset > data_.size() || data_.size() - offset < size) fail("section outside the file");
    return data_.substr(offset, size);
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error(what_ + ": " + why);
  }

 private:
  std::string_view data_;
  bool big_;
  const std::string& what_;
};

}  // namespace

std::vector<std::pair<std::string, std::string>> read_modinfo(std::string_view elf,
                                                              const std::string& what) {
  if (elf.size() < 16 || elf.substr(0, 4) !=
                             "\x7f"
                             "ELF") {
    throw std::runtime_error(what + ": not an ELF file");
  }
  const bool is64 = elf[4] == 2;
  if (elf[4] != 1 && elf[4] != 2) throw std::runtime_error(what + ": bad ELF class");
  if (elf[5] != 1 && elf[5] != 2) throw std::runtime_error(what + ": bad ELF byte order");
  Reader r(elf, elf[5] == 2, what);
  const uint64_t shoff = is64 ? r.read(0x28, 8) : r.read(0x20, 4);
  const uint64_t shentsize = r.read(is64 ? 0x3a : 0x2e, 2);
  const uint64_t shnum = r.read(is64 ? 0x3c : 0x30, 2);
  const uint64_t shstrndx = r.read(is64 ? 0x3e : 0x32, 2);
  if (shentsize < (is64 ? 64u : 40u)) r.fail("bad section header size");
  if (shstrndx >= shnum) r.fail("bad section name table index");
  auto header = [&](uint64_t i) { return shoff + i * shentsize; };
  auto sh_offset = [&](uint64_t h) { return is64 ? r.read(h + 0x18, 8) : r.read(h + 0x10, 4); };
  auto sh_size = [&](uint64_t h) { return is64 ? r.read(h + 0x20, 8) : r.read(h + 0x14, 4); };
  const uint64_t names_h = header(shstrndx);
  std::string_view names = r.slice(sh_offset(names_h), sh_size(names_h));
  for (uint64_t i = 0; i < shnum; ++i) {
    const uint64_t h = header(i);
    const uint64_t name_off = r.read(h, 4);
    if (name_off >= names.size()) r.fail("section name outside the name table");
    std::string_view name = names.substr(name_off);
    name = name.substr(0, name.find('\0'));
    if (name != ".modinfo") continue;
    std::string_view body = r.slice(sh_offset(h), sh_size(h));
    std::vector<std::pair<std::string, std::string>> out;
    while (!body.empty()) {
      size_t end = body.find('\0');
      std::string_view entry = body.substr(0, end);
      body.remove_prefix(end == std::string_view::npos ? body.size() : end + 1);
      if (entry.empty()) continue;  // alignment padding
      size_t eq = entry.find('=');
      if (eq == std::string_view::npos) continue;
      out.emplace_back(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
    return out;
  }
  throw std::runtime_error(what + ": no .modinfo section (not a kernel module?)");
}

}  // namespace cairn::image
