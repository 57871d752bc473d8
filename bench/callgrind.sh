#!/usr/bin/env bash
# Instructions per request, measured with callgrind: a load-independent
# throughput metric for a shared, noisy machine (see docs/benchmarks.md).
#
# Starts the release build under `valgrind --tool=callgrind` with a SQLite
# file in a temporary directory (default durability), runs each redis-benchmark
# test once as a warm-up, zeroes the counters, runs it again with N requests,
# dumps, and prints the instructions (all threads) divided by N.
#
#   bench/callgrind.sh                         # the default loads, 20,000 requests each
#   bench/callgrind.sh -n 5000 -t set,incr     # other tests / counts
#   bench/callgrind.sh -P 16 -t set,get        # pipelined
#   bench/callgrind.sh -d 1024 -t set          # 1 KB values
#   bench/callgrind.sh -r 100000000 -t set     # keys drawn from 100M (nearly every SET creates its key)
#   bench/callgrind.sh --keep DIR              # keep the callgrind dumps (for callgrind_annotate)
#
# Each test runs against an emptied database (FLUSHALL before the warm-up);
# for GET, every key of the range is then set, so that GETs find their keys,
# and for LPOP/RPOP the list is filled first.
set -euo pipefail
cd "$(dirname "$0")/.."

N=20000
RANGE=10000
TESTS=set,get,incr,zadd,lrange_100,mset,lpush,sadd,hset
EXTRA=()
KEEP=
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=$2; shift 2 ;;
    -t) TESTS=$2; shift 2 ;;
    -r) RANGE=$2; shift 2 ;;
    -P | -d | -c) EXTRA+=("$1" "$2"); shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

BIN=${BIN:-target/release/redsql}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
TMP=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" --dump-instr=no \
  "$BIN" --port "$PORT" --db "$TMP/redsql.db" --loglevel warning >"$TMP/valgrind.log" 2>&1 &
PID=$!
cleanup() {
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  [ -n "$KEEP" ] && mkdir -p "$KEEP" && cp "$TMP"/cg.out* "$KEEP"/ 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
for _ in $(seq 300); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

# The total instruction count of the newest dump.
last_total() {
  local f
  f=$(ls -t "$TMP"/cg.out.* | head -1)
  awk '/^(summary|totals):/ {print $2; exit}' "$f"
}

printf '%-12s %s %10s\n' test "${EXTRA[*]:-}" "Ir/request"
for t in ${TESTS//,/ }; do
  redis-cli -p "$PORT" flushall >/dev/null
  if [ "$t" = get ]; then
    # GET reads keys that exist (as in bench/compare.sh, where SET ran
    # before): every key:NNNNNNNNNNNN of the range is set first.
    awk -v n="$RANGE" 'BEGIN { for (i = 0; i < n; i++) printf "SET key:%012d xxx\n", i }' |
      redis-cli -p "$PORT" --pipe >/dev/null
  fi
  if [ "$t" = lpop ] || [ "$t" = rpop ]; then
    # Pops take from a list long enough for the warm-up and the measure.
    redis-benchmark -p "$PORT" -c 50 -n $((2 * N + 1000)) -t lpush -q >/dev/null 2>&1
  fi
  redis-benchmark -p "$PORT" -c 50 -r "$RANGE" -n "$N" -t "$t" -q "${EXTRA[@]}" >/dev/null 2>&1
  callgrind_control -z "$PID" >/dev/null 2>&1
  redis-benchmark -p "$PORT" -c 50 -r "$RANGE" -n "$N" -t "$t" -q "${EXTRA[@]}" >/dev/null 2>&1
  callgrind_control -d "$t" "$PID" >/dev/null 2>&1
  sleep 0.5
  ir=$(last_total)
  # LRANGE_100's test also runs LPUSH first (redis-benchmark fills the list).
  printf '%-12s %s %10.1fk\n' "$t" "${EXTRA[*]:-}" "$(echo "$ir / $N / 1000" | bc -l)"
done
