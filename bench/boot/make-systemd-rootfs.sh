#!/usr/bin/env bash
# The systemd side of the boot benchmark: a Debian bookworm rootfs with the qemu-x86_64
# recipe's package set plus systemd as PID 1 (mmdebstrap minbase, maintainer scripts run so
# users/groups exist), cached as a directory:
#   make-systemd-rootfs.sh CACHE_DIR   -> prints the directory
set -euo pipefail
cache=$1
mkdir -p "$cache"
dir=$cache/systemd-rootfs-bookworm-amd64
if [ -x "$dir/lib/systemd/systemd" ]; then echo "$dir"; exit 0; fi
rm -rf "$dir.partial"
mmdebstrap --quiet --variant=minbase --mode=root \
  --include=systemd,systemd-sysv,udev,bash,coreutils,util-linux,kmod,iproute2,procps,e2fsprogs,libc-bin \
  bookworm "$dir.partial" http://deb.debian.org/debian >&2
rm -rf "$dir"
mv "$dir.partial" "$dir"
echo "$dir"
