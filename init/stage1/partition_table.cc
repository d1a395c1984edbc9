#include "init/stage1/partition_table.h"

#include <cstdio>
#include <cstring>

namespace cairn::init::stage1 {
namespace {

uint64_t le(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

bool fail(std::string* error, const std::string& why) {
  if (error) *error = why;
  return false;
}

bool parse_gpt(const ReadAt& read, uint32_t sector_size, uint64_t header_lba, PartitionTable& t,
               std::string* error) {
  auto header = read(header_lba * sector_size, sector_size);
  if (!header || header->size() < 92) return fail(error, "GPT header unreadable");
  const std::string& h = *header;
  if (h.compare(0, 8, "EFI PART") != 0) return fail(error, "no GPT signature");
  const uint32_t header_size = static_cast<uint32_t>(le(h, 12, 4));
  if (header_size < 92 || header_size > h.size()) return fail(error, "bad GPT header size");
  std::string copy = h.substr(0, header_size);
  std::memset(copy.data() + 16, 0, 4);
  if (crc32(copy.data(), copy.size()) != le(h, 16, 4))
    return fail(error, "GPT header CRC mismatch");
  if (le(h, 24, 8) != header_lba) return fail(error, "GPT header at the wrong LBA");
  t.alternate_lba = le(h, 32, 8);
  t.first_usable_lba = le(h, 40, 8);
  t.last_usable_lba = le(h, 48, 8);
  t.disk_id = guid_to_string(reinterpret_cast<const unsigned char*>(h.data() + 56));
  t.entries_lba = le(h, 72, 8);
  t.entry_count = static_cast<uint32_t>(le(h, 80, 4));
  t.entry_size = static_cast<uint32_t>(le(h, 84, 4));
  if (t.entry_size < 128 || t.entry_size > 4096 || t.entry_size % 8 != 0) {
    return fail(error, "bad GPT entry size");
  }
  if (t.entry_count == 0 || t.entry_count > 1024) return fail(error, "bad GPT entry count");
  if (t.first_usable_lba > t.last_usable_lba) return fail(error, "bad GPT usable range");
  auto entries = read(t.entries_lba * sector_size, size_t{t.entry_count} * t.entry_size);
  if (!entries || entries->size() != size_t{t.entry_count} * t.entry_size) {
    return fail(error, "GPT entries unreadable");
  }
  if (crc32(entries->data(), entries->size()) != le(h, 88, 4)) {
    return fail(error, "GPT entries CRC mismatch");
  }
  t.kind = PartitionTable::Kind::kGpt;
  t.header = h;
  t.entries = *entries;
  t.partitions.clear();
  for (uint32_t i = 0; i < t.entry_count; ++i) {
    const size_t at = size_t{i} * t.entry_size;
    const auto* e = reinterpret_cast<const unsigned char*>(t.entries.data() + at);
    bool used = false;
    for (int b = 0; b < 16; ++b) used |= e[b] != 0;
    if (!used) continue;
    PartitionEntry p;
    p.number = static_cast<int>(i + 1);
    p.type = guid_to_string(e);
    p.partuuid = guid_to_string(e + 16);
    p.first_lba = le(t.entries, at + 32, 8);
    p.last_lba = le(t.entries, at + 40, 8);
    if (p.first_lba > p.last_lba)
      return fail(error, "GPT entry " + std::to_string(i + 1) + ": end before start");
    for (int c = 0; c < 36; ++c) {
      const uint16_t ch = static_cast<uint16_t>(le(t.entries, at + 56 + 2 * c, 2));
      if (ch == 0) break;
      p.name.push_back(ch < 0x80 ? static_cast<char>(ch) : '?');
    }
    t.partitions.push_back(std::move(p));
  }
  return true;
}

}  // namespace

uint32_t crc32(const void* data, size_t size, uint32_t crc) {
  static uint32_t table[256] = {};
  static bool ready = false;  // benign race: every thread computes the same table
  if (!ready) {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    ready = true;
  }
  crc = ~crc;
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::string guid_to_string(const unsigned char* b) {
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[3], b[2],
                b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::optional<PartitionTable> read_partition_table(const ReadAt& read, uint32_t sector_size,
                                                   std::string* error) {
  if (sector_size < 512 || sector_size > 65536 || (sector_size & (sector_size - 1)) != 0) {
    fail(error, "bad sector size");
    return std::nullopt;
  }
  auto mbr = read(0, 512);
  if (!mbr || mbr->size() != 512) {
    fail(error, "cannot read sector 0");
    return std::nullopt;
  }
  if (static_cast<uint8_t>((*mbr)[510]) != 0x55 || static_cast<uint8_t>((*mbr)[511]) != 0xaa) {
    fail(error, "no partition table (no 55aa boot signature)");
    return std::nullopt;
  }
  PartitionTable t;
  t.sector_size = sector_size;
  t.mbr = *mbr;
  bool protective = false;
  for (int i = 0; i < 4; ++i) protective |= static_cast<uint8_t>((*mbr)[446 + 16 * i + 4]) == 0xee;
  if (protective) {
    if (parse_gpt(read, sector_size, 1, t, error)) return t;
    // A damaged primary: the backup header sits where the primary says or at the disk's end;
    // we only know the former here.
    // The primary is damaged: its alternate-LBA field (unverified) says where the backup is;
    // the backup is then checked on its own (signature, CRC, its own LBA).
    std::string first_error = error ? *error : "";
    auto primary = read(sector_size, sector_size);
    const uint64_t alternate =
        primary && primary->size() >= 40 && primary->compare(0, 8, "EFI PART") == 0
            ? le(*primary, 32, 8)
            : 0;
    if (alternate > 1 && parse_gpt(read, sector_size, alternate, t, error)) {
      t.from_backup = true;
      return t;
    }
    if (error) *error = first_error;
    return std::nullopt;
  }
  t.kind = PartitionTable::Kind::kMbr;
  char id[9];
  std::snprintf(id, sizeof id, "%08llx", static_cast<unsigned long long>(le(*mbr, 440, 4)));
  t.disk_id = id;
  for (int i = 0; i < 4; ++i) {
    const size_t at = 446 + 16 * i;
    const uint8_t type = static_cast<uint8_t>((*mbr)[at + 4]);
    const uint64_t start = le(*mbr, at + 8, 4), count = le(*mbr, at + 12, 4);
    if (type == 0 || count == 0) continue;
    PartitionEntry p;
    p.number = i + 1;
    p.first_lba = start;
    p.last_lba = start + count - 1;
    char uuid[16], type_hex[8];
    std::snprintf(uuid, sizeof uuid, "%s-%02d", id, i + 1);
    std::snprintf(type_hex, sizeof type_hex, "0x%02x", type);
    p.partuuid = uuid;
    p.type = type_hex;
    t.partitions.push_back(std::move(p));
  }
  return t;
}

}  // namespace cairn::init::stage1
