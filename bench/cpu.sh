#!/usr/bin/env bash
# Server CPU time per request: redsql builds (and real Redis) side by side.
#
# Throughput on a shared VM swings run to run (steal time, writeback); the
# CPU a server spends per request is far steadier, so this is the measure to
# compare two builds with. For each load and each round, every server is
# started fresh (a new SQLite file for redsql, persistence off for Redis),
# warmed up with 20,000 requests, then measured over N requests of
# `redis-benchmark -c 50 -r 10000 -t LOAD`: user + system time of all its
# threads (/proc/PID/stat) divided by N, and the requests/s.
#
# Usage: bench/cpu.sh [-n N] [--rounds R] [--tests LIST] [--no-redis] BIN [BIN...]
#   e.g. bench/cpu.sh --tests set,zadd /tmp/redsql-before target/release/redsql
set -euo pipefail
cd "$(dirname "$0")/.."

N=200000
ROUNDS=3
TESTS="set,incr,zadd,mset"
REDIS=1
BINS=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --tests) TESTS="$2"; shift 2 ;;
    --no-redis) REDIS=0; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) BINS+=("$1"); shift ;;
  esac
done
[ ${#BINS[@]} -gt 0 ] || { echo "usage: bench/cpu.sh [-n N] [--rounds R] [--tests LIST] [--no-redis] BIN [BIN...]" >&2; exit 2; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark is needed (apt-get install redis-tools)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TMP=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# measure NAME TEST -> "us_per_request rps"
measure() {
  local name=$1 test=$2 port
  port=$(free_port)
  rm -rf "$TMP/db"; mkdir -p "$TMP/db"
  if [ "$name" = redis ]; then
    redis-server --port "$port" --save '' --appendonly no --dir "$TMP/db" >/dev/null &
  else
    "$name" --port "$port" --db "$TMP/db/redsql.db" --loglevel warning &
  fi
  PID=$!
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-benchmark -p "$port" -c 50 -n 20000 -r 10000 -t "$test" -q >/dev/null 2>&1
  local a b rps
  a=$(cpu_ticks "$PID")
  rps=$(redis-benchmark -p "$port" -c 50 -n "$N" -r 10000 -t "$test" --csv 2>/dev/null | tail -1 | tr -d '"' | cut -d, -f2)
  b=$(cpu_ticks "$PID")
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  awk -v a="$a" -v b="$b" -v n="$N" -v t="$TCK" -v r="$rps" 'BEGIN { printf "%.2f %d", (b - a) / t * 1e6 / n, r }'
}

SERVERS=("${BINS[@]}")
[ "$REDIS" = 1 ] && SERVERS+=(redis)
printf '%-8s %-40s %s\n' "load" "server" "us/request (requests/s) per round"
for test in ${TESTS//,/ }; do
  declare -A row=()
  for _ in $(seq "$ROUNDS"); do
    for s in "${SERVERS[@]}"; do
      read -r us rps <<< "$(measure "$s" "$test")"
      row[$s]="${row[$s]:-}$(printf '%7s (%6s)' "$us" "$rps")"
    done
  done
  for s in "${SERVERS[@]}"; do printf '%-8s %-40s %s\n' "$test" "$s" "${row[$s]}"; done
  unset row
done
echo
echo "machine: $(nproc) cores; N=$N per round, -c 50 -r 10000; $(date -u +%Y-%m-%d)"
