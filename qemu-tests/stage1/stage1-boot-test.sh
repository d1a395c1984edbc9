#!/usr/bin/env bash
# Stage 1 under QEMU (TCG) with Debian's kernel booted directly, a disk with the contract's
# layout (erofs + dm-verity, ext4 data, vfat boot, GPT) and the probe as stage 2:
#   1. first boot: verity root mounted read-only (a write fails with EROFS), /var on the data
#      partition grown to the disk's end, /etc writable through the overlay, /boot mounted,
#      the image's /var copied in, PID 1 is the exec'ed stage 2, every root file reads back.
#   2. second boot: what was written to /var survived.
#   3. a flipped byte inside a file of the root: dm-verity fails the read (EIO), the kernel
#      names the corrupted block; the data is never served.
#   4. (x86_64) a flipped byte in the erofs superblock: stage 1 fails loudly, halts
#      (cairn.emergency=halt) and leaves cairn-boot-error.txt on the boot partition.
#
# rpi: QEMU's raspi3b with the Pi's device tree, an MBR SD card found by PARTUUID, boot 1 only
# (raspi3b cannot power off, so QEMU is stopped at the kernel's "Power down").
#
#   stage1-boot-test.sh ARCH BUILD_DIR SOURCE_DIR     (ARCH: x86_64 | arm64 | rpi)
set -euo pipefail
arch=$1 build=$(cd "$2" && pwd) src=$(cd "$3" && pwd)
lib=$src/qemu-tests/lib
cache=${CAIRN_QEMU_CACHE:-$build/qemu-cache}
work=$(mktemp -d "${TMPDIR:-/tmp}/stage1-$arch.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

case $arch in
  x86_64)
    kernel=$("$lib/fetch-kernel.sh" amd64 "$cache")
    init=$build/bin/cairn-stage1 probe=$build/bin/cairn-stage2-probe
    qemu=(qemu-system-x86_64 -accel tcg -M q35 -cpu max -m 384 -smp 2)
    console=ttyS0 ;;
  arm64)
    kernel=$("$lib/fetch-kernel.sh" arm64 "$cache")
    "$lib/cross-stage1.sh" "$src" "$cache/arm64-bin"
    init=$cache/arm64-bin/cairn-stage1 probe=$cache/arm64-bin/cairn-stage2-probe
    qemu=(qemu-system-aarch64 -accel tcg -M virt -cpu cortex-a72 -m 384 -smp 2)
    console=ttyAMA0 ;;
  rpi)
    kernel=$("$lib/fetch-kernel.sh" arm64 "$cache")
    "$lib/cross-stage1.sh" "$src" "$cache/arm64-bin"
    init=$cache/arm64-bin/cairn-stage1 probe=$cache/arm64-bin/cairn-stage2-probe
    dtb=$(ls "$kernel"/usr/lib/linux-image-*/broadcom/bcm2837-rpi-3-b.dtb)
    qemu=(qemu-system-aarch64 -M raspi3b -dtb "$dtb")
    console=ttyAMA0 ;;
  *) fail "unknown arch $arch" ;;
esac
vmlinuz=$(ls "$kernel"/boot/vmlinuz-*)

if [ "$arch" = rpi ]; then disk_modules=(--module sdhci_iproc --module bcm2835)
else disk_modules=(--module virtio_pci --module virtio_blk); fi
"$build/bin/cairn-initramfs" --init "$init" --modules-root "$kernel" --output "$work/initrd.img" \
  "${disk_modules[@]}" --module dm-verity --module erofs --module ext4 \
  --module vfat --module nls_cp437 --module nls_ascii --module overlay >/dev/null

mkdir -p "$work"/root/{proc,sys,dev,run,tmp,var/lib,etc,boot,usr/sbin,usr/share}
cp "$probe" "$work/root/usr/sbin/cairn-init"
echo "from the image" >"$work/root/var/lib/image-skeleton"
echo "cairn-test" >"$work/root/etc/hostname"
head -c 2500000 /dev/urandom >"$work/root/usr/share/blob"
table=gpt root=PARTLABEL=cairn-root-a data=PARTLABEL=cairn-data bootp=PARTLABEL=cairn-boot
disk_if=virtio part=vda stop_default=""
if [ "$arch" = rpi ]; then
  table=mbr root=PARTUUID=2d8a4c6e-02 data=PARTUUID=2d8a4c6e-04 bootp=PARTUUID=2d8a4c6e-01
  disk_if=sd part=mmcblk0p stop_default="reboot: (Power down|System halted)"
fi
"$lib/make-stage1-disk.sh" "$work/root" "$work/out" 40 "$table"
# shellcheck disable=SC1091
. "$work/out/disk.env"
append="console=$console panic=-1 quiet cairn.root=$root cairn.verity.roothash=$ROOTHASH"
append+=" cairn.verity.hashoffset=$HASHOFFSET cairn.data=$data"
append+=" cairn.boot=$bootp cairn.timeout=60"

# boot LOG DISK [STOP_PATTERN]: runs the guest until it powers off (the probe does), or until
# STOP_PATTERN appears on the console (then QEMU is killed), or 400 s pass.
boot() {
  local log=$1 disk=$2 stop=${3:-$stop_default} extra=${4:-}
  "${qemu[@]}" -nographic -no-reboot -kernel "$vmlinuz" -initrd "$work/initrd.img" \
    -append "$append $extra" -drive "file=$disk,format=raw,if=$disk_if" </dev/null >"$log" 2>&1 &
  local pid=$! waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ -n "$stop" ] && grep -Eq -- "$stop" "$log"; then kill "$pid"; break; fi
    if [ $waited -ge 4000 ]; then kill "$pid"; echo "timeout" >>"$log"; break; fi
    sleep 0.1; waited=$((waited + 1))
  done
  wait "$pid" 2>/dev/null || true
  grep -E 'cairn-stage1|probe:|verity|Kernel panic' "$log" | sed "s/^/  [$(basename "$log")] /"
}
expect() {  # expect LOG REGEX WHAT
  grep -Eq -- "$2" "$1" || fail "$3 (no line matching '$2' in $(basename "$1"))"
}

echo "== boot 1: first boot on a disk grown to 256 MiB"
cp "$work/out/disk.img" "$work/disk.img"
truncate -s 256M "$work/disk.img"
boot "$work/boot1.log" "$work/disk.img"
expect "$work/boot1.log" '^probe: done=1' "stage 2 did not run to the end"
expect "$work/boot1.log" '^probe: pid=1' "stage 2 is not PID 1"
expect "$work/boot1.log" '^probe: initramfs_gone=yes' "still on the initramfs"
expect "$work/boot1.log" '^probe: root_mount=/dev/mapper/cairn-root,erofs,ro' "root not verity/erofs/ro"
expect "$work/boot1.log" '^probe: root_write=EROFS' "a write to the root did not fail with EROFS"
expect "$work/boot1.log" "^probe: var_mount=/dev/${part}4,ext4,rw" "/var is not the data partition"
expect "$work/boot1.log" '^probe: etc_mount=overlay' "/etc is not an overlay"
expect "$work/boot1.log" '^probe: etc_write=ok' "/etc not writable"
expect "$work/boot1.log" "^probe: boot_mount=/dev/${part}1,vfat" "/boot not mounted"
expect "$work/boot1.log" '^probe: image_var_file=yes' "the image's /var was not copied to the data partition"
expect "$work/boot1.log" '^probe: previous_boots=0' "the data partition was not fresh"
expect "$work/boot1.log" '^probe: var_write=ok' "/var not writable"
expect "$work/boot1.log" 'cairn-stage1: data partition grown to' "the data partition was not grown"
size=$(sed -n 's/^probe: var_size_mib=\([0-9]*\).*/\1/p' "$work/boot1.log")
[ "${size:-0}" -gt 150 ] || fail "/var is ${size:-?} MiB after growing to the end of a 256 MiB disk"
expect "$work/boot1.log" '^probe: root_read_errors=0' "reading the intact root failed"
sfdisk --verify "$work/disk.img" | grep -q 'No errors detected' || fail "the grown table does not verify"
if [ "$arch" = rpi ]; then echo "PASS: stage 1 on $arch"; exit 0; fi

echo "== boot 2: /var persists"
boot "$work/boot2.log" "$work/disk.img"
expect "$work/boot2.log" '^probe: previous_boots=1' "the file written to /var in boot 1 is gone"
expect "$work/boot2.log" '^probe: root_read_errors=0' "reading the root failed on the second boot"

echo "== boot 3: a byte flipped inside a root file is never served"
cp "$work/out/disk.img" "$work/bad.img"
off=$((ROOT_OFFSET + 1048576 + 4097))
byte=$(od -An -tu1 -j "$off" -N1 "$work/bad.img" | tr -d ' ')
printf "$(printf '\\%03o' $(( byte ^ 255 )))" | dd of="$work/bad.img" bs=1 seek="$off" conv=notrunc status=none
boot "$work/boot3.log" "$work/bad.img"
expect "$work/boot3.log" 'device-mapper: verity: .* is corrupted' "dm-verity did not report the corrupted block"
expect "$work/boot3.log" '^probe: read_error=.*:EIO' "the corrupted file was read without an error"
if grep -q '^probe: root_read_errors=0' "$work/boot3.log"; then fail "corruption served silently"; fi

if [ "$arch" = x86_64 ]; then
  echo "== boot 4: a corrupted root superblock fails stage 1 loudly"
  cp "$work/out/disk.img" "$work/bad2.img"
  # One superblock byte inverted: a fixed value could be the byte already there.
  off=$((ROOT_OFFSET + 1024 + 5))
  byte=$(od -An -tu1 -j "$off" -N1 "$work/bad2.img" | tr -d ' ')
  printf "$(printf '\\%03o' $(( byte ^ 255 )))" | dd of="$work/bad2.img" bs=1 seek="$off" conv=notrunc status=none
  cmp -s "$work/out/disk.img" "$work/bad2.img" && fail "the corruption did not change the image"
  boot "$work/boot4.log" "$work/bad2.img" "emergency: halted" "cairn.emergency=halt"
  expect "$work/boot4.log" 'cairn-stage1: FAILED: mount root: .*Input/output error' "no loud stage 1 failure"
  expect "$work/boot4.log" 'emergency: halted' "no emergency halt"
  if grep -q '^probe:' "$work/boot4.log"; then fail "stage 2 ran on a corrupted root"; fi
  mcopy -i "$work/bad2.img@@1M" ::cairn-boot-error.txt "$work/boot-error.txt"
  grep -q '^step: mount root' "$work/boot-error.txt" || fail "cairn-boot-error.txt lacks the step"
  sed 's/^/  [cairn-boot-error.txt] /' "$work/boot-error.txt"
fi
echo "PASS: stage 1 on $arch"
