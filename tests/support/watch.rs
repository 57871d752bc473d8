//! The WATCH scenarios: client 0 WATCHes, client 1 acts (or not), client 0
//! runs MULTI ... EXEC. Real Redis answers first, and redsql must answer
//! the same, step by step. `tests/transactions.rs` runs them with both
//! clients on one server of each backend, `tests/postgres_watch.rs` with
//! each client on its own PostgreSQL process.

use super::{RawConn, Server, show};
use std::time::Duration;

/// One scenario.
pub struct Scenario {
    pub name: String,
    /// `(client, "COMMAND arg ...")`, or `(client, "sleep MS")` to wait.
    pub steps: Vec<(usize, &'static str)>,
    /// Whether the EXEC at the end is aborted (a null array).
    pub aborted: bool,
}

fn scenario(name: &str, steps: &[(usize, &'static str)], aborted: bool) -> Scenario {
    Scenario {
        name: name.to_string(),
        steps: steps.to_vec(),
        aborted,
    }
}

/// WATCH, then client 1 does `action`, then MULTI / SET / EXEC.
fn watch_then(action: &'static str, aborted: bool) -> Scenario {
    let steps = [
        (0, "SET k 1"),
        (0, "SET other 1"),
        (0, "WATCH k"),
        (1, action),
        (0, "MULTI"),
        (0, "SET k done"),
        (0, "EXEC"),
    ];
    scenario(action, &steps, aborted)
}

/// Writes of the watched key (or of every key) by client 1: EXEC aborts.
pub fn writes() -> Vec<Scenario> {
    [
        "SET k 2",
        "SET k 1",
        "INCR k",
        "APPEND k x",
        "DEL k",
        "UNLINK k",
        "EXPIRE k 100",
        "PEXPIREAT k 1",
        "RENAME k k2",
        "RENAME other k",
        "GETDEL k",
        "GETSET k 1",
        "SETRANGE k 0 x",
        "FLUSHALL",
        "FLUSHDB",
        "SWAPDB 0 1",
        "MOVE k 1",
    ]
    .into_iter()
    .map(|action| watch_then(action, true))
    .collect()
}

/// Reads, no-op writes and other keys leave the watch alone; other databases
/// are other keys; a missing key being created breaks it.
pub fn reads_and_other_keys() -> Vec<Scenario> {
    let mut all: Vec<Scenario> = [
        "GET k",
        "EXISTS k",
        "TTL k",
        "TYPE k",
        "STRLEN k",
        "SET other 2",
        "DEL other",
        "SET k2 1",
        "PERSIST k",
        "EXPIRE nokey 10",
        "DEL nokey",
        "FLUSHDB ASYNC_NOT_AN_OPTION",
        "SELECT 1",
        "SWAPDB 1 2",
        "SET k 1 NX",
    ]
    .into_iter()
    .map(|action| watch_then(action, false))
    .collect();
    // The same name in another database is another key.
    let other_db = [
        (0, "WATCH k"),
        (1, "SELECT 1"),
        (1, "SET k 2"),
        (1, "FLUSHDB"),
        (0, "MULTI"),
        (0, "GET k"),
        (0, "EXEC"),
    ];
    all.push(scenario("other db", &other_db, false));
    // A watched key in database 1, written by a client in database 1.
    let db1 = [
        (0, "SELECT 1"),
        (0, "WATCH k"),
        (1, "SELECT 1"),
        (1, "SET k 2"),
        (0, "MULTI"),
        (0, "GET k"),
        (0, "EXEC"),
    ];
    all.push(scenario("db 1", &db1, true));
    // A missing key created by another client.
    let created = [(0, "WATCH new"), (1, "SET new 1"), (0, "MULTI"), (0, "EXEC")];
    all.push(scenario("created", &created, true));
    let flushed_missing = [(0, "WATCH new"), (1, "FLUSHALL"), (0, "MULTI"), (0, "EXEC")];
    all.push(scenario("flushall of a missing key", &flushed_missing, false));
    all
}

/// A watched key that expires, before or after the WATCH.
pub fn expiry() -> Vec<Scenario> {
    vec![
        // Client 1 sets a TTL before the WATCH; the key expires before EXEC.
        scenario(
            "expired after WATCH",
            &[
                (0, "SET k v"),
                (1, "PEXPIRE k 150"),
                (0, "WATCH k"),
                (0, "sleep 400"),
                (0, "MULTI"),
                (0, "GET k"),
                (0, "EXEC"),
            ],
            true,
        ),
        // Already expired when watched, then purged by the active expiry: no change.
        scenario(
            "expired before WATCH",
            &[
                (0, "SET k v PX 50"),
                (0, "sleep 150"),
                (0, "WATCH k"),
                (0, "sleep 400"),
                (0, "MULTI"),
                (0, "GET k"),
                (0, "EXEC"),
            ],
            false,
        ),
        // Expired when watched, then created again and deleted by client 1.
        scenario(
            "expired before WATCH, then set again and deleted",
            &[
                (0, "SET k v PX 50"),
                (0, "sleep 80"),
                (0, "WATCH k"),
                (1, "SET k w"),
                (1, "DEL k"),
                (0, "MULTI"),
                (0, "GET k"),
                (0, "EXEC"),
            ],
            true,
        ),
        // Expiring after EXEC does not matter.
        scenario(
            "expires later",
            &[
                (0, "SET k v PX 5000"),
                (0, "WATCH k"),
                (0, "MULTI"),
                (0, "GET k"),
                (0, "EXEC"),
            ],
            false,
        ),
    ]
}

/// Every scenario.
pub fn all() -> Vec<Scenario> {
    let mut all = writes();
    all.extend(reads_and_other_keys());
    all.extend(expiry());
    all
}

/// Runs `steps` with client `i` connected to `servers[i]`, after FLUSHALL,
/// and returns every reply.
pub fn run(servers: [&Server; 2], steps: &[(usize, &str)]) -> Vec<Vec<u8>> {
    let mut conns: Vec<RawConn> = servers.iter().map(|s| s.conn()).collect();
    conns[0].cmd_str(&["FLUSHALL"]);
    let mut replies = Vec::new();
    for &(c, line) in steps {
        let args: Vec<&str> = line.split_whitespace().collect();
        if args[0] == "sleep" {
            std::thread::sleep(Duration::from_millis(args[1].parse().unwrap()));
            continue;
        }
        replies.push(conns[c].cmd_str(&args));
    }
    replies
}

/// Runs `scenario` with both clients on `redis`, then on `redsql` (client
/// `i` on `redsql[i]`): the replies must be identical, and the last one (the
/// EXEC) a null array exactly when the scenario says it is aborted.
pub fn check(redis: &Server, redsql: [&Server; 2], scenario: &Scenario) {
    let Scenario { name, steps, aborted } = scenario;
    let want = run([redis, redis], steps);
    let got = run(redsql, steps);
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(
            w,
            g,
            "{name}: step {i} ({:?})\n  redis:  {}\n  redsql: {}",
            steps.iter().filter(|s| !s.1.starts_with("sleep")).nth(i),
            show(w),
            show(g)
        );
    }
    assert_eq!(want.len(), got.len(), "{name}: reply count");
    let last = got.last().unwrap();
    assert_eq!(last == b"*-1\r\n", *aborted, "{name}: EXEC answered {}", show(last));
}
