#!/usr/bin/env bash
# cairn-datastore next to Debian's etcd 3.4 in the same run, same machine, same clients:
#   bench/datastore/run.sh BUILD_DIR            (use a release build; ~12 min)
# Builds cairn-datastore and bench-datastore in BUILD_DIR. Each measurement runs on a fresh
# data dir for cairn-datastore and then for etcd, back to back, so both see the same
# machine load (on a shared machine compare the ratio, not the absolute numbers):
#   - `etcdctl check perf --load=m` and `--load=l`: verdict and write throughput;
#   - watch latency (put -> event) at 1,000 writes/s: `bench-datastore latency`;
#   - memory (measure_rss): VmRSS after `bench-datastore fill` wrote 100,000 keys of 1 KiB.
# Both servers listen on TCP loopback without TLS. Prints one markdown table on stdout
# (details and load averages on stderr). ONLY=m,l,watch,rss runs a subset.
set -euo pipefail
build=$(cd "${1:?usage: bench/datastore/run.sh BUILD_DIR}" && pwd)
only=${ONLY:-m,l,watch,rss}
command -v etcd >/dev/null || apt-get install -y etcd-server >&2
command -v etcdctl >/dev/null || apt-get install -y etcd-client >&2
cmake --build "$build" --target cairn-datastore bench-datastore -j2 >&2
ds_bin=$build/bin/cairn-datastore
bench_bin=$build/bin/bench-datastore
export ETCDCTL_API=3

work=$(mktemp -d /tmp/cairn-bench-datastore-XXXXXX)
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
      "$ds_bin" --storage-dir "$data" --listen "tcp://127.0.0.1:$port" >>"$work/$name.log" 2>&1 &
      ;;
    etcd)
      peer=$(free_port)
      etcd --name bench --data-dir "$data" \
        --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
        --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
        --initial-cluster "bench=http://127.0.0.1:$peer" >>"$work/$name.log" 2>&1 &
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

load() { cut -d' ' -f1 /proc/loadavg; }

# check_perf LOAD -> "PASS 1012" / "FAIL 6600" / "ERROR ?" (verdict, writes/s); an ERROR
# (etcdctl gave up, e.g. "etcdserver: request timed out") is shown on stderr.
check_perf() {
  local out verdict rate
  out=$(etcdctl --endpoints="127.0.0.1:$port" --command-timeout=120s check perf --load="$1" 2>&1 |
    tr '\r' '\n' || true)
  echo "$out" | grep -E '^(PASS|FAIL|Error)' >&2 || echo "$out" | tail -n5 >&2
  verdict=$(echo "$out" | grep -oE '^(PASS|FAIL)$' | tail -n1 || true)
  rate=$(echo "$out" | grep -oE 'Throughput[^0-9]*[0-9]+' | grep -oE '[0-9]+$' || echo '?')
  echo "${verdict:-ERROR} $rate"
}

# watch_latency -> "p50 p99 max events achieved_rate"
watch_latency() {
  local lat
  lat=$("$bench_bin" latency "127.0.0.1:$port" 1000 10 || true)
  echo "${lat:-? ? ? ? ?}"
}

# measure_rss -> "rss_kib live_bytes": VmRSS after 100,000 keys x 1 KiB and 2 s idle.
measure_rss() {
  local fill rss
  fill=$("$bench_bin" fill "127.0.0.1:$port" 100000 1024 || true)
  sleep 2
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status")
  echo "fill (keys bytes seconds): $fill; VmRSS $rss KiB" >&2
  echo "$rss $(echo "$fill" | awk '{print ($2 ? $2 : 1)}')"
}

declare -A r
run() {  # run KEY COMMAND...: for cairn then etcd, fresh server, r[name.KEY] = output
  local key=$1 name
  shift
  for name in cairn etcd; do
    start_server "$name"
    echo "--- $key on $name (load average $(load)) ---" >&2
    r[$name.$key]=$("$@")
    echo "${r[$name.$key]}" >&2
    stop_server
  done
}
load_start=$(load)
[[ $only == *m* ]] && run m check_perf m
[[ $only == *l* ]] && run l check_perf l
[[ $only == *watch* ]] && run lat watch_latency
[[ $only == *rss* ]] && run rss measure_rss
load_end=$(load)

field() { echo "${1:-}" | awk -v i="$2" '{print $i}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else print "-"}'; }
perf() { [[ -n ${1:-} ]] && echo "$(field "$1" 1), $(field "$1" 2) writes/s" || echo "-"; }
lat() { [[ -n ${1:-} ]] && echo "$(field "$1" 1) / $(field "$1" 2) ms ($(field "$1" 5) writes/s achieved)" || echo "-"; }
mem() {
  [[ -n ${1:-} ]] || { echo "-"; return; }
  awk -v k="$(field "$1" 1)" -v b="$(field "$1" 2)" \
    'BEGIN {printf "%.0f MiB (%.2fx live %.0f MiB)", k / 1024, k * 1024 / b, b / 1048576}'
}

echo "| measure | target | cairn-datastore | etcd 3.4 | cairn / etcd |"
echo "|---|---|---|---|---|"
echo "| check perf --load=m | pass | $(perf "${r[cairn.m]:-}") | $(perf "${r[etcd.m]:-}") | $(ratio "$(field "${r[cairn.m]:-}" 2)" "$(field "${r[etcd.m]:-}" 2)") |"
echo "| check perf --load=l | writes/s >= 1.0x etcd | $(perf "${r[cairn.l]:-}") | $(perf "${r[etcd.l]:-}") | $(ratio "$(field "${r[cairn.l]:-}" 2)" "$(field "${r[etcd.l]:-}" 2)") |"
echo "| watch put -> event p50 / p99 at 1,000 writes/s | p99 <= 10 ms | $(lat "${r[cairn.lat]:-}") | $(lat "${r[etcd.lat]:-}") | $(ratio "$(field "${r[cairn.lat]:-}" 2)" "$(field "${r[etcd.lat]:-}" 2)") (p99) |"
echo "| RSS after 100,000 keys x 1 KiB | <= 2x live | $(mem "${r[cairn.rss]:-}") | $(mem "${r[etcd.rss]:-}") | $(ratio "$(field "${r[cairn.rss]:-}" 1)" "$(field "${r[etcd.rss]:-}" 1)") |"
echo
echo "Load average (1 min) at start / end: $load_start / $load_end ($(nproc) cores)."
