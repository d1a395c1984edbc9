#!/usr/bin/env bash
# cairn-image build benchmarks beside mkosi, printed as one side-by-side table:
#   - full build of recipes/qemu-x86_64.toml with a warm package cache (every .deb cached,
#     no rootfs/initramfs cache: mmdebstrap, depmod, initramfs all run);
#   - rebuild after changing one overlay file (target <= 15 s): raw only (what `make run`
#     builds) and with every format;
#   - image sizes (compressed x86_64 image target <= 80 MB);
#   - mkosi (Debian bookworm's mkosi 14, scripts/deps/bench/image.txt, installed here: `make
#     test` does not need it) building the same package set
#     and overlay (bench/image/mkosi/mkosi.conf says what it builds and how it differs), the
#     same three numbers; if it is missing or fails, the row says why.
#   bench/image/run.sh BUILD_DIR        (MKOSI_LOG=FILE keeps mkosi's log; MKOSI=0 skips it)
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
# The host's 1-minute load average: build times follow it on the shared 2-core machine.
load() { cut -d' ' -f1 /proc/loadavg; }
load_start=$(load)
elapsed() { echo "$(echo "$2 - $1" | bc)" | xargs printf '%.1f s'; }
mb() { echo "$1" | awk '{printf "%.1f MB", $1 / 1000000}'; }

# --- cairn-image ----------------------------------------------------------------------------
# Pre-fill the .deb cache (not measured) so "warm" holds even on a fresh machine.
"$tool" build "$recipe" --out "$work/prefill" --cache "$cache" --formats raw >/dev/null 2>&1 \
  || { echo "bench: the image does not build; see: $tool build $recipe" >&2; exit 1; }
rm -rf "$work/prefill"

t0=$(now)
"$tool" build "$recipe" --out "$work/out" --cache "$work/cache" 2>"$work/full.log"
c_full=$(elapsed "$t0" "$(now)")

echo "# edited by bench/image/run.sh at $(date)" >>"$work/overlays/base/etc/issue"
raw_load=$(load)
t0=$(now)
"$tool" build "$recipe" --out "$work/out-raw" --cache "$work/cache" --formats raw 2>"$work/raw.log"
c_raw=$(elapsed "$t0" "$(now)")
raw_load="$raw_load-$(load)"

echo "# edited again" >>"$work/overlays/base/etc/issue"
t0=$(now)
"$tool" build "$recipe" --out "$work/out" --cache "$work/cache" 2>"$work/all.log"
c_all=$(elapsed "$t0" "$(now)")

img=$work/out/qemu-x86_64.img
c_zst=$(mb "$(stat -c %s "$img.zst")")
c_disk="$(mb "$(stat -c %s "$img")") ($(mb "$(du -B1 "$img" | cut -f1)") allocated)"
c_qcow2=$(mb "$(stat -c %s "$work/out/qemu-x86_64.qcow2")")
c_root=$(grep -o '"hash_offset": [0-9]*' "$work/out/manifest.json" | awk '{printf "%.1f MB", $2 / 1000000}')
c_kernel=$(grep -o '"name": "linux-image-[0-9][^"]*", "version": "[^"]*"' "$work/out/manifest.json" |
  sed 's/"name": "\([^"]*\)", "version": "\([^"]*\)"/\1 \2/')
# Per-stage times of the overlay rebuild, from the progress display.
stages=$(grep -E 'done in' "$work/raw.log" | sed -E 's/\[[0-9]+\/[0-9]+\] ([a-z-]+) +done in ([0-9.]+s)/\1 \2/' | tr '\n' ' ')

# --- mkosi ----------------------------------------------------------------------------------
# Its package cache persists in $cache/mkosi (warm, like cairn-image's .debs). mkosi 14 has no
# tree cache for a read-only root ("incremental mode is currently not supported for squashfs"),
# so its rebuild after an overlay change is a whole build from the warm package cache.
# --nspawn-keep-unit: mkosi runs apt/dpkg in systemd-nspawn, which otherwise asks systemd over
# D-Bus for a scope unit; this build machine has no systemd/D-Bus ("Failed to open system bus").
m_full="-" m_edit="-" m_zst="-" m_note=""
if [ "${MKOSI:-1}" = 0 ]; then
  m_note="skipped (MKOSI=0)"
elif ! "$top/scripts/install-deps.sh" "$top/scripts/deps/bench/image.txt" >&2 ||
  ! command -v mkosi >/dev/null; then
  m_note="mkosi could not be installed (scripts/install-deps.sh scripts/deps/bench/image.txt)"
else
  mk=$work/mkosi
  mkdir -p "$mk" "$cache/mkosi"
  cp "$top/bench/image/mkosi/mkosi.conf" "$mk/"
  cp -r "$top/overlays/base" "$mk/mkosi.extra"
  mk_build() {
    (cd "$mk" && mkosi --nspawn-keep-unit --cache "$cache/mkosi" "$@" build) \
      >>"$work/mkosi.log" 2>&1
  }
  warm=yes
  if [ -z "$(ls -A "$cache/mkosi")" ] && ! mk_build -ff; then  # fills it (not measured)
    warm=no
    m_note="mkosi failed: $(grep -a 'Error' "$work/mkosi.log" | tail -n1 | cut -c1-100)"
  fi
  if [ $warm = yes ]; then
    t0=$(now)
    if mk_build -ff; then
      m_full=$(elapsed "$t0" "$(now)")
      echo "# edited by bench/image/run.sh at $(date)" >>"$mk/mkosi.extra/etc/issue"
      t0=$(now)
      if mk_build -f; then
        m_edit=$(elapsed "$t0" "$(now)")
        out=$(ls -S "$mk"/image* | head -n1)   # the squashfs (zstd inside)
        m_zst="$(mb "$(stat -c %s "$out")") (root squashfs)"
      else m_note="mkosi rebuild failed: $(grep -a 'Error' "$work/mkosi.log" | tail -n1 | cut -c1-100)"; fi
    else m_note="mkosi build failed: $(grep -a 'Error' "$work/mkosi.log" | tail -n1 | cut -c1-100)"; fi
  fi
  if [ -n "${MKOSI_LOG:-}" ]; then cp "$work/mkosi.log" "$MKOSI_LOG"; fi
fi

row() { printf '%-44s | %-26s | %-20s | %s\n' "$@"; }
echo
row "qemu-x86_64 package set + overlays/base" "cairn-image" "mkosi $(mkosi --version 2>/dev/null | cut -d' ' -f2)" "note"
printf '%s\n' "---------------------------------------------+----------------------------+----------------------+-----------------"
row "full build, warm package cache" "$c_full (all formats)" "$m_full" ""
row "rebuild after one overlay change" "$c_raw (raw)" "$m_edit" "cairn target <= 15 s; mkosi: no tree cache for squashfs"
row "  the same, every output format" "$c_all" "-" ""
row "compressed image" "$c_zst (.img.zst, zstd -9)" "$m_zst" "cairn target <= 80 MB"
row "disk image" "$c_disk" "-" "mkosi: no disk here (mkosi.conf)"
row "qcow2" "$c_qcow2" "-" ""
row "root file system" "$c_root (erofs, uncompressed)" "$m_zst" ""
echo
echo "cairn-image kernel: $c_kernel"
echo "cairn-image overlay rebuild stages: $stages"
echo "cairn-image work directory: ${CAIRN_IMAGE_WORK_DIR:-default (/dev/shm if tmpfs with 2 GiB free, else beside --out)}"
echo "host load (1 min): $load_start at start, $raw_load during the overlay rebuild, $(load) at end"
[ -z "$m_note" ] || echo "mkosi: $m_note"
