#!/usr/bin/env bash
# Cross-builds the stand-alone stage 1 /init and the stage 2 probe for arm64 (static, with
# Debian's aarch64-linux-gnu toolchain) for the arm64 and Raspberry Pi QEMU tests:
#   cross-stage1.sh SOURCE_DIR OUT_DIR   ->  OUT_DIR/cairn-stage1, OUT_DIR/cairn-stage2-probe
set -euo pipefail
src=$1 out=$2
mkdir -p "$out"
cxx=aarch64-linux-gnu-g++
flags=(-std=c++20 -O2 -static -Wall -Wextra -I"$src")
# Every source of the stage 1 library (init/stage1/CMakeLists.txt) plus its main: all .cc files
# there but the tests and fuzz targets, so a new file cannot be forgotten here.
stage1_sources=()
for f in "$src"/init/stage1/*.cc; do
  case "${f##*/}" in *_test.cc | fuzz_*) ;; *) stage1_sources+=("$f") ;; esac
done
newest=$(ls -t "${stage1_sources[@]}" "$src"/init/stage1/*.h "$src"/qemu-tests/probe/stage2_probe.cc | head -n1)
if [ "$out/cairn-stage1" -nt "$newest" ] && [ "$out/cairn-stage2-probe" -nt "$newest" ]; then exit 0; fi
"$cxx" "${flags[@]}" -o "$out/cairn-stage1" "${stage1_sources[@]}"
"$cxx" "${flags[@]}" -o "$out/cairn-stage2-probe" "$src/qemu-tests/probe/stage2_probe.cc"
