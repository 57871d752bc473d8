#!/usr/bin/env bash
# The project's test command: `scripts/test.sh`.
#
# On a fresh Debian machine (root or not) it installs what the tests need and
# then runs every check CI runs:
#
#   1. cargo fmt --check
#   2. cargo clippy --all-targets -- -D warnings
#   3. cargo test (unit, integration, crash, protocol and differential tests;
#      the differential tests compare redsql with a real redis-server)
#
# Needs: a Rust toolchain (cargo, rustfmt, clippy). Installs when missing:
# Debian's redis-server and redis-tools (apt-get), PostgreSQL 15 (apt-get),
# the Python `redis` client 5.x (pip) for the client tests, and RQ 3.0.0
# (pip) for the job queue test, and BullMQ 5.81.5 (npm) for tests/bullmq.rs.
#
# It starts a throwaway PostgreSQL 15 cluster for the PostgreSQL backend's
# tests, exports its URL as REDSQL_TEST_POSTGRES_URL and a command that
# restarts it as REDSQL_TEST_POSTGRES_RESTART, and removes it on exit.
#
# Environment:
#   REDSQL_WITH_POSTGRES=0   do not start PostgreSQL: the PostgreSQL tests
#                            skip (loudly).
#   Anything else is passed through to cargo's environment (e.g. TEST_SEED
#   for the property tests). To run a part of the tests, run cargo test
#   yourself, e.g. `cargo test --test differential lists` for one
#   differential script (tests/diff/README.md).
#
# Exit status: 0 when every step passed; otherwise 1, after a summary of
# every step's outcome and duration.

set -euo pipefail
cd "$(dirname "$0")/.."

# ---------------------------------------------------------------------------
# Output helpers and the step summary
# ---------------------------------------------------------------------------

SCRIPT_START=$SECONDS
SUMMARY=()
FAILED=0

say() { printf '\n==> %s\n' "$*"; }
die() {
    printf '\nscripts/test.sh: FATAL: %s\n' "$*" >&2
    exit 1
}

# step NAME COMMAND...: runs one check, records its outcome and duration, and
# carries on with the next check if it fails (the summary shows them all).
step() {
    local name=$1
    shift
    say "$name: $*"
    local start=$SECONDS status=0
    "$@" || status=$?
    local took=$((SECONDS - start))
    if [ "$status" -eq 0 ]; then
        SUMMARY+=("$(printf 'PASS  %-8s %4ss  %s' "$name" "$took" "$*")")
    else
        SUMMARY+=("$(printf 'FAIL  %-8s %4ss  %s  (exit %s)' "$name" "$took" "$*" "$status")")
        FAILED=1
    fi
}

print_summary() {
    printf '\n==================== scripts/test.sh summary ====================\n'
    local line
    for line in "${SUMMARY[@]}"; do
        printf '%s\n' "$line"
    done
    printf 'total time: %ss\n' "$((SECONDS - SCRIPT_START))"
    if [ "$FAILED" -eq 0 ] && [ "$EXIT_STATUS" -eq 0 ]; then
        printf 'RESULT: all checks passed\n'
    elif [ "$FAILED" -eq 0 ]; then
        printf 'RESULT: INTERRUPTED (exit status %s) before every check ran\n' "$EXIT_STATUS"
    else
        printf 'RESULT: FAILED (see the FAIL lines above and the output before them)\n'
    fi
    # The tests counted over every test binary, as the plain closing line
    # "tests: N passed, N failed, N skipped" (skipped = #[ignore]d).
    if [ -s "${TEST_LOG:-}" ]; then
        awk '/^test result: / { p += $4; f += $6; i += $8 }
             END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, i }' "$TEST_LOG"
    fi
}

# Cleanup actions run on exit, last registered first.
CLEANUPS=()
on_exit() { CLEANUPS=("$1" "${CLEANUPS[@]}"); }
EXIT_STATUS=0
run_cleanups() {
    EXIT_STATUS=$?
    local c
    for c in "${CLEANUPS[@]}"; do
        eval "$c" || true
    done
}
trap run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Installing what is missing
# ---------------------------------------------------------------------------

is_root() { [ "$(id -u)" -eq 0 ]; }

# as_root COMMAND...: runs a command as root (directly, or with sudo without a
# password prompt: CI has no stdin).
as_root() {
    if is_root; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root to run '$*' (not root, and no sudo); install it by hand"
    fi
}

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand"
    if [ "$APT_UPDATED" -eq 0 ]; then
        say "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || die "apt-get update failed"
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" ||
        die "apt-get install $* failed"
}

ensure_rust() {
    if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
        # shellcheck disable=SC1091
        . "$HOME/.cargo/env"
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo not found: install a Rust toolchain (rustup) first"
    if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
        command -v rustup >/dev/null 2>&1 || die "cargo fmt / cargo clippy missing and no rustup to add them"
        rustup component add rustfmt clippy || die "cannot add the rustfmt and clippy components"
    fi
}

ensure_redis() {
    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
        apt_install redis-server redis-tools
    fi
    command -v redis-server >/dev/null 2>&1 || die "redis-server still not on PATH after installing it"
}

ensure_python_redis() {
    if ! command -v python3 >/dev/null 2>&1; then
        apt_install python3 python3-pip
    fi
    if python3 -c 'import redis' >/dev/null 2>&1; then
        return
    fi
    if ! python3 -m pip --version >/dev/null 2>&1; then
        apt_install python3-pip
    fi
    local user_flag=()
    is_root || user_flag=(--user)
    say "python3 -m pip install 'redis>=5,<6'"
    # Debian's own python3 refuses pip installs outside a venv (PEP 668) unless told to.
    python3 -m pip install -q --disable-pip-version-check "${user_flag[@]}" 'redis>=5,<6' ||
        python3 -m pip install -q --disable-pip-version-check --break-system-packages "${user_flag[@]}" 'redis>=5,<6' ||
        die "cannot install the Python redis client"
    python3 -c 'import redis' || die "the Python redis client is still not importable"
}

# RQ, the Python job queue, for tests/jobqueue.rs. Pinned to what
# `pip install rq` gives today; since 1.12 RQ keeps job results in streams
# (XADD ... MAXLEN ~, XREVRANGE), so the test covers them end to end.
RQ_VERSION=3.0.0
ensure_rq() {
    if python3 -c "import rq, sys; sys.exit(rq.VERSION != '$RQ_VERSION')" >/dev/null 2>&1; then
        return
    fi
    local user_flag=()
    is_root || user_flag=(--user)
    say "python3 -m pip install 'rq==$RQ_VERSION'"
    python3 -m pip install -q --disable-pip-version-check "${user_flag[@]}" "rq==$RQ_VERSION" ||
        python3 -m pip install -q --disable-pip-version-check --break-system-packages "${user_flag[@]}" "rq==$RQ_VERSION" ||
        die "cannot install RQ $RQ_VERSION"
    python3 -c "import rq, sys; sys.exit(rq.VERSION != '$RQ_VERSION')" || die "RQ $RQ_VERSION is still not importable"
}

# BullMQ (Node.js), for tests/bullmq.rs: installed with npm into target/,
# pinned, and found through NODE_PATH. Without node/npm the test skips, loudly.
BULLMQ_VERSION=5.81.5
ensure_bullmq() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        say "node/npm not found: the BullMQ test will skip"
        return
    fi
    local dir=target/test-deps/bullmq
    if [ ! -f "$dir/node_modules/bullmq/package.json" ] ||
        ! grep -q "\"version\": \"$BULLMQ_VERSION\"" "$dir/node_modules/bullmq/package.json"; then
        say "npm install bullmq@$BULLMQ_VERSION (into $dir)"
        mkdir -p "$dir"
        npm install --silent --no-audit --no-fund --prefix "$dir" "bullmq@$BULLMQ_VERSION" ||
            die "cannot install bullmq $BULLMQ_VERSION"
    fi
    export NODE_PATH="$PWD/$dir/node_modules${NODE_PATH:+:$NODE_PATH}"
}

# ---------------------------------------------------------------------------
# A throwaway PostgreSQL 15 cluster (for the PostgreSQL backend's tests)
#
# start_throwaway_postgres creates a new cluster in a temporary directory,
# starts it on a free loopback port with trust authentication, creates the
# database `redsql_test`, checks that it answers, and exports
#   REDSQL_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:PORT/redsql_test
#   REDSQL_TEST_POSTGRES_RESTART=<a shell command restarting the cluster>
# (tests/postgres_restart.rs and tests/postgres_bus_restart.rs restart it
# under running redsql processes; its log stays in DIR/postgres.log). The
# cluster is stopped and its directory removed when this script exits.
# initdb refuses to run as root, so as root the cluster belongs to the
# unprivileged user `redsql-test` (created if missing).
# ---------------------------------------------------------------------------

PG_BIN=/usr/lib/postgresql/15/bin
PG_USER=redsql-test
# Enough for the PostgreSQL tests running in parallel: each redsql process
# opens 4 writers, a read pool, and 2 connections for pub/sub across processes.
PG_MAX_CONNECTIONS=400

# pg_as_owner COMMAND...: runs a command as the cluster's owner.
pg_as_owner() {
    if is_root; then
        runuser -u "$PG_USER" -- "$@"
    else
        "$@"
    fi
}

# A loopback TCP port that nothing listens on.
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "no free TCP port found"
}

start_throwaway_postgres() {
    [ -x "$PG_BIN/initdb" ] || apt_install postgresql-15
    [ -x "$PG_BIN/initdb" ] || die "$PG_BIN/initdb not found after installing postgresql-15"
    if is_root && ! id -u "$PG_USER" >/dev/null 2>&1; then
        say "creating the unprivileged user $PG_USER for PostgreSQL"
        useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER" || die "useradd $PG_USER failed"
    fi
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/redsql-pg.XXXXXX")
    chmod 700 "$dir"
    is_root && chown "$PG_USER:" "$dir"
    # Registered before starting, so a failed start still cleans up.
    on_exit "pg_as_owner '$PG_BIN/pg_ctl' -D '$dir/data' -m immediate stop >/dev/null 2>&1; rm -rf '$dir'"

    say "initdb (PostgreSQL 15) in $dir"
    pg_as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; die "initdb failed"; }

    local port started=0
    for _ in 1 2 3; do
        port=$(free_port)
        # Sockets in the temp dir (the default /var/run/postgresql may not be
        # writable); fsync off: a test cluster need not survive power loss.
        if pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=$PG_MAX_CONNECTIONS" \
            start >/dev/null; then
            started=1
            break
        fi
    done
    [ "$started" -eq 1 ] || { cat "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }

    pg_as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres redsql_test || die "createdb failed"
    local one
    one=$("$PG_BIN/psql" -X -q -t -A -h 127.0.0.1 -p "$port" -U postgres -d redsql_test -c 'SELECT 1') ||
        die "PostgreSQL does not answer queries"
    [ "$one" = 1 ] || die "PostgreSQL answered '$one' to SELECT 1"
    export REDSQL_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/redsql_test"
    # pg_ctl restart keeps the options the cluster was started with.
    local restart="'$PG_BIN/pg_ctl' -D '$dir/data' -l '$dir/postgres.log' -w -t 30 -m fast restart >/dev/null"
    is_root && restart="runuser -u '$PG_USER' -- $restart"
    export REDSQL_TEST_POSTGRES_RESTART="$restart"
    say "PostgreSQL 15 ready: REDSQL_TEST_POSTGRES_URL=$REDSQL_TEST_POSTGRES_URL (log: $dir/postgres.log)"
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

say "preparing the machine"
ensure_rust
ensure_redis
ensure_python_redis
ensure_rq
ensure_bullmq
if [ "${REDSQL_WITH_POSTGRES:-1}" != 0 ]; then
    start_throwaway_postgres
else
    unset REDSQL_TEST_POSTGRES_URL REDSQL_TEST_POSTGRES_RESTART
    say "REDSQL_WITH_POSTGRES=0: no PostgreSQL; its tests skip"
fi
printf 'cargo: %s\nredis-server: %s\npython redis: %s\nrq: %s\n' \
    "$(cargo --version)" "$(redis-server --version)" "$(python3 -c 'import redis; print(redis.__version__)')" \
    "$(python3 -c 'import rq; print(rq.VERSION)')"

# cargo test's output is also kept, to count the tests for the summary.
TEST_LOG=$(mktemp "${TMPDIR:-/tmp}/redsql-test-log.XXXXXX")
on_exit "rm -f '$TEST_LOG'"
cargo_test() { cargo test --no-fail-fast 2>&1 | tee "$TEST_LOG"; }

# Print the summary on every exit from here on (also after a fatal error).
on_exit print_summary

step fmt cargo fmt --all -- --check
step clippy cargo clippy --all-targets -- -D warnings
step test cargo_test

exit "$FAILED"
