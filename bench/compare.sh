#!/usr/bin/env bash
# Side-by-side benchmark: real redis-server vs redsql on this machine.
#
# Starts redis-server (persistence off) and redsql (SQLite file in a temporary
# directory) on free loopback ports, runs the same redis-benchmark loads
# against each, and prints one table: requests/s and p50 latency for each,
# and the ratio redsql/Redis. Each test runs on Redis and then at once on
# redsql, so that both see the same moment of a shared machine.
#
# Usage: bench/compare.sh [-n REQUESTS] [--quick] [--rounds R] [--fsync always|everysec|no] [--tests LIST] [--db URL]
#   --quick       100k requests per load instead of 1M (a 2-minute run)
#   --rounds R    run each test R times on each server, alternating, and
#                 report the medians (for noisy machines; default 1)
#   --fsync MODE  redsql's --appendfsync (default: everysec, the default durability)
#   --tests LIST  only these tests (comma-separated): redis-benchmark's -t
#                 names, and xadd, xrange_10 (XRANGE of 10 entries, after xadd)
#   --db URL      redsql's store instead of a temporary SQLite file, e.g.
#                 postgresql://user@127.0.0.1:5432/db?schema=bench (the schema
#                 is flushed before each load)
set -euo pipefail
cd "$(dirname "$0")/.."

N=1000000
FSYNC=everysec
DB=""
TESTS="set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,lrange_100,mset,xadd,xrange_10"
ROUNDS=1
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N="$2"; shift 2 ;;
    --quick) N=100000; shift ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --fsync) FSYNC="$2"; shift 2 ;;
    --tests) TESTS="$2"; shift 2 ;;
    --db) DB="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

# shellcheck source=bench/pair.sh
. bench/pair.sh
STORE="SQLite file"
[ -n "$DB" ] && STORE="PostgreSQL"
if [ -n "$DB" ]; then
  start_pair --db "$DB" --appendfsync "$FSYNC"
else
  start_pair --appendfsync "$FSYNC"
fi

# run PORT ARGS... -> lines "test<TAB>rps<TAB>p50" from redis-benchmark's CSV output
run() {
  local port=$1; shift
  redis-benchmark -p "$port" --csv "$@" 2>/dev/null | tail -n +2 | tr -d '"' | awk -F, '{print $1"\t"$2"\t"$5}'
}

# Loads redis-benchmark has no -t test for: the command it sends instead.
custom() {
  case "$1" in
    xadd) echo "XADD bench:stream * field value" ;;
    xrange_10) echo "XRANGE bench:stream - + COUNT 10" ;;
    *) echo "" ;;
  esac
}

# LOADS: "redis-benchmark arguments|tests|label"
declare -a LOADS=(
  "-c 50 -n $N -r 10000|$TESTS|c50"
  "-c 50 -n $N -r 10000 -P 16|set,get|c50 P16"
  "-c 1 -n $((N / 10)) -r 10000|set,get|c1"
  "-c 50 -n $N -r 10000 -d 1024|set,get|c50 d1024"
)

# median: the median of the numbers on stdin, one per line
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-22s %-9s %12s %9s %12s %9s %7s\n' "test" "load" "redis rps" "p50 ms" "redsql rps" "p50 ms" "ratio"
printf '%-22s %-9s %12s %9s %12s %9s %7s\n' "----" "----" "---------" "------" "----------" "------" "-----"
for load in "${LOADS[@]}"; do
  IFS='|' read -r args tests label <<< "$load"
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  redis-cli -p "$REDSQL_PORT" flushall >/dev/null
  for t in ${tests//,/ }; do
    # One test may print several rows (lrange_100 runs its LPUSH first).
    : > "$TMP/redis.out"; : > "$TMP/redsql.out"
    cmd=$(custom "$t")
    for _ in $(seq "$ROUNDS"); do
      if [ -n "$cmd" ]; then
        # Word-split, but no glob: XADD's `*` is an argument.
        # shellcheck disable=SC2086
        (set -f; run "$REDIS_PORT" $args $cmd) >> "$TMP/redis.out"
        # shellcheck disable=SC2086
        (set -f; run "$REDSQL_PORT" $args $cmd) >> "$TMP/redsql.out"
      else
        # shellcheck disable=SC2086
        run "$REDIS_PORT" $args -t "$t" >> "$TMP/redis.out"
        # shellcheck disable=SC2086
        run "$REDSQL_PORT" $args -t "$t" >> "$TMP/redsql.out"
      fi
    done
    cut -f1 "$TMP/redis.out" | awk '!seen[$0]++' | while IFS= read -r test; do
      col() { awk -F'\t' -v t="$test" -v c="$2" '$1 == t { print $c }' "$1" | median; }
      rps=$(col "$TMP/redis.out" 2); p50=$(col "$TMP/redis.out" 3)
      srps=$(col "$TMP/redsql.out" 2); sp50=$(col "$TMP/redsql.out" 3)
      ratio=$(awk -v a="$srps" -v b="$rps" 'BEGIN { if (a != "-" && b > 0) printf "%.2f", a / b; else print "-" }')
      printf '%-22s %-9s %12s %9s %12s %9s %7s\n' "$test" "$label" "$rps" "$p50" "$srps" "$sp50" "$ratio"
    done
  done
done
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; redis $(redis-server --version | awk '{print $3}'); redsql --appendfsync $FSYNC, store $STORE; $ROUNDS round(s), medians; $(date -u +%Y-%m-%d)"
