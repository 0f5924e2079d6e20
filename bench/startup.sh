#!/usr/bin/env bash
# Cold and warm start of `npm start`: time from launch to /ready = 200, and RSS once ready.
# Runs in a throw-away copy of this checkout (sharing node_modules), so .data/ here is untouched.
# Usage: bench/startup.sh [port]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${1:-18080}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
git -C "$root" archive HEAD | tar -x -C "$work"
ln -s "$root/node_modules" "$work/node_modules"
chmod 755 "$work"

run() {
  local label=$1 start now
  start=$(date +%s%N)
  (cd "$work" && PORT=$port LOG_LEVEL=warn npm start >"$work/$label.log" 2>&1) &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do sleep 0.05; done
  now=$(date +%s%N)
  local node_pid rss
  node_pid=$(pgrep -f "^node .*src/cli/start.ts" | head -1)
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$node_pid/status")
  printf '%-5s start → /ready: %5d ms   RSS: %4d MiB\n' "$label" $(((now - start) / 1000000)) $((rss / 1024))
  kill -TERM "$node_pid"
  wait "$pid" || true
}

run cold
run warm
