#!/usr/bin/env bash
# `make run`: build recipes/qemu-x86_64.toml with BUILD_DIR's cairn-image and boot it under
# QEMU with an interactive serial console (Ctrl-A X quits QEMU).
#   scripts/run.sh BUILD_DIR [RECIPE]
# The image lands in BUILD_DIR/images/<recipe name>/ (docs/image.md). `cairn-image boot`
# (image/boot) runs it; a build without that subcommand falls back to plain QEMU + OVMF.
set -euo pipefail
build=$(cd "${1:?usage: scripts/run.sh BUILD_DIR [RECIPE]}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
recipe=${2:-$top/recipes/qemu-x86_64.toml}
name=$(basename "$recipe" .toml)
tool=$build/bin/cairn-image
out=$build/images/$name

[ -x "$tool" ] || { echo "run.sh: $tool is missing (make build)" >&2; exit 1; }
# raw only: the other formats are for distribution, not for booting here.
"$tool" build "$recipe" --out "$out" --formats raw

image=$out/$name.img
if "$tool" boot --help >/dev/null 2>&1; then
  exec "$tool" boot "$image" --snapshot
fi

echo "run.sh: cairn-image has no boot subcommand in this build; starting QEMU directly" >&2
vars=$(mktemp /tmp/cairn-ovmf-vars.XXXXXX)
trap 'rm -f "$vars"' EXIT
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$vars"
accel=tcg
[ -w /dev/kvm ] && accel=kvm
qemu-system-x86_64 -M q35,accel=$accel -m 1024 -smp 2 -nographic \
  -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
  -drive if=pflash,format=raw,file="$vars" \
  -drive if=virtio,format=raw,file="$image",snapshot=on \
  -netdev user,id=n0 -device virtio-net-pci,netdev=n0
