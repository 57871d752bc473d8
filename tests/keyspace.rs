//! Key-space iteration against a real redis-server on databases too big for
//! one reply: KEYS (read in pages internally) and full SCAN iterations
//! (whose order and batching differ from Redis's) must yield the same sets.

mod support;

use redis::Connection;
use std::collections::BTreeSet;
use support::{start_redis, start_redsql};

fn connect(server: &support::Server) -> Connection {
    redis::Client::open(server.url())
        .expect("client")
        .get_connection()
        .expect("connection")
}

/// Writes the same keys to a server: `n` keys over a few name families.
fn fill(con: &mut Connection, n: usize) {
    let mut pipe = redis::pipe();
    for i in 0..n {
        let family = ["user", "order", "session"][i % 3];
        pipe.cmd("SET").arg(format!("{family}:{i}")).arg(i).ignore();
    }
    pipe.cmd("SET").arg("").arg("empty key").ignore();
    pipe.query::<()>(con).expect("fill");
}

fn keys(con: &mut Connection, pattern: &str) -> BTreeSet<Vec<u8>> {
    redis::cmd("KEYS")
        .arg(pattern)
        .query::<Vec<Vec<u8>>>(con)
        .unwrap()
        .into_iter()
        .collect()
}

/// A full SCAN iteration; panics if a key is returned twice.
fn scan_all(con: &mut Connection, extra: &[&str]) -> BTreeSet<Vec<u8>> {
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, batch): (String, Vec<Vec<u8>>) = redis::cmd("SCAN").arg(&cursor).arg(extra).query(con).unwrap();
        for k in batch {
            assert!(seen.insert(k.clone()), "key {k:?} returned twice");
        }
        if next == "0" {
            return seen;
        }
        cursor = next;
    }
}

#[test]
fn keys_and_scan_return_the_same_sets_as_redis() {
    let redis = start_redis();
    let redsql = start_redsql(&[]);
    let mut a = connect(&redis);
    let mut b = connect(&redsql);
    fill(&mut a, 2500);
    fill(&mut b, 2500);
    for pattern in ["*", "user:*", "*:1?", "session:[0-4]*", "nomatch*", ""] {
        let want = keys(&mut a, pattern);
        assert_eq!(keys(&mut b, pattern), want, "KEYS {pattern}");
    }
    assert_eq!(keys(&mut b, "*").len(), 2501);
    for extra in [
        &[][..],
        &["COUNT", "7"],
        &["COUNT", "1000"],
        &["MATCH", "order:*", "COUNT", "50"],
        &["MATCH", "*9", "TYPE", "string"],
        &["TYPE", "hash"],
    ] {
        let want = scan_all(&mut a, extra);
        assert_eq!(scan_all(&mut b, extra), want, "SCAN {extra:?}");
    }
}
