#include "init/stage1/storage_hint.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

#include "init/stage1/sysfs_read.h"

namespace cairn::init::stage1 {
namespace {

constexpr unsigned kVirtioVendor = 0x1af4;

// A sysfs attribute such as "0x010601\n" as a number; `ok` false if it is not one.
unsigned parse_hex(const std::string& text, bool* ok) {
  const char* begin = text.c_str();
  char* end = nullptr;
  unsigned long v = std::strtoul(begin, &end, 16);
  *ok = end != begin && v <= 0xffffffffUL;
  return static_cast<unsigned>(v);
}

bool has_driver(const std::string& dir) {
  struct stat st {};
  return ::lstat((dir + "/driver").c_str(), &st) == 0;
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return names;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::string hex4(unsigned v) {
  static const char digits[] = "0123456789abcdef";
  std::string out(4, '0');
  for (int i = 3; i >= 0; --i, v >>= 4) out[static_cast<size_t>(i)] = digits[v & 0xf];
  return out;
}

std::vector<std::string> virtio_pci_modules(unsigned device, std::string* what) {
  // Legacy (0x1000 + id - 1) and modern (0x1040 + id) virtio PCI device ids.
  if (device == 0x1001 || device == 0x1042) {
    *what = "virtio block device";
    return {"virtio_pci", "virtio_blk"};
  }
  if (device == 0x1004 || device == 0x1048) {
    *what = "virtio SCSI controller";
    return {"virtio_pci", "virtio_scsi", "sd_mod"};
  }
  return {};
}

void scan_pci(const std::string& sysfs, std::vector<UnclaimedStorage>* out) {
  const std::string base = sysfs + "/bus/pci/devices";
  for (const auto& name : list_dir(base)) {
    const std::string dir = base + "/" + name;
    bool ok_class = false, ok_vendor = false, ok_device = false;
    unsigned cls = parse_hex(read_small_file(dir + "/class"), &ok_class);
    unsigned vendor = parse_hex(read_small_file(dir + "/vendor"), &ok_vendor);
    unsigned device = parse_hex(read_small_file(dir + "/device"), &ok_device);
    if (!ok_class || !ok_vendor || !ok_device || has_driver(dir)) continue;
    UnclaimedStorage u;
    u.modules = pci_storage_modules(cls, vendor, device, &u.what);
    if (u.what.empty()) continue;
    u.where = "PCI " + name;
    u.id = hex4(vendor) + ":" + hex4(device);
    out->push_back(std::move(u));
  }
}

void scan_virtio(const std::string& sysfs, std::vector<UnclaimedStorage>* out) {
  const std::string base = sysfs + "/bus/virtio/devices";
  for (const auto& name : list_dir(base)) {
    const std::string dir = base + "/" + name;
    bool ok = false;
    unsigned id = parse_hex(read_small_file(dir + "/device"), &ok);
    if (!ok || has_driver(dir)) continue;
    UnclaimedStorage u;
    u.where = name;
    if (id == 2) {
      u.what = "virtio block device";
      u.modules = {"virtio_blk"};
    } else if (id == 8) {
      u.what = "virtio SCSI controller";
      u.modules = {"virtio_scsi", "sd_mod"};
    } else {
      continue;
    }
    out->push_back(std::move(u));
  }
}

void scan_scsi_disks(const std::string& sysfs, std::vector<UnclaimedStorage>* out) {
  const std::string base = sysfs + "/bus/scsi/devices";
  for (const auto& name : list_dir(base)) {
    const std::string dir = base + "/" + name;
    // Hosts and targets have no "type"; 0 is a disk, 14 a reduced-command-set disk (USB sticks).
    std::string type = read_small_file(dir + "/type");
    while (!type.empty() && (type.back() == '\n' || type.back() == ' ')) type.pop_back();
    if ((type != "0" && type != "14") || has_driver(dir)) continue;
    out->push_back({"SCSI " + name, "disk", "", {"sd_mod"}});
  }
}

void scan_mmc_cards(const std::string& sysfs, std::vector<UnclaimedStorage>* out) {
  const std::string base = sysfs + "/bus/mmc/devices";
  for (const auto& name : list_dir(base)) {
    const std::string dir = base + "/" + name;
    if (has_driver(dir)) continue;
    out->push_back({"MMC " + name, "SD/eMMC card", "", {"mmc_block"}});
  }
}

}  // namespace

std::vector<std::string> pci_storage_modules(unsigned class_code, unsigned vendor, unsigned device,
                                             std::string* what) {
  what->clear();
  const unsigned base_class = class_code >> 16;
  const unsigned subclass = (class_code >> 8) & 0xff;
  const unsigned prog_if = class_code & 0xff;
  if (base_class == 0x01) {
    if (vendor == kVirtioVendor) {
      auto modules = virtio_pci_modules(device, what);
      if (!what->empty()) return modules;
    }
    switch (subclass) {
      case 0x00:
        *what = "SCSI controller";
        return {};
      case 0x01:
        *what = "IDE controller";
        if (vendor == 0x8086) return {"ata_piix", "sd_mod"};
        return {"ata_generic", "sd_mod"};
      case 0x04:
        *what = "RAID controller";
        return {};
      case 0x06:
        if (prog_if == 0x01) {
          *what = "SATA controller (AHCI)";
          return {"ahci", "sd_mod"};
        }
        *what = "SATA controller";
        return {};
      case 0x07:
        *what = "SAS controller";
        return {};
      case 0x08:
        if (prog_if == 0x02) {
          *what = "NVMe controller";
          return {"nvme"};
        }
        *what = "non-volatile memory controller";
        return {};
      default:
        *what = "storage controller";
        return {};
    }
  }
  if (base_class == 0x08 && subclass == 0x05) {
    *what = "SD host controller";
    return {"sdhci_pci", "mmc_block"};
  }
  if (base_class == 0x0c && subclass == 0x03) {
    // A USB host matters only if the root disk is a USB one; the mass-storage drivers go with it.
    switch (prog_if) {
      case 0x30:
        *what = "USB 3 (xHCI) controller";
        return {"xhci_pci", "usb_storage", "uas", "sd_mod"};
      case 0x20:
        *what = "USB 2 (EHCI) controller";
        return {"ehci_pci", "usb_storage", "sd_mod"};
      case 0x10:
        *what = "USB 1 (OHCI) controller";
        return {"ohci_pci", "usb_storage", "sd_mod"};
      case 0x00:
        *what = "USB 1 (UHCI) controller";
        return {"uhci_hcd", "usb_storage", "sd_mod"};
      default:
        return {};
    }
  }
  return {};
}

std::vector<UnclaimedStorage> find_unclaimed_storage(const std::string& sysfs) {
  std::vector<UnclaimedStorage> found;
  scan_pci(sysfs, &found);
  scan_virtio(sysfs, &found);
  scan_scsi_disks(sysfs, &found);
  scan_mmc_cards(sysfs, &found);
  return found;
}

std::string describe_unclaimed_storage(const std::vector<UnclaimedStorage>& found) {
  std::string out;
  for (const auto& u : found) {
    if (!out.empty()) out += "; ";
    out += u.where + " " + u.what;
    if (!u.id.empty()) out += " [" + u.id + "]";
    out += " has no driver: ";
    if (u.modules.empty()) {
      out += "add its driver module to the recipe's [kernel] modules";
      continue;
    }
    out += "add ";
    for (size_t i = 0; i < u.modules.size(); ++i) {
      out += (i ? ", \"" : "\"") + u.modules[i] + "\"";
    }
    out += " to the recipe's [kernel] modules";
  }
  return out;
}

}  // namespace cairn::init::stage1
