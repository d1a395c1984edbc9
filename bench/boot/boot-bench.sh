#!/usr/bin/env bash
# Boot time from kernel start to "all services ready", x86_64 under QEMU TCG, cairn vs
# Debian's systemd, side by side in one run, printed as a table.
#
#   boot-bench.sh BUILD_DIR [ROUNDS]        (default 3 rounds, interleaved)
#
# Both sides boot the SAME kernel (Debian's linux-image-amd64, direct -kernel boot, same QEMU
# machine, memory and CPUs) with the SAME kernel command line (the image's cmdline-a.txt; only
# the verity root hash, its offset and cairn.init= + systemd.unit= differ) through the SAME
# stage 1 (cairn-init's initramfs: verity root, data partition as /var, overlay /etc), so
# the difference is PID 1 and what it starts:
#   cairn:   the qemu-x86_64 image (recipes/qemu-x86_64.toml, built by cairn-image): its
#            cairn-init supervises the enabled services (cairn-datastore, ready when it
#            notifies READY=1, and a getty on ttyS0). Ready = the guest's own
#            "cairn-init: node ready in <ms> ms" (CLOCK_MONOTONIC, i.e. since kernel start).
#   systemd: the recipe's package set + systemd/systemd-sysv/udev (mmdebstrap minbase; without
#            udev, device units such as dev-ttyS0.device time out) on a disk of
#            the same layout, booted with the image's kernel and initramfs and
#            cairn.init=/lib/systemd/systemd, default target multi-user (serial getty on
#            ttyS0) plus the same cairn-datastore binary as a Type=notify unit. Ready = a
#            oneshot unit ordered after multi-user.target and the datastore printing
#            /proc/uptime (since kernel start) on the console.
# Each round boots both (interleaved, so machine load hits both alike); the table shows the
# median, the spread (min-max) and every round. Wall-clock times of the QEMU runs are shown too.
# BENCH_LOGS=DIR keeps every round's serial console log there (cairn-N.log, systemd-N.log).
set -euo pipefail
build=$(cd "$1" && pwd)
rounds=${2:-3}
src=$(cd "$(dirname "$0")/../.." && pwd)
lib=$src/qemu-tests/lib
cache=${CAIRN_QEMU_CACHE:-$build/qemu-cache}
work=$(mktemp -d "${TMPDIR:-/tmp}/boot-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "boot-bench: $*" >&2; exit 1; }
# TCG time slices follow the host's load: the table says what it was (1/5/15-minute averages).
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# --- cairn: the recipe's image --------------------------------------------------------------
images=${CAIRN_IMAGES:-$build/images}
if [ ! -f "$images/qemu-x86_64/boot/vmlinuz" ]; then
  echo "building recipes/qemu-x86_64.toml ..." >&2
  "$build/bin/cairn-image" build "$src/recipes/qemu-x86_64.toml" --formats raw >&2 ||
    fail "cairn-image build failed"
fi
# A private copy: the image directory may be rebuilt (tests, make run) while this runs.
img_dir=$work/image
mkdir -p "$img_dir/boot"
cp "$images/qemu-x86_64/boot/vmlinuz" "$images/qemu-x86_64/boot/initramfs.img" \
  "$images/qemu-x86_64/boot/cmdline-a.txt" "$img_dir/boot/"
cp --sparse=always "$images/qemu-x86_64/qemu-x86_64.img" "$img_dir/"
vmlinuz=$img_dir/boot/vmlinuz
cairn_initrd=$img_dir/boot/initramfs.img
cairn_cmdline=$(cat "$img_dir/boot/cmdline-a.txt")

# --- systemd: the same kernel and the image's own initramfs (stage 1 + its modules) ----------
rootfs=$("$src/bench/boot/make-systemd-rootfs.sh" "$cache")
root=$work/systemd-root
cp -a "$rootfs" "$root"
mkdir -p "$root"/{proc,sys,dev,run,tmp,var,etc,boot}
install -m 0755 "$build/bin/cairn-datastore" "$root/usr/bin/cairn-datastore"
strip --strip-debug "$root/usr/bin/cairn-datastore"   # as cairn-image installs it
cat >"$root/etc/systemd/system/datastore.service" <<'UNIT'
[Unit]
Description=cairn-datastore (as in the cairn image)
[Service]
Type=notify
ExecStart=/usr/bin/cairn-datastore --data-dir /var/lib/cairn/datastore
[Install]
WantedBy=multi-user.target
UNIT
mkdir -p "$root/etc/systemd/system/multi-user.target.wants" "$root/var/lib/cairn/datastore"
ln -s ../datastore.service "$root/etc/systemd/system/multi-user.target.wants/datastore.service"
cat >"$root/etc/systemd/system/bench-ready.service" <<'UNIT'
[Unit]
Description=boot benchmark: all services ready
After=multi-user.target datastore.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'read up idle </proc/uptime; echo "bench: systemd ready at $up s" >/dev/console'
# After the time is taken (it does not count): when the datastore started and was ready, for
# the timeline (BENCH_LOGS).
ExecStart=/bin/sh -c 'echo "bench: datastore $(systemctl show -p ExecMainStartTimestampMonotonic -p ActiveEnterTimestampMonotonic datastore.service | tr "\\n" " ") $(journalctl -b -u datastore.service -o cat --no-pager | grep "started:")" >/dev/console'
[Install]
WantedBy=bench.target
UNIT
cat >"$root/etc/systemd/system/bench.target" <<'UNIT'
[Unit]
Description=boot benchmark target
Requires=multi-user.target datastore.service bench-ready.service
After=multi-user.target datastore.service
UNIT
# The datastore binary both sides run is stored on the systemd disk as the recipe stores it in
# cairn's image (root-compression, root-compress-files): with "boot" only that file is
# compressed there, the rest of the systemd root stays as it boots fastest (uncompressed:
# compressing the whole root made systemd's side 17.3-18.6 s instead of 12.5-13.4 s); with
# "all" the whole root is. BENCH_SYSTEMD_COMPRESS (none|lz4|lz4hc,12) and
# BENCH_SYSTEMD_COMPRESS_FILES (all|boot) override the recipe's choice.
recipe=$src/recipes/qemu-x86_64.toml
recipe_compression=$(sed -nE 's/^root-compression *= *"([a-z0-9]+)".*/\1/p' "$recipe")
recipe_files=$(sed -nE 's/^root-compress-files *= *"([a-z]+)".*/\1/p' "$recipe")
case ${recipe_compression:-none} in
  lz4hc) systemd_compress=lz4hc,12 ;;
  *) systemd_compress=${recipe_compression:-none} ;;
esac
systemd_compress=${BENCH_SYSTEMD_COMPRESS:-$systemd_compress}
systemd_files=${BENCH_SYSTEMD_COMPRESS_FILES:-${recipe_files:-all}}
hints=""
if [ "$systemd_files" = boot ]; then
  hints=$work/systemd-compress-hints
  printf '65536 ^/?usr/bin/cairn-datastore$\n0 .*\n' >"$hints"
fi
echo "systemd root: erofs compression $systemd_compress, files: $systemd_files" >&2
EROFS_COMPRESS=$systemd_compress EROFS_COMPRESS_HINTS=$hints \
  "$lib/make-stage1-disk.sh" "$root" "$work/systemd-disk" 256 >/dev/null
# shellcheck disable=SC1091
. "$work/systemd-disk/disk.env"
# The image's own command line (every kernel parameter the recipe sets applies to both sides
# alike), with this disk's verity root hash and hash offset, and systemd as the init.
systemd_cmdline=$(echo "$cairn_cmdline" |
  sed -E "s/cairn\.verity\.roothash=[^ ]*/cairn.verity.roothash=$ROOTHASH/;
          s/cairn\.verity\.hashoffset=[^ ]*/cairn.verity.hashoffset=$HASHOFFSET/")
systemd_cmdline+=" cairn.init=/lib/systemd/systemd systemd.unit=bench.target"
case $systemd_cmdline in
  *"cairn.verity.roothash=$ROOTHASH"*"cairn.verity.hashoffset=$HASHOFFSET"*) ;;
  *) fail "cannot derive the systemd command line from: $cairn_cmdline" ;;
esac
echo "kernel command line, cairn:   $cairn_cmdline" >&2
echo "kernel command line, systemd: $systemd_cmdline" >&2

qemu=(qemu-system-x86_64 -accel tcg -M q35 -cpu max -m 1024 -smp 2 -display none
      -serial stdio -monitor none -no-reboot -nic user,model=virtio-net-pci)

# run_one NAME DISK INITRD CMDLINE PATTERN -> prints "guest_ms wall_ms"
run_one() {
  local name=$1 disk=$2 initrd=$3 cmdline=$4 pattern=$5 log=$work/$1.log
  local start end pid waited=0
  cp --sparse=always "$disk" "$work/run.img"
  # Emptied here, not only by QEMU's redirection below: that happens in the background child,
  # and until it does the loop would find the previous round's ready line in the old log.
  : >"$log"
  start=$(date +%s%N)
  "${qemu[@]}" -kernel "$vmlinuz" -initrd "$initrd" -append "$cmdline" \
    -drive "file=$work/run.img,format=raw,if=virtio,cache=unsafe" </dev/null >"$log" 2>&1 &
  pid=$!
  while ! grep -Eq "$pattern" "$log"; do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$log" >&2; fail "$name: QEMU exited before ready"; }
    [ $waited -lt 6000 ] || { kill "$pid"; tail -20 "$log" >&2; fail "$name: not ready in 600 s"; }
    sleep 0.1; waited=$((waited + 1))
  done
  end=$(date +%s%N)
  if [ -n "${BENCH_LOGS:-}" ]; then  # the timeline lines that follow the ready line, up to 20 s
    for ((waited = 0; waited < 200; waited++)); do
      grep -Eq 'bench: datastore .*started:|cairn-init: timeline datastore' "$log" && break
      sleep 0.1
    done
    sleep 0.5
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
  if [ -n "${BENCH_LOGS:-}" ]; then mkdir -p "$BENCH_LOGS" && cp "$log" "$BENCH_LOGS/$name-$round.log"; fi
  local guest
  guest=$(grep -Eo "$pattern" "$log" | head -n1 | grep -Eo '[0-9]+(\.[0-9]+)?' | head -n1)
  case $name in systemd*) guest=$(echo "$guest * 1000 / 1" | bc) ;; esac
  echo "$guest $(( (end - start) / 1000000 ))"
}

cairn_disk=$(ls "$img_dir"/*.img)
declare -a cg cw sg sw
for ((round = 1; round <= rounds; round++)); do
  read -r g w < <(run_one cairn "$cairn_disk" "$cairn_initrd" "$cairn_cmdline" \
    'cairn-init: node ready in [0-9]+ ms')
  cg+=("$g"); cw+=("$w")
  read -r g w < <(run_one systemd "$work/systemd-disk/disk.img" "$cairn_initrd" \
    "$systemd_cmdline" 'bench: systemd ready at [0-9.]+ s')
  sg+=("$g"); sw+=("$w")
  echo "round $round: cairn ${cg[-1]} ms, systemd ${sg[-1]} ms (guest, since kernel start)" >&2
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
spread() { printf '%s\n' "$@" | sort -n | awk 'NR==1 {lo=$1} {hi=$1} END {print lo "-" hi}'; }
mc=$(median "${cg[@]}") ms=$(median "${sg[@]}")
mcw=$(median "${cw[@]}") msw=$(median "${sw[@]}")
echo
echo "Boot to all services ready, x86_64 QEMU TCG, same kernel and stage 1 (the image's), $rounds rounds"
printf '%-8s | %-14s | %-18s | %-15s | %s\n' "PID 1" "median (guest)" "spread (min-max)" "median QEMU wall" "rounds (guest ms)"
printf '%-8s | %11s ms | %15s ms | %12s ms | %s\n' "cairn" "$mc" "$(spread "${cg[@]}")" "$mcw" "${cg[*]}"
printf '%-8s | %11s ms | %15s ms | %12s ms | %s\n' "systemd" "$ms" "$(spread "${sg[@]}")" "$msw" "${sg[*]}"
echo "host load average (1/5/15 min): $load_start at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
echo "systemd / cairn (medians): $(echo "scale=2; $ms / $mc" | bc)x (target >= 3x);" \
  "worst cairn vs best systemd: $(echo "scale=2; $(spread "${sg[@]}" | cut -d- -f1) / $(spread "${cg[@]}" | cut -d- -f2)" | bc)x"
