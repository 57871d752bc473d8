//! WATCH across redsql processes sharing a PostgreSQL store: a key missing
//! when process A's client watches it and created (then deleted again, or
//! expired) by process B before EXEC must abort A's EXEC, as it would on one
//! Redis. Each case runs on two redsql processes and on one real Redis (two
//! connections), and the EXEC replies must be the same. Also: the `rwatch`
//! rows are released, the ones of a killed process cleaned, the triggers
//! cover every way a key comes to exist, and a version 1 schema migrates.
//! Needs `REDSQL_TEST_POSTGRES_URL`; skips loudly without it.

mod support;

use std::time::{Duration, Instant};
use support::pg::{TestSchema, start_redsql_pg, two_instances, url_or_skip};
use support::{RawConn, show, start_redis, watch};

/// One WATCH case: A watches `watched` (in database 0, after `setup` ran on
/// B), B runs `steps`, then A runs MULTI / SET / EXEC. Returns EXEC's reply.
struct Case {
    setup: &'static [&'static [&'static str]],
    watched: &'static [&'static str],
    steps: &'static [&'static [&'static str]],
    /// Pause after the steps (for expiries).
    sleep_ms: u64,
}

fn run_case(a: &mut RawConn, b: &mut RawConn, case: &Case) -> Vec<u8> {
    assert_eq!(b.cmd_str(&["FLUSHALL"]), b"+OK\r\n");
    for s in case.setup {
        b.cmd_str(s);
    }
    let mut watch = vec!["WATCH"];
    watch.extend_from_slice(case.watched);
    assert_eq!(a.cmd_str(&watch), b"+OK\r\n");
    for s in case.steps {
        let r = b.cmd_str(s);
        assert!(!r.starts_with(b"-"), "{s:?} answered {}", show(&r));
    }
    std::thread::sleep(Duration::from_millis(case.sleep_ms));
    assert_eq!(b.cmd_str(&["SELECT", "0"]), b"+OK\r\n");
    assert_eq!(a.cmd_str(&["MULTI"]), b"+OK\r\n");
    assert_eq!(a.cmd_str(&["SET", "result", "done"]), b"+QUEUED\r\n");
    a.cmd_str(&["EXEC"])
}

const NIL: &[u8] = b"*-1\r\n";
const RAN: &[u8] = b"*1\r\n+OK\r\n";

const CASES: &[(&str, Case, &[u8])] = &[
    (
        "set then del",
        Case {
            setup: &[],
            watched: &["k"],
            steps: &[&["SET", "k", "v"], &["DEL", "k"]],
            sleep_ms: 0,
        },
        NIL,
    ),
    (
        "lpush then lpop empties it",
        Case {
            setup: &[],
            watched: &["k"],
            steps: &[&["LPUSH", "k", "x"], &["LPOP", "k"]],
            sleep_ms: 0,
        },
        NIL,
    ),
    (
        "set with an expiry that passes",
        Case {
            setup: &[],
            watched: &["k"],
            steps: &[&["SET", "k", "v", "PX", "30"]],
            sleep_ms: 150,
        },
        NIL,
    ),
    (
        "rename onto it then del",
        Case {
            setup: &[&["SET", "other", "v"]],
            watched: &["k"],
            steps: &[&["RENAME", "other", "k"], &["DEL", "k"]],
            sleep_ms: 0,
        },
        NIL,
    ),
    (
        "copy onto it then del",
        Case {
            setup: &[&["SADD", "src", "m"]],
            watched: &["k"],
            steps: &[&["COPY", "src", "k"], &["DEL", "k"]],
            sleep_ms: 0,
        },
        NIL,
    ),
    (
        "move into its database then del",
        Case {
            setup: &[&["SELECT", "1"], &["SET", "k", "v"], &["SELECT", "0"]],
            watched: &["k"],
            steps: &[&["SELECT", "1"], &["MOVE", "k", "0"], &["SELECT", "0"], &["DEL", "k"]],
            sleep_ms: 0,
        },
        NIL,
    ),
    (
        "swapdb brings it then del",
        Case {
            setup: &[&["SELECT", "1"], &["SET", "k", "v"], &["SELECT", "0"]],
            watched: &["k"],
            steps: &[&["SWAPDB", "0", "1"], &["DEL", "k"]],
            sleep_ms: 0,
        },
        NIL,
    ),
    (
        "mset (the deferred upsert) then del",
        Case {
            setup: &[],
            watched: &["k"],
            steps: &[&["MSET", "k", "v", "other", "w"], &["DEL", "k"]],
            sleep_ms: 0,
        },
        NIL,
    ),
    (
        "incr then del",
        Case {
            setup: &[],
            watched: &["k"],
            steps: &[&["INCR", "k"], &["DEL", "k"]],
            sleep_ms: 0,
        },
        NIL,
    ),
    (
        "hset then hdel empties it",
        Case {
            setup: &[],
            watched: &["k"],
            steps: &[&["HSET", "k", "f", "v"], &["HDEL", "k", "f"]],
            sleep_ms: 0,
        },
        NIL,
    ),
    (
        "another key created and deleted",
        Case {
            setup: &[],
            watched: &["k"],
            steps: &[&["SET", "k2", "v"], &["DEL", "k2"]],
            sleep_ms: 0,
        },
        RAN,
    ),
    (
        "nothing happens",
        Case {
            setup: &[],
            watched: &["k"],
            steps: &[],
            sleep_ms: 0,
        },
        RAN,
    ),
    (
        "an existing key deleted",
        Case {
            setup: &[&["SET", "k", "v"]],
            watched: &["k"],
            steps: &[&["DEL", "k"]],
            sleep_ms: 0,
        },
        NIL,
    ),
    (
        "an existing key left alone",
        Case {
            setup: &[&["SET", "k", "v"]],
            watched: &["k"],
            steps: &[&["GET", "k"]],
            sleep_ms: 0,
        },
        RAN,
    ),
    (
        "a missing key deleted (nothing to delete)",
        Case {
            setup: &[],
            watched: &["k", "j"],
            steps: &[&["DEL", "k"]],
            sleep_ms: 0,
        },
        RAN,
    ),
];

/// Rows in `rwatch`, waiting up to `within` for them to become `want`
/// (releases are sent to the writer without waiting).
fn rwatch_rows(schema: &TestSchema, want: i64, within: Duration) -> i64 {
    let mut sql = schema.sql();
    let deadline = Instant::now() + within;
    loop {
        let n: i64 = sql.query_one("SELECT count(*) FROM rwatch", &[]).unwrap().get(0);
        if n == want || Instant::now() >= deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_key_created_by_another_process_breaks_the_watch_as_in_redis() {
    let Some((schema, a, b)) = two_instances("wx") else {
        return;
    };
    let redis = start_redis();
    let (mut ca, mut cb) = (a.conn(), b.conn());
    let (mut ra, mut rb) = (redis.conn(), redis.conn());
    for (name, case, want) in CASES {
        let theirs = run_case(&mut ra, &mut rb, case);
        assert_eq!(show(&theirs), show(want), "Redis, case {name}");
        let ours = run_case(&mut ca, &mut cb, case);
        assert_eq!(show(&ours), show(&theirs), "case {name}");
    }
    // Every watch ended with its EXEC.
    assert_eq!(rwatch_rows(&schema, 0, Duration::from_secs(5)), 0);
}

/// The same cases with both connections on one process: the store's
/// registrations serve a single process too.
#[test]
fn the_cases_hold_within_one_process() {
    let Some((schema, a, _b)) = two_instances("w1") else {
        return;
    };
    let (mut ca, mut cb) = (a.conn(), a.conn());
    for (name, case, want) in CASES {
        let ours = run_case(&mut ca, &mut cb, case);
        assert_eq!(show(&ours), show(want), "case {name}");
    }
    assert_eq!(rwatch_rows(&schema, 0, Duration::from_secs(5)), 0);
}

#[test]
fn watches_end_with_unwatch_discard_reset_and_a_closed_connection() {
    let Some((schema, a, b)) = two_instances("wend") else {
        return;
    };
    let mut ca = a.conn();
    let mut cb = b.conn();
    // Two clients of two processes watch the same missing key.
    assert_eq!(ca.cmd_str(&["WATCH", "k", "j"]), b"+OK\r\n");
    assert_eq!(cb.cmd_str(&["WATCH", "k"]), b"+OK\r\n");
    assert_eq!(rwatch_rows(&schema, 3, Duration::from_secs(1)), 3);
    // Watching a key again keeps the first watch.
    assert_eq!(ca.cmd_str(&["WATCH", "k"]), b"+OK\r\n");
    assert_eq!(rwatch_rows(&schema, 3, Duration::from_secs(1)), 3);
    for c in [&mut ca, &mut cb] {
        assert_eq!(c.cmd_str(&["MULTI"]), b"+OK\r\n");
        assert_eq!(c.cmd_str(&["INCR", "n"]), b"+QUEUED\r\n");
        assert!(c.cmd_str(&["EXEC"]).starts_with(b"*1\r\n:"));
    }
    assert_eq!(rwatch_rows(&schema, 0, Duration::from_secs(5)), 0);
    // An existing key needs no row.
    assert_eq!(ca.cmd_str(&["WATCH", "n"]), b"+OK\r\n");
    assert_eq!(rwatch_rows(&schema, 0, Duration::from_millis(100)), 0);
    let ends: &[&[&str]] = &[&["UNWATCH"], &["MULTI"], &["RESET"]];
    for end in ends {
        assert_eq!(ca.cmd_str(&["WATCH", "k"]), b"+OK\r\n");
        assert_eq!(rwatch_rows(&schema, 1, Duration::from_secs(1)), 1);
        ca.cmd_str(end);
        if end[0] == "MULTI" {
            assert_eq!(ca.cmd_str(&["DISCARD"]), b"+OK\r\n");
        }
        assert_eq!(rwatch_rows(&schema, 0, Duration::from_secs(5)), 0, "after {end:?}");
    }
    // An EXEC that answers EXECABORT ends them too.
    assert_eq!(ca.cmd_str(&["WATCH", "k"]), b"+OK\r\n");
    assert_eq!(ca.cmd_str(&["MULTI"]), b"+OK\r\n");
    assert!(ca.cmd_str(&["NOSUCHCOMMAND"]).starts_with(b"-ERR unknown command"));
    assert!(ca.cmd_str(&["EXEC"]).starts_with(b"-EXECABORT"));
    assert_eq!(rwatch_rows(&schema, 0, Duration::from_secs(5)), 0, "after EXECABORT");
    let mut cc = a.conn();
    assert_eq!(cc.cmd_str(&["WATCH", "k", "x", "y"]), b"+OK\r\n");
    assert_eq!(rwatch_rows(&schema, 3, Duration::from_secs(1)), 3);
    drop(cc);
    assert_eq!(rwatch_rows(&schema, 0, Duration::from_secs(5)), 0, "after a close");
    // A creation removes the rows of every watcher of the key at once.
    assert_eq!(ca.cmd_str(&["WATCH", "k"]), b"+OK\r\n");
    assert_eq!(cb.cmd_str(&["WATCH", "k"]), b"+OK\r\n");
    assert_eq!(rwatch_rows(&schema, 2, Duration::from_secs(1)), 2);
    assert_eq!(b.conn().cmd_str(&["SET", "k", "v"]), b"+OK\r\n");
    assert_eq!(rwatch_rows(&schema, 0, Duration::from_millis(100)), 0);
    for c in [&mut ca, &mut cb] {
        assert_eq!(c.cmd_str(&["MULTI"]), b"+OK\r\n");
        assert_eq!(c.cmd_str(&["GET", "k"]), b"+QUEUED\r\n");
        assert_eq!(c.cmd_str(&["EXEC"]), NIL);
    }
}

#[test]
fn the_watches_of_a_killed_process_are_cleaned_up() {
    let Some((schema, mut a, b)) = two_instances("wdead") else {
        return;
    };
    let mut ca = a.conn();
    assert_eq!(ca.cmd_str(&["WATCH", "k", "j"]), b"+OK\r\n");
    let mut cb = b.conn();
    assert_eq!(cb.cmd_str(&["WATCH", "k"]), b"+OK\r\n");
    assert_eq!(rwatch_rows(&schema, 3, Duration::from_secs(1)), 3);
    a.kill9();
    // B's sweeper removes A's rows (within a few seconds), not its own.
    assert_eq!(rwatch_rows(&schema, 1, Duration::from_secs(15)), 1);
    assert_eq!(cb.cmd_str(&["MULTI"]), b"+OK\r\n");
    assert_eq!(cb.cmd_str(&["SET", "x", "1"]), b"+QUEUED\r\n");
    assert_eq!(cb.cmd_str(&["EXEC"]), RAN);
    assert_eq!(rwatch_rows(&schema, 0, Duration::from_secs(5)), 0);
}

/// The triggers, statement by statement: which writes of a key row count
/// as creations (they delete the key's watches).
#[test]
fn the_triggers_see_every_creation_and_nothing_else() {
    let Some(base) = url_or_skip("triggers") else { return };
    let schema = TestSchema::new(&base, "wtrig");
    // Let redsql create the schema.
    let server = start_redsql_pg(&schema.url(), &[]);
    drop(server);
    let mut sql = schema.sql();
    let watch = |sql: &mut postgres::Client, db: i32, key: &str| {
        sql.execute(
            "INSERT INTO rwatch (db, key, owner) VALUES ($1, $2, 0)",
            &[&db, &key.as_bytes()],
        )
        .unwrap();
    };
    let watched =
        |sql: &mut postgres::Client| -> i64 { sql.query_one("SELECT count(*) FROM rwatch", &[]).unwrap().get(0) };
    let run = |sql: &mut postgres::Client, q: &str| sql.batch_execute(q).unwrap();
    let insert = "INSERT INTO rkey (db, key, type, version, len, expire_at) VALUES";
    // (statement, whether it creates key 'k' in db 0)
    let cases: Vec<(String, bool)> = vec![
        (format!("{insert} (0, 'k', 0, 1, 0, NULL)"), true),
        (format!("{insert} (1, 'k', 0, 1, 0, NULL)"), false),
        (format!("{insert} (0, 'k2', 0, 1, 0, NULL)"), false),
        // An upsert that inserts, and one that updates a live row.
        (
            format!("{insert} (0, 'k', 0, 1, 0, NULL) ON CONFLICT (db, key) DO UPDATE SET version = 2"),
            true,
        ),
        (
            format!(
                "{insert} (0, 'a', 0, 1, 0, NULL); {insert} (0, 'a', 0, 1, 0, NULL) ON CONFLICT (db, key) DO UPDATE SET version = 2, expire_at = NULL"
            ),
            false,
        ),
        // An expired row rewritten in place.
        (
            format!(
                "{insert} (0, 'k', 0, 1, 0, 1); {insert} (0, 'k', 0, 1, 0, NULL) ON CONFLICT (db, key) DO UPDATE SET version = 2, expire_at = NULL"
            ),
            true,
        ),
        // RENAME, MOVE.
        (
            format!("{insert} (0, 'a', 0, 1, 0, NULL); UPDATE rkey SET key = 'k' WHERE key = 'a'"),
            true,
        ),
        (
            format!("{insert} (3, 'k', 0, 1, 0, NULL); UPDATE rkey SET db = 0 WHERE db = 3"),
            true,
        ),
        // A collection's length and version.
        (
            format!("{insert} (0, 'a', 1, 1, 0, NULL); UPDATE rkey SET len = 2, version = 3"),
            false,
        ),
    ];
    for (statement, creates) in cases {
        run(&mut sql, "DELETE FROM rkey; DELETE FROM rwatch");
        // Rows that exist before the watch do not count.
        let (setup, last) = match statement.rsplit_once("; ") {
            Some((setup, last)) => (Some(setup), last),
            None => (None, statement.as_str()),
        };
        if let Some(setup) = setup {
            run(&mut sql, setup);
        }
        watch(&mut sql, 0, "k");
        run(&mut sql, last);
        assert_eq!(watched(&mut sql), if creates { 0 } else { 1 }, "{statement}");
    }
}

/// A store created by a redsql with schema version 1 gets the watch table
/// and triggers (version 2) and the key counts (version 3) when a newer
/// redsql opens it; its keys stay, and are counted.
#[test]
fn a_version_1_schema_is_migrated() {
    let Some(base) = url_or_skip("migration") else { return };
    let schema = TestSchema::new(&base, "wmig");
    let mut sql = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    sql.batch_execute(&format!(
        "CREATE SCHEMA \"{0}\"; SET search_path TO \"{0}\";
         CREATE TABLE redsql_meta (name text PRIMARY KEY, value text NOT NULL);
         INSERT INTO redsql_meta VALUES ('schema_version', '1');",
        schema.name
    ))
    .unwrap();
    sql.batch_execute(include_str!("../src/backend/postgres/schema.sql"))
        .unwrap();
    sql.batch_execute(
        "INSERT INTO rkey (db, key, type, version, value, len) VALUES (0, 'old', 0, nextval('rkey_version'), 'v', 0)",
    )
    .unwrap();
    let tables = |sql: &mut postgres::Client| -> i64 {
        sql.query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'rwatch'",
            &[&schema.name],
        )
        .unwrap()
        .get(0)
    };
    assert_eq!(tables(&mut sql), 0);
    let (a, b) = (start_redsql_pg(&schema.url(), &[]), start_redsql_pg(&schema.url(), &[]));
    assert_eq!(tables(&mut sql), 1);
    let version: String = sql
        .query_one("SELECT value FROM redsql_meta WHERE name = 'schema_version'", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, "4");
    let (mut ca, mut cb) = (a.conn(), b.conn());
    assert_eq!(ca.cmd_str(&["GET", "old"]), b"$1\r\nv\r\n");
    assert_eq!(ca.cmd_str(&["DBSIZE"]), b":1\r\n");
    let case = &CASES[0].1;
    assert_eq!(run_case(&mut ca, &mut cb, case), NIL);
}

/// The WATCH scenarios of `support/watch.rs` (which `tests/transactions.rs`
/// runs on one process of each backend), with the other client on another
/// process: every reply as in Redis.
#[test]
fn the_single_server_watch_scenarios_hold_across_processes() {
    let Some((_schema, a, b)) = two_instances("wscen") else {
        return;
    };
    let redis = start_redis();
    for scenario in watch::all() {
        watch::check(&redis, [&a, &b], &scenario);
    }
}

/// The optimistic-lock pattern from clients of two processes (WATCH, GET,
/// MULTI SET, EXEC, retried on a null reply), on a counter that starts
/// missing, while other clients keep creating and deleting a key every
/// client watches too: every increment lands exactly once.
#[test]
fn the_watch_lock_pattern_counts_exactly_across_processes() {
    const CLIENTS: usize = 6;
    const INCREMENTS: usize = 25;
    let Some((schema, a, b)) = two_instances("wlock") else {
        return;
    };
    let ports = [a.port, b.port];
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let noise: Vec<_> = ports
        .iter()
        .map(|&port| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    c.cmd_str(&["SET", "flicker", "x"]);
                    c.cmd_str(&["DEL", "flicker"]);
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        })
        .collect();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let port = ports[i % 2];
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port);
                for _ in 0..INCREMENTS {
                    loop {
                        let watch = if i % 3 == 0 { "flicker" } else { "counter" };
                        assert_eq!(c.cmd_str(&["WATCH", "counter", watch]), b"+OK\r\n");
                        let raw = c.cmd_str(&["GET", "counter"]);
                        let v: i64 = match raw.as_slice() {
                            b"$-1\r\n" => 0,
                            r => {
                                let s = String::from_utf8_lossy(r);
                                s.lines().nth(1).unwrap().parse().unwrap()
                            }
                        };
                        assert_eq!(c.cmd_str(&["MULTI"]), b"+OK\r\n");
                        let next = (v + 1).to_string();
                        assert_eq!(c.cmd_str(&["SET", "counter", &next]), b"+QUEUED\r\n");
                        match c.cmd_str(&["EXEC"]).as_slice() {
                            NIL => {}
                            RAN => break,
                            other => panic!("EXEC answered {}", show(other)),
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in noise {
        t.join().unwrap();
    }
    let total = (CLIENTS * INCREMENTS).to_string();
    assert_eq!(
        a.conn().cmd_str(&["GET", "counter"]),
        format!("${}\r\n{total}\r\n", total.len()).into_bytes()
    );
    assert_eq!(rwatch_rows(&schema, 0, Duration::from_secs(5)), 0);
}
