#!/usr/bin/env bash
# Runs every test suite of `make test` and closes with one summary line.
#   run-tests.sh BUILD ASAN_BUILD FUZZ_BUILD
set -uo pipefail
build=$1 asan=$2 fuzz=$3
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
fail=0

echo "== release build: all tests"
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 1800 || fail=1

# QEMU boots and benchmarks are not repeated under sanitizers: they exercise the same code
# at a speed the sanitizers would only slow down.
echo "== ASan+UBSan build: unit and integration tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$asan" --output-on-failure -j "$jobs" -LE 'qemu|slow' --timeout 900 || fail=1

echo "== fuzz targets (short runs)"
fuzz_pass=0 fuzz_fail=0
for target in "$fuzz"/fuzz/*; do
  [ -x "$target" ] || continue
  name=$(basename "$target")
  corpus=$(find "$top" -path "$top/build*" -prune -o -type d -path "*/corpus/$name" -print | head -n1)
  work=$(mktemp -d)
  [ -n "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
  if "$target" -max_total_time="${CAIRN_FUZZ_SECONDS:-20}" -rss_limit_mb=2048 "$work" \
      >"$work.log" 2>&1; then
    fuzz_pass=$((fuzz_pass + 1)); echo "fuzz $name: ok"
  else
    fuzz_fail=$((fuzz_fail + 1)); fail=1; echo "fuzz $name: FAILED"; tail -40 "$work.log"
  fi
  rm -rf "$work" "$work.log"
done
echo "fuzz: $fuzz_pass passed, $fuzz_fail failed"
exit $fail
