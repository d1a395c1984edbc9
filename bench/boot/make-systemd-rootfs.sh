#!/usr/bin/env bash
# The systemd side of the boot benchmark: a Debian bookworm rootfs (security updates
# included, like the recipe) with the qemu-x86_64 recipe's package set (cairn-datastore's one
# shared library besides glibc, liblz4, included), and systemd as PID 1 (mmdebstrap
# minbase, maintainer scripts run so users/groups exist), cached as a directory keyed by the
# package list:
#   make-systemd-rootfs.sh CACHE_DIR   -> prints the directory
set -euo pipefail
cache=$1
packages=systemd,systemd-sysv,udev,bash,coreutils,util-linux,kmod,iproute2,procps,e2fsprogs
packages+=,libc-bin,libstdc++6,liblz4-1
mkdir -p "$cache"
dir=$cache/systemd-rootfs-bookworm-amd64-$(echo "$packages" | sha256sum | cut -c1-12)
if [ -x "$dir/lib/systemd/systemd" ]; then echo "$dir"; exit 0; fi
rm -rf "$dir.partial"
mmdebstrap --quiet --variant=minbase --mode=root --include="$packages" \
  bookworm "$dir.partial" http://deb.debian.org/debian \
  "deb http://deb.debian.org/debian-security bookworm-security main" \
  "deb http://deb.debian.org/debian bookworm-updates main" >&2
rm -rf "$dir"
mv "$dir.partial" "$dir"
echo "$dir"
