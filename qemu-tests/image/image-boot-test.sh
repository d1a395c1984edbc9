#!/usr/bin/env bash
# A full image under QEMU (TCG) with its firmware (OVMF / AAVMF + systemd-boot), through
# `cairn-image boot --batch`. The image is the one the image_build_qemu-ARCH test built from
# recipes/qemu-ARCH.toml (ctest fixture image-qemu-ARCH: <build>/images/qemu-ARCH), booted as
# shipped: the test adds nothing to its verified root. The selftest (qemu-tests/selftest) is
# written onto a copy's data partition with debugfs (no mounts): selftest.sh under /var and its
# service file in the /etc overlay's upper directory, as an operator's change to /etc would be.
#   1. boots to "node ready" with PID 1 = cairn-init (stage 2, exec'ed by stage 1 from the
#      initramfs), the recipe's cairn-datastore ready on its first start (its READY=1 in
#      cairn-init's timeline, no restart),
#      root on dm-verity + erofs read-only (a write is refused), /var on the data
#      partition, /etc writable, /boot mounted; the node.toml the test puts on the boot
#      partition (as a user would after flashing) sets the hostname; powers off cleanly on
#      system_powerdown with every file system unmounted or read-only (no "still writable").
#   2. a second boot sees what the first wrote to /var.
#   3. (x86_64) a byte flipped in the root partition's file system: the boot fails loudly (stage 1's
#      FAILED line, non-zero exit of cairn-image boot); the image is never served.
#
#   image-boot-test.sh ARCH BUILD_DIR SOURCE_DIR      (ARCH: x86_64 | arm64)
set -euo pipefail
arch=$1 build=$(cd "$2" && pwd) src=$(cd "$3" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
case $arch in x86_64 | arm64) ;; *) fail "unknown arch $arch" ;; esac
[ -x "$build/bin/cairn-image" ] || fail "$build/bin/cairn-image is not built"
built=$build/images/qemu-$arch/qemu-$arch.img
[ -f "$built" ] || fail "$built is missing (built by the image_build_qemu_$arch test, fixture image-qemu-$arch)"
work=$(mktemp -d "${TMPDIR:-/tmp}/image-$arch.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== the built image plus the selftest on its data partition"
image=$work/qemu-$arch.img
cp --sparse=always "$built" "$image"
part_of() {  # part_of IMAGE NAME -> "start size" in 512-byte sectors
  sfdisk -d "$1" | sed -n "s/.*start= *\([0-9]*\), size= *\([0-9]*\),.*name=\"$2\".*/\1 \2/p"
}
read -r dstart dsize < <(part_of "$image" cairn-data) || fail "no cairn-data partition in $built"
dd if="$image" of="$work/data.img" bs=512 skip="$dstart" count="$dsize" status=none
selftest=$src/qemu-tests/selftest
debugfs -w "$work/data.img" >"$work/debugfs.log" 2>&1 <<CMDS
mkdir lib
mkdir lib/cairn-selftest
write $selftest/selftest.sh lib/cairn-selftest/selftest.sh
set_inode_field lib/cairn-selftest/selftest.sh mode 0100755
mkdir lib/cairn
mkdir lib/cairn/etc-overlay
mkdir lib/cairn/etc-overlay/upper
mkdir lib/cairn/etc-overlay/upper/cairn
mkdir lib/cairn/etc-overlay/upper/cairn/services
write $selftest/services/selftest.toml lib/cairn/etc-overlay/upper/cairn/services/selftest.toml
CMDS
for f in lib/cairn-selftest/selftest.sh lib/cairn/etc-overlay/upper/cairn/services/selftest.toml; do
  debugfs -R "stat $f" "$work/data.img" 2>/dev/null | grep -q 'Type: regular' ||
    { cat "$work/debugfs.log"; fail "debugfs did not write $f to the data partition"; }
done
dd if="$work/data.img" of="$image" bs=512 seek="$dstart" conv=notrunc,sparse status=none
rm "$work/data.img"

# node.toml on the boot partition, edited as a user would (mtools, no mount).
hostname=cairn-test-${arch//_/-}   # no "_": not valid in a hostname
read -r bstart _ < <(part_of "$image" cairn-boot) || fail "no cairn-boot partition in $built"
printf '# written by qemu-tests/image/image-boot-test.sh\nhostname = "%s"\n' "$hostname" >"$work/node.toml"
mcopy -o -i "$image@@$((bstart * 512))" "$work/node.toml" ::node.toml || fail "mcopy node.toml"

boot_image() {  # boot_image LOG IMAGE -> exit status of cairn-image boot
  local status=0
  "$build/bin/cairn-image" boot "$2" --arch "$arch" --batch --timeout 900 --memory 1024 \
    --console-log "$1" >"$1.out" 2>&1 || status=$?
  grep -aE 'selftest:|cairn-stage1: (FAILED|switching)|cairn-init: (node|timeline datastore|datastore: .*-> (backoff|failed))|cairn-image boot:|verity|still writable' "$1.out" |
    sed "s/^/  [$(basename "$1")] /" || true
  return $status
}
expect() { grep -aEq -- "$2" "$1" || fail "$3 (no line matching '$2' in $(basename "$1"))"; }

echo "== boot 1"
boot_image "$work/boot1.log" "$image" || fail "boot 1: cairn-image boot failed"
log=$work/boot1.log
expect "$log" 'cairn-init: node ready in [0-9]+ ms' "the node did not report ready"
# Every qemu recipe enables the datastore (services/datastore.toml, ready.type = notify): the
# timeline line says it sent READY=1 (a service that is invalid, e.g. whose binary is missing,
# would not hold "node ready" back, so that line alone does not prove it).
expect "$log" 'cairn-init: timeline datastore started [0-9]+ ms, ready [0-9]+ ms' \
  "cairn-datastore did not become ready"
# ... on its first start: not after a crash or a ready timeout and a restart.
no_restart() {
  if grep -aE 'cairn-init: datastore: .*-> (backoff|failed)' "$1"; then
    fail "cairn-datastore was restarted in $(basename "$1") (lines above)"
  fi
}
no_restart "$log"
expect "$log" '(^|# )selftest: done=1' "the selftest did not run"
expect "$log" '(^|# )selftest: pid1_exe=/usr/sbin/cairn-init' "PID 1 is not the root's /usr/sbin/cairn-init"
expect "$log" '(^|# )selftest: root_mount=/dev/mapper/cairn-root,erofs,ro' "root is not verity + erofs + ro"
expect "$log" '(^|# )selftest: root_write=refused' "a write to the root succeeded"
expect "$log" '(^|# )selftest: var_mount=/dev/[a-z0-9]+4,ext4' "/var is not the data partition"
expect "$log" '(^|# )selftest: etc_mount=overlay' "/etc is not the overlay"
expect "$log" '(^|# )selftest: etc_write=ok' "/etc is not writable"
expect "$log" '(^|# )selftest: boot_mount=/dev/[a-z0-9]+1,vfat' "/boot is not mounted"
expect "$log" '(^|# )selftest: previous_boots=0' "the data partition was not fresh"
expect "$log" "cairn-init: node: hostname $hostname \\(from /boot/node.toml\\)" "node.toml's hostname was not applied"
expect "$log" "(^|# )selftest: hostname=$hostname[[:space:]]*\$" "the running node's hostname is not node.toml's"
expect "$work/boot1.log.out" 'cairn-image boot: powered off cleanly' "no clean power-off"
if grep -a 'still writable' "$log"; then fail "a file system was still writable at poweroff"; fi

echo "== boot 2"
boot_image "$work/boot2.log" "$image" || fail "boot 2: cairn-image boot failed"
expect "$work/boot2.log" '(^|# )selftest: previous_boots=1' "what boot 1 wrote to /var is gone"
# Second start on the storage directory the first boot made (an existing dqlite node).
expect "$work/boot2.log" 'cairn-init: timeline datastore started [0-9]+ ms, ready [0-9]+ ms' \
  "cairn-datastore did not become ready on its existing storage"
no_restart "$work/boot2.log"
if grep -a 'still writable' "$work/boot2.log"; then fail "a file system was still writable at poweroff"; fi

# arm64 under TCG is slow; the verity check is the same code on both and runs on x86_64.
if [ "$arch" = arm64 ]; then echo "PASS: image $arch"; exit 0; fi

echo "== boot 3: corrupted root"
read -r start _ < <(part_of "$built" cairn-root-a) || fail "no cairn-root-a partition in $built"
cp --sparse=always "$built" "$work/bad.img"
# One byte of the erofs superblock's checksum, inverted (a fixed value could be the byte
# already there: it was, once, after the root's layout changed).
at=$((start * 512 + 1024 + 5))
byte=$(dd if="$work/bad.img" bs=1 skip=$at count=1 status=none | od -An -tu1 | tr -d ' ')
printf "\\$(printf '%03o' $((255 - byte)))" |
  dd of="$work/bad.img" bs=1 seek=$at conv=notrunc status=none
cmp -s "$built" "$work/bad.img" && fail "the corruption did not change the image"
if boot_image "$work/boot3.log" "$work/bad.img"; then fail "a corrupted root booted"; fi
expect "$work/boot3.log" 'cairn-stage1: FAILED' "the corruption was not reported by stage 1"
if grep -aq 'selftest: ' "$work/boot3.log"; then fail "the corrupted root was served"; fi
echo "PASS: image $arch"
