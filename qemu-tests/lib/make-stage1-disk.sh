#!/usr/bin/env bash
# Builds a small disk with the layout of docs/boot-contract.md from a root directory, the way
# the image builder does (erofs + dm-verity hash tree, ext4 data, vfat boot, GPT by sfdisk),
# without loop devices or mounts. For the stage 1 QEMU tests, which must not depend on a full
# image build.
#   make-stage1-disk.sh ROOTDIR OUTDIR [DATA_MIB] [gpt|mbr]
# mbr: the Raspberry Pi layout (disk signature 0x2d8a4c6e, PARTUUIDs 2d8a4c6e-01..04).
# Writes OUTDIR/disk.img and OUTDIR/disk.env (ROOTHASH=, HASHOFFSET=, ROOT_OFFSET=).
# EROFS_COMPRESS=lz4|lz4hc,12 compresses the root (64 KiB physical clusters), as a recipe's
# root-compression does: every file, or with EROFS_COMPRESS_HINTS=FILE (mkfs.erofs
# --compress-hints) only what FILE says. Unset or "none": stored uncompressed.
set -euo pipefail
rootdir=$1 out=$2 data_mib=${3:-48} table=${4:-gpt}
mkdir -p "$out"
rm -f "$out"/root.img "$out"/data.img "$out"/boot.img "$out"/disk.img

compress=()
case ${EROFS_COMPRESS:-none} in
  none) ;;
  lz4 | lz4hc | lz4hc,*)
    compress=("-z$EROFS_COMPRESS" -C65536)
    [ -z "${EROFS_COMPRESS_HINTS:-}" ] || compress+=("--compress-hints=$EROFS_COMPRESS_HINTS") ;;
  *) echo "make-stage1-disk.sh: EROFS_COMPRESS=$EROFS_COMPRESS is not none, lz4 or lz4hc[,N]" >&2
     exit 2 ;;
esac
mkfs.erofs --quiet -T 0 -U 6d0f2e8a-0000-4000-8000-00000000c41e --all-root "${compress[@]}" \
  "$out/root.img" "$rootdir" >/dev/null
size=$(stat -c %s "$out/root.img")
hash_offset=$(( (size + 4095) / 4096 * 4096 ))
truncate -s "$hash_offset" "$out/root.img"
roothash=$(veritysetup format --hash-offset="$hash_offset" --data-blocks=$((hash_offset / 4096)) \
  --salt=5a17c0ffee5a17c0ffee5a17c0ffee5a17c0ffee5a17c0ffee5a17c0ffee5a17 \
  --uuid=00000000-0000-4000-8000-0000000000a1 \
  "$out/root.img" "$out/root.img" | awk '/Root hash:/ {print $3}')
root_mib=$(( ($(stat -c %s "$out/root.img") + (1 << 20) - 1) >> 20 ))

truncate -s "${data_mib}M" "$out/data.img"
mkfs.ext4 -q -F -L cairn-data -U 00000000-0000-4000-8000-0000000000d4 -E root_owner=0:0 "$out/data.img"
truncate -s 16M "$out/boot.img"
mkfs.vfat -n CAIRNBOOT -i 12345678 "$out/boot.img" >/dev/null

total=$(( 1 + 16 + root_mib + root_mib + data_mib + 1 ))
truncate -s "${total}M" "$out/disk.img"
if [ "$table" = mbr ]; then
  sfdisk --quiet --no-reread --no-tell-kernel "$out/disk.img" <<SFDISK
label: dos
label-id: 0x2d8a4c6e
start=1MiB, size=16MiB, type=c
size=${root_mib}MiB, type=83
size=${root_mib}MiB, type=83
size=${data_mib}MiB, type=83
SFDISK
else
  sfdisk --quiet --no-reread --no-tell-kernel "$out/disk.img" <<SFDISK
label: gpt
label-id: 2d8a4c6e-0000-4000-8000-00000000d15c
start=1MiB, size=16MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=2d8a4c6e-0000-4000-8000-000000000001, name=cairn-boot
size=${root_mib}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=2d8a4c6e-0000-4000-8000-000000000002, name=cairn-root-a
size=${root_mib}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=2d8a4c6e-0000-4000-8000-000000000003, name=cairn-root-b
size=${data_mib}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=2d8a4c6e-0000-4000-8000-000000000004, name=cairn-data
SFDISK
fi
dd if="$out/boot.img" of="$out/disk.img" bs=1M seek=1 conv=notrunc status=none
dd if="$out/root.img" of="$out/disk.img" bs=1M seek=17 conv=notrunc status=none
dd if="$out/data.img" of="$out/disk.img" bs=1M seek=$((17 + 2 * root_mib)) conv=notrunc status=none
rm -f "$out/root.img" "$out/data.img" "$out/boot.img"
cat >"$out/disk.env" <<ENV
ROOTHASH=$roothash
HASHOFFSET=$hash_offset
ROOT_OFFSET=$((17 << 20))
ENV
