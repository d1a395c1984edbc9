#!/usr/bin/env bash
# Cross-builds cairn's binaries for arm64 images into BUILD_DIR/arm64/bin (where
# `cairn-image build` looks for them by default, docs/image.md).
#   scripts/cross-arm64.sh BUILD_DIR [TARGET...]
#       (default targets: cairn-init cairnctl cairn-datastore; only these and what they link
#       are compiled, no tests)
# The arm64 libraries come from a sysroot of arm64 Debian -dev packages that mmdebstrap
# extracts into the image cache ($CAIRN_IMAGE_CACHE or /var/cache/cairn-image), with the same
# .deb cache as image builds: made once, reused offline. Code generators (protoc,
# grpc_cpp_plugin) are the host's x86_64 ones (scripts/deps/image-cross.txt); their generated
# code is compiled against the sysroot's arm64 protobuf/gRPC of the same version.
set -euo pipefail
build=$(mkdir -p "${1:?usage: scripts/cross-arm64.sh BUILD_DIR [TARGET...]}" && cd "$1" && pwd)
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cairn-init cairnctl cairn-datastore)
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${CAIRN_IMAGE_CACHE:-/var/cache/cairn-image}
suite=${CAIRN_SUITE:-bookworm}
mirror=${CAIRN_MIRROR:-http://deb.debian.org/debian}
# cairn-init/cairnctl: seccomp, libcap, toml++, OpenSSL. cairn-datastore
# (datastore/*/CMakeLists.txt, scripts/deps/datastore.txt): dqlite (+ raft, sqlite3, libuv),
# gRPC++ and protobuf; their own -dev dependencies (abseil, re2, c-ares, zlib) follow.
packages=libseccomp-dev,libcap-dev,libtomlplusplus-dev,libssl-dev
packages+=,libdqlite-dev,libraft-dev,libsqlite3-dev,libuv1-dev,libgrpc++-dev,libprotobuf-dev
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
  # The C library's development files come from the cross toolchain (libc6-dev-arm64-cross,
  # linux-libc-dev-arm64-cross in /usr/aarch64-linux-gnu). The copies the -dev packages above
  # drag in (zlib1g-dev -> libc6-dev) would shadow them: their libc.so/libm.so linker scripts
  # name /lib/aarch64-linux-gnu/... host paths that do not exist. Drop those packages' files.
  for pkg in libc6-dev linux-libc-dev; do
    for deb in "$debs/${pkg}_"*_arm64.deb; do
      [ -f "$deb" ] || continue
      dpkg-deb -c "$deb" | while read -r mode _ _ _ _ path _; do
        case $mode in d*) continue ;; esac
        rm -f "$sysroot/${path#./}"
      done
    done
  done
  touch "$sysroot/.complete"
fi

# The toolchain file turns the sysroot into cached flags and find results on the first
# configure; a build tree made with another sysroot (another package set) starts afresh.
fresh=()
old=$(sed -n 's/^CAIRN_ARM64_SYSROOT:[A-Z]*=//p' "$build/arm64/CMakeCache.txt" 2>/dev/null || true)
[ -z "$old" ] || [ "$old" = "$sysroot" ] || fresh=(--fresh)
cmake "${fresh[@]}" -S "$top" -B "$build/arm64" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_TOOLCHAIN_FILE="$top/cmake/aarch64-linux-gnu.cmake" \
  -DCAIRN_ARM64_SYSROOT="$sysroot" -DCAIRN_BUILD_TESTS=OFF -DCAIRN_BUILD_DATASTORE=ON \
  -DCAIRN_BUILD_BENCH=OFF >/dev/null
cmake --build "$build/arm64" -j "${JOBS:-2}" --target "${targets[@]}"
echo "cross-arm64: $(cd "$build/arm64/bin" && ls "${targets[@]}" | tr '\n' ' ')in $build/arm64/bin"
