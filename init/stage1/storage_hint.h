// Why a root disk never appeared: storage hardware the kernel enumerated but no driver claimed.
// Stage 1 loads only the recipe's modules, so a VM or board whose disk sits behind a controller
// the recipe did not list (SATA/AHCI, NVMe, virtio-scsi, USB, SD) times out with no block device
// at all. This reads sysfs for such unclaimed devices and names the modules to add to the
// recipe's [kernel] modules, turning "not found after 30 s" into an actionable message.
#pragma once

#include <string>
#include <vector>

namespace cairn::init::stage1 {

struct UnclaimedStorage {
  std::string where;                 // "PCI 0000:00:1f.2", "virtio2", "SCSI 0:0:0:0"
  std::string what;                  // "SATA controller (AHCI)"
  std::string id;                    // "8086:2922" (PCI vendor:device), "" if none
  std::vector<std::string> modules;  // modules that drive it, in load order; empty if unknown
};

// The module(s) for a PCI function of class `class_code` (the sysfs "class" value, e.g.
// 0x010601) from `vendor`:`device`; `what` gets a human name. Empty modules and an empty
// `what` for anything that is not storage.
std::vector<std::string> pci_storage_modules(unsigned class_code, unsigned vendor, unsigned device,
                                             std::string* what);

// Every storage device under `sysfs` (default /sys) that has no driver bound: PCI functions of
// the storage, SD host and USB host classes, virtio block/SCSI devices, SCSI disks without sd.
// Unreadable entries are skipped; never throws on a missing or odd sysfs.
std::vector<UnclaimedStorage> find_unclaimed_storage(const std::string& sysfs = "/sys");

// One clause per device, joined by "; ", e.g. `PCI 0000:00:1f.2 SATA controller (AHCI) [8086:2922]
// has no driver: add "ahci", "sd_mod" to the recipe's [kernel] modules`; "" when the list is empty.
std::string describe_unclaimed_storage(const std::vector<UnclaimedStorage>& found);

}  // namespace cairn::init::stage1
