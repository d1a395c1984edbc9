// The steps of stage 1 that act on the real system (mounts, module loading, device-mapper
// ioctls, partition growth, switch_root). Each returns "" on success or a message saying
// what failed and why (errno text); stage1.cc turns a message into the emergency path.
// The decisions they act on are made by the pure, unit-tested parts (boot_plan, verity,
// partition_table, partition_grow, device_wait); the steps themselves run in the QEMU tests.
#pragma once

#include <string>
#include <vector>

#include "init/stage1/block_devices.h"
#include "init/stage1/boot_plan.h"

namespace cairn::init::stage1 {

// /proc, /sys, /dev (devtmpfs), /run (tmpfs) in the initramfs; already-mounted ones are kept.
std::string mount_api_filesystems() noexcept;

// Creates /dev/mapper/<name> as a read-only dm-verity device over `device` (data and hash
// tree on the same partition, superblock at hash_offset). Returns the error or "". *OPTIONS
// (if given) is set to the optional table arguments the kernel took (kVerityFastOptions, or ""
// when it refused them and the plain table was loaded).
std::string setup_verity(const BlockDevice& device, const std::string& roothash,
                         uint64_t hash_offset, const std::string& name,
                         std::string* options = nullptr) noexcept;

// First boot: extends partition `device` to its disk's end (table rewrite, BLKPG). Sets
// *grown_bytes to the new partition size when it grew. Not growing is not an error.
std::string grow_partition(const BlockDevice& device, uint64_t* grown_bytes) noexcept;

// Grows the ext4 file system mounted at `mountpoint` to `partition_bytes` (online resize).
std::string grow_ext4(const std::string& mountpoint, uint64_t partition_bytes) noexcept;

// The data partition (or, with no device, a tmpfs) mounted at `staging`, then populated on
// first use with the image's /var (from `sysroot`/var) and the /etc overlay directories,
// moved to `sysroot`/var, and the overlay mounted on `sysroot`/etc. Layout:
// docs/stage1.md.
std::string prepare_writable(const BlockDevice* data, const std::string& sysroot,
                             const std::string& staging, bool grow,
                             std::vector<std::string>* notes) noexcept;

// Moves /dev /proc /sys /run under `sysroot`, empties the initramfs, makes `sysroot` the
// root and execs `init`. Returns only on failure.
std::string switch_root_and_exec(const std::string& sysroot, const std::string& init) noexcept;

// Writes `text` to cairn-boot-error.txt on the boot partition (mounted briefly at
// /run/cairn/boot-error). Best effort: returns why it could not.
std::string write_boot_error(const BlockDevice& boot, const std::string& text) noexcept;

}  // namespace cairn::init::stage1
