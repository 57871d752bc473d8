#!/usr/bin/env bash
# GEOSEARCH cost against set size: a radius search returning about 10
# members, over a GEO set of 1,000 members and over one of 1,000,000, on
# redsql (SQLite file, default durability) and on Redis, in one run.
#
# Usage: bench/geo.sh [-n REQUESTS]   (default 20,000 searches per size)
# BIN=/path/to/redsql measures another build (nothing is built then).
set -euo pipefail
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

# Members spread uniformly over a 200 km x 200 km square around (2.35, 48.85):
# the same seed on both servers; density such that an 11 km (1,000) or a
# 0.35 km (1,000,000) radius returns about 10.
load() { # port key count
  python3 - "$1" "$2" "$3" <<'PY'
import random, sys, redis
port, key, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
r = redis.Redis(port=port)
rnd = random.Random(7)
p = r.pipeline(transaction=False)
for i in range(n):
    p.geoadd(key, (2.35 + rnd.uniform(-1.35, 1.35), 48.85 + rnd.uniform(-0.9, 0.9), f"m{i}"))
    if i % 5000 == 4999:
        p.execute()
p.execute()
PY
}
search() { # port key radius_km -> requests/s and the result count
  local port=$1 key=$2 radius=$3
  local found
  found=$(redis-cli -p "$port" GEOSEARCH "$key" FROMLONLAT 2.35 48.85 BYRADIUS "$radius" km ASC | wc -l)
  local rps
  rps=$(redis-benchmark -p "$port" -c 50 -n "$N" -q GEOSEARCH "$key" FROMLONLAT 2.35 48.85 BYRADIUS "$radius" km ASC 2>/dev/null |
    grep -o '[0-9.]* requests per second' | awk '{print $1}')
  echo "$rps $found"
}
printf '%-10s %-12s %12s %8s %12s %8s\n' server members "rps" found "rps" found
for server in redis redsql; do
  port=$REDIS_PORT
  [ "$server" = redsql ] && port=$REDSQL_PORT
  load "$port" g1k 1000
  load "$port" g1m 1000000
  read -r small_rps small_n < <(search "$port" g1k 11)
  read -r big_rps big_n < <(search "$port" g1m 0.35)
  printf '%-10s %-12s %12s %8s %12s %8s  big/small: %s\n' "$server" "1k | 1M" "$small_rps" "$small_n" "$big_rps" "$big_n" \
    "$(python3 -c "print(round($big_rps/$small_rps, 2))")"
done
