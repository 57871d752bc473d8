#!/usr/bin/env bash
# Side-by-side benchmark: real redis-server vs redsql on this machine.
#
# Starts redis-server (persistence off) and redsql (SQLite file in a temporary
# directory) on free loopback ports, runs the same redis-benchmark loads
# against each, one after the other, and prints one table: requests/s and p50
# latency for each, and the ratio redsql/Redis.
#
# Usage: bench/compare.sh [-n REQUESTS] [--quick] [--fsync always|everysec|no] [--tests LIST] [--db URL]
#   --quick       100k requests per load instead of 1M (a 2-minute run)
#   --fsync MODE  redsql's --appendfsync (default: everysec, the default durability)
#   --tests LIST  only these redis-benchmark tests (comma-separated)
#   --db URL      redsql's store instead of a temporary SQLite file, e.g.
#                 postgresql://user@127.0.0.1:5432/db?schema=bench (the schema
#                 is flushed before each load)
set -euo pipefail
cd "$(dirname "$0")/.."

N=1000000
FSYNC=everysec
DB=""
TESTS="set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,lrange_100,mset"
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N="$2"; shift 2 ;;
    --quick) N=100000; shift ;;
    --fsync) FSYNC="$2"; shift 2 ;;
    --tests) TESTS="$2"; shift 2 ;;
    --db) DB="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server)" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark is needed (apt-get install redis-tools)" >&2; exit 1; }
# BIN=/path/to/redsql measures another build (nothing is built then).
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/redsql
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TMP=$(mktemp -d)
REDIS_PORT=$(free_port)
REDSQL_PORT=$(free_port)
cleanup() {
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  [ -n "${REDSQL_PID:-}" ] && kill "$REDSQL_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

redis-server --port "$REDIS_PORT" --save '' --appendonly no --dir "$TMP" --daemonize yes >/dev/null
STORE="SQLite file"
[ -n "$DB" ] && STORE="PostgreSQL"
"$BIN" --port "$REDSQL_PORT" --db "${DB:-$TMP/redsql.db}" --appendfsync "$FSYNC" --loglevel warning &
REDSQL_PID=$!
for p in "$REDIS_PORT" "$REDSQL_PORT"; do
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
done

# run PORT ARGS... -> lines "test<TAB>rps<TAB>p50" from redis-benchmark's CSV output
run() {
  local port=$1; shift
  redis-benchmark -p "$port" --csv "$@" 2>/dev/null | tail -n +2 | tr -d '"' | awk -F, '{print $1"\t"$2"\t"$5}'
}

declare -a LOADS=(
  "-c 50 -n $N -r 10000 -t $TESTS|c50"
  "-c 50 -n $N -r 10000 -t set,get -P 16|c50 P16"
  "-c 1 -n $((N / 10)) -r 10000 -t set,get|c1"
  "-c 50 -n $N -r 10000 -t set,get -d 1024|c50 d1024"
)

printf '%-22s %-9s %12s %9s %12s %9s %7s\n' "test" "load" "redis rps" "p50 ms" "redsql rps" "p50 ms" "ratio"
printf '%-22s %-9s %12s %9s %12s %9s %7s\n' "----" "----" "---------" "------" "----------" "------" "-----"
for load in "${LOADS[@]}"; do
  args=${load%%|*}; label=${load##*|}
  # shellcheck disable=SC2086
  redis_out=$(run "$REDIS_PORT" $args)
  redis-cli -p "$REDSQL_PORT" flushall >/dev/null
  # shellcheck disable=SC2086
  redsql_out=$(run "$REDSQL_PORT" $args)
  while IFS=$'\t' read -r test rps p50; do
    line=$(printf '%s\n' "$redsql_out" | awk -F'\t' -v t="$test" '$1==t')
    srps=$(printf '%s' "$line" | cut -f2); sp50=$(printf '%s' "$line" | cut -f3)
    ratio=$(awk -v a="${srps:-0}" -v b="$rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    printf '%-22s %-9s %12s %9s %12s %9s %7s\n' "$test" "$label" "$rps" "$p50" "${srps:--}" "${sp50:--}" "$ratio"
  done <<< "$redis_out"
done
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; redis $(redis-server --version | awk '{print $3}'); redsql --appendfsync $FSYNC, store $STORE; $(date -u +%Y-%m-%d)"
