#!/usr/bin/env bash
# Resident memory of cairn-datastore next to Debian's etcd 3.4 in the same run:
#   bench/datastore_rss/run.sh BUILD_DIR        (use a release build; ~5-10 min)
# Each server gets a fresh data dir on TCP loopback and is filled with KEYS (default 100000)
# distinct keys of VALUE_BYTES (default 1024) incompressible bytes by bench-datastore-rss-fill
# (8 client threads). After SETTLE seconds (default 10) idle it reads VmRSS and VmHWM; then
# the server is stopped with SIGTERM, restarted on the same dir and measured again once it
# answers (memory after recovery from snapshot + log). Target (issue 3): cairn-datastore
# RSS <= 2x the live data (sum of key and value bytes). Prints a markdown table on stdout.
set -euo pipefail
build=$(cd "${1:?usage: bench/datastore_rss/run.sh BUILD_DIR}" && pwd)
keys=${KEYS:-100000}
value_bytes=${VALUE_BYTES:-1024}
settle=${SETTLE:-10}
command -v etcd >/dev/null || apt-get install -y etcd-server >&2
command -v etcdctl >/dev/null || apt-get install -y etcd-client >&2
cmake --build "$build" --target cairn-datastore bench-datastore-rss-fill -j2 >&2
ds_bin=$build/bin/cairn-datastore
fill_bin=$build/bin/bench-datastore-rss-fill
export ETCDCTL_API=3

work=$(mktemp -d /tmp/cairn-bench-rss-XXXXXX)
pid=
stop() {
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
  fi
}
trap 'stop; rm -rf "$work"' EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_healthy() {
  for _ in $(seq 600); do
    etcdctl --endpoints "$1" --command-timeout=2s endpoint health >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "server exited" >&2; return 1; }
    sleep 0.2
  done
  echo "server at $1 never became healthy" >&2
  return 1
}
start_etcd() {  # $1 = dir, $2 = client port
  local peer
  peer=$(free_port)
  etcd --name rss --data-dir "$1" --listen-client-urls "http://127.0.0.1:$2" \
    --advertise-client-urls "http://127.0.0.1:$2" --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "rss=http://127.0.0.1:$peer" >>"$work/etcd.log" 2>&1 &
  pid=$!
}
start_cairn() {  # $1 = dir, $2 = client port
  "$ds_bin" --storage-dir "$1" --listen "tcp://127.0.0.1:$2" >>"$work/cairn.log" 2>&1 &
  pid=$!
}
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
status_kib() { awk -v f="$2" '$1 == f":" { print $2 }' "/proc/$1/status"; }
db_size_mib() {
  etcdctl --endpoints "$1" endpoint status -w json 2>/dev/null |
    python3 -c 'import json,sys; print(round(json.load(sys.stdin)[0]["Status"]["dbSize"] / 2**20))'
}

rows=()
for sys in etcd cairn; do
  port=$(free_port)
  ep=127.0.0.1:$port
  "start_$sys" "$work/$sys" "$port"
  wait_healthy "$ep"
  t0=$(date +%s)
  live=$("$fill_bin" "$ep" "$keys" "$value_bytes")
  t1=$(date +%s)
  sleep "$settle"
  rss=$(status_kib "$pid" VmRSS)
  hwm=$(status_kib "$pid" VmHWM)
  db=$(db_size_mib "$ep")
  live_kib=$((live / 1024))
  ratio=$(awk -v r="$rss" -v l="$live_kib" 'BEGIN { printf "%.2f", r / l }')
  rows+=("| $sys | $(mib "$live_kib") | $(mib "$rss") | $ratio | $(mib "$hwm") | $db | $((t1 - t0)) |")
  echo "$sys: filled in $((t1 - t0)) s, RSS $(mib "$rss") MiB" >&2
  stop
  "start_$sys" "$work/$sys" "$port"
  wait_healthy "$ep"
  sleep "$settle"
  rss=$(status_kib "$pid" VmRSS)
  hwm=$(status_kib "$pid" VmHWM)
  ratio=$(awk -v r="$rss" -v l="$live_kib" 'BEGIN { printf "%.2f", r / l }')
  rows+=("| $sys (restarted) | $(mib "$live_kib") | $(mib "$rss") | $ratio | $(mib "$hwm") | $db | - |")
  stop
done

echo "$keys keys x $value_bytes B, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| server | live MiB | RSS MiB | RSS / live | peak RSS MiB | db size MiB | fill s |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
