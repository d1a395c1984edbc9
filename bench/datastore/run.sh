#!/usr/bin/env bash
# cairn-datastore next to Debian's etcd 3.4 in the same run, same machine, same clients:
#   bench/datastore/run.sh BUILD_DIR            (use a release build; ~12 min)
# Builds cairn-datastore and bench-datastore in BUILD_DIR. Each measurement runs on a fresh
# data dir for cairn-datastore and then for etcd, back to back, so both see the same
# machine load (on a shared machine compare the ratio, not the absolute numbers):
#   - `etcdctl check perf --load=m` and `--load=l`: verdict, write throughput, and the CPU
#     time (user+sys) per write of the server and, in brackets, of etcdctl (same cores);
#   - watch latency (put -> event) at 1,000 writes/s: `bench-datastore latency`;
#   - memory (measure_rss): VmRSS after `bench-datastore fill` wrote 100,000 keys of 1 KiB;
#   - memory in detail (measure_rss_restart, ONLY=rss_restart, not in the default set): the
#     same fill with random (incompressible) values, VmRSS/VmHWM and db size after SETTLE s
#     (default 10) idle, then SIGTERM, a restart on the same data dir (recovery from
#     snapshot + log; the start-up time is reported) and VmRSS/VmHWM again after SETTLE s.
# Both servers listen on TCP loopback without TLS. Prints one markdown table on stdout
# (details and load averages on stderr). ONLY=m,l,watch,rss,rss_restart runs a subset.
# DATASTORE_ARGS adds flags to cairn-datastore's command line (e.g. --snapshot-threshold N).
# A/B runs: CAIRN_B=PATH adds a second cairn-datastore binary (with DATASTORE_ARGS_B, default
# DATASTORE_ARGS) measured right after the first on every measurement, in its own column;
# CAIRN_A=PATH replaces the build's binary (e.g. a copy of an older build); ROUNDS=N repeats
# the whole set N times (one table each), swapping A and B's order every other round so
# neither always runs first; NO_ETCD=1 leaves etcd out.
set -euo pipefail
build=$(cd "${1:?usage: bench/datastore/run.sh BUILD_DIR}" && pwd)
only=${ONLY:-m,l,watch,rss}
settle=${SETTLE:-10}
keys=${KEYS:-100000}  # of the memory measurements
command -v etcd >/dev/null || apt-get install -y etcd-server >&2
command -v etcdctl >/dev/null || apt-get install -y etcd-client >&2
[[ -x /usr/bin/time ]] || apt-get install -y time >&2
cmake --build "$build" --target cairn-datastore bench-datastore -j2 >&2
ds_bin=${CAIRN_A:-$build/bin/cairn-datastore}
ds_bin_b=${CAIRN_B:-}
rounds=${ROUNDS:-1}
bench_bin=$build/bin/bench-datastore
export ETCDCTL_API=3

work=$(mktemp -d /tmp/cairn-bench-datastore-XXXXXX)
server_pid=
stop_server() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    # A measurement runs in $(...), a subshell that cannot wait for the parent's child.
    while kill -0 "$server_pid" 2>/dev/null; do sleep 0.1; done
    server_pid=
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server NAME [DATA]: a fresh data dir (or DATA, then on the same $port), listening on
# 127.0.0.1:$port; waits until healthy. Sets server_name, server_data and started_s (seconds
# from launch to healthy).
start_server() {
  local name=$1 data=${2:-$work/$1-$RANDOM} peer t0
  [[ -n ${2:-} ]] || port=$(free_port)
  server_name=$name
  server_data=$data
  t0=$(date +%s.%N)
  case $name in
    cairn)
      "$ds_bin" --storage-dir "$data" --listen "tcp://127.0.0.1:$port" ${DATASTORE_ARGS:-} >>"$work/$name.log" 2>&1 &
      ;;
    cairnb)
      "$ds_bin_b" --storage-dir "$data" --listen "tcp://127.0.0.1:$port" \
        ${DATASTORE_ARGS_B-${DATASTORE_ARGS:-}} >>"$work/$name.log" 2>&1 &
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
  for _ in $(seq 1 1200); do
    if etcdctl --endpoints="127.0.0.1:$port" --command-timeout=2s endpoint health >/dev/null 2>&1; then
      started_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "$name did not become healthy; log:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

load() { cut -d' ' -f1 /proc/loadavg; }

# check_perf LOAD -> "PASS 1012 CPU CLIENT" / "FAIL 6600 CPU CLIENT" / "ERROR ? CPU CLIENT"
# (verdict, writes/s, the server's CPU seconds since it started and etcdctl's CPU seconds:
# check perf writes for 60 s, on the same cores); an ERROR
# (etcdctl gave up, e.g. "etcdserver: request timed out") is shown on stderr.
check_perf() {
  local out verdict rate client
  out=$(/usr/bin/time -f 'client CPU %U %S' etcdctl --endpoints="127.0.0.1:$port" \
    --command-timeout=120s check perf --load="$1" 2>&1 | tr '\r' '\n' || true)
  echo "$out" | grep -E '^(PASS|FAIL|Error)' >&2 || echo "$out" | tail -n5 >&2
  verdict=$(echo "$out" | grep -oE '^(PASS|FAIL)$' | tail -n1 || true)
  rate=$(echo "$out" | grep -oE 'Throughput[^0-9]*[0-9]+' | grep -oE '[0-9]+$' || echo '?')
  client=$(echo "$out" | awk '/^client CPU / {printf "%.1f", $3 + $4}')
  echo "${verdict:-ERROR} $rate $(cpu_seconds) ${client:-?}"
}

# cpu_seconds -> user+system CPU seconds the server has used so far (the whole process).
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.1f", ($12 + $13) / hz}' \
    "/proc/$server_pid/stat"
}

# watch_latency -> "p50 p99 max events achieved_rate put_p50 put_p99"
watch_latency() {
  local lat
  lat=$("$bench_bin" latency "127.0.0.1:$port" 1000 10 || true)
  echo "${lat:-? ? ? ? ? ? ?}"
}

# measure_rss -> "rss_kib live_bytes": VmRSS after $keys (100,000) keys x 1 KiB and 2 s idle.
measure_rss() {
  local fill rss
  fill=$("$bench_bin" fill "127.0.0.1:$port" "$keys" 1024 || true)
  sleep 2
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status")
  echo "fill (keys bytes seconds): $fill; VmRSS $rss KiB" >&2
  echo "$rss $(echo "$fill" | awk '{print ($2 ? $2 : 1)}')"
}

status_kib() { awk -v f="$1" '$1 == f":" {print $2}' "/proc/$server_pid/status"; }
db_size_bytes() {
  etcdctl --endpoints="127.0.0.1:$port" endpoint status -w json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["dbSize"])' || echo 0
}

# measure_rss_restart -> "rss_kib hwm_kib db_bytes fill_s restart_s rss2_kib hwm2_kib live"
# (runs in run()'s subshell: it stops the server it restarted itself).
measure_rss_restart() {
  local fill rss hwm db rss2 hwm2
  fill=$("$bench_bin" fill "127.0.0.1:$port" "$keys" 1024 random || true)
  sleep "$settle"
  rss=$(status_kib VmRSS)
  hwm=$(status_kib VmHWM)
  db=$(db_size_bytes)
  echo "fill (keys bytes seconds): $fill; VmRSS $rss KiB, VmHWM $hwm KiB, db $db bytes" >&2
  stop_server
  start_server "$server_name" "$server_data"
  sleep "$settle"
  rss2=$(status_kib VmRSS)
  hwm2=$(status_kib VmHWM)
  stop_server
  echo "restarted in $started_s s: VmRSS $rss2 KiB, VmHWM $hwm2 KiB" >&2
  echo "$rss $hwm $db $(field "$fill" 3) $started_s $rss2 $hwm2" \
    "$(echo "$fill" | awk '{print ($2 ? $2 : 1)}')"
}

declare -A r
etcd_name=etcd
[[ -z ${NO_ETCD:-} ]] || etcd_name=
servers="cairn${ds_bin_b:+ cairnb} $etcd_name"
run() {  # run KEY COMMAND...: for each of $servers, fresh server, r[name.KEY] = output
  local key=$1 name
  shift
  for name in $servers; do
    start_server "$name"
    echo "--- $key on $name (load average $(load)) ---" >&2
    r[$name.$key]=$("$@")
    echo "${r[$name.$key]}" >&2
    stop_server
  done
}
field() { echo "${1:-}" | awk -v i="$2" '{print $i}'; }
wants() { [[ ,$only, == *,$1,* ]]; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else print "-"}'; }
# "FAIL, 4000 writes/s, 95 us CPU/write (etcdctl 120)": server and client CPU per write over
# the 60 s of writes check perf does
perf() {
  [[ -n ${1:-} ]] || { echo "-"; return; }
  echo "$1" | awk '{printf "%s, %s writes/s", $1, $2;
    if ($2 + 0 > 0 && $3 != "") printf ", %.0f us CPU/write", $3 * 1e6 / ($2 * 60);
    if ($2 + 0 > 0 && $4 + 0 > 0) printf " (etcdctl %.0f)", $4 * 1e6 / ($2 * 60)}'
}
lat() {
  [[ -n ${1:-} ]] || { echo "-"; return; }
  echo "$(field "$1" 1) / $(field "$1" 2) ms ($(field "$1" 5) writes/s achieved; put acks $(field "$1" 6) / $(field "$1" 7) ms)"
}
mem() {
  [[ -n ${1:-} ]] || { echo "-"; return; }
  awk -v k="$(field "$1" 1)" -v b="$(field "$1" 2)" \
    'BEGIN {printf "%.0f MiB (%.2fx live %.0f MiB)", k / 1024, k * 1024 / b, b / 1048576}'
}

# "rss (ratio); restarted in N s: rss (ratio), peak hwm; db N MiB"
mem2() {
  [[ -n ${1:-} ]] || { echo "-"; return; }
  echo "$1" | awk '{l = $8 / 1024;
    printf "%.0f MiB (%.2fx live %.0f MiB), peak %.0f MiB, db %.0f MiB, fill %s s; restarted in %s s: %.0f MiB (%.2fx), peak %.0f MiB",
      $1 / 1024, $1 / l, $8 / 1048576, $2 / 1024, $3 / 1048576, $4, $5, $6 / 1024, $6 / l, $7 / 1024}'
}

# row LABEL TARGET FORMATTER KEY RATIO_FIELD: one table row over the servers of this run.
row() {
  local label=$1 target=$2 fmt=$3 key=$4 rf=$5 line name
  line="| $label | $target |"
  for name in cairn ${ds_bin_b:+cairnb} $etcd_name; do
    line+=" $($fmt "${r[$name.$key]:-}") |"
  done
  if [[ -z ${NO_ETCD:-} ]]; then
    for name in cairn ${ds_bin_b:+cairnb}; do
      line+=" $(ratio "$(field "${r[$name.$key]:-}" "$rf")" "$(field "${r[etcd.$key]:-}" "$rf")") |"
    done
  fi
  echo "$line"
}

table() {
  local head="| measure | target | cairn-datastore |" rule="|---|---|---|" name
  [[ -z $ds_bin_b ]] || { head+=" cairn B |"; rule+="---|"; }
  if [[ -z ${NO_ETCD:-} ]]; then
    head+=" etcd 3.4 | cairn / etcd |"
    rule+="---|---|"
    [[ -z $ds_bin_b ]] || { head+=" B / etcd |"; rule+="---|"; }
  fi
  echo "$head"
  echo "$rule"
  if wants m; then row "check perf --load=m" "pass" perf m 2; fi
  if wants l; then row "check perf --load=l" "writes/s >= 1.0x etcd" perf l 2; fi
  if wants watch; then row "watch put -> event p50 / p99 at 1,000 writes/s (ratio: p99)" "p99 <= 10 ms" lat lat 2; fi
  if wants rss; then row "RSS after $keys keys x 1 KiB" "<= 2x live" mem rss 1; fi
  if wants rss_restart; then
    row "RSS after $keys keys x 1 KiB random, ${settle} s idle; then after a restart" "<= 2x live" mem2 rss2 1
  fi
  echo
  echo "Load average (1 min) at start / end: $load_start / $load_end ($(nproc) cores)."
}

if [[ -n $ds_bin_b ]]; then
  echo "A: $ds_bin ${DATASTORE_ARGS:-}; B: $ds_bin_b ${DATASTORE_ARGS_B-${DATASTORE_ARGS:-}}"
fi
for ((round = 1; round <= rounds; round++)); do
  r=()
  if [[ -n $ds_bin_b ]] && ((round % 2 == 0)); then
    servers="cairnb cairn $etcd_name"
  fi
  ((rounds == 1)) || echo "round $round of $rounds (order: $servers), $(date -u +%H:%M) UTC"
  load_start=$(load)
  if wants m; then run m check_perf m; fi
  if wants l; then run l check_perf l; fi
  if wants watch; then run lat watch_latency; fi
  if wants rss; then run rss measure_rss; fi
  if wants rss_restart; then run rss2 measure_rss_restart; fi
  load_end=$(load)
  table
  echo
  servers="cairn${ds_bin_b:+ cairnb} $etcd_name"
done
