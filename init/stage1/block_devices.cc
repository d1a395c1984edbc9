#include "init/stage1/block_devices.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "init/stage1/partition_table.h"
#include "init/stage1/sysfs_read.h"

namespace cairn::init::stage1 {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

BlockDevice parse_block_uevent(const std::string& name, std::string_view text) {
  BlockDevice d;
  d.name = name;
  d.devname = name;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "MAJOR") {
      d.major = static_cast<unsigned>(std::strtoul(std::string(value).c_str(), nullptr, 10));
    } else if (key == "MINOR") {
      d.minor = static_cast<unsigned>(std::strtoul(std::string(value).c_str(), nullptr, 10));
    } else if (key == "DEVNAME") {
      if (!value.empty() && value.find("..") == std::string_view::npos) d.devname = value;
    } else if (key == "DEVTYPE") {
      d.partition = value == "partition";
    } else if (key == "PARTN") {
      d.partn = std::atoi(std::string(value).c_str());
    } else if (key == "PARTNAME") {
      d.partname = value;
    }
  }
  return d;
}

std::vector<const BlockDevice*> match_devices(const DeviceSpec& spec,
                                              const std::vector<BlockDevice>& devices) {
  std::vector<const BlockDevice*> out;
  for (const auto& d : devices) {
    bool match = false;
    switch (spec.kind) {
      case DeviceSpec::Kind::kPartLabel:
        match = d.partition && d.partname == spec.value;
        break;
      case DeviceSpec::Kind::kPartUuid:
        match = d.partition && !d.partuuid.empty() && lower(d.partuuid) == spec.value;
        break;
      case DeviceSpec::Kind::kPath:
        match = "/dev/" + d.devname == spec.value;
        break;
      case DeviceSpec::Kind::kNone:
        break;
    }
    if (match) out.push_back(&d);
  }
  return out;
}

std::vector<BlockDevice> scan_block_devices(const std::string& sysfs, const std::string& dev_dir) {
  std::vector<BlockDevice> devices;
  DIR* dir = ::opendir(sysfs.c_str());
  if (!dir) return devices;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const std::string name = e->d_name;
    std::string uevent = read_small_file(sysfs + "/" + name + "/uevent");
    if (uevent.empty()) continue;
    BlockDevice d = parse_block_uevent(name, uevent);
    if (d.partition) {
      // /sys/class/block/vda2 -> .../block/vda/vda2: the parent directory is the disk.
      char* real = ::realpath((sysfs + "/" + name).c_str(), nullptr);
      if (real) {
        std::string path = real;
        std::free(real);
        size_t slash = path.rfind('/');
        size_t before = slash == std::string::npos ? std::string::npos : path.rfind('/', slash - 1);
        if (before != std::string::npos) d.disk = path.substr(before + 1, slash - before - 1);
      }
    }
    devices.push_back(std::move(d));
  }
  ::closedir(dir);
  std::sort(devices.begin(), devices.end(),
            [](const BlockDevice& a, const BlockDevice& b) { return a.name < b.name; });

  std::map<std::string, std::optional<PartitionTable>> tables;
  for (auto& d : devices) {
    if (!d.partition || d.disk.empty()) continue;
    auto it = tables.find(d.disk);
    if (it == tables.end()) {
      std::optional<PartitionTable> table;
      std::string devname = d.disk;
      for (const auto& other : devices) {
        if (other.name == d.disk) devname = other.devname;
      }
      int fd = ::open((dev_dir + "/" + devname).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        std::string size_text = read_small_file(sysfs + "/" + d.disk + "/queue/logical_block_size");
        uint32_t sector = static_cast<uint32_t>(std::strtoul(size_text.c_str(), nullptr, 10));
        if (sector == 0) sector = 512;
        ReadAt read = [fd](uint64_t offset, size_t size) -> std::optional<std::string> {
          if (size > (64u << 20)) return std::nullopt;
          std::string buf(size, '\0');
          ssize_t n = ::pread(fd, buf.data(), size, static_cast<off_t>(offset));
          if (n != static_cast<ssize_t>(size)) return std::nullopt;
          return buf;
        };
        std::string error;
        table = read_partition_table(read, sector, &error);
        ::close(fd);
      }
      it = tables.emplace(d.disk, std::move(table)).first;
    }
    if (!it->second) continue;
    for (const auto& p : it->second->partitions) {
      if (p.number == d.partn) d.partuuid = p.partuuid;
    }
  }
  return devices;
}

}  // namespace cairn::init::stage1
