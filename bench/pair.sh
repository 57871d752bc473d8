# Sourced by the side-by-side benchmarks (compare.sh, geo.sh, streams.sh):
# builds redsql unless BIN names a binary, starts a real redis-server
# (persistence off) and redsql on free loopback ports, waits for both, and
# stops both (and removes their directory) on exit.
#
#   start_pair [redsql arguments...]   a SQLite file in $TMP unless they give --db; --loglevel warning
#   -> BIN, TMP, REDIS_PORT, REDSQL_PORT, REDSQL_PID

command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server)" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark is needed (apt-get install redis-tools)" >&2; exit 1; }
# BIN=/path/to/redsql measures another build (nothing is built then).
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/redsql
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_pair() {
  TMP=$(mktemp -d)
  REDIS_PORT=$(free_port)
  REDSQL_PORT=$(free_port)
  trap stop_pair EXIT
  redis-server --port "$REDIS_PORT" --save '' --appendonly no --dir "$TMP" --daemonize yes >/dev/null
  case " $* " in
    *" --db "*) ;;
    *) set -- --db "$TMP/redsql.db" "$@" ;;
  esac
  "$BIN" --port "$REDSQL_PORT" --loglevel warning "$@" &
  REDSQL_PID=$!
  local p
  for p in "$REDIS_PORT" "$REDSQL_PORT"; do
    for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
}

stop_pair() {
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  [ -n "${REDSQL_PID:-}" ] && kill "$REDSQL_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
