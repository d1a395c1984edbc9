#!/usr/bin/env bash
# cairn-init in development mode on this machine: not PID 1 but a child-subreaper supervisor
# with a throw-away run directory and a private cgroup, running the dev fixture services
# (init/tests/fixtures/dev/: the cairn-test-service program standing in for the datastore,
# containerd and the kubelite group, plus one flaky service that ends up `failed`).
#   scripts/run-dev.sh [BUILD_DIR]        (default: build)
# Ctrl-C stops every service in reverse dependency order and exits. While it runs:
#   BUILD_DIR/bin/cairnctl --socket <run dir>/control.sock status | timeline | logs NAME
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
init=$build/bin/cairn-init
service=$build/tests/cairn-test-service
for f in "$init" "$service"; do
  [ -x "$f" ] || { echo "run-dev.sh: $f is missing (make build)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/cairn-dev.XXXXXX)
chmod 755 "$work"
mkdir "$work/services"
for f in "$top"/init/tests/fixtures/dev/*.toml; do
  sed -e "s|@SERVICE@|$service|g" -e "s|@DIR@|$work|g" "$f" >"$work/services/$(basename "$f")"
done

# A private cgroup subtree when we may make one (root and cgroup v2): cairn-init sits in a
# leaf beside the services' tree so controllers can be enabled for the services.
cgroup_args=()
cgroup=
mount=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ "$(id -u)" = 0 ] && [ -n "$mount" ]; then
  cgroup=$mount/cairn-dev-$$
  if mkdir -p "$cgroup/dev-init" 2>/dev/null && echo $$ >"$cgroup/dev-init/cgroup.procs"; then
    cgroup_args=(--cgroup-root "$cgroup")
  else
    cgroup=
  fi
fi

cleanup() {
  if [ -n "$cgroup" ]; then
    # Move ourselves out, kill anything left, remove the subtree.
    echo $$ >"$mount/cgroup.procs" 2>/dev/null || true
    echo 1 >"$cgroup/cgroup.kill" 2>/dev/null || true
    sleep 0.2
    find "$cgroup" -depth -type d -exec rmdir {} + 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cat <<MSG
cairn-init (development mode): services in $work/services, logs in $work/logs
  status:   $build/bin/cairnctl --socket $work/control.sock status
  timeline: $build/bin/cairnctl --socket $work/control.sock timeline
  Ctrl-C stops everything in reverse dependency order.
MSG
status=0
"$init" --services "$work/services" --run-dir "$work/run" --log-dir "$work/logs" \
  --control-socket "$work/control.sock" "${cgroup_args[@]}" || status=$?
exit $status
