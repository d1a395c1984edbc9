#!/usr/bin/env bash
# Cross-builds cairn's binaries for arm64 images into BUILD_DIR/arm64/bin (where
# `cairn-image build` looks for them by default, docs/image.md).
#   scripts/cross-arm64.sh BUILD_DIR [TARGET...]      (default targets: cairn-init cairnctl)
# The arm64 libraries come from a sysroot of arm64 Debian -dev packages that mmdebstrap
# extracts into the image cache ($CAIRN_IMAGE_CACHE or /var/cache/cairn-image), with the same
# .deb cache as image builds: made once, reused offline.
set -euo pipefail
build=$(mkdir -p "${1:?usage: scripts/cross-arm64.sh BUILD_DIR [TARGET...]}" && cd "$1" && pwd)
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cairn-init cairnctl)
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${CAIRN_IMAGE_CACHE:-/var/cache/cairn-image}
suite=${CAIRN_SUITE:-bookworm}
mirror=${CAIRN_MIRROR:-http://deb.debian.org/debian}
packages=libseccomp-dev,libcap-dev,libtomlplusplus-dev,libssl-dev
sysroot=$cache/sysroot/$suite-arm64-$(echo "$packages" | sha256sum | cut -c1-12)
debs=$cache/debs/$suite-arm64

"$top/scripts/install-deps.sh" "$top/scripts/deps/image-cross.txt"

if [ ! -f "$sysroot/.complete" ]; then
  echo "cross-arm64: making the arm64 sysroot $sysroot"
  mkdir -p "$debs" "$(dirname "$sysroot")"
  rm -rf "$sysroot"
  mode=root
  [ "$(id -u)" -eq 0 ] || mode=unshare
  mmdebstrap --variant=extract --mode=$mode --arch=arm64 --include="$packages" \
    --aptopt='Acquire::Languages "none"' --skip=download/empty \
    --setup-hook='mkdir -p "$1/var/cache/apt/archives" && find '"'$debs'"' -maxdepth 1 -name "*.deb" -exec cp -t "$1/var/cache/apt/archives/" {} +' \
    --extract-hook='cp -n "$1"/var/cache/apt/archives/*.deb '"'$debs'"'/' \
    "$suite" "$sysroot" "$mirror"
  # Absolute symlinks (libfoo.so -> /lib/...) must resolve inside the sysroot.
  find "$sysroot" -type l -lname '/*' | while read -r link; do
    target=$(readlink "$link")
    ln -sfn "$sysroot$target" "$link"
  done
  touch "$sysroot/.complete"
fi

cmake -S "$top" -B "$build/arm64" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_TOOLCHAIN_FILE="$top/cmake/aarch64-linux-gnu.cmake" \
  -DCAIRN_ARM64_SYSROOT="$sysroot" -DCAIRN_BUILD_TESTS=OFF -DCAIRN_BUILD_DATASTORE=OFF \
  >/dev/null
cmake --build "$build/arm64" -j "${JOBS:-2}" --target "${targets[@]}"
echo "cross-arm64: $(cd "$build/arm64/bin" && ls "${targets[@]}" | tr '\n' ' ')in $build/arm64/bin"
