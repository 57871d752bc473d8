#!/usr/bin/env bash
# Scale benchmark: a dataset far larger than memory, and many idle connections.
#
# Starts redsql (release build) on a free loopback port with a SQLite file in a
# temporary directory (or --dir), and measures, printing one table at the end:
#   * GET/SET throughput (redis-benchmark, 100-byte values) on 10k keys;
#   * loading N string keys (100-byte values; default 10,000,000): time, and
#     redsql's resident memory (VmRSS sampled every 0.2 s; VmHWM) during the
#     load and afterwards;
#   * the time of DBSIZE, INFO keyspace and RANDOMKEY at N keys;
#   * GET/SET throughput on N keys (-r N), and its ratio to the 10k figure;
#   * shutdown time, and restart time until PING answers (after a clean
#     shutdown, and after kill -9);
#   * 10,000 idle connections held open: RSS before/after, KB per connection;
#   * KEYS * (reply read and thrown away) and FLUSHALL over N keys while a probe
#     client GETs in a loop: the longest gap between two of its replies;
#   * with --redis: the same load on real redis-server, its RSS at N keys.
#
# Usage: bench/scale.sh [--keys N] [--dir DIR] [--requests M] [--conns C] [--redis] [--no-build]
#   --keys N      keys to load (default 10000000; needs ~3 GB free in --dir at 10M)
#   --dir DIR     where the SQLite file goes (default: a new temporary directory)
#   --requests M  requests per redis-benchmark run (default 500000)
#   --conns C     idle connections to hold (default 10000; raises ulimit -n)
#   --redis       also load real redis-server with the same keys and report its RSS
#   --no-build    use target/release/redsql as it is
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS=10000000
DIR=""
REQ=500000
CONNS=10000
REDIS=0
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) KEYS="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    --requests) REQ="$2"; shift 2 ;;
    --conns) CONNS="$2"; shift 2 ;;
    --redis) REDIS=1; shift ;;
    --no-build) BUILD=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

command -v redis-benchmark >/dev/null || { echo "redis-benchmark is needed (apt-get install redis-tools)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }
[ "$BUILD" = 1 ] && cargo build --release --quiet
BIN=${BIN:-target/release/redsql}
TOOLS="python3 bench/scale_tools.py"

# Room for the idle connections (both this shell's children and redsql inherit it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((CONNS + 100)) ]; then
  CONNS=$(( $(ulimit -n) - 100 ))
  echo "ulimit -n is $(ulimit -n): holding $CONNS idle connections" >&2
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
if [ -z "$DIR" ]; then
  DIR=$(mktemp -d)
  OWN_DIR=1
else
  mkdir -p "$DIR"
  OWN_DIR=0
fi
DB="$DIR/scale.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
PORT=$(free_port)
REDIS_PORT=""
PID=""
SAMPLER=""
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  [ -n "$REDIS_PORT" ] && redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  if [ "$OWN_DIR" = 1 ]; then rm -rf "$DIR"; else rm -f "$DB" "$DB-wal" "$DB-shm" "$DIR/dump.rdb"; fi
}
trap cleanup EXIT

now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f MB", k / 1024 }'; }
# status FIELD: a field of redsql's /proc/PID/status in kB
status() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$PID/status"; }
log() { echo "[$(date +%T)] $*" >&2; }

# Starts redsql (from the Python helper, which times it until PING answers):
# sets PID and START_MS.
start_redsql() {
  read -r PID START_MS < <($TOOLS start "$PORT" "$BIN" --port "$PORT" --db "$DB" \
    --maxclients $((CONNS + 1000)) --loglevel warning)
}

# alive PID: the process exists and is not a zombie.
alive() { [ -r "/proc/$1/status" ] && ! awk '$1 == "State:" && $2 == "Z" { z = 1 } END { exit !z }' "/proc/$1/status"; }

# SIGTERM (clean shutdown: last commit, WAL checkpoint) and wait: sets STOP_MS.
stop_redsql() {
  local t0
  t0=$(now_ns)
  kill -TERM "$PID"
  while alive "$PID"; do sleep 0.01; done
  PID=""
  STOP_MS=$(ms_since "$t0")
}

# The sampler appends redsql's VmRSS (kB) to a file every 0.2 s; peak_rss
# reads the largest value since the last reset_rss.
SAMPLES="$DIR/rss.samples"
start_sampler() {
  : > "$SAMPLES"
  (while kill -0 "$PID" 2>/dev/null; do
     awk '$1 == "VmRSS:" { print $2 }' "/proc/$PID/status" >> "$SAMPLES" 2>/dev/null || true
     sleep 0.2
   done) &
  SAMPLER=$!
}
stop_sampler() { kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""; }
reset_rss() { : > "$SAMPLES"; }
peak_rss() { { cat "$SAMPLES"; status VmRSS; } | sort -n | tail -1; }

# bench RANGE LABEL: redis-benchmark SET and GET, c50 and c50 -P 16; sets RPS[LABEL/test/load]
declare -A RPS
bench() {
  local range=$1 label=$2 load p
  for load in "c50|" "c50 P16|-P 16"; do
    p=${load##*|}
    # shellcheck disable=SC2086
    while IFS=, read -r test rps _; do
      RPS["$label/$test/${load%%|*}"]=$rps
    done < <(redis-benchmark -p "$PORT" -c 50 -n "$REQ" -r "$range" -d 100 -t set,get $p --csv 2>/dev/null |
             tail -n +2 | tr -d '"')
  done
}

# with_probe LABEL ARG...: runs the command (reply thrown away) while a probe
# GETs key:000000000001 in a loop; sets GAP[LABEL], P99[LABEL], OVER5[LABEL]
# (gaps over 5 ms), TOOK[LABEL], PEAK[LABEL]
declare -A GAP P99 OVER5 TOOK PEAK BYTES
with_probe() {
  local label=$1; shift
  local out="$DIR/probe.out"
  $TOOLS probe "$PORT" key:000000000001 > "$out" &
  local probe=$!
  reset_rss
  sleep 1
  read -r TOOK["$label"] BYTES["$label"] < <($TOOLS discard "$PORT" "$@")
  sleep 1
  kill -TERM "$probe"; wait "$probe" || true
  read -r GAP["$label"] P99["$label"] _ _ OVER5["$label"] < "$out"
  PEAK["$label"]=$(peak_rss)
}

log "redsql on port $PORT, database $DB"
start_redsql
start_sampler
RSS_EMPTY=$(status VmRSS)

log "GET/SET on 10k keys ($REQ requests per run)"
bench 10000 small
redis-cli -p "$PORT" flushall >/dev/null

log "loading $KEYS keys"
reset_rss
LOAD_S=$($TOOLS load "$PORT" "$KEYS")
RSS_LOAD_PEAK=$(peak_rss)
sleep 2
RSS_AFTER_LOAD=$(status VmRSS)
t0=$(now_ns)
DBSIZE=$(redis-cli -p "$PORT" dbsize)
DBSIZE_MS=$(ms_since "$t0")
t0=$(now_ns)
redis-cli -p "$PORT" dbsize >/dev/null
DBSIZE2_MS=$(ms_since "$t0")
[ "$DBSIZE" = "$KEYS" ] || log "warning: DBSIZE is $DBSIZE, expected $KEYS"
t0=$(now_ns)
redis-cli -p "$PORT" info keyspace >/dev/null
INFO_MS=$(ms_since "$t0")
t0=$(now_ns)
redis-cli -p "$PORT" randomkey >/dev/null
RANDOMKEY_MS=$(ms_since "$t0")
DB_BYTES=$(du -cb "$DB"* | tail -1 | cut -f1)

log "GET/SET on $KEYS keys"
reset_rss
bench "$KEYS" large
RSS_BENCH_PEAK=$(peak_rss)
RSS_AFTER_BENCH=$(status VmRSS)
HWM=$(status VmHWM)

log "restart"
stop_sampler
stop_redsql
WAL_AFTER_STOP=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
start_redsql
RSS_RESTART=$(status VmRSS)
CLEAN_START_MS=$START_MS
log "restart after kill -9"
kill -KILL "$PID"
while alive "$PID"; do sleep 0.01; done
start_redsql
CRASH_START_MS=$START_MS
start_sampler

log "$CONNS idle connections"
sleep 1
RSS_BEFORE_IDLE=$(status VmRSS)
$TOOLS idle "$PORT" "$CONNS" > "$DIR/idle.out" &
IDLE_PID=$!
until grep -q ready "$DIR/idle.out"; do
  alive "$IDLE_PID" || { log "idle connections failed"; exit 1; }
  sleep 0.1
done
sleep 1
RSS_IDLE=$(status VmRSS)
CLIENTS=$(redis-cli -p "$PORT" info clients | awk -F: '/^connected_clients/ { print $2 }' | tr -d '\r')
kill "$IDLE_PID" 2>/dev/null || true
wait "$IDLE_PID" 2>/dev/null || true
KB_PER_CONN=$(awk -v a="$RSS_BEFORE_IDLE" -v b="$RSS_IDLE" -v n="$CONNS" 'BEGIN { printf "%.1f", (b - a) / n }')

log "probe alone"
with_probe idle PING
log "KEYS * with a GET probe"
with_probe keys KEYS '*'
log "FLUSHALL with a GET probe"
with_probe flushall FLUSHALL
RSS_END=$(status VmRSS)

if [ "$REDIS" = 1 ]; then
  log "real redis-server with $KEYS keys"
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --save '' --appendonly no --dir "$DIR" --daemonize yes >/dev/null
  sleep 0.5
  REDIS_LOAD_S=$($TOOLS load "$REDIS_PORT" "$KEYS")
  REDIS_PID=$(redis-cli -p "$REDIS_PORT" info server | awk -F: '/^process_id/ { print $2 }' | tr -d '\r')
  REDIS_RSS=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$REDIS_PID/status")
  REDIS_USED=$(redis-cli -p "$REDIS_PORT" info memory | awk -F: '/^used_memory:/ { print $2 }' | tr -d '\r')
fi

ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
row() { printf '%-44s %s\n' "$1" "$2"; }
echo
echo "redsql scale benchmark: $KEYS keys x 100-byte values, $(nproc) cores, $(date -u +%F)"
echo
row "measure" "value"
row "-------" "-----"
row "RSS, empty database" "$(mb "$RSS_EMPTY")"
row "load time ($KEYS keys, 4 pipelined conns)" "${LOAD_S} s ($(awk -v n="$KEYS" -v s="$LOAD_S" 'BEGIN { printf "%.0f", n / s }') keys/s)"
row "RSS peak during load" "$(mb "$RSS_LOAD_PEAK")"
row "RSS after load" "$(mb "$RSS_AFTER_LOAD")"
row "RSS peak during GET/SET at $KEYS keys" "$(mb "$RSS_BENCH_PEAK")"
row "RSS after GET/SET at $KEYS keys" "$(mb "$RSS_AFTER_BENCH")"
row "VmHWM (peak since start)" "$(mb "$HWM")"
row "database files (db + wal)" "$(awk -v b="$DB_BYTES" 'BEGIN { printf "%.2f GB", b / 1e9 }')"
row "DBSIZE at $KEYS keys (first, second call)" "$DBSIZE_MS ms, $DBSIZE2_MS ms"
row "INFO keyspace, RANDOMKEY at $KEYS keys" "$INFO_MS ms, $RANDOMKEY_MS ms"
for load in "c50" "c50 P16"; do
  for test in SET GET; do
    s=${RPS["small/$test/$load"]:-}; l=${RPS["large/$test/$load"]:-}
    row "$test $load: rps 10k keys / $KEYS keys" "$s / $l  (ratio $(ratio "$l" "$s"))"
  done
done
row "shutdown time (incl. WAL checkpoint)" "$STOP_MS ms (WAL left: $WAL_AFTER_STOP bytes)"
row "restart until PING answers (clean, after kill -9)" "$CLEAN_START_MS ms, $CRASH_START_MS ms"
row "RSS after restart" "$(mb "$RSS_RESTART")"
row "$CONNS idle connections: RSS before/after" "$(mb "$RSS_BEFORE_IDLE") / $(mb "$RSS_IDLE") (connected_clients $CLIENTS)"
row "memory per idle connection" "$KB_PER_CONN KB"
row "probe GET loop alone: max / p99 gap, gaps > 5 ms" "${GAP[idle]} ms / ${P99[idle]} ms, ${OVER5[idle]}"
row "KEYS *: time, reply size" "${TOOK[keys]} s, $(awk -v b="${BYTES[keys]}" 'BEGIN { printf "%.0f MB", b / 1e6 }')"
row "KEYS *: max / p99 GET gap, gaps > 5 ms" "${GAP[keys]} ms / ${P99[keys]} ms, ${OVER5[keys]}"
row "KEYS *: RSS peak" "$(mb "${PEAK[keys]}")"
row "FLUSHALL: time" "${TOOK[flushall]} s"
row "FLUSHALL: max / p99 GET gap, gaps > 5 ms" "${GAP[flushall]} ms / ${P99[flushall]} ms, ${OVER5[flushall]}"
row "FLUSHALL: RSS peak" "$(mb "${PEAK[flushall]}")"
row "RSS at the end" "$(mb "$RSS_END")"
if [ "$REDIS" = 1 ]; then
  row "redis-server $KEYS keys: load time" "${REDIS_LOAD_S} s"
  row "redis-server $KEYS keys: RSS / used_memory" "$(mb "$REDIS_RSS") / $(awk -v b="$REDIS_USED" 'BEGIN { printf "%.0f MB", b / 1048576 }')"
fi
