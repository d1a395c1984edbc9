#!/usr/bin/env bash
# The rpi4 image's own boot files under QEMU's raspi3b (TCG), to stage 2.
#
# QEMU has no Raspberry Pi 4 machine and cannot run the Pi firmware (start4.elf), so this test
# plays the firmware's part: it reads config.txt and cmdline.txt from the image's boot
# partition (mtools on the raw image, no mounts), takes the files config.txt names (kernel=,
# initramfs ... followkernel) and the image's bcm2837-rpi-3-b.dtb (the Pi 3 B device tree the
# image ships beside bcm2711-rpi-4-b.dtb: the Pi 4 tree does not describe raspi3b's hardware),
# and boots them with cmdline.txt as the command line and the image itself as the SD card.
# Asserted:
#   - stage 1 from the image's initramfs finds the SD card's partitions by the PARTUUIDs in
#     cmdline.txt, sets up dm-verity and switches to the real root;
#   - stage 2 is the root's cairn-init (PID 1) and it reports the node ready, with the
#     recipe's cairn-datastore ready (READY=1, in cairn-init's timeline) on the 1 GiB machine,
#     on its first start (no restart after a crash or a ready timeout);
#   - no stage 1 failure, no kernel panic.
# raspi3b cannot power off: QEMU is stopped once the node is ready.
#
#   rpi4-boot-test.sh BUILD_DIR      (the image: BUILD_DIR/images/rpi4, ctest fixture image-rpi4)
set -euo pipefail
build=$(cd "$1" && pwd)
out=$build/images/rpi4
image=$out/rpi4.img
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$image" ] || fail "$image is missing (built by the image_build_rpi4 test, fixture image-rpi4)"
work=$(mktemp -d "${TMPDIR:-/tmp}/rpi4-boot.XXXXXX")
qemu_pid=
cleanup() {
  if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The boot partition: the first MBR entry (type c, bootable).
start=$(sfdisk -d "$image" | sed -n 's/^[^ ]*1 : start= *\([0-9]*\),.*type=c, bootable.*/\1/p')
[ -n "$start" ] || fail "no bootable FAT partition 1 in $image: $(sfdisk -d "$image")"
fat="$image@@$((start * 512))"
get() { mcopy -n -i "$fat" "::$1" "$work/$2" || fail "$1 is not on the boot partition"; }
get config.txt config.txt
get cmdline.txt cmdline.txt
kernel=$(sed -n 's/^kernel=\([^ ]*\)$/\1/p' "$work/config.txt")
initrd=$(sed -n 's/^initramfs \([^ ]*\) followkernel$/\1/p' "$work/config.txt")
[ -n "$kernel" ] && [ -n "$initrd" ] || fail "config.txt names no kernel= / initramfs: $(cat "$work/config.txt")"
get "$kernel" kernel
get "$initrd" initrd
get bcm2837-rpi-3-b.dtb pi3.dtb
get bcm2711-rpi-4-b.dtb pi4.dtb   # the Pi 4's own tree must be there too (not booted here)
cmp -s "$work/kernel" "$out/boot/vmlinuz" || fail "the boot partition's $kernel is not the image's kernel"
cmdline=$(cat "$work/cmdline.txt")
echo "== boot files from the image: config.txt kernel=$kernel initramfs=$initrd, bcm2837-rpi-3-b.dtb"
echo "   cmdline.txt: $cmdline"

# The SD card: QEMU wants a power-of-two size; a qcow2 overlay keeps the image untouched.
size=$(stat -c %s "$image") sd=1
while [ "$sd" -lt "$size" ]; do sd=$((sd * 2)); done
qemu-img create -q -f qcow2 -F raw -b "$image" "$work/sd.qcow2" "$sd"

# Both UARTs: serial 0 is the PL011 (ttyAMA0), serial 1 the mini UART (ttyS1 under cmdline.txt's
# last console=, i.e. /dev/console). Kernel messages go to both.
qemu-system-aarch64 -M raspi3b -kernel "$work/kernel" -initrd "$work/initrd" -dtb "$work/pi3.dtb" \
  -append "$cmdline" -drive "file=$work/sd.qcow2,format=qcow2,if=sd" \
  -display none -monitor none -no-reboot \
  -serial "file:$work/uart0.log" -serial "file:$work/uart1.log" </dev/null >"$work/qemu.log" 2>&1 &
qemu_pid=$!
both() { cat "$work/uart0.log" "$work/uart1.log" 2>/dev/null; }
waited=0 result=timeout
while kill -0 "$qemu_pid" 2>/dev/null; do
  if both | grep -Eq 'cairn-init: node ready in [0-9]+ ms'; then result=ready; break; fi
  if both | grep -Eq 'cairn-stage1: FAILED|Kernel panic'; then result=failed; break; fi
  [ $waited -lt 12000 ] || break   # 20 min: raspi3b under TCG on a loaded 2-core machine
  sleep 0.1; waited=$((waited + 1))
done
kill -0 "$qemu_pid" 2>/dev/null || [ $result != timeout ] || result=exited
sleep 1   # the timeline lines after "node ready"
kill "$qemu_pid" 2>/dev/null || true
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=
for u in 0 1; do
  grep -aE 'cairn-stage1|cairn-init|Kernel panic|Machine model|Out of memory' "$work/uart$u.log" | sed "s/^/  [uart$u] /" || true
done
if [ $result != ready ]; then
  tail -n 40 "$work/uart0.log" >&2; cat "$work/qemu.log" >&2
  fail "the rpi4 image did not reach a ready stage 2 on raspi3b ($result after $((waited / 10)) s)"
fi
expect() { both | grep -aEq -- "$1" || fail "$2 (no console line matching '$1')"; }
expect 'Machine model: Raspberry Pi 3 Model B' "the kernel did not boot the image's bcm2837-rpi-3-b.dtb"
expect 'cairn-stage1: dm-verity: ' "stage 1 did not set up dm-verity"
expect "cairn-stage1: data partition grown to" "the data partition was not grown to the SD card's end"
expect 'cairn-stage1: switching to /usr/sbin/cairn-init' "stage 1 did not switch to the root's cairn-init"
expect 'cairn-init: node ready in [0-9]+ ms' "stage 2 (cairn-init) did not report ready"
expect 'cairn-init: timeline datastore started [0-9]+ ms, ready [0-9]+ ms' "cairn-datastore did not become ready"
if both | grep -aE 'cairn-init: datastore: .*-> (backoff|failed)'; then
  fail "cairn-datastore was restarted (a crash or its ready timeout) before it was ready"
fi
echo "PASS: rpi4 image boot files on raspi3b reached stage 2 (cairn-init: node ready, datastore ready)"
