//! The PostgreSQL engine's batching under concurrency: string writes are
//! deferred and sent together, key rows are read ahead for a whole batch,
//! and reads from many clients run together. None of it may change a reply:
//! many clients run the same scripts on keys of their own, at once, and each
//! must get exactly what real Redis answers to one client.
//! Needs `REDSQL_TEST_POSTGRES_URL`; skips with a loud message without it.

mod support;

use support::pg::{TestSchema, start_redsql_pg, url_or_skip};
use support::{RawConn, show, start_redis};

/// A pipeline that mixes deferred string writes with everything that must
/// see them: reads, type changes, KEEPTTL, INCR, transactions. `{}` is the
/// client's key prefix.
const WRITES: &[&str] = &[
    "SET {}a 1",
    "SET {}a 2",
    "GET {}a",
    "LPUSH {}l x y",
    "SET {}l s",
    "GET {}l",
    "TYPE {}l",
    "LLEN {}l",
    "SADD {}s m",
    "SET {}s v EXAT 4000000000",
    "EXPIRETIME {}s",
    "SET {}s w KEEPTTL",
    "EXPIRETIME {}s",
    "GET {}s",
    "SET {}c 10 EXAT 4000000001",
    "INCR {}c",
    "INCRBY {}c 5",
    "EXPIRETIME {}c",
    "DECR {}c",
    "GET {}c",
    "SET {}c 9223372036854775807",
    "INCR {}c",
    "SET {}c x",
    "INCR {}c",
    "INCR {}new",
    "INCR {}new",
    "MSET {}m1 a {}m2 b {}m1 c",
    "MGET {}m1 {}m2 {}m3",
    "SET {}n 1 NX",
    "SET {}n 2 NX",
    "SET {}n 3 XX GET",
    "GETSET {}n 4",
    "APPEND {}n 5",
    "GET {}n",
    "SETNX {}n 6",
    "DEL {}n",
    "SETNX {}n 7",
    "GET {}n",
    "HSET {}h f v",
    "EXPIREAT {}h 4000000002",
    "SET {}h str KEEPTTL",
    "EXPIRETIME {}h",
    "HGET {}h f",
    "MULTI",
    "SET {}t 1",
    "INCR {}t",
    "GET {}t",
    "EXEC",
    "SET {}e ''",
    "STRLEN {}e",
    "INCRBYFLOAT {}f 1.5",
    "SET {}a 3",
    "DEL {}a",
    "GET {}a",
    "SET {}a 4 PX 1",
    "SET {}a 5",
    "TTL {}a",
    "GET {}a",
];

/// Reads only: they run on the read pool, together with other clients' reads.
const READS: &[&str] = &[
    "GET {}a",
    "GET {}missing",
    "GET {}l",
    "MGET {}m1 {}m2 {}a {}h",
    "TYPE {}h",
    "EXISTS {}a {}c {}zz",
    "STRLEN {}n",
    "GET {}h",
    "HGET {}h f",
    "EXPIRETIME {}s",
    "GET {}c",
];

fn args(line: &str, prefix: &str) -> Vec<Vec<u8>> {
    line.split(' ')
        .map(|w| {
            if w == "''" {
                String::new()
            } else {
                w.replace("{}", prefix)
            }
        })
        .map(String::into_bytes)
        .collect()
}

/// Sends `lines` as one pipeline and reads every reply.
fn pipeline(conn: &mut RawConn, lines: &[&str], prefix: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for l in lines {
        let a = args(l, prefix);
        let refs: Vec<&[u8]> = a.iter().map(|x| &x[..]).collect();
        out.extend(RawConn::encode(&refs));
    }
    conn.send_raw(&out);
    lines.iter().map(|_| conn.read_reply()).collect()
}

/// Sends `lines` one at a time, each waiting for its reply.
fn one_by_one(conn: &mut RawConn, lines: &[&str], prefix: &str) -> Vec<Vec<u8>> {
    lines
        .iter()
        .map(|l| {
            let a = args(l, prefix);
            let refs: Vec<&[u8]> = a.iter().map(|x| &x[..]).collect();
            conn.cmd(&refs)
        })
        .collect()
}

fn check(expected: &[Vec<u8>], got: &[Vec<u8>], lines: &[&str], who: &str) {
    for ((e, g), l) in expected.iter().zip(got).zip(lines) {
        assert_eq!(show(g), show(e), "{who}: {l}");
    }
}

#[test]
fn concurrent_clients_get_exactly_redis_replies() {
    let Some(base) = url_or_skip("postgres batching") else {
        return;
    };
    let schema = TestSchema::new(&base, "batch");
    let server = start_redsql_pg(&schema.url(), &[]);
    let redis = start_redis();
    let mut r = redis.conn();
    let want_writes = pipeline(&mut r, WRITES, "k:");
    let want_reads = pipeline(&mut r, READS, "k:");
    let want_single = one_by_one(&mut r, READS, "k:");

    const CLIENTS: usize = 24;
    const ROUNDS: usize = 4;
    let port = server.port;
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (ww, wr, ws) = (want_writes.clone(), want_reads.clone(), want_single.clone());
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port);
                for round in 0..ROUNDS {
                    let prefix = format!("c{i}r{round}:");
                    let who = format!("client {i} round {round}");
                    // Half the clients write key by key, so that one batch
                    // holds many clients' jobs.
                    let got = if i % 2 == 0 {
                        pipeline(&mut c, WRITES, &prefix)
                    } else {
                        one_by_one(&mut c, WRITES, &prefix)
                    };
                    check(&ww, &got, WRITES, &who);
                    check(&wr, &pipeline(&mut c, READS, &prefix), READS, &who);
                    check(&ws, &one_by_one(&mut c, READS, &prefix), READS, &who);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
}

/// Many clients INCR the same few counters, some of them in pipelines, while
/// others read them: the totals are exact and a reader never sees a counter
/// go back.
#[test]
fn hot_counters_add_up_under_concurrent_reads() {
    let Some(base) = url_or_skip("postgres batching") else {
        return;
    };
    let schema = TestSchema::new(&base, "hot");
    let server = start_redsql_pg(&schema.url(), &[]);
    let port = server.port;
    const WRITERS: usize = 16;
    const INCRS: usize = 200;
    let writers: Vec<_> = (0..WRITERS)
        .map(|i| {
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port);
                let key = format!("counter{}", i % 3);
                if i % 2 == 0 {
                    for _ in 0..INCRS / 10 {
                        let lines = vec!["INCR {}"; 10];
                        for reply in pipeline(&mut c, &lines, &key) {
                            assert!(reply.starts_with(b":"), "{}", show(&reply));
                        }
                    }
                } else {
                    for _ in 0..INCRS {
                        let reply = c.cmd_str(&["INCR", &key]);
                        assert!(reply.starts_with(b":"), "{}", show(&reply));
                    }
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port);
                let mut last = [0i64; 3];
                for _ in 0..300 {
                    for (k, seen) in last.iter_mut().enumerate() {
                        let reply = c.cmd_str(&["GET", &format!("counter{k}")]);
                        let n = parse_bulk_int(&reply);
                        assert!(n >= *seen, "counter{k} went back from {seen} to {n}");
                        *seen = n;
                    }
                }
            })
        })
        .collect();
    for t in writers.into_iter().chain(readers) {
        t.join().expect("client thread");
    }
    let mut c = server.conn();
    let total: i64 = (0..3)
        .map(|k| parse_bulk_int(&c.cmd_str(&["GET", &format!("counter{k}")])))
        .sum();
    assert_eq!(total, (WRITERS * INCRS) as i64);
}

/// The integer in a bulk reply, 0 for nil.
fn parse_bulk_int(reply: &[u8]) -> i64 {
    if reply == b"$-1\r\n" {
        return 0;
    }
    let text = String::from_utf8_lossy(reply);
    let body = text.split("\r\n").nth(1).expect("bulk reply");
    body.parse().expect("integer value")
}
