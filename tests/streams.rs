//! Streams over TCP with several connections: XREAD BLOCK and XREADGROUP
//! BLOCK woken by another client's XADD (plain, inside MULTI, from a Lua
//! script), `$` resolved
//! when the command is called, timeouts, CLIENT UNBLOCK, a destroyed group
//! and a deleted stream while blocked.
//!
//! Every scenario runs against real Redis first (so the expectations are
//! Redis's own), then against redsql on SQLite and, when
//! `REDSQL_TEST_POSTGRES_URL` is set, on PostgreSQL; a last test wakes a
//! client of one PostgreSQL instance by an XADD on another.

mod support;

use std::time::{Duration, Instant};
use support::{RawConn, pg, start_redis, start_redsql};

/// Runs `scenario` against a real Redis, then against redsql on every backend.
fn on_all(scenario: fn(u16)) {
    let redis = start_redis();
    scenario(redis.port);
    let redsql = start_redsql(&[]);
    scenario(redsql.port);
    if let Some(base) = pg::url_or_skip("stream scenarios on PostgreSQL") {
        let schema = pg::TestSchema::new(&base, "streams");
        let server = pg::start_redsql_pg(&schema.url(), &[]);
        scenario(server.port);
    }
}

fn send(c: &mut RawConn, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send_raw(&RawConn::encode(&a));
}

fn blocked_clients(c: &mut RawConn) -> u64 {
    let info = String::from_utf8(c.cmd_str(&["INFO", "clients"])).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("blocked_clients in INFO clients")
}

fn wait_blocked(c: &mut RawConn, n: u64) {
    let start = Instant::now();
    while blocked_clients(c) != n {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never reached {n} blocked clients"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The RESP2 reply of XREAD/XREADGROUP serving one entry `id` with one
/// field `f` = `v` from stream `key`.
fn one_entry(key: &str, id: &str, f: &str, v: &str) -> Vec<u8> {
    format!(
        "*1\r\n*2\r\n${}\r\n{key}\r\n*1\r\n*2\r\n${}\r\n{id}\r\n*2\r\n${}\r\n{f}\r\n${}\r\n{v}\r\n",
        key.len(),
        id.len(),
        f.len(),
        v.len()
    )
    .into_bytes()
}

fn bulk(s: &str) -> Vec<u8> {
    format!("${}\r\n{s}\r\n", s.len()).into_bytes()
}

#[test]
fn xread_dollar_gets_only_entries_added_after_it_blocked() {
    on_all(|port| {
        let (mut a, mut b) = (RawConn::connect(port), RawConn::connect(port));
        b.cmd_str(&["FLUSHALL"]);
        assert_eq!(b.cmd_str(&["XADD", "s", "1-0", "old", "1"]), bulk("1-0"));
        send(&mut a, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
        wait_blocked(&mut b, 1);
        assert_eq!(b.cmd_str(&["XADD", "s", "2-0", "new", "2"]), bulk("2-0"));
        assert_eq!(a.read_reply(), one_entry("s", "2-0", "new", "2"));
        wait_blocked(&mut b, 0);
        // `$` on a missing key is 0-0: the first entry ever added wakes it.
        send(&mut a, &["XREAD", "BLOCK", "0", "STREAMS", "other", "s", "$", "$"]);
        wait_blocked(&mut b, 1);
        assert_eq!(b.cmd_str(&["XADD", "other", "7-1", "f", "v"]), bulk("7-1"));
        assert_eq!(a.read_reply(), one_entry("other", "7-1", "f", "v"));
        // An explicit id with entries already after it answers at once.
        assert_eq!(
            a.cmd_str(&["XREAD", "BLOCK", "0", "STREAMS", "s", "1-0"]),
            one_entry("s", "2-0", "new", "2")
        );
    });
}

#[test]
fn xread_block_times_out_with_a_null_array() {
    on_all(|port| {
        let mut a = RawConn::connect(port);
        a.cmd_str(&["FLUSHALL"]);
        a.cmd_str(&["XADD", "s", "1-0", "f", "v"]);
        let start = Instant::now();
        assert_eq!(a.cmd_str(&["XREAD", "BLOCK", "150", "STREAMS", "s", "$"]), b"*-1\r\n");
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(140), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        // An XADD to another key does not end the wait early.
        let mut b = RawConn::connect(port);
        send(&mut a, &["XREAD", "BLOCK", "200", "STREAMS", "s", "$"]);
        wait_blocked(&mut b, 1);
        b.cmd_str(&["XADD", "elsewhere", "1-0", "f", "v"]);
        assert_eq!(a.read_reply(), b"*-1\r\n");
    });
}

#[test]
fn xadd_inside_multi_wakes_a_blocked_xread() {
    on_all(|port| {
        let (mut a, mut b) = (RawConn::connect(port), RawConn::connect(port));
        b.cmd_str(&["FLUSHALL"]);
        send(&mut a, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
        wait_blocked(&mut b, 1);
        assert_eq!(b.cmd_str(&["MULTI"]), b"+OK\r\n");
        assert_eq!(b.cmd_str(&["XADD", "s", "3-3", "k", "x"]), b"+QUEUED\r\n");
        assert_eq!(b.cmd_str(&["EXEC"]), b"*1\r\n$3\r\n3-3\r\n");
        assert_eq!(a.read_reply(), one_entry("s", "3-3", "k", "x"));
        // Woken by a transaction that adds to both its streams, a client is
        // served from one of them.
        send(&mut a, &["XREAD", "BLOCK", "0", "STREAMS", "s", "t", "$", "$"]);
        wait_blocked(&mut b, 1);
        b.cmd_str(&["MULTI"]);
        b.cmd_str(&["XADD", "s", "4-0", "k", "y"]);
        b.cmd_str(&["XADD", "t", "4-0", "k", "z"]);
        b.cmd_str(&["EXEC"]);
        assert_eq!(a.read_reply(), one_entry("s", "4-0", "k", "y"));
    });
}

#[test]
fn xadd_from_a_script_wakes_a_blocked_xread() {
    on_all(|port| {
        let (mut a, mut b) = (RawConn::connect(port), RawConn::connect(port));
        b.cmd_str(&["FLUSHALL"]);
        send(&mut a, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
        wait_blocked(&mut b, 1);
        assert_eq!(
            b.cmd_str(&["EVAL", "return redis.call('XADD', KEYS[1], '4-4', 'k', 'y')", "1", "s"]),
            bulk("4-4")
        );
        assert_eq!(a.read_reply(), one_entry("s", "4-4", "k", "y"));
    });
}

#[test]
fn client_unblock_ends_an_xread() {
    on_all(|port| {
        let (mut a, mut b) = (RawConn::connect(port), RawConn::connect(port));
        b.cmd_str(&["FLUSHALL"]);
        let id = String::from_utf8(a.cmd_str(&["CLIENT", "ID"])).unwrap();
        let id = id.trim_start_matches(':').trim().to_string();
        send(&mut a, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
        wait_blocked(&mut b, 1);
        assert_eq!(b.cmd_str(&["CLIENT", "UNBLOCK", &id]), b":1\r\n");
        assert_eq!(a.read_reply(), b"*-1\r\n");
        send(&mut a, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
        wait_blocked(&mut b, 1);
        assert_eq!(b.cmd_str(&["CLIENT", "UNBLOCK", &id, "ERROR"]), b":1\r\n");
        assert_eq!(a.read_reply(), b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    });
}

#[test]
fn xreadgroup_block_is_served_by_an_xadd_and_records_the_pending_entry() {
    on_all(|port| {
        let (mut a, mut b) = (RawConn::connect(port), RawConn::connect(port));
        b.cmd_str(&["FLUSHALL"]);
        assert_eq!(b.cmd_str(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]), b"+OK\r\n");
        send(
            &mut a,
            &["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"],
        );
        wait_blocked(&mut b, 1);
        assert_eq!(b.cmd_str(&["XADD", "s", "1-0", "job", "1"]), bulk("1-0"));
        assert_eq!(a.read_reply(), one_entry("s", "1-0", "job", "1"));
        assert_eq!(
            b.cmd_str(&["XPENDING", "s", "g"]),
            b"*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n1\r\n"
        );
        // Two consumers blocked on one group: one entry goes to one of them.
        let mut c = RawConn::connect(port);
        send(
            &mut a,
            &["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"],
        );
        wait_blocked(&mut b, 1);
        send(
            &mut c,
            &["XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "s", ">"],
        );
        wait_blocked(&mut b, 2);
        b.cmd_str(&["XADD", "s", "2-0", "job", "2"]);
        assert_eq!(a.read_reply(), one_entry("s", "2-0", "job", "2"));
        wait_blocked(&mut b, 1);
        b.cmd_str(&["XADD", "s", "3-0", "job", "3"]);
        assert_eq!(c.read_reply(), one_entry("s", "3-0", "job", "3"));
        assert_eq!(
            b.cmd_str(&["XPENDING", "s", "g"]),
            b"*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n2\r\n*2\r\n$3\r\nbob\r\n$1\r\n1\r\n"
        );
    });
}

#[test]
fn a_destroyed_group_or_a_deleted_stream_ends_a_blocked_xreadgroup() {
    on_all(|port| {
        let (mut a, mut b) = (RawConn::connect(port), RawConn::connect(port));
        b.cmd_str(&["FLUSHALL"]);
        b.cmd_str(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
        send(
            &mut a,
            &["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"],
        );
        wait_blocked(&mut b, 1);
        assert_eq!(b.cmd_str(&["XGROUP", "DESTROY", "s", "g"]), b":1\r\n");
        assert_eq!(
            a.read_reply(),
            b"-NOGROUP the consumer group this client was blocked on no longer exists\r\n"
        );
        // A deleted or overwritten stream ends it too.
        b.cmd_str(&["XGROUP", "CREATE", "s", "g", "$"]);
        send(
            &mut a,
            &["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"],
        );
        wait_blocked(&mut b, 1);
        assert_eq!(b.cmd_str(&["DEL", "s"]), b":1\r\n");
        assert_eq!(a.read_reply(), b"-UNBLOCKED the stream key no longer exists\r\n");
        b.cmd_str(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
        send(
            &mut a,
            &["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"],
        );
        wait_blocked(&mut b, 1);
        assert_eq!(b.cmd_str(&["SET", "s", "x"]), b"+OK\r\n");
        assert_eq!(a.read_reply(), b"-UNBLOCKED the stream key no longer exists\r\n");
        // A plain XREAD keeps waiting when its stream is deleted.
        b.cmd_str(&["DEL", "s"]);
        b.cmd_str(&["XADD", "s", "1-0", "f", "v"]);
        send(&mut a, &["XREAD", "BLOCK", "300", "STREAMS", "s", "$"]);
        wait_blocked(&mut b, 1);
        assert_eq!(b.cmd_str(&["DEL", "s"]), b":1\r\n");
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(blocked_clients(&mut b), 1);
        assert_eq!(a.read_reply(), b"*-1\r\n");
        b.cmd_str(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
        b.cmd_str(&["DEL", "s"]);
        // Missing key or group before blocking: the command's own error.
        assert_eq!(
            a.cmd_str(&["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"]),
            b"-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
        );
    });
}

#[test]
fn an_xadd_on_one_postgres_instance_wakes_an_xread_on_another() {
    let Some((_schema, one, two)) = pg::two_instances("streamsx") else {
        return;
    };
    let (mut a, mut b) = (one.conn(), two.conn());
    b.cmd_str(&["XADD", "s", "1-0", "old", "1"]);
    send(&mut a, &["XREAD", "BLOCK", "10000", "STREAMS", "s", "$"]);
    wait_blocked(&mut RawConn::connect(one.port), 1);
    assert_eq!(b.cmd_str(&["XADD", "s", "2-0", "new", "2"]), bulk("2-0"));
    assert_eq!(a.read_reply(), one_entry("s", "2-0", "new", "2"));
    // A group read across instances: the entry goes to exactly one consumer.
    b.cmd_str(&["XGROUP", "CREATE", "s", "g", "$"]);
    let mut c = two.conn();
    send(
        &mut a,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "BLOCK",
            "10000",
            "STREAMS",
            "s",
            ">",
        ],
    );
    send(
        &mut c,
        &["XREADGROUP", "GROUP", "g", "bob", "BLOCK", "300", "STREAMS", "s", ">"],
    );
    wait_blocked(&mut RawConn::connect(one.port), 1);
    wait_blocked(&mut RawConn::connect(two.port), 1);
    b.cmd_str(&["XADD", "s", "3-0", "job", "3"]);
    let (ra, rc) = (a.read_reply(), c.read_reply());
    let served = [&ra, &rc].iter().filter(|r| r.starts_with(b"*1\r\n")).count();
    assert_eq!(served, 1, "{} / {}", support::show(&ra), support::show(&rc));
    assert!(
        b.cmd_str(&["XPENDING", "s", "g", "-", "+", "10"])
            .starts_with(b"*1\r\n")
    );
}

/// A SQLite database written before streams (schema version 2: no stream
/// tables, value triggers without them) gets them when a newer redsql opens
/// it, and a DEL of a stream then deletes its rows.
#[test]
fn a_version_2_sqlite_database_gets_streams() {
    let dir = support::temp_dir("streams_v2");
    {
        let server = support::start_redsql_in(dir.clone(), &[]);
        let mut c = RawConn::connect(server.port);
        assert_eq!(c.cmd_str(&["SET", "old", "v"]), b"+OK\r\n");
    }
    let sql = rusqlite::Connection::open(dir.join("db.sqlite")).unwrap();
    sql.execute_batch(
        "DROP TABLE rstream; DROP TABLE rstream_meta; DROP TABLE rstream_group;
         DROP TABLE rstream_consumer; DROP TABLE rstream_pending;
         DROP VIEW vstream; DROP VIEW vstream_group; DROP VIEW vstream_pending;
         DROP TRIGGER rkey_delete_value;
         CREATE TRIGGER rkey_delete_value AFTER DELETE ON rkey WHEN old.type <> 0
         BEGIN DELETE FROM rlist WHERE old.type = 1 AND key_id = old.id; END;
         UPDATE redsql_meta SET value = 2 WHERE name = 'schema_version';",
    )
    .unwrap();
    drop(sql);
    let server = support::start_redsql_in(dir.clone(), &[]);
    let mut c = RawConn::connect(server.port);
    assert_eq!(c.cmd_str(&["GET", "old"]), b"$1\r\nv\r\n");
    assert_eq!(c.cmd_str(&["XADD", "s", "1-0", "f", "v"]), bulk("1-0"));
    assert_eq!(c.cmd_str(&["XGROUP", "CREATE", "s", "g", "0"]), b"+OK\r\n");
    assert_eq!(
        c.cmd_str(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]),
        one_entry("s", "1-0", "f", "v")
    );
    assert_eq!(c.cmd_str(&["DEL", "s"]), b":1\r\n");
    drop(server);
    let sql = rusqlite::Connection::open(dir.join("db.sqlite")).unwrap();
    let rows: i64 = sql
        .query_row(
            "SELECT (SELECT count(*) FROM rstream) + (SELECT count(*) FROM rstream_meta)
                  + (SELECT count(*) FROM rstream_group) + (SELECT count(*) FROM rstream_consumer)
                  + (SELECT count(*) FROM rstream_pending)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0, "a deleted stream leaves no rows");
    let version: i64 = sql
        .query_row("SELECT value FROM redsql_meta WHERE name = 'schema_version'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(version, 3);
}

/// Consumers on two PostgreSQL instances reading one group at once: every
/// entry is delivered to exactly one of them, and the group's pending list
/// holds each once.
#[test]
fn consumers_on_two_postgres_instances_never_share_an_entry() {
    let Some((_schema, one, two)) = pg::two_instances("streamsgroup") else {
        return;
    };
    let n = 200;
    let mut c = one.conn();
    c.cmd_str(&["XGROUP", "CREATE", "jobs", "g", "$", "MKSTREAM"]);
    for i in 1..=n {
        c.cmd_str(&["XADD", "jobs", &format!("{i}-0"), "n", &i.to_string()]);
    }
    let ports = [one.port, two.port, one.port, two.port];
    let readers: Vec<_> = ports
        .iter()
        .enumerate()
        .map(|(k, &port)| {
            std::thread::spawn(move || {
                let mut conn = RawConn::connect(port);
                let name = format!("c{k}");
                let mut got = Vec::new();
                loop {
                    let r = conn.cmd_str(&["XREADGROUP", "GROUP", "g", &name, "COUNT", "3", "STREAMS", "jobs", ">"]);
                    if r == b"*-1\r\n" {
                        break;
                    }
                    let text = String::from_utf8(r).unwrap();
                    // Each entry's id is the line after a `$<len>` that ends in "-0".
                    got.extend(text.split("\r\n").filter(|l| l.ends_with("-0")).map(|l| l.to_string()));
                }
                got
            })
        })
        .collect();
    let mut all: Vec<String> = readers.into_iter().flat_map(|h| h.join().unwrap()).collect();
    assert_eq!(all.len(), n, "every entry delivered once");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "no entry delivered twice");
    assert!(
        c.cmd_str(&["XPENDING", "jobs", "g"])
            .starts_with(format!("*4\r\n:{n}\r\n").as_bytes())
    );
    // XAUTOCLAIM from both instances at once: each entry is claimed once.
    let claimers: Vec<_> = [one.port, two.port]
        .iter()
        .enumerate()
        .map(|(k, &port)| {
            std::thread::spawn(move || {
                let mut conn = RawConn::connect(port);
                let name = format!("claimer{k}");
                let mut got = 0;
                let mut cursor = "0-0".to_string();
                loop {
                    let r = conn.cmd_str(&["XAUTOCLAIM", "jobs", "g", &name, "0", &cursor, "COUNT", "7", "JUSTID"]);
                    let text = String::from_utf8(r).unwrap();
                    let lines: Vec<&str> = text.split("\r\n").collect();
                    cursor = lines[2].to_string();
                    got += lines.iter().filter(|l| l.ends_with("-0")).count() - usize::from(cursor.ends_with("-0"));
                    if cursor == "0-0" {
                        break;
                    }
                }
                got
            })
        })
        .collect();
    let claimed: usize = claimers.into_iter().map(|h| h.join().unwrap()).sum();
    // Both walk the whole list (min-idle 0: an entry one claimed, the other
    // may claim again), but each entry keeps exactly one owner.
    assert!(claimed >= n, "claimed {claimed}");
    let summary = String::from_utf8(c.cmd_str(&["XPENDING", "jobs", "g"])).unwrap();
    assert!(summary.starts_with(&format!("*4\r\n:{n}\r\n")), "{summary}");
    // The per-consumer counts (kept by triggers) add up to the pending entries.
    let lines: Vec<&str> = summary.split("\r\n").collect();
    let per: usize = lines[7..]
        .chunks(5)
        .filter(|c| c.len() == 5)
        .map(|c| c[4].parse::<usize>().unwrap())
        .sum();
    assert_eq!(per, n, "{summary}");
    assert!(
        lines[7..]
            .iter()
            .all(|l| !l.starts_with('c') || l.starts_with("claimer")),
        "{summary}"
    );
}

/// DUMP of a stream with groups, consumers and pending entries on redsql
/// restores in Redis with the same entries, groups and pending entries, and
/// back.
#[test]
fn a_stream_dumped_by_redsql_restores_in_redis_and_back() {
    let redis = start_redis();
    let redsql = start_redsql(&[]);
    let (mut r, mut x) = (RawConn::connect(redis.port), RawConn::connect(redsql.port));
    r.cmd_str(&["FLUSHALL"]);
    x.cmd_str(&["FLUSHALL"]);
    for i in 1..=250 {
        x.cmd_str(&["XADD", "s", &format!("{i}-1"), "f", &i.to_string(), "g", "same"]);
    }
    x.cmd_str(&["XADD", "s", "300-0", "other", "fields"]);
    x.cmd_str(&["XDEL", "s", "7-1"]);
    x.cmd_str(&["XTRIM", "s", "MAXLEN", "230"]);
    x.cmd_str(&["XGROUP", "CREATE", "s", "g", "0"]);
    x.cmd_str(&["XREADGROUP", "GROUP", "g", "alice", "COUNT", "5", "STREAMS", "s", ">"]);
    x.cmd_str(&["XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">"]);
    x.cmd_str(&["XGROUP", "CREATECONSUMER", "s", "g", "carol"]);
    x.cmd_str(&["XGROUP", "CREATE", "s", "g2", "$"]);
    let same = |a: &mut RawConn, b: &mut RawConn, cmd: &[&str]| {
        assert_eq!(
            support::show(&a.cmd_str(cmd)),
            support::show(&b.cmd_str(cmd)),
            "{cmd:?}"
        );
    };
    let dump = x.cmd(&[b"DUMP", b"s"]);
    // The bulk's payload: after `$<len>\r\n`, before the final `\r\n`.
    let start = dump.iter().position(|&b| b == b'\n').unwrap() + 1;
    let payload = &dump[start..dump.len() - 2];
    assert_eq!(r.cmd(&[b"RESTORE", b"s", b"0", payload]), b"+OK\r\n");
    for cmd in [
        &["XRANGE", "s", "-", "+"][..],
        &["XLEN", "s"],
        &["XINFO", "GROUPS", "s"],
        &["XPENDING", "s", "g"],
        &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"],
    ] {
        same(&mut r, &mut x, cmd);
    }
    // And back: Redis's dump of it restores in redsql.
    let dump = r.cmd(&[b"DUMP", b"s"]);
    let start = dump.iter().position(|&b| b == b'\n').unwrap() + 1;
    let payload = dump[start..dump.len() - 2].to_vec();
    assert_eq!(x.cmd(&[b"RESTORE", b"back", b"0", &payload]), b"+OK\r\n");
    assert_eq!(r.cmd(&[b"RESTORE", b"back", b"0", &payload]), b"+OK\r\n");
    for cmd in [
        &["XRANGE", "back", "-", "+"][..],
        &["XINFO", "GROUPS", "back"],
        &["XPENDING", "back", "g"],
    ] {
        same(&mut r, &mut x, cmd);
    }
}
