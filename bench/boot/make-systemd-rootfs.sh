#!/usr/bin/env bash
# The systemd side of the boot benchmark: a Debian bookworm rootfs with the qemu-x86_64
# recipe's package set plus systemd as PID 1 (mmdebstrap minbase, maintainer scripts run so
# users/groups exist), cached as a tarball:
#   make-systemd-rootfs.sh CACHE_DIR   -> prints the tarball path
set -euo pipefail
cache=$1
mkdir -p "$cache"
tar=$cache/systemd-rootfs-bookworm-amd64.tar
if [ -s "$tar" ]; then echo "$tar"; exit 0; fi
mmdebstrap --quiet --variant=minbase --mode=root \
  --include=systemd,systemd-sysv,bash,coreutils,util-linux,kmod,iproute2,procps,e2fsprogs,libc-bin \
  bookworm "$tar.tmp" http://deb.debian.org/debian >&2
mv "$tar.tmp" "$tar"
echo "$tar"
