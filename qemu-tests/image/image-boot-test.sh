#!/usr/bin/env bash
# A full image under QEMU (TCG) with its firmware (OVMF / AAVMF + systemd-boot), through
# `cairn-image boot --batch`: the recipe recipes/qemu-ARCH.toml plus the selftest overlay and
# service (qemu-tests/selftest), built by cairn-image.
#   1. boots to "node ready" with PID 1 = cairn-init (stage 2, exec'ed by stage 1 from the
#      initramfs), root on dm-verity + erofs read-only (a write is refused), /var on the data
#      partition, /etc writable, /boot mounted; powers off cleanly on system_powerdown.
#   2. a second boot sees what the first wrote to /var.
#   3. (x86_64) a byte flipped in the root partition's file system: the boot fails loudly (stage 1's
#      FAILED line, non-zero exit of cairn-image boot); the image is never served.
#
#   image-boot-test.sh ARCH BUILD_DIR SOURCE_DIR      (ARCH: x86_64 | arm64)
set -euo pipefail
arch=$1 build=$(cd "$2" && pwd) src=$(cd "$3" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
case $arch in
  x86_64) bindir=$build/bin ;;
  arm64) bindir=$build/arm64/bin ;;
  *) fail "unknown arch $arch" ;;
esac
[ -x "$build/bin/cairn-image" ] || fail "$build/bin/cairn-image is not built"
[ -x "$bindir/cairn-init" ] || fail "$bindir/cairn-init is not built (arm64: scripts/cross-arm64.sh)"
work=$(mktemp -d "${TMPDIR:-/tmp}/image-$arch.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The test recipe: the real one, paths made absolute, plus the selftest overlay and service.
recipe=$work/qemu-$arch-selftest.toml
awk -v src="$src" -v selftest="$src/qemu-tests/selftest" '
  /^\[/ { section = $0 }
  {
    gsub(/"\.\.\//, "\"" src "/")
    if (section == "[services]" && $0 ~ /^dirs = \[/) {
      gsub(/"services"/, "\"" src "/recipes/services\"")
      sub(/^dirs = \[/, "dirs = [\"" selftest "/services\", ")
    } else if (section == "[overlays]" && $0 ~ /^dirs = \[/) {
      sub(/\]/, ", \"" selftest "/overlay\"]")
    } else if (section == "[services]" && $0 ~ /^enabled = \[/) {
      sub(/^enabled = \[/, "enabled = [\"selftest\", ")
    }
    print
  }' "$src/recipes/qemu-$arch.toml" >"$recipe"
grep -q 'selftest/overlay' "$recipe" && grep -q '"selftest", ' "$recipe" ||
  fail "could not add the selftest to recipes/qemu-$arch.toml (its [overlays]/[services] format changed?)"

echo "== build"
"$build/bin/cairn-image" build "$recipe" --out "$work/img" --bin-dir "$bindir" --formats raw \
  >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; fail "cairn-image build failed"; }
image=$(ls "$work"/img/*.img)

boot_image() {  # boot_image LOG IMAGE -> exit status of cairn-image boot
  local status=0
  "$build/bin/cairn-image" boot "$2" --arch "$arch" --batch --timeout 900 --memory 1024 \
    --console-log "$1" >"$1.out" 2>&1 || status=$?
  grep -E '^selftest:|cairn-stage1: (FAILED|switching)|cairn-init: node ready|cairn-image boot:|verity' "$1.out" |
    sed "s/^/  [$(basename "$1")] /" || true
  return $status
}
expect() { grep -Eq -- "$2" "$1" || fail "$3 (no line matching '$2' in $(basename "$1"))"; }

echo "== boot 1"
boot_image "$work/boot1.log" "$image" || fail "boot 1: cairn-image boot failed"
log=$work/boot1.log
expect "$log" 'cairn-init: node ready in [0-9]+ ms' "the node did not report ready"
expect "$log" '^selftest: done=1' "the selftest did not run"
expect "$log" '^selftest: pid1_exe=/usr/sbin/cairn-init' "PID 1 is not the root's /usr/sbin/cairn-init"
expect "$log" '^selftest: root_mount=/dev/mapper/cairn-root,erofs,ro' "root is not verity + erofs + ro"
expect "$log" '^selftest: root_write=refused' "a write to the root succeeded"
expect "$log" '^selftest: var_mount=/dev/[a-z0-9]+4,ext4' "/var is not the data partition"
expect "$log" '^selftest: etc_mount=overlay' "/etc is not the overlay"
expect "$log" '^selftest: etc_write=ok' "/etc is not writable"
expect "$log" '^selftest: boot_mount=/dev/[a-z0-9]+1,vfat' "/boot is not mounted"
expect "$log" '^selftest: previous_boots=0' "the data partition was not fresh"
expect "$work/boot1.log.out" 'cairn-image boot: powered off cleanly' "no clean power-off"

echo "== boot 2"
boot_image "$work/boot2.log" "$image" || fail "boot 2: cairn-image boot failed"
expect "$work/boot2.log" '^selftest: previous_boots=1' "what boot 1 wrote to /var is gone"

# arm64 under TCG is slow; the verity check is the same code on both and runs on x86_64.
if [ "$arch" = arm64 ]; then echo "PASS: image $arch"; exit 0; fi

echo "== boot 3: corrupted root"
start=$(sfdisk -d "$image" | sed -n 's/.*start= *\([0-9]*\),.*name="cairn-root-a".*/\1/p')
[ -n "$start" ] || fail "no cairn-root-a partition in $image"
cp --sparse=always "$image" "$work/bad.img"
printf '\125' | dd of="$work/bad.img" bs=1 seek=$((start * 512 + 1024 + 5)) conv=notrunc status=none
if boot_image "$work/boot3.log" "$work/bad.img"; then fail "a corrupted root booted"; fi
expect "$work/boot3.log" 'cairn-stage1: FAILED' "the corruption was not reported by stage 1"
if grep -q '^selftest:' "$work/boot3.log"; then fail "the corrupted root was served"; fi
echo "PASS: image $arch"
