// First-boot growth of the data partition: the image is built small and flashed to a larger
// disk (or a VM disk is resized), so the last partition is extended to the disk's end. This
// file computes the new table bytes; stage1 writes them, tells the kernel (BLKPG) and grows
// ext4 online (EXT4_IOC_RESIZE_FS).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "init/stage1/partition_table.h"

namespace cairn::init::stage1 {

struct DiskWrite {
  uint64_t offset = 0;  // bytes
  std::string bytes;
};

struct GrowPlan {
  int number = 0;
  uint64_t first_lba = 0;
  uint64_t old_last_lba = 0;
  uint64_t new_last_lba = 0;  // inclusive
  std::vector<DiskWrite>
      writes;  // GPT: primary header+entries, backup entries+header; MBR: sector 0
};

// The plan to extend partition `number` to the end of a disk of `disk_sectors` sectors
// (its end aligned down to 1 MiB). nullopt when there is nothing worth doing (less than
// 16 MiB to gain) or the partition is not the last one on the disk; *error is set when the
// request is impossible (no such partition, a disk smaller than the table says).
std::optional<GrowPlan> plan_grow(const PartitionTable& table, int number, uint64_t disk_sectors,
                                  std::string* error);

}  // namespace cairn::init::stage1
