//! Blocking commands over TCP with several connections: being woken by
//! another client's push, timeouts, FIFO order, BLMOVE / BLMPOP / BZPOPMIN /
//! BZMPOP, CLIENT UNBLOCK, a connection closed while blocked, and MULTI.
//!
//! Every scenario runs against real Redis first (so the expectations are
//! Redis's own), then against redsql (the timeouts on each backend; wake-ups
//! across PostgreSQL processes are in `tests/postgres_bus.rs`).

mod support;

use std::net::Shutdown;
use std::time::{Duration, Instant};
use support::{Backend, RawConn, backend_tests, start_redis, start_redsql};

/// Runs `scenario` against a real Redis, then against redsql.
fn on_both(scenario: fn(u16)) {
    let redis = start_redis();
    scenario(redis.port);
    let redsql = start_redsql(&[]);
    scenario(redsql.port);
}

fn conn(port: u16) -> RawConn {
    RawConn::connect(port)
}

/// Sends a command without reading its reply (the client will block).
fn send(c: &mut RawConn, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send_raw(&RawConn::encode(&a));
}

/// A count in INFO clients.
fn info_clients(c: &mut RawConn, field: &str) -> u64 {
    let info = String::from_utf8(c.cmd_str(&["INFO", "clients"])).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
        .expect("field in INFO clients")
}

/// The `blocked_clients` count of INFO clients.
fn blocked_clients(c: &mut RawConn) -> u64 {
    info_clients(c, "blocked_clients")
}

/// Waits until exactly `n` clients are blocked.
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

fn bulk_pair(a: &str, b: &str) -> Vec<u8> {
    format!("*2\r\n${}\r\n{a}\r\n${}\r\n{b}\r\n", a.len(), b.len()).into_bytes()
}

fn client_id(c: &mut RawConn) -> String {
    let r = String::from_utf8(c.cmd_str(&["CLIENT", "ID"])).unwrap();
    r.trim_start_matches(':').trim().to_string()
}

#[test]
fn woken_by_a_push_from_another_client() {
    on_both(|port| {
        let (mut a, mut b) = (conn(port), conn(port));
        b.cmd_str(&["FLUSHALL"]);
        send(&mut a, &["BLPOP", "nokey", "list", "0"]);
        wait_blocked(&mut b, 1);
        let list = String::from_utf8(b.cmd_str(&["CLIENT", "LIST"])).unwrap();
        assert!(
            list.lines().any(|l| l.contains("flags=b ") && l.contains("cmd=blpop")),
            "{list}"
        );
        assert_eq!(b.cmd_str(&["RPUSH", "list", "x", "y"]), b":2\r\n");
        assert_eq!(a.read_reply(), bulk_pair("list", "x"));
        wait_blocked(&mut b, 0);
        assert_eq!(b.cmd_str(&["LRANGE", "list", "0", "-1"]), b"*1\r\n$1\r\ny\r\n");
        // BRPOP takes from the tail; LPUSHX and LINSERT-free pushes wake too.
        send(&mut a, &["BRPOP", "list2", "0"]);
        wait_blocked(&mut b, 1);
        b.cmd_str(&["LPUSH", "list2", "1", "2"]);
        assert_eq!(a.read_reply(), bulk_pair("list2", "1"));
    });
}

fn timeouts_are_fractional_seconds_and_answer_a_null_array(backend: &Backend) {
    let scenario = |port| {
        let mut a = conn(port);
        let start = Instant::now();
        assert_eq!(a.cmd_str(&["BLPOP", "nokey", "0.2"]), b"*-1\r\n");
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(190), "{waited:?}");
        assert!(waited < Duration::from_secs(3), "{waited:?}");
        assert_eq!(a.cmd_str(&["BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.05"]), b"*-1\r\n");
        assert_eq!(a.cmd_str(&["BZPOPMIN", "nokey", "0.05"]), b"*-1\r\n");
        a.cmd_str(&["HELLO", "3"]);
        assert_eq!(a.cmd_str(&["BZPOPMIN", "nokey", "0.05"]), b"_\r\n");
        assert_eq!(a.cmd_str(&["BRPOPLPUSH", "nokey", "d", "0.05"]), b"_\r\n");
        assert_eq!(a.cmd_str(&["PING"]), b"+PONG\r\n");
    };
    scenario(start_redis().port);
    scenario(backend.start("timeouts", &[]).port);
}
backend_tests!(timeouts_are_fractional_seconds_and_answer_a_null_array: sqlite, postgres);

#[test]
fn clients_are_served_in_the_order_they_blocked() {
    on_both(|port| {
        let mut p = conn(port);
        p.cmd_str(&["FLUSHALL"]);
        let mut waiting: Vec<RawConn> = Vec::new();
        for i in 0..3 {
            let mut c = conn(port);
            send(&mut c, &["BLPOP", "q", "0"]);
            wait_blocked(&mut p, i + 1);
            waiting.push(c);
        }
        // One push of three elements serves all three, in order.
        p.cmd_str(&["RPUSH", "q", "1", "2", "3"]);
        for (c, want) in waiting.iter_mut().zip(["1", "2", "3"]) {
            assert_eq!(c.read_reply(), bulk_pair("q", want));
        }
        wait_blocked(&mut p, 0);
        // One element at a time: the first in line gets each. (Each push is
        // awaited: unlike Redis, redsql serves the woken client in a later
        // transaction, so back-to-back pushes could reach it together.)
        for (i, c) in waiting.iter_mut().enumerate() {
            send(c, &["BRPOP", "q", "0"]);
            wait_blocked(&mut p, i as u64 + 1);
        }
        for (c, want) in waiting.iter_mut().zip(["a", "b", "c"]) {
            p.cmd_str(&["RPUSH", "q", want]);
            assert_eq!(c.read_reply(), bulk_pair("q", want));
        }
    });
}

#[test]
fn blmove_is_woken_and_its_push_wakes_the_next_client() {
    on_both(|port| {
        let (mut a, mut b, mut p) = (conn(port), conn(port), conn(port));
        p.cmd_str(&["FLUSHALL"]);
        send(&mut a, &["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"]);
        wait_blocked(&mut p, 1);
        send(&mut b, &["BLPOP", "dst", "0"]);
        wait_blocked(&mut p, 2);
        p.cmd_str(&["LPUSH", "src", "v"]);
        assert_eq!(a.read_reply(), b"$1\r\nv\r\n");
        assert_eq!(b.read_reply(), bulk_pair("dst", "v"));
        wait_blocked(&mut p, 0);
        assert_eq!(p.cmd_str(&["EXISTS", "src", "dst"]), b":0\r\n");
        // BRPOPLPUSH, woken by an LMOVE into its source.
        send(&mut a, &["BRPOPLPUSH", "s2", "d2", "0"]);
        wait_blocked(&mut p, 1);
        p.cmd_str(&["RPUSH", "other", "w"]);
        p.cmd_str(&["LMOVE", "other", "s2", "LEFT", "LEFT"]);
        assert_eq!(a.read_reply(), b"$1\r\nw\r\n");
        assert_eq!(p.cmd_str(&["LRANGE", "d2", "0", "-1"]), b"*1\r\n$1\r\nw\r\n");
    });
}

#[test]
fn blmpop_pops_up_to_count_from_the_first_list_given_elements() {
    on_both(|port| {
        let (mut a, mut p) = (conn(port), conn(port));
        p.cmd_str(&["FLUSHALL"]);
        send(&mut a, &["BLMPOP", "0", "2", "m1", "m2", "RIGHT", "COUNT", "2"]);
        wait_blocked(&mut p, 1);
        p.cmd_str(&["RPUSH", "m2", "1", "2", "3"]);
        assert_eq!(a.read_reply(), b"*2\r\n$2\r\nm2\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n");
        assert_eq!(p.cmd_str(&["LRANGE", "m2", "0", "-1"]), b"*1\r\n$1\r\n1\r\n");
    });
}

#[test]
fn sorted_set_variants_are_woken_by_zadd() {
    on_both(|port| {
        let (mut a, mut p) = (conn(port), conn(port));
        p.cmd_str(&["FLUSHALL"]);
        send(&mut a, &["BZPOPMIN", "z", "0"]);
        wait_blocked(&mut p, 1);
        p.cmd_str(&["ZADD", "z", "2", "b", "1.5", "a"]);
        assert_eq!(a.read_reply(), b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$3\r\n1.5\r\n");
        send(&mut a, &["BZPOPMAX", "nokey", "z", "0"]);
        assert_eq!(a.read_reply(), b"*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n2\r\n");
        send(&mut a, &["BZMPOP", "0", "1", "z", "MAX", "COUNT", "5"]);
        wait_blocked(&mut p, 1);
        p.cmd_str(&["ZADD", "z", "1", "x", "3", "y"]);
        assert_eq!(
            a.read_reply(),
            b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\ny\r\n$1\r\n3\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n"
        );
        // RESP3: the score is a double.
        a.cmd_str(&["HELLO", "3"]);
        send(&mut a, &["BZPOPMAX", "z", "0"]);
        wait_blocked(&mut p, 1);
        p.cmd_str(&["ZADD", "z", "7", "m"]);
        assert_eq!(a.read_reply(), b"*3\r\n$1\r\nz\r\n$1\r\nm\r\n,7\r\n");
    });
}

#[test]
fn client_unblock_with_timeout_or_error() {
    on_both(|port| {
        let (mut a, mut p) = (conn(port), conn(port));
        let id = client_id(&mut a);
        assert_eq!(p.cmd_str(&["CLIENT", "UNBLOCK", &id]), b":0\r\n");
        send(&mut a, &["BLPOP", "nokey", "0"]);
        wait_blocked(&mut p, 1);
        assert_eq!(info_clients(&mut p, "clients_in_timeout_table"), 0);
        assert_eq!(p.cmd_str(&["CLIENT", "UNBLOCK", &id]), b":1\r\n");
        assert_eq!(a.read_reply(), b"*-1\r\n");
        send(&mut a, &["BZMPOP", "100", "1", "nokey", "MIN"]);
        wait_blocked(&mut p, 1);
        assert_eq!(info_clients(&mut p, "clients_in_timeout_table"), 1);
        assert_eq!(p.cmd_str(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]), b":1\r\n");
        assert_eq!(a.read_reply(), b"*-1\r\n");
        send(&mut a, &["BLMOVE", "nokey", "d", "LEFT", "LEFT", "0"]);
        wait_blocked(&mut p, 1);
        assert_eq!(p.cmd_str(&["CLIENT", "UNBLOCK", &id, "ERROR"]), b":1\r\n");
        assert_eq!(a.read_reply(), b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
        wait_blocked(&mut p, 0);
        assert_eq!(info_clients(&mut p, "clients_in_timeout_table"), 0);
        assert_eq!(p.cmd_str(&["CLIENT", "UNBLOCK", &id, "ERROR"]), b":0\r\n");
        assert_eq!(a.cmd_str(&["PING"]), b"+PONG\r\n");
    });
}

#[test]
fn a_connection_closed_while_blocked_leaves_the_line() {
    on_both(|port| {
        let mut p = conn(port);
        p.cmd_str(&["FLUSHALL"]);
        let mut gone = conn(port);
        send(&mut gone, &["BLPOP", "k", "0"]);
        wait_blocked(&mut p, 1);
        let mut next = conn(port);
        send(&mut next, &["BLPOP", "k", "0"]);
        wait_blocked(&mut p, 2);
        gone.stream.shutdown(Shutdown::Both).unwrap();
        drop(gone);
        wait_blocked(&mut p, 1);
        p.cmd_str(&["RPUSH", "k", "v"]);
        assert_eq!(next.read_reply(), bulk_pair("k", "v"));
        // A killed blocked client leaves too, and nobody takes the element.
        let mut killed = conn(port);
        let id = client_id(&mut killed);
        send(&mut killed, &["BLPOP", "k", "0"]);
        wait_blocked(&mut p, 1);
        assert_eq!(p.cmd_str(&["CLIENT", "KILL", "ID", &id]), b":1\r\n");
        wait_blocked(&mut p, 0);
        p.cmd_str(&["RPUSH", "k", "w"]);
        assert_eq!(p.cmd_str(&["LLEN", "k"]), b":1\r\n");
    });
}

#[test]
fn inside_multi_blocking_commands_do_not_block_and_exec_pushes_wake() {
    on_both(|port| {
        let (mut a, mut p) = (conn(port), conn(port));
        p.cmd_str(&["FLUSHALL"]);
        assert_eq!(p.cmd_str(&["MULTI"]), b"+OK\r\n");
        assert_eq!(p.cmd_str(&["BLPOP", "nokey", "0"]), b"+QUEUED\r\n");
        assert_eq!(
            p.cmd_str(&["BLMOVE", "nokey", "d", "LEFT", "LEFT", "0"]),
            b"+QUEUED\r\n"
        );
        assert_eq!(p.cmd_str(&["BZPOPMIN", "nokey", "0"]), b"+QUEUED\r\n");
        assert_eq!(p.cmd_str(&["EXEC"]), b"*3\r\n*-1\r\n$-1\r\n*-1\r\n");
        send(&mut a, &["BLPOP", "k", "0"]);
        wait_blocked(&mut p, 1);
        p.cmd_str(&["MULTI"]);
        p.cmd_str(&["RPUSH", "k", "v"]);
        p.cmd_str(&["BLPOP", "k", "0"]);
        assert_eq!(p.cmd_str(&["EXEC"]), b"*2\r\n:1\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
        // The transaction took the element itself; the blocked client waits on.
        p.cmd_str(&["RPUSH", "k", "w"]);
        assert_eq!(a.read_reply(), bulk_pair("k", "w"));
    });
}

#[test]
fn move_and_swapdb_wake_clients_of_the_destination_database() {
    on_both(|port| {
        let (mut a, mut p) = (conn(port), conn(port));
        p.cmd_str(&["FLUSHALL"]);
        send(&mut a, &["BLPOP", "k", "0"]);
        wait_blocked(&mut p, 1);
        p.cmd_str(&["SELECT", "1"]);
        p.cmd_str(&["RPUSH", "k", "moved"]);
        assert_eq!(p.cmd_str(&["MOVE", "k", "0"]), b":1\r\n");
        assert_eq!(a.read_reply(), bulk_pair("k", "moved"));
        send(&mut a, &["BLPOP", "k", "0"]);
        wait_blocked(&mut p, 1);
        p.cmd_str(&["RPUSH", "k", "swapped"]);
        assert_eq!(p.cmd_str(&["SWAPDB", "0", "1"]), b"+OK\r\n");
        assert_eq!(a.read_reply(), bulk_pair("k", "swapped"));
        send(&mut a, &["BLPOP", "k", "0"]);
        wait_blocked(&mut p, 1);
        p.cmd_str(&["RPUSH", "k2", "copied"]);
        assert_eq!(p.cmd_str(&["COPY", "k2", "k", "DB", "0"]), b":1\r\n");
        assert_eq!(a.read_reply(), bulk_pair("k", "copied"));
    });
}

#[test]
fn blocked_clients_cost_nothing_and_do_not_block_others() {
    on_both(|port| {
        let mut p = conn(port);
        p.cmd_str(&["FLUSHALL"]);
        let mut waiting: Vec<RawConn> = (0..20).map(|_| conn(port)).collect();
        for (i, c) in waiting.iter_mut().enumerate() {
            send(c, &["BLPOP", &format!("k{i}"), "0"]);
        }
        wait_blocked(&mut p, 20);
        for i in 0..100 {
            assert_eq!(p.cmd_str(&["SET", &format!("s{i}"), "v"]), b"+OK\r\n");
        }
        for (i, c) in waiting.iter_mut().enumerate() {
            p.cmd_str(&["RPUSH", &format!("k{i}"), "v"]);
            assert_eq!(c.read_reply(), bulk_pair(&format!("k{i}"), "v"));
        }
        wait_blocked(&mut p, 0);
    });
}

/// What EXEC does with a queued blocking command: it runs its handler, the
/// storage step, in the batch, without blocking; the commit observer is told
/// of the writes.
#[test]
fn a_batch_runs_blocking_commands_without_blocking() {
    use bytes::Bytes;
    use redsql::commands::lookup;
    use redsql::engine::{Batch, Call, EngineOptions};
    use std::sync::{Arc, Mutex};

    let engine = redsql::backend::open(&EngineOptions::default()).unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    assert!(engine.on_commit(Arc::new(move |commit| {
        let mut log = log.lock().unwrap();
        for w in commit.writes {
            log.push(format!("{} {:?}", w.call.cmd.name, w.reply.is_error()));
        }
    })));
    let call = |args: &[&str]| Call {
        cmd: lookup(args[0].as_bytes()).unwrap(),
        args: args.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect(),
    };
    let batch = Batch {
        db: 0,
        proto: 2,
        calls: vec![
            call(&["BLPOP", "nokey", "0"]),
            call(&["RPUSH", "k", "a", "b"]),
            call(&["BLPOP", "k", "0"]),
            call(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]),
            call(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]),
            call(&["BLPOP", "k", "x"]),
        ],
        keys_restricted: false,
        acl: None,
    };
    let out = engine.run_blocking(batch);
    let mut wire = bytes::BytesMut::new();
    for r in &out.replies {
        r.write(2, &mut wire);
    }
    assert_eq!(
        String::from_utf8_lossy(&wire),
        "*-1\r\n:2\r\n*2\r\n$1\r\nk\r\n$1\r\na\r\n$1\r\nb\r\n$-1\r\n-ERR timeout is not a float or out of range\r\n"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "blpop false",
            "rpush false",
            "blpop false",
            "blmove false",
            "blmove false",
            "blpop true"
        ]
    );
    engine.shutdown();
}

#[test]
fn concurrent_pushes_serve_every_blocked_client_exactly_once() {
    on_both(|port| {
        let mut p = conn(port);
        p.cmd_str(&["FLUSHALL"]);
        let n = 12;
        let mut waiting: Vec<RawConn> = (0..n).map(|_| conn(port)).collect();
        for (i, c) in waiting.iter_mut().enumerate() {
            // Every client waits on both keys, in either order, so wake-ups
            // cross between lines. (Were some to wait on one key only, a
            // push order such as every `q` first could leave an element of
            // `other` with nobody left to take it, in Redis as well.)
            if i % 2 == 0 {
                send(c, &["BLPOP", "q", "other", "0"]);
            } else {
                send(c, &["BRPOP", "other", "q", "0"]);
            }
        }
        wait_blocked(&mut p, n as u64);
        let pushers: Vec<_> = (0..n)
            .map(|i| {
                std::thread::spawn(move || {
                    let mut c = conn(port);
                    let key = if i % 3 == 0 { "other" } else { "q" };
                    c.cmd_str(&["RPUSH", key, &format!("v{i}")]);
                })
            })
            .collect();
        for t in pushers {
            t.join().unwrap();
        }
        let mut got: Vec<String> = waiting
            .iter_mut()
            .map(|c| {
                let r = String::from_utf8(c.read_reply()).unwrap();
                r.rsplit("\r\n").nth(1).unwrap().to_string()
            })
            .collect();
        got.sort();
        let mut want: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
        want.sort();
        assert_eq!(got, want);
        wait_blocked(&mut p, 0);
        assert_eq!(p.cmd_str(&["EXISTS", "q", "other"]), b":0\r\n");
    });
}
