#!/usr/bin/env bash
# Fetches Debian's kernel package for ARCH (amd64 | arm64) with apt (a private apt state for a
# foreign architecture, so the host's configuration is left alone) and unpacks it:
#   fetch-kernel.sh ARCH CACHE_DIR   ->  prints the unpacked directory
# The directory holds boot/vmlinuz-<ver> and lib/modules/<ver>/ (no modules.dep: the
# initramfs builder reads each module's .modinfo). Cached: a second call downloads nothing.
set -euo pipefail
arch=$1 cache=$2
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
dir="$cache/kernel-$arch"
if [ -f "$dir/.complete" ]; then echo "$dir"; exit 0; fi

apt_opts=()
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
  state="$cache/apt-$arch"
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/etc/preferences.d"
  cp /etc/apt/sources.list.d/debian.sources "$state/etc/debian.sources"
  apt_opts=(-o "APT::Architecture=$arch" -o "APT::Architectures=$arch"
            -o "Dir::State=$state" -o "Dir::State::Lists=$state/lists"
            -o "Dir::Cache=$state/cache" -o "Dir::Etc::SourceList=/dev/null"
            -o "Dir::Etc::SourceParts=$state/etc" -o "Dir::Etc::Preferences=/dev/null"
            -o "Dir::Etc::PreferencesParts=$state/etc/preferences.d")
  if [ ! -f "$state/updated" ]; then
    apt-get "${apt_opts[@]}" -qq update >&2
    touch "$state/updated"
  fi
fi
pkg=$(apt-cache "${apt_opts[@]}" depends "linux-image-$arch" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || { echo "fetch-kernel: no linux-image package for $arch" >&2; exit 1; }
work=$(mktemp -d "$cache/fetch.XXXXXX")
(cd "$work" && apt-get "${apt_opts[@]}" -qq download "$pkg" >&2 2>/dev/null || \
  (cd "$work" && apt-get "${apt_opts[@]}" -qq download "$pkg" >&2))
rm -rf "$dir"
dpkg-deb -x "$work"/*.deb "$dir"
rm -rf "$work"
touch "$dir/.complete"
echo "$dir"
