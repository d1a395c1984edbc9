#include "image/layout/disk_layout.h"

#include <cstdio>
#include <stdexcept>

#include "image/util/sha256.h"

namespace cairn::image {
namespace {

constexpr const char* kEspType = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
constexpr const char* kRootX86Type = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
constexpr const char* kRootArm64Type = "B921B045-1DF0-41C3-AF44-4C6F280D3FAE";
constexpr const char* kLinuxDataType = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

}  // namespace

const Partition& DiskLayout::by_label(const std::string& label) const {
  for (const auto& p : partitions)
    if (p.label == label) return p;
  throw std::runtime_error("disk layout has no partition " + label);
}

std::string seeded_hex(const std::string& seed, const std::string& purpose, size_t digits) {
  std::string input = seed;
  input.push_back('\0');
  input += purpose;
  std::string hex = sha256_hex(input);
  return hex.substr(0, std::min(digits, hex.size()));
}

std::string seeded_uuid(const std::string& seed, const std::string& purpose) {
  std::string input = seed;
  input.push_back('\0');
  input += purpose;
  auto d = sha256_bytes(input);
  d[6] = static_cast<uint8_t>((d[6] & 0x0f) | 0x40);  // version 4 layout
  d[8] = static_cast<uint8_t>((d[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string h = to_hex(d.data(), 16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

DiskLayout compute_layout(TableType table, bool arm64, const std::string& seed, uint64_t boot_size,
                          uint64_t root_size, uint64_t data_size) {
  for (uint64_t s : {boot_size, root_size, data_size})
    if (s == 0 || s % kAlign != 0)
      throw std::runtime_error("partition sizes must be non-zero multiples of 1 MiB");
  DiskLayout layout;
  layout.table = table;
  std::string signature;
  if (table == TableType::kGpt) {
    layout.disk_id = seeded_uuid(seed, "disk-guid");
  } else {
    signature = seeded_hex(seed, "mbr-signature", 8);
    if (signature == "00000000") signature = "00000001";  // 0 means "no signature"
    layout.disk_id = "0x" + signature;
  }
  struct Spec {
    const char* label;
    uint64_t size;
    const char* gpt_type;
    const char* mbr_type;
  };
  const Spec specs[] = {
      {"cairn-boot", boot_size, kEspType, "c"},
      {"cairn-root-a", root_size, arm64 ? kRootArm64Type : kRootX86Type, "83"},
      {"cairn-root-b", root_size, arm64 ? kRootArm64Type : kRootX86Type, "83"},
      {"cairn-data", data_size, kLinuxDataType, "83"},
  };
  uint64_t offset = kAlign;  // room for the protective MBR + primary GPT, or just the MBR
  int number = 1;
  for (const auto& spec : specs) {
    Partition p;
    p.number = number;
    p.label = spec.label;
    p.offset = offset;
    p.size = spec.size;
    if (table == TableType::kGpt) {
      p.type = spec.gpt_type;
      p.partuuid = seeded_uuid(seed, std::string("partuuid-") + spec.label);
    } else {
      p.type = spec.mbr_type;
      char suffix[8];
      std::snprintf(suffix, sizeof suffix, "-%02d", number);
      p.partuuid = signature + suffix;
      p.bootable = number == 1;
    }
    layout.partitions.push_back(p);
    offset += spec.size;
    ++number;
  }
  // 1 MiB at the end: the backup GPT (33 sectors) and a tail that keeps the size aligned.
  layout.disk_size = offset + kAlign;
  return layout;
}

std::string sfdisk_script(const DiskLayout& layout) {
  std::string s;
  if (layout.table == TableType::kGpt) {
    s += "label: gpt\n";
    s += "label-id: " + layout.disk_id + "\n";
    s += "first-lba: " + std::to_string(kAlign / kSectorSize) + "\n";
    s += "last-lba: " + std::to_string(layout.disk_size / kSectorSize - 34) + "\n";
  } else {
    s += "label: dos\n";
    s += "label-id: " + layout.disk_id + "\n";
  }
  s += "unit: sectors\nsector-size: 512\n\n";
  for (const auto& p : layout.partitions) {
    s += "start=" + std::to_string(p.offset / kSectorSize) +
         ", size=" + std::to_string(p.size / kSectorSize) + ", type=" + p.type;
    if (layout.table == TableType::kGpt) {
      s += ", uuid=" + p.partuuid + ", name=\"" + p.label + "\"";
    } else if (p.bootable) {
      s += ", bootable";
    }
    s += "\n";
  }
  return s;
}

std::string partition_ref(const DiskLayout& layout, const std::string& label) {
  const Partition& p = layout.by_label(label);
  if (layout.table == TableType::kGpt) return "PARTLABEL=" + p.label;
  return "PARTUUID=" + p.partuuid;
}

}  // namespace cairn::image
