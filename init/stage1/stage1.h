// cairn-init stage 1: what /init of the initramfs does when it runs as PID 1 with
// /etc/initrd-release present (docs/boot-contract.md, docs/stage1.md).
//   mount /proc /sys /dev /run; parse /proc/cmdline (cairn.* keys); load the boot modules;
//   wait for the root, data and boot partitions (PARTLABEL / PARTUUID) up to cairn.timeout;
//   set up dm-verity (/dev/mapper/cairn-root) when cairn.verity.roothash is given; mount the
//   root read-only at /sysroot; mount (and on first boot grow) the data partition; give /var
//   and /etc their writable places; mount the boot partition at /sysroot/boot; move the API
//   filesystems; switch_root; exec /usr/sbin/cairn-init (stage 2).
// On failure it reports what failed on the console, /dev/kmsg and (when it can) in
// cairn-boot-error.txt on the boot partition, then follows cairn.emergency.
#pragma once

namespace cairn::init {

// Never returns on success (stage 2 is exec'ed). Returns only if it cannot even follow the
// emergency behaviour (which for `halt` means never); the caller must then not exit either.
int run_stage1() noexcept;

}  // namespace cairn::init
