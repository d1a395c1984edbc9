#!/bin/bash
# Side-by-side benchmark of Debian's etcd 3.4 and cairn-datastore on this machine (by hand):
#   etcdctl check perf --load=m and --load=l (write throughput), watch latency p99 at
#   1,000 writes/s, and resident memory with 100,000 keys of 1 KiB vs live data.
# Usage: bench/datastore/run.sh [BUILD_DIR]   (builds cairn-datastore and datastore_bench)
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cmake --build "$ROOT/$BUILD" --target cairn-datastore datastore_bench -j2 >/dev/null || exit 1
DS=$ROOT/$BUILD/bin/cairn-datastore
BENCH=$ROOT/$BUILD/bin/datastore_bench
export ETCDCTL_API=3
TMP=$(mktemp -d /tmp/cairn-bench-XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"' EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

start_etcd() {  # $1 = name; sets EP, PID
  local c=$(free_port) p=$(free_port)
  etcd --name bench --data-dir "$TMP/etcd-$1" --listen-client-urls http://127.0.0.1:$c \
    --advertise-client-urls http://127.0.0.1:$c --listen-peer-urls http://127.0.0.1:$p \
    --initial-advertise-peer-urls http://127.0.0.1:$p \
    --initial-cluster bench=http://127.0.0.1:$p >"$TMP/etcd-$1.log" 2>&1 &
  PID=$!; PIDS+=($PID); EP=127.0.0.1:$c
  for i in $(seq 100); do etcdctl --endpoints $EP endpoint health >/dev/null 2>&1 && return; sleep 0.2; done
}
start_cairn() {
  local c=$(free_port)
  "$DS" --storage-dir "$TMP/cairn-$1" --listen tcp://127.0.0.1:$c >"$TMP/cairn-$1.log" 2>&1 &
  PID=$!; PIDS+=($PID); EP=127.0.0.1:$c
  for i in $(seq 100); do etcdctl --endpoints $EP endpoint health >/dev/null 2>&1 && return; sleep 0.2; done
}
stop() { kill $PID; wait $PID 2>/dev/null; }
perf() {  # $1 = load; prints "writes/s PASS|FAIL"
  local out=$(etcdctl --endpoints $EP check perf --load=$1 2>&1)
  local tput=$(echo "$out" | grep -o '[0-9]* writes/s' | head -1 | grep -o '^[0-9]*')
  echo "${tput:-?} $(echo "$out" | tail -1 | tr -d '\r')"
}
rss_kib() { awk '/VmRSS/ {print $2}' /proc/$1/status; }

declare -A R
for sys in etcd cairn; do
  for load in m l; do
    start_$sys perf-$load; R[$sys-$load]=$(perf $load); stop
  done
  start_$sys watch; R[$sys-watch]=$($BENCH watch-latency $EP 1000 10); stop
  start_$sys fill; live=$($BENCH fill $EP 100000 1024); sleep 2
  R[$sys-rss]="$(( $(rss_kib $PID) / 1024 )) MiB RSS for $(( live / 1048576 )) MiB live"; stop
done

printf '\n%-34s %-30s %-30s\n' metric etcd-3.4 cairn-datastore
printf '%-34s %-30s %-30s\n' "check perf m (writes/s, verdict)" "${R[etcd-m]}" "${R[cairn-m]}"
printf '%-34s %-30s %-30s\n' "check perf l (writes/s, verdict)" "${R[etcd-l]}" "${R[cairn-l]}"
printf '%-34s %-30s %-30s\n' "watch latency p50 p99 ms (events)" "${R[etcd-watch]}" "${R[cairn-watch]}"
printf '%-34s %-30s %-30s\n' "memory, 100k x 1 KiB keys" "${R[etcd-rss]}" "${R[cairn-rss]}"
