#!/usr/bin/env bash
# Installs the Debian packages cairn needs, idempotently: only what dpkg does not
# already report as installed is fetched. Package lists live in scripts/deps/*.txt,
# one concern per file, so each part of the tree declares its own needs.
#   scripts/install-deps.sh             every scripts/deps/*.txt: what `make run` and
#                                       `make test` need (the Makefile's deps target)
#   scripts/install-deps.sh LIST...     just those lists, e.g. a benchmark's own
#                                       scripts/deps/bench/*.txt (never installed by default)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lists=("$@")
[ ${#lists[@]} -gt 0 ] || lists=("$here"/deps/*.txt)

wanted=()
for list in "${lists[@]}"; do
  while read -r pkg _; do
    [ -n "$pkg" ] && [ "${pkg#\#}" = "$pkg" ] && wanted+=("$pkg")
  done <"$list"
done

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# A stale or missing package list is the usual reason an install fails on a fresh machine.
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
