// The disk layout of a cairn image (docs/boot-contract.md): boot, root-a, root-b, data, each
// 1 MiB aligned, in a GPT (UEFI boards) or an MBR (Raspberry Pi), with every identifier (disk
// GUID / MBR signature, PARTUUIDs, filesystem UUIDs, the verity salt) derived from the recipe's
// seed so two builds are bit-identical. Pure computation: the stages turn it into files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cairn::image {

inline constexpr uint64_t kSectorSize = 512;
inline constexpr uint64_t kAlign = 1024 * 1024;  // partition alignment and the GPT's room

enum class TableType { kGpt, kMbr };

struct Partition {
  int number = 0;         // 1-based
  std::string label;      // GPT PARTLABEL: cairn-boot, cairn-root-a, cairn-root-b, cairn-data
  uint64_t offset = 0;    // bytes from the disk's start
  uint64_t size = 0;      // bytes
  std::string type;       // GPT type GUID (upper case) or MBR type byte ("c", "83")
  std::string partuuid;   // GPT: lower-case UUID; MBR: "<disk signature>-<NN>"
  bool bootable = false;  // MBR active flag (the boot partition)
};

struct DiskLayout {
  TableType table = TableType::kGpt;
  std::string disk_id;  // GPT disk GUID (lower case) or MBR signature "0x1234abcd"
  uint64_t disk_size = 0;
  std::vector<Partition> partitions;  // boot, root-a, root-b, data

  const Partition& by_label(const std::string& label) const;  // throws if absent
};

// A version-4-shaped UUID from SHA-256(seed NUL purpose): stable per seed and purpose.
std::string seeded_uuid(const std::string& seed, const std::string& purpose);
// 32 hex digits (a FAT volume id is the first 8, an MBR signature likewise).
std::string seeded_hex(const std::string& seed, const std::string& purpose, size_t digits);

// Sizes are bytes, multiples of kAlign (the recipe guarantees it). `arm64` picks the GPT
// root partition type of that architecture.
DiskLayout compute_layout(TableType table, bool arm64, const std::string& seed, uint64_t boot_size,
                          uint64_t root_size, uint64_t data_size);

// The input for `sfdisk --no-reread --no-tell-kernel IMAGE` that writes this table.
std::string sfdisk_script(const DiskLayout& layout);

// The root= style reference for stage 1: "PARTLABEL=cairn-root-a" (GPT) or
// "PARTUUID=1234abcd-02" (MBR: no labels).
std::string partition_ref(const DiskLayout& layout, const std::string& label);

}  // namespace cairn::image
