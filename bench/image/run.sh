#!/usr/bin/env bash
# cairn-image build benchmarks, printed as one table:
#   - full build of recipes/qemu-x86_64.toml with a warm package cache (every .deb cached,
#     no rootfs/initramfs cache: mmdebstrap, depmod, initramfs all run);
#   - cached rebuild after changing one overlay file (target <= 15 s), raw only (what
#     `make run` builds) and with every format;
#   - image sizes (compressed x86_64 image target <= 80 MB);
#   - mkosi (Debian's package) building the same package set, if it is installed and works
#     here (bench/image/mkosi/mkosi.conf), else the reason it was skipped.
#   bench/image/run.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: bench/image/run.sh BUILD_DIR}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
tool=$build/bin/cairn-image
cache=${CAIRN_IMAGE_CACHE:-/var/cache/cairn-image}
work=$(mktemp -d /var/tmp/cairn-bench-image.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A private copy of the recipe and its overlay, so the benchmark can edit an overlay file.
mkdir -p "$work/recipes" "$work/overlays"
cp "$top/recipes/qemu-x86_64.toml" "$work/recipes/"
cp -r "$top/recipes/services" "$work/recipes/"
cp -r "$top/overlays/base" "$work/overlays/"
ln -s "$top/services" "$work/services"
recipe=$work/recipes/qemu-x86_64.toml

# Warm package cache only: the .debs are shared, the rootfs and initramfs caches are not.
mkdir -p "$work/cache" "$cache/debs"
ln -s "$cache/debs" "$work/cache/debs"

now() { date +%s.%N; }
elapsed() { echo "$(echo "$2 - $1" | bc)" | xargs printf '%.1f'; }
declare -a rows

# Pre-fill the .deb cache (not measured) so "warm" holds even on a fresh machine.
"$tool" build "$recipe" --out "$work/prefill" --cache "$cache" --formats raw >/dev/null 2>&1 \
  || { echo "bench: the image does not build; see: $tool build $recipe" >&2; exit 1; }
rm -rf "$work/prefill"

t0=$(now)
"$tool" build "$recipe" --out "$work/out" --cache "$work/cache" 2>"$work/full.log"
t1=$(now)
rows+=("full build, warm package cache (all formats)|$(elapsed "$t0" "$t1") s|")

echo "# edited by bench/image/run.sh at $(date)" >>"$work/overlays/base/etc/issue"
t0=$(now)
"$tool" build "$recipe" --out "$work/out-raw" --cache "$work/cache" --formats raw 2>"$work/raw.log"
t1=$(now)
rows+=("rebuild after one overlay change (raw)|$(elapsed "$t0" "$t1") s|target <= 15 s")

echo "# edited again" >>"$work/overlays/base/etc/issue"
t0=$(now)
"$tool" build "$recipe" --out "$work/out" --cache "$work/cache" 2>"$work/all.log"
t1=$(now)
rows+=("rebuild after one overlay change (all formats)|$(elapsed "$t0" "$t1") s|")

mb() { echo "$1" | awk '{printf "%.1f MB", $1 / 1000000}'; }
img=$work/out/qemu-x86_64.img
rows+=("raw image (apparent / allocated)|$(mb "$(stat -c %s "$img")") / $(mb "$(du -B1 "$img" | cut -f1)")|")
rows+=("qcow2|$(mb "$(stat -c %s "$work/out/qemu-x86_64.qcow2")")|")
rows+=("compressed SD image (.img.zst)|$(mb "$(stat -c %s "$work/out/qemu-x86_64.img.zst")")|target <= 80 MB")
rows+=("root filesystem (erofs + verity)|$(grep -o '"hash_offset": [0-9]*' "$work/out/manifest.json" | awk '{printf "%.1f MB", $2 / 1000000}')|")

# Per-stage times of the overlay rebuild, from the progress display.
stages=$(grep -E 'done in' "$work/raw.log" | sed -E 's/\[[0-9]+\/[0-9]+\] ([a-z-]+) +done in ([0-9.]+s)/\1 \2/' | tr '\n' ' ')

if command -v mkosi >/dev/null; then
  mk=$work/mkosi
  cp -r "$top/bench/image/mkosi" "$mk"
  t0=$(now)
  if (cd "$mk" && mkosi --force build) >"$work/mkosi.log" 2>&1; then
    t1=$(now)
    out=$(ls -S "$mk"/image* 2>/dev/null | head -1)
    rows+=("mkosi: full build, same package set|$(elapsed "$t0" "$t1") s|$(basename "$out")")
    rows+=("mkosi: image size|$(mb "$(stat -c %s "$out")")|")
    t0=$(now)
    (cd "$mk" && mkosi --force build) >>"$work/mkosi.log" 2>&1
    t1=$(now)
    rows+=("mkosi: rebuild|$(elapsed "$t0" "$t1") s|")
  else
    rows+=("mkosi|failed|$(tail -n1 "$work/mkosi.log" | cut -c1-60)")
  fi
else
  rows+=("mkosi|not installed|apt-get install mkosi to compare")
fi

printf '\n%-48s | %-22s | %s\n' "cairn-image (recipes/qemu-x86_64.toml)" "result" "note"
printf '%s\n' "-------------------------------------------------+------------------------+----------------"
for row in "${rows[@]}"; do
  IFS='|' read -r what value note <<<"$row"
  printf '%-48s | %-22s | %s\n' "$what" "$value" "$note"
done
echo
echo "overlay rebuild stages: $stages"
