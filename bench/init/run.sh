#!/usr/bin/env bash
# PID 1 benchmarks of cairn-init next to tini and s6-svscan (bench/init/pid1_bench.py):
#   bench/init/run.sh BUILD_DIR [pid1_bench.py options, e.g. --only reap --orphans 1000]
# Builds what it needs in BUILD_DIR (a release build: cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo),
# then prints markdown tables. Needs root, cgroup v2, and `apt-get install tini s6`.
# Takes a few minutes; every namespace, cgroup and temp directory it makes is removed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: bench/init/run.sh BUILD_DIR [options]}" && pwd)
shift
cmake --build "$build" --target cairn-init cairn-test-service bench-orphans -j2 >&2
exec python3 "$here/pid1_bench.py" --build "$build" "$@"
