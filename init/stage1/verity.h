// dm-verity without libdevmapper: the veritysetup (cryptsetup "verity" format) superblock at
// the start of the hash area, the verity target's table line, and the device-mapper ioctl
// buffers (DM_DEV_CREATE, DM_TABLE_LOAD, DM_DEV_SUSPEND) stage 1 sends to
// /dev/mapper/control. Parsing and buffer building are pure and unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::init::stage1 {

// cryptsetup's on-disk verity superblock (512 bytes, little endian):
//   0 "verity\0\0"  8 version=1  12 hash_type (0 Chrome OS, 1 normal)  16 uuid[16]
//   32 algorithm[32]  64 data_block_size  68 hash_block_size  72 data_blocks (u64)
//   80 salt_size (u16)  88 salt[256]  344 padding[168]
struct VeritySuperblock {
  uint32_t hash_type = 1;
  std::string uuid;       // "xxxxxxxx-xxxx-..." (byte order as stored)
  std::string algorithm;  // "sha256"
  uint32_t data_block_size = 0;
  uint32_t hash_block_size = 0;
  uint64_t data_blocks = 0;
  std::string salt_hex;  // lowercase; "" for no salt
};

// nullopt and *error on a bad signature, version, block size, algorithm or salt size.
std::optional<VeritySuperblock> parse_verity_superblock(std::string_view bytes512,
                                                        std::string* error);

struct VerityTarget {
  uint64_t length_sectors = 0;  // size of the mapped device in 512-byte sectors
  std::string params;           // the verity target's table line (after "verity")
};

// The table for `device` ("major:minor") holding data and (at hash_offset) the hash tree.
// Checks the root hash length against the algorithm and that the data ends before the hash
// area; nullopt and *error otherwise.
std::optional<VerityTarget> verity_target(const VeritySuperblock& sb, const std::string& device,
                                          const std::string& roothash, uint64_t hash_offset,
                                          std::string* error);

// Optional verity table arguments stage 1 asks for (count first): verify a block in the
// read's completion (softirq) when its hash blocks are cached already, instead of handing every
// read to the kverityd workqueue (Linux >= 6.0; docs/image.md "Boot time").
inline constexpr const char* kVerityFastOptions = "1 try_verify_in_tasklet";

// Device-mapper ioctl buffers: a struct dm_ioctl (version 4.0.0, `name`, `flags`), followed
// for DM_TABLE_LOAD by one dm_target_spec and its NUL-terminated params. data_size is the
// buffer size, which has room for the kernel's reply.
std::string dm_ioctl_buffer(const std::string& name, uint32_t flags);
std::string dm_table_load_buffer(const std::string& name, const std::string& target_type,
                                 uint64_t length_sectors, const std::string& params,
                                 bool read_only);

}  // namespace cairn::init::stage1
