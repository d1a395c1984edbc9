#!/usr/bin/env bash
# cairn-datastore next to Debian's etcd 3.4 in the same run, same machine, same client:
#   bench/datastore_vs_etcd/run.sh BUILD_DIR
# Builds cairn-datastore and bench-datastore-watch in BUILD_DIR (use a release build), then
# for each server in turn: `etcdctl check perf --load=m` and `--load=l`, each on a fresh data
# dir; watch latency (put -> event) at 1,000 writes/s; resident memory after 100,000 keys of
# 1 KiB on another fresh data dir. Both servers listen on TCP loopback without TLS, so the
# transport is the same. Prints one markdown table on stdout (details on stderr). ~10 min.
set -euo pipefail
build=$(cd "${1:?usage: bench/datastore_vs_etcd/run.sh BUILD_DIR}" && pwd)
command -v etcd >/dev/null || apt-get install -y etcd-server >&2
command -v etcdctl >/dev/null || apt-get install -y etcd-client >&2
cmake --build "$build" --target cairn-datastore bench-datastore-watch -j2 >&2
ds_bin=$build/bin/cairn-datastore
watch_bin=$build/bin/bench-datastore-watch
export ETCDCTL_API=3

work=$(mktemp -d /tmp/cairn-bench-vs-etcd-XXXXXX)
server_pid=
stop_server() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server NAME: a fresh data dir, listening on 127.0.0.1:$port; waits until healthy.
start_server() {
  local name=$1 data=$work/$1-$RANDOM peer
  port=$(free_port)
  case $name in
    cairn)
      "$ds_bin" --storage-dir "$data" --listen "tcp://127.0.0.1:$port" >"$work/$name.log" 2>&1 &
      ;;
    etcd)
      peer=$(free_port)
      etcd --name bench --data-dir "$data" \
        --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
        --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
        --initial-cluster "bench=http://127.0.0.1:$peer" >"$work/$name.log" 2>&1 &
      ;;
  esac
  server_pid=$!
  for _ in $(seq 1 120); do
    if etcdctl --endpoints="127.0.0.1:$port" endpoint health >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "$name did not become healthy; log:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

# check_perf LOAD -> "PASS 1012" / "FAIL 6600" (verdict, writes/s)
check_perf() {
  local out verdict rate
  out=$(etcdctl --endpoints="127.0.0.1:$port" --command-timeout=120s check perf --load="$1" 2>&1 || true)
  echo "--- check perf --load=$1 ---" >&2
  echo "$out" | grep -E 'PASS|FAIL' >&2 || echo "$out" >&2
  verdict=$(echo "$out" | tail -n1 | grep -oE '^(PASS|FAIL)' || echo ERROR)
  rate=$(echo "$out" | grep -oE 'Throughput[^0-9]*[0-9]+' | grep -oE '[0-9]+$' || echo '?')
  echo "$verdict $rate"
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }

declare -A r
for name in cairn etcd; do
  echo "=== $name ===" >&2
  start_server "$name"
  r[$name.m]=$(check_perf m)
  stop_server
  start_server "$name"
  r[$name.l]=$(check_perf l)
  stop_server
  start_server "$name"
  lat=$("$watch_bin" latency "127.0.0.1:$port" 1000 10 || true)
  r[$name.lat]=${lat:-? ? ? ? ?}
  echo "watch latency (p50 p99 max events rate): ${r[$name.lat]}" >&2
  stop_server
  start_server "$name"
  fill=$("$watch_bin" fill "127.0.0.1:$port" 100000 1024 || true)
  sleep 2
  r[$name.rss]=$(rss_kib)
  r[$name.live]=$(echo "$fill" | awk '{print $2}')
  [[ -n ${r[$name.live]} ]] || r[$name.live]=1
  echo "fill (keys bytes seconds): $fill; VmRSS ${r[$name.rss]} KiB" >&2
  stop_server
done

field() { echo "$1" | awk -v i="$2" '{print $i}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.0f MiB", k / 1024}'; }
ratio() { awk -v k="$1" -v b="$2" 'BEGIN {printf "%.2f", k * 1024 / b}'; }
perf() { echo "$(field "$1" 1) ($(field "$1" 2) writes/s)"; }
lat() { echo "$(field "$1" 1) / $(field "$1" 2) ms ($(field "$1" 5) writes/s achieved)"; }
mem() { echo "$(mib "$1") ($(ratio "$1" "$2")x live)"; }

echo "| measure | target | cairn-datastore | etcd 3.4 |"
echo "|---|---|---|---|"
echo "| check perf --load=m | pass | $(perf "${r[cairn.m]}") | $(perf "${r[etcd.m]}") |"
echo "| check perf --load=l | writes/s >= 1.0x etcd | $(perf "${r[cairn.l]}") | $(perf "${r[etcd.l]}") |"
echo "| watch latency p50 / p99 at 1,000 writes/s | p99 <= 10 ms | $(lat "${r[cairn.lat]}") | $(lat "${r[etcd.lat]}") |"
echo "| RSS after 100,000 keys x 1 KiB ($(mib "$((${r[cairn.live]} / 1024))") live) | <= 2x live | $(mem "${r[cairn.rss]}" "${r[cairn.live]}") | $(mem "${r[etcd.rss]}" "${r[etcd.live]}") |"
