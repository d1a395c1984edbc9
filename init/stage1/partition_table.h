// A small, defensive GPT / MBR reader: stage 1 reads the parent disk's table itself to match
// PARTUUID= (the kernel's uevent only carries PARTN and PARTNAME) and to grow the data
// partition on first boot (partition_grow.h). Every field is bounds- and CRC-checked; a
// malformed table is an error string, never a crash (fuzzed: fuzz_partition_table).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cairn::init::stage1 {

struct PartitionEntry {
  int number = 0;  // 1-based, as the kernel numbers it (vda1, mmcblk0p1)
  uint64_t first_lba = 0;
  uint64_t last_lba = 0;  // inclusive
  std::string partuuid;   // GPT: lowercase GUID; MBR: "<disk signature 8 hex>-<2 digits>"
  std::string name;       // GPT partition name (UTF-16LE decoded; non-ASCII as '?')
  std::string type;       // GPT: lowercase type GUID; MBR: "0x83"
};

struct PartitionTable {
  enum class Kind { kGpt, kMbr } kind = Kind::kMbr;
  uint32_t sector_size = 512;
  std::string disk_id;  // GPT disk GUID or MBR signature (8 hex)
  std::vector<PartitionEntry> partitions;
  // GPT only, what partition_grow needs to rewrite the table.
  uint64_t first_usable_lba = 0, last_usable_lba = 0, alternate_lba = 0, entries_lba = 0;
  uint32_t entry_count = 0, entry_size = 0;
  std::string header;        // the primary header sector (sector_size bytes)
  std::string entries;       // entry_count * entry_size bytes
  std::string mbr;           // sector 0
  bool from_backup = false;  // the primary GPT was damaged; this is the backup's view
};

// Reads `size` bytes at byte `offset` of the disk; nullopt if that is past the end/unreadable.
using ReadAt = std::function<std::optional<std::string>(uint64_t offset, size_t size)>;

// Parses the disk's table. GPT (protective MBR type 0xee, "EFI PART" header with valid CRCs)
// wins over MBR. Returns nullopt with *error set if there is no valid table.
std::optional<PartitionTable> read_partition_table(const ReadAt& read, uint32_t sector_size,
                                                   std::string* error);

// The CRC-32 of GPT headers and entry arrays (IEEE 802.3, as zlib's crc32).
uint32_t crc32(const void* data, size_t size, uint32_t crc = 0);

// "01234567-89ab-cdef-0123-456789abcdef" from a GPT's mixed-endian 16 bytes.
std::string guid_to_string(const unsigned char* bytes16);

}  // namespace cairn::init::stage1
