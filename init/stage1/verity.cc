#include "init/stage1/verity.h"

#include <linux/dm-ioctl.h>

#include <cstdio>
#include <cstring>

namespace cairn::init::stage1 {
namespace {

uint64_t le(std::string_view s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

bool power_of_two_in(uint32_t v, uint32_t lo, uint32_t hi) {
  return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

// Digest sizes of the algorithms the kernel's dm-verity is used with.
int digest_bytes(const std::string& algorithm) {
  if (algorithm == "sha256") return 32;
  if (algorithm == "sha512") return 64;
  if (algorithm == "sha1") return 20;
  if (algorithm == "sha384") return 48;
  if (algorithm == "blake2b-256") return 32;
  return -1;
}

}  // namespace

std::optional<VeritySuperblock> parse_verity_superblock(std::string_view b, std::string* error) {
  auto bad = [&](const char* why) -> std::optional<VeritySuperblock> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (b.size() < 512) return bad("verity superblock: short read");
  if (b.substr(0, 8) != std::string_view("verity\0\0", 8)) {
    return bad("verity superblock: no 'verity' signature at the hash offset");
  }
  if (le(b, 8, 4) != 1) return bad("verity superblock: unsupported version");
  VeritySuperblock sb;
  sb.hash_type = static_cast<uint32_t>(le(b, 12, 4));
  if (sb.hash_type > 1) return bad("verity superblock: unsupported hash type");
  char uuid[37];
  const auto* u = reinterpret_cast<const unsigned char*>(b.data() + 16);
  std::snprintf(uuid, sizeof uuid,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
                u[15]);
  sb.uuid = uuid;
  std::string_view alg = b.substr(32, 32);
  alg = alg.substr(0, alg.find('\0'));
  if (alg.empty() || alg.size() == 32) return bad("verity superblock: bad algorithm name");
  for (char c : alg) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
      return bad("verity superblock: bad algorithm name");
    }
  }
  sb.algorithm = std::string(alg);
  sb.data_block_size = static_cast<uint32_t>(le(b, 64, 4));
  sb.hash_block_size = static_cast<uint32_t>(le(b, 68, 4));
  if (!power_of_two_in(sb.data_block_size, 512, 65536) ||
      !power_of_two_in(sb.hash_block_size, 512, 65536)) {
    return bad("verity superblock: bad block size");
  }
  sb.data_blocks = le(b, 72, 8);
  if (sb.data_blocks == 0 || sb.data_blocks > (1ull << 48)) {
    return bad("verity superblock: bad data block count");
  }
  const uint64_t salt_size = le(b, 80, 2);
  if (salt_size > 256) return bad("verity superblock: salt too long");
  static const char hex[] = "0123456789abcdef";
  for (uint64_t i = 0; i < salt_size; ++i) {
    const uint8_t c = static_cast<uint8_t>(b[88 + i]);
    sb.salt_hex.push_back(hex[c >> 4]);
    sb.salt_hex.push_back(hex[c & 15]);
  }
  return sb;
}

std::optional<VerityTarget> verity_target(const VeritySuperblock& sb, const std::string& device,
                                          const std::string& roothash, uint64_t hash_offset,
                                          std::string* error) {
  auto bad = [&](const std::string& why) -> std::optional<VerityTarget> {
    if (error) *error = why;
    return std::nullopt;
  };
  const int digest = digest_bytes(sb.algorithm);
  if (digest < 0) return bad("verity: unsupported hash algorithm '" + sb.algorithm + "'");
  if (roothash.size() != static_cast<size_t>(digest) * 2) {
    return bad("verity: the root hash has " + std::to_string(roothash.size()) + " hex digits, " +
               sb.algorithm + " needs " + std::to_string(digest * 2));
  }
  if (hash_offset % sb.hash_block_size != 0) {
    return bad("verity: hash offset is not a multiple of the hash block size");
  }
  if (sb.data_blocks > hash_offset / sb.data_block_size) {
    return bad("verity: the data area overlaps the hash area");
  }
  // The hash tree starts in the hash block after the 512-byte superblock (cryptsetup's
  // VERITY_hash_offset_block).
  const uint64_t hash_start = (hash_offset + 512 + sb.hash_block_size - 1) / sb.hash_block_size;
  VerityTarget t;
  t.length_sectors = sb.data_blocks * (sb.data_block_size / 512);
  t.params = std::to_string(sb.hash_type) + " " + device + " " + device + " " +
             std::to_string(sb.data_block_size) + " " + std::to_string(sb.hash_block_size) + " " +
             std::to_string(sb.data_blocks) + " " + std::to_string(hash_start) + " " +
             sb.algorithm + " " + roothash + " " + (sb.salt_hex.empty() ? "-" : sb.salt_hex);
  return t;
}

std::string dm_ioctl_buffer(const std::string& name, uint32_t flags) {
  std::string buf(sizeof(struct dm_ioctl) + 4096, '\0');
  auto* io = reinterpret_cast<struct dm_ioctl*>(buf.data());
  io->version[0] = DM_VERSION_MAJOR;
  io->version[1] = 0;
  io->version[2] = 0;
  io->data_size = static_cast<uint32_t>(buf.size());
  io->data_start = sizeof(struct dm_ioctl);
  io->flags = flags;
  std::strncpy(io->name, name.c_str(), sizeof io->name - 1);
  return buf;
}

std::string dm_table_load_buffer(const std::string& name, const std::string& target_type,
                                 uint64_t length_sectors, const std::string& params,
                                 bool read_only) {
  const size_t spec_at = sizeof(struct dm_ioctl);
  size_t params_size = params.size() + 1;
  params_size = (params_size + 7) & ~size_t{7};  // the next spec would be 8-byte aligned
  std::string buf(spec_at + sizeof(struct dm_target_spec) + params_size, '\0');
  auto* io = reinterpret_cast<struct dm_ioctl*>(buf.data());
  io->version[0] = DM_VERSION_MAJOR;
  io->data_size = static_cast<uint32_t>(buf.size());
  io->data_start = static_cast<uint32_t>(spec_at);
  io->target_count = 1;
  io->flags = read_only ? DM_READONLY_FLAG : 0;
  std::strncpy(io->name, name.c_str(), sizeof io->name - 1);
  auto* spec = reinterpret_cast<struct dm_target_spec*>(buf.data() + spec_at);
  spec->sector_start = 0;
  spec->length = length_sectors;
  spec->status = 0;
  spec->next = 0;
  std::strncpy(spec->target_type, target_type.c_str(), sizeof spec->target_type - 1);
  std::memcpy(buf.data() + spec_at + sizeof(struct dm_target_spec), params.c_str(),
              params.size() + 1);
  return buf;
}

}  // namespace cairn::init::stage1
