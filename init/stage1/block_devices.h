// Finding the partitions the command line names. Block devices are read from sysfs
// (/sys/class/block/<name>/uevent: MAJOR, MINOR, DEVNAME, DEVTYPE, PARTN, PARTNAME); a
// PARTUUID comes from reading the parent disk's GPT/MBR (partition_table.h), because the
// kernel's uevent does not carry it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "init/stage1/boot_plan.h"

namespace cairn::init::stage1 {

struct BlockDevice {
  std::string name;     // sysfs name: "vda2", "mmcblk0p2", "dm-0"
  std::string devname;  // DEVNAME (node under /dev)
  unsigned major = 0, minor = 0;
  bool partition = false;
  int partn = 0;
  std::string partname;  // GPT partition name from the kernel (PARTNAME)
  std::string disk;      // the parent disk's sysfs name (partitions only)
  std::string partuuid;  // filled by scan_block_devices from the disk's table
  std::string dev() const { return std::to_string(major) + ":" + std::to_string(minor); }
};

// Parses a sysfs uevent file of block device `name`.
BlockDevice parse_block_uevent(const std::string& name, std::string_view uevent);

// The devices matching `spec` (PARTLABEL against partname, PARTUUID case-insensitively,
// a /dev path against /dev/<devname>). More than one match is the caller's error to report.
std::vector<const BlockDevice*> match_devices(const DeviceSpec& spec,
                                              const std::vector<BlockDevice>& devices);

// Every block device in `sysfs_class_block` (default /sys/class/block), sorted by name, with
// PARTUUIDs read from /dev/<disk>. Unreadable entries are skipped (they may be appearing).
std::vector<BlockDevice> scan_block_devices(
    const std::string& sysfs_class_block = "/sys/class/block", const std::string& dev_dir = "/dev");

}  // namespace cairn::init::stage1
