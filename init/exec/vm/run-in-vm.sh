#!/usr/bin/env bash
# Runs a static GoogleTest binary as the only program of a QEMU guest (Debian's kernel,
# pure cgroup2 with cpu/memory/pids/io), so the cgroup tests that need those controllers
# (limits, OOM kill counting) run even on a hybrid v1/v2 development host.
#   run-in-vm.sh TEST_BINARY VM_INIT CACHE_DIR [GUEST_PATH=HOST_PATH ...] [--env KEY=VALUE ...]
# GUEST_PATH=HOST_PATH copies a file or directory into the guest (e.g. the static cairn-init
# and the fixture services of an integration test); --env KEY=VALUE reaches the test binary's
# environment (the kernel hands unknown KEY=VALUE parameters to init, e.g. GTEST_FILTER).
# Exit status: the test binary's. Needs qemu-system-x86_64 (TCG is enough) and the kernel
# fetched by qemu-tests/lib/fetch-kernel.sh (cached in CACHE_DIR).
set -euo pipefail
test_bin=$1 vm_init=$2 cache=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
[ "$(uname -m)" = x86_64 ] || { echo "run-in-vm: x86_64 hosts only"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || { echo "run-in-vm: qemu-system-x86_64 missing"; exit 1; }
kernel_dir=$("$repo/qemu-tests/lib/fetch-kernel.sh" amd64 "$cache")
vmlinuz=$(ls "$kernel_dir"/boot/vmlinuz-* | head -1)

work=$(mktemp -d /tmp/cairn-exec-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,usr/bin,proc,sys,dev,tmp,etc,run,lib64,lib/x86_64-linux-gnu}
cp "$test_bin" "$root/bin/test"
cp "$vm_init" "$root/init"
env_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --env) env_args+=("$2"); shift 2 ;;
    *=*)
      guest=${1%%=*} host=${1#*=}
      mkdir -p "$root$(dirname "$guest")"
      cp -rL "$host" "$root$guest"
      shift ;;
    *) echo "run-in-vm: bad argument $1"; exit 2 ;;
  esac
done
# The tests start /bin/sh, /bin/true, /bin/cat, sleep, rm and unshare: the host's, with
# their libraries.
for b in sh dash cat true sleep rm; do cp -L "/bin/$b" "$root/bin/"; done
cp -L /usr/bin/unshare "$root/usr/bin/unshare"
for lib in $(ldd /bin/dash /bin/cat /bin/sleep /bin/true /bin/rm /usr/bin/unshare |
             awk '/=>/ {print $3} /ld-linux/ {print $1}' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
(cd "$root" && find . | cpio -o -H newc --quiet) > "$work/initrd.cpio"

timeout 600 qemu-system-x86_64 -accel tcg -M q35 -cpu max -m 512 -smp 2 -nographic -no-reboot \
  -kernel "$vmlinuz" -initrd "$work/initrd.cpio" \
  -append "console=ttyS0 panic=-1 loglevel=3 ${env_args[*]}" | tee "$work/console.log" | tr -d '\r' |
  grep -E '^\[|^init/|Failure|Expected|Which is|Actual|CAIRN-VM-RESULT' || true
status=$(tr -d '\r' < "$work/console.log" | awk '/CAIRN-VM-RESULT/ {print $2}')
[ -n "$status" ] || { echo "run-in-vm: the guest did not report a result"; exit 1; }
if [ "$status" != 0 ]; then
  # The whole console of a failing run: the test's own output explains it.
  tr -d '\r' < "$work/console.log" | tail -n 200
  exit 1
fi
# Inside the guest every controller is there: a skipped test means the rig is broken.
if tr -d '\r' < "$work/console.log" | grep -q '^\[  SKIPPED \]'; then
  echo "run-in-vm: tests were skipped inside the guest"
  exit 1
fi
# A filter that matches nothing would pass without testing anything.
if ! tr -d '\r' < "$work/console.log" | grep -q '^\[  PASSED  \] [1-9]'; then
  echo "run-in-vm: no test ran in the guest"
  exit 1
fi
