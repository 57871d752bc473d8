//! PostgreSQL only: several redsql processes sharing one store must behave
//! as one Redis; and what only a PostgreSQL store has (lost connections, a
//! bad URL, schemas side by side, the library on a server's store, a failed
//! transaction start). Needs `REDSQL_TEST_POSTGRES_URL` (set by
//! `scripts/test.sh` when a PostgreSQL cluster is available); every test
//! skips with a loud message without it.

mod support;

use std::time::{Duration, Instant};
use support::RawConn;
use support::pg::{TestSchema, spread, start_redsql_pg, two_instances, url_or_skip};

#[test]
fn a_write_on_one_instance_is_read_on_the_other_at_once() {
    let Some((_schema, a, b)) = two_instances("rw") else {
        return;
    };
    let (mut ca, mut cb) = (a.conn(), b.conn());
    for i in 0..200 {
        let v = format!("value-{i}");
        assert_eq!(ca.cmd_str(&["SET", "shared", &v]), b"+OK\r\n");
        assert_eq!(
            cb.cmd_str(&["GET", "shared"]),
            format!("${}\r\n{v}\r\n", v.len()).into_bytes()
        );
        assert_eq!(cb.cmd_str(&["DEL", "shared"]), b":1\r\n");
        assert_eq!(ca.cmd_str(&["EXISTS", "shared"]), b":0\r\n");
    }
    // Binary keys and values, other databases, key-space commands.
    assert_eq!(ca.cmd(&[b"SET", b"k\x00\xff", b"\x00\x01\xfe"]), b"+OK\r\n");
    assert_eq!(cb.cmd(&[b"GET", b"k\x00\xff"]), b"$3\r\n\x00\x01\xfe\r\n");
    assert_eq!(cb.cmd(&[b"RENAME", b"k\x00\xff", b"renamed"]), b"+OK\r\n");
    assert_eq!(ca.cmd_str(&["MOVE", "renamed", "3"]), b":1\r\n");
    assert_eq!(cb.cmd_str(&["SELECT", "3"]), b"+OK\r\n");
    assert_eq!(cb.cmd_str(&["DBSIZE"]), b":1\r\n");
    assert_eq!(ca.cmd_str(&["DBSIZE"]), b":0\r\n");
    // No read cache on a store other processes write.
    let info = String::from_utf8(ca.cmd_str(&["INFO", "redsql"])).unwrap();
    assert!(info.contains("backend:postgresql\r\n"), "{info}");
    assert!(!info.contains("read_cache"), "{info}");
}

#[test]
fn set_nx_from_many_clients_has_exactly_one_winner() {
    let Some((_schema, a, b)) = two_instances("nx") else {
        return;
    };
    const KEYS: usize = 30;
    let wins = spread(&[a.port, b.port], 50, |i, c| {
        let mut won = Vec::new();
        for k in 0..KEYS {
            let reply = c.cmd_str(&["SET", &format!("nx:{k}"), &format!("client-{i}"), "NX"]);
            match reply.as_slice() {
                b"+OK\r\n" => won.push(k),
                b"$-1\r\n" => {}
                other => panic!("SET NX replied {}", support::show(other)),
            }
        }
        (i, won)
    });
    let mut c = a.conn();
    for k in 0..KEYS {
        let winners: Vec<usize> = wins.iter().filter(|(_, w)| w.contains(&k)).map(|(i, _)| *i).collect();
        assert_eq!(winners.len(), 1, "key nx:{k} has winners {winners:?}");
        let v = format!("client-{}", winners[0]);
        assert_eq!(
            c.cmd_str(&["GET", &format!("nx:{k}")]),
            format!("${}\r\n{v}\r\n", v.len()).into_bytes()
        );
    }
}

#[test]
fn expire_nx_on_an_existing_key_has_exactly_one_winner() {
    // A read-modify-write of an existing key: the writer locks the row it read.
    let Some((_schema, a, b)) = two_instances("xnx") else {
        return;
    };
    const KEYS: usize = 30;
    let mut c = a.conn();
    for k in 0..KEYS {
        assert_eq!(c.cmd_str(&["SET", &format!("x:{k}"), "v"]), b"+OK\r\n");
    }
    let wins = spread(&[a.port, b.port], 50, |_, c| {
        (0..KEYS)
            .filter(|k| c.cmd_str(&["EXPIRE", &format!("x:{k}"), "1000", "NX"]) == b":1\r\n")
            .collect::<Vec<_>>()
    });
    for k in 0..KEYS {
        let n = wins.iter().filter(|w| w.contains(&k)).count();
        assert_eq!(n, 1, "EXPIRE NX on x:{k} succeeded {n} times");
    }
}

#[test]
fn incr_from_clients_on_two_instances_ends_at_the_exact_total() {
    let Some((_schema, a, b)) = two_instances("incr") else {
        return;
    };
    const CLIENTS: usize = 50;
    const EACH: usize = 100;
    spread(&[a.port, b.port], CLIENTS, |_, c| {
        for _ in 0..EACH {
            let r = c.cmd_str(&["INCR", "counter"]);
            assert!(r.starts_with(b":"), "INCR replied {}", support::show(&r));
        }
    });
    let want = format!(":{}\r\n", CLIENTS * EACH);
    assert_eq!(b.conn().cmd_str(&["INCRBY", "counter", "0"]), want.as_bytes());
}

#[test]
fn any_instance_expires_keys_and_every_instance_sees_it() {
    let Some((schema, a, b)) = two_instances("exp") else {
        return;
    };
    let (mut ca, mut cb) = (a.conn(), b.conn());
    for i in 0..50 {
        assert_eq!(ca.cmd_str(&["SET", &format!("e{i}"), "v", "PX", "1000"]), b"+OK\r\n");
    }
    assert_eq!(ca.cmd_str(&["SET", "stays", "v"]), b"+OK\r\n");
    assert_eq!(cb.cmd_str(&["DBSIZE"]), b":51\r\n");
    std::thread::sleep(Duration::from_millis(1100));
    // Invisible at once on both, whether or not a sweeper has deleted them.
    assert_eq!(cb.cmd_str(&["EXISTS", "e1"]), b":0\r\n");
    assert_eq!(ca.cmd_str(&["DBSIZE"]), b":1\r\n");
    // And the sweepers delete the rows.
    let mut sql = schema.sql();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n: i64 = sql.query_one("SELECT count(*) FROM rkey", &[]).unwrap().get(0);
        if n == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "expired rows were not swept ({n} rows left)");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn versions_increase_across_instances_and_views_show_live_keys() {
    let Some((schema, a, b)) = two_instances("ver") else {
        return;
    };
    let (mut ca, mut cb) = (a.conn(), b.conn());
    let mut sql = schema.sql();
    let mut last = 0i64;
    for i in 0..20 {
        let c = if i % 2 == 0 { &mut ca } else { &mut cb };
        assert_eq!(c.cmd_str(&["SET", "v", &i.to_string()]), b"+OK\r\n");
        let v: i64 = sql
            .query_one("SELECT version FROM rkey WHERE key = 'v'", &[])
            .unwrap()
            .get(0);
        assert!(v > last, "version {v} after {last}");
        last = v;
    }
    assert_eq!(ca.cmd_str(&["SET", "gone", "x", "PX", "1"]), b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(5));
    let rows = sql.query("SELECT key, type FROM vkey ORDER BY key", &[]).unwrap();
    let keys: Vec<(Vec<u8>, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(keys, vec![(b"v".to_vec(), "string".to_string())]);
    let value: Vec<u8> = sql.query_one("SELECT value FROM vstring", &[]).unwrap().get(0);
    assert_eq!(value, b"19");
}

#[test]
fn lost_connections_cost_errors_for_in_flight_requests_only() {
    let Some(base) = url_or_skip("reconnect") else { return };
    let schema = TestSchema::new(&base, "reconnect");
    // A name of their own, so that only these instances' connections are ended.
    let app = format!("redsql_{}", schema.name);
    let url = format!("{}&application_name={app}", schema.url());
    let (a, b) = (start_redsql_pg(&url, &[]), start_redsql_pg(&url, &[]));
    let (mut ca, mut cb) = (a.conn(), b.conn());
    assert_eq!(ca.cmd_str(&["SET", "before", "1"]), b"+OK\r\n");
    // What a PostgreSQL restart does to redsql's connections: the server ends them.
    let mut sql = schema.sql();
    let killed: i64 = sql
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE application_name = $1 AND datname = current_database()",
            &[&app],
        )
        .unwrap()
        .get(0);
    assert!(killed >= 2, "only {killed} redsql connections found");
    // Both instances come back by themselves. Connections that died while
    // idle cost nothing: the next transaction had sent nothing yet, so it
    // runs again on a new connection, and reads simply run again.
    assert_eq!(ca.cmd_str(&["SET", "first-after", "1"]), b"+OK\r\n");
    assert_eq!(cb.cmd_str(&["GET", "first-after"]), b"$1\r\n1\r\n");
    for (c, name) in [(&mut ca, "a"), (&mut cb, "b")] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let w = c.cmd_str(&["SET", &format!("after-{name}"), "1"]);
            let r = c.cmd_str(&["GET", "before"]);
            if w == b"+OK\r\n" && r == b"$1\r\n1\r\n" {
                break;
            }
            assert!(
                w.starts_with(b"-ERR") || w == b"+OK\r\n",
                "unexpected reply {}",
                support::show(&w)
            );
            assert!(Instant::now() < deadline, "instance {name} did not reconnect");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    assert_eq!(cb.cmd_str(&["GET", "after-a"]), b"$1\r\n1\r\n");
}

#[test]
fn bad_configuration_is_one_clear_line_at_startup() {
    let Some(base) = url_or_skip("badconfig") else { return };
    let run = |url: &str| {
        let out = std::process::Command::new(support::redsql_bin())
            .args(["--port", "0", "--db", url])
            .output()
            .unwrap();
        assert!(!out.status.success(), "redsql started with {url}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let port = support::free_port();
    let e = run(&format!("postgres://nobody@127.0.0.1:{port}/x"));
    assert!(e.contains("Connection refused") && e.lines().count() == 1, "{e}");
    let missing = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/redsql_no_such_database"),
        None => panic!("unexpected URL {base}"),
    };
    let e = run(&missing);
    assert!(e.contains("does not exist") && e.lines().count() == 1, "{e}");
    assert!(!e.contains("panicked"), "{e}");
    let e = run("postgres://u:secret@127.0.0.1:1/x?schema=bad-name");
    assert!(e.contains("invalid schema name") && !e.contains("secret"), "{e}");
}

#[test]
fn schemas_keep_stores_apart_in_one_database() {
    let Some(base) = url_or_skip("schemas") else { return };
    let (one, two) = (TestSchema::new(&base, "one"), TestSchema::new(&base, "two"));
    let (a, b) = (start_redsql_pg(&one.url(), &[]), start_redsql_pg(&two.url(), &[]));
    let (mut ca, mut cb) = (a.conn(), b.conn());
    assert_eq!(ca.cmd_str(&["SET", "k", "in-one"]), b"+OK\r\n");
    assert_eq!(cb.cmd_str(&["GET", "k"]), b"$-1\r\n");
    assert_eq!(cb.cmd_str(&["SET", "k", "in-two"]), b"+OK\r\n");
    assert_eq!(ca.cmd_str(&["GET", "k"]), b"$6\r\nin-one\r\n");
    let n: i64 = one.sql().query_one("SELECT count(*) FROM rkey", &[]).unwrap().get(0);
    assert_eq!(n, 1);
}

#[test]
fn the_library_opens_the_same_url() {
    let Some(base) = url_or_skip("library") else { return };
    let schema = TestSchema::new(&base, "lib");
    let db = redsql::Db::open(&schema.url()).expect("open");
    db.strings().set(b"k", b"v").unwrap();
    assert_eq!(db.strings().get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
    // A server on the same store sees it.
    let server = start_redsql_pg(&schema.url(), &[]);
    assert_eq!(server.conn().cmd_str(&["GET", "k"]), b"$1\r\nv\r\n");
    let err = redsql::Db::open("postgres://nobody@127.0.0.1:1/x")
        .err()
        .expect("no server there");
    assert!(err.to_string().contains("Connection refused"), "{err}");
}

/// A failure in the statement that opens a write transaction (BEGIN, the
/// key locks and the read-ahead go in one round trip) must not leave that
/// transaction open and aborted on the connection: every later write would
/// fail with "current transaction is aborted". Here the key lock wait is
/// cancelled, as a deadlock or a lock timeout would end it.
#[test]
fn a_failed_transaction_start_does_not_wedge_the_writer() {
    let Some(base) = url_or_skip("beginfail") else { return };
    let schema = TestSchema::new(&base, "beginfail");
    let app = format!("redsql_{}", schema.name);
    let url = format!("{}&application_name={app}", schema.url());
    let a = start_redsql_pg(&url, &[]);
    let mut c = a.conn();
    assert_eq!(c.cmd_str(&["SET", "k", "0"]), b"+OK\r\n");

    // Hold key k's lock (redsql's lock id: the key's hash salted with the schema's).
    let lock = redsql::store::member_hash(b"k") ^ redsql::store::member_hash(schema.name.as_bytes());
    let mut holder = schema.sql();
    holder.batch_execute("BEGIN").unwrap();
    holder.execute("SELECT pg_advisory_xact_lock($1)", &[&lock]).unwrap();

    let port = a.port;
    let blocked = std::thread::spawn(move || RawConn::connect(port).cmd_str(&["SET", "k", "1"]));
    let mut sql = schema.sql();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let cancelled: i64 = sql
            .query_one(
                "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity
                 WHERE application_name = $1 AND wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock%'",
                &[&app],
            )
            .unwrap()
            .get(0);
        if cancelled > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the SET never waited for the key lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    let reply = blocked.join().unwrap();
    assert!(
        reply.starts_with(b"-ERR"),
        "the cancelled SET answered {}",
        support::show(&reply)
    );
    holder.batch_execute("ROLLBACK").unwrap();

    // The writer goes on: the next writes commit.
    assert_eq!(c.cmd_str(&["SET", "k", "2"]), b"+OK\r\n");
    assert_eq!(c.cmd_str(&["INCR", "k"]), b":3\r\n");
    assert_eq!(c.cmd_str(&["GET", "k"]), b"$1\r\n3\r\n");
}

/// The store's URL may hold a password: CONFIG GET db and INFO never show
/// it (the test cluster trusts every connection, so any password works).
#[test]
fn the_url_password_is_never_shown() {
    let Some(base) = url_or_skip("the_url_password_is_never_shown") else {
        return;
    };
    let schema = TestSchema::new(&base, "secret");
    let url = schema
        .url()
        .replacen("postgresql://postgres@", "postgresql://postgres:hunter2@", 1);
    assert!(url.contains("hunter2"), "{url}");
    let server = start_redsql_pg(&url, &[]);
    let mut c = server.conn();
    let config = String::from_utf8_lossy(&c.cmd_str(&["CONFIG", "GET", "db"])).into_owned();
    assert!(config.contains("postgres:***@"), "{config}");
    let info = String::from_utf8_lossy(&c.cmd_str(&["INFO", "redsql"])).into_owned();
    for text in [&config, &info] {
        assert!(!text.contains("hunter2"), "{text}");
    }
}

/// A write over more keys than PostgreSQL's lock table holds (an MSET of
/// 100,000 pairs: the defaults hold 6,400 locks, the test clusters 25,600 or
/// 38,400) works, as in Redis, while another instance writes some of them.
#[test]
fn a_write_over_a_hundred_thousand_keys_works() {
    let Some((_schema, a, b)) = two_instances("bigmset") else {
        return;
    };
    let mut args: Vec<String> = vec!["MSET".into()];
    for i in 0..100_000 {
        args.push(format!("k{i}"));
        args.push(format!("v{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let writer = std::thread::spawn({
        let port = b.port;
        move || {
            let mut c = support::RawConn::connect(port);
            for i in 0..200 {
                assert_eq!(c.cmd_str(&["INCR", &format!("k{}", 100_000 + i)]), b":1\r\n");
            }
        }
    });
    let mut ca = a.conn();
    assert_eq!(ca.cmd_str(&args), b"+OK\r\n");
    writer.join().unwrap();
    assert_eq!(ca.cmd_str(&["GET", "k99999"]), b"$6\r\nv99999\r\n");
    assert_eq!(ca.cmd_str(&["DBSIZE"]), b":100200\r\n");
}
