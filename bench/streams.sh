#!/usr/bin/env bash
# Stream costs against stream size: XADD, XRANGE of 10 entries and
# XREADGROUP of 10, on a stream of 1,000 entries and on one of 1,000,000, on
# redsql (SQLite file, default durability) and on Redis, in one run.
# XREADGROUP reads the consumer's first 10 pending entries (id 0) after it
# took 1,000 with `>`: repeatable at any stream size, unlike `>`, which would
# run out of new entries in the small stream.
#
# Usage: bench/streams.sh [-n REQUESTS]   (default 20,000 per measure)
# BIN=/path/to/redsql measures another build (nothing is built then).
set -euo pipefail
set -f # XADD's `*` is an argument, never a glob
cd "$(dirname "$0")/.."
N=20000
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=bench/pair.sh
. bench/pair.sh
start_pair

rps() { # port command...
  local port=$1; shift
  redis-benchmark -p "$port" -c 50 -n "$N" --csv "$@" 2>/dev/null | tail -n 1 | tr -d '"' | cut -d, -f2
}
printf '%-8s %-10s %12s %12s %12s\n' server entries "XADD rps" "XRANGE 10" "XREADGROUP 10"
for server in redis redsql; do
  port=$REDIS_PORT
  [ "$server" = redsql ] && port=$REDSQL_PORT
  for size in 1000 1000000; do
    key="s$size"
    redis-benchmark -p "$port" -c 50 -P 16 -n "$size" XADD "$key" '*' field value >/dev/null 2>&1
    redis-cli -p "$port" XGROUP CREATE "$key" g 0 >/dev/null
    redis-cli -p "$port" XREADGROUP GROUP g c COUNT 1000 STREAMS "$key" '>' >/dev/null
    add=$(rps "$port" XADD "$key" '*' field value)
    range=$(rps "$port" XRANGE "$key" - + COUNT 10)
    group=$(rps "$port" XREADGROUP GROUP g c COUNT 10 STREAMS "$key" 0)
    printf '%-8s %-10s %12s %12s %12s\n' "$server" "$(redis-cli -p "$port" XLEN "$key")" "$add" "$range" "$group"
  done
done
