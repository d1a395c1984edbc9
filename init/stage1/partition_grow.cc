#include "init/stage1/partition_grow.h"

#include <cstring>

namespace cairn::init::stage1 {
namespace {

void put_le(std::string& s, size_t at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void seal_header(std::string& header) {
  const uint32_t size = static_cast<uint32_t>(static_cast<uint8_t>(header[12]) |
                                              static_cast<uint8_t>(header[13]) << 8);
  put_le(header, 16, 0, 4);
  put_le(header, 16, crc32(header.data(), size), 4);
}

}  // namespace

std::optional<GrowPlan> plan_grow(const PartitionTable& t, int number, uint64_t disk_sectors,
                                  std::string* error) {
  const PartitionEntry* target = nullptr;
  for (const auto& p : t.partitions) {
    if (p.number == number) target = &p;
  }
  if (!target) {
    if (error) *error = "no partition " + std::to_string(number);
    return std::nullopt;
  }
  for (const auto& p : t.partitions) {
    if (p.first_lba > target->first_lba) return std::nullopt;  // not the last one
  }
  const uint64_t align = (1u << 20) / t.sector_size;
  const uint64_t min_gain = (16u << 20) / t.sector_size;
  GrowPlan plan;
  plan.number = number;
  plan.first_lba = target->first_lba;
  plan.old_last_lba = target->last_lba;
  if (disk_sectors <= target->last_lba) {
    if (error) *error = "disk smaller than its partition table";
    return std::nullopt;
  }
  if (t.kind == PartitionTable::Kind::kMbr) {
    const uint64_t limit = disk_sectors < (1ull << 32) ? disk_sectors : (1ull << 32);
    uint64_t end = (limit / align) * align;  // exclusive
    if (end <= target->last_lba + min_gain) return std::nullopt;
    plan.new_last_lba = end - 1;
    std::string mbr = t.mbr;
    put_le(mbr, 446 + 16 * (number - 1) + 12, end - target->first_lba, 4);
    plan.writes.push_back({0, mbr});
    return plan;
  }
  if (t.from_backup) {
    if (error) *error = "the primary GPT is damaged; not rewriting the table";
    return std::nullopt;
  }
  const uint64_t entry_sectors =
      (uint64_t{t.entry_count} * t.entry_size + t.sector_size - 1) / t.sector_size;
  const uint64_t disk_last = disk_sectors - 1;
  if (disk_last < entry_sectors + 2 + t.first_usable_lba) {
    if (error) *error = "disk too small for a GPT";
    return std::nullopt;
  }
  const uint64_t last_usable = disk_last - 1 - entry_sectors;
  const uint64_t end = ((last_usable + 1) / align) * align;  // exclusive, aligned
  if (end <= target->last_lba + min_gain) return std::nullopt;
  plan.new_last_lba = end - 1;

  std::string entries = t.entries;
  put_le(entries, size_t(number - 1) * t.entry_size + 40, plan.new_last_lba, 8);
  const uint32_t entries_crc = crc32(entries.data(), entries.size());

  std::string primary = t.header;
  put_le(primary, 24, 1, 8);
  put_le(primary, 32, disk_last, 8);
  put_le(primary, 48, last_usable, 8);
  put_le(primary, 72, t.entries_lba, 8);
  put_le(primary, 88, entries_crc, 4);
  seal_header(primary);

  std::string backup = primary;
  put_le(backup, 24, disk_last, 8);
  put_le(backup, 32, 1, 8);
  put_le(backup, 72, disk_last - entry_sectors, 8);
  seal_header(backup);

  std::string padded = entries;
  padded.resize(entry_sectors * t.sector_size, '\0');
  plan.writes.push_back({(disk_last - entry_sectors) * t.sector_size, padded});
  plan.writes.push_back({disk_last * t.sector_size, backup});
  plan.writes.push_back({t.entries_lba * t.sector_size, padded});
  plan.writes.push_back({t.sector_size, primary});  // the primary header last
  // The protective MBR covers the whole disk (capped at 32 bits), as fdisk expects.
  std::string mbr = t.mbr;
  for (int i = 0; i < 4; ++i) {
    if (static_cast<uint8_t>(mbr[446 + 16 * i + 4]) == 0xee) {
      const uint64_t size = disk_last < 0xffffffffull ? disk_last : 0xffffffffull;
      put_le(mbr, 446 + 16 * i + 12, size, 4);
    }
  }
  if (mbr != t.mbr) plan.writes.push_back({0, mbr});
  return plan;
}

}  // namespace cairn::init::stage1
