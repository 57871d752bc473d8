//! DUMP/RESTORE against a real redis-server: for many values, redsql's DUMP
//! payload is byte-identical to Redis's, a Redis payload RESTOREs into redsql
//! and a redsql payload RESTOREs into Redis, with the same value and TTL.

mod support;

use redis::Connection;
use support::{start_redis, start_redsql};

fn connect(server: &support::Server) -> Connection {
    redis::Client::open(server.url())
        .expect("client")
        .get_connection()
        .expect("connection")
}

fn set(con: &mut Connection, key: &[u8], value: &[u8]) {
    redis::cmd("SET").arg(key).arg(value).query::<()>(con).expect("SET");
}

fn dump(con: &mut Connection, key: &[u8]) -> Vec<u8> {
    redis::cmd("DUMP")
        .arg(key)
        .query::<Option<Vec<u8>>>(con)
        .expect("DUMP")
        .expect("key exists")
}

fn get(con: &mut Connection, key: &[u8]) -> Option<Vec<u8>> {
    redis::cmd("GET").arg(key).query(con).expect("GET")
}

fn restore(con: &mut Connection, key: &[u8], ttl: i64, payload: &[u8]) {
    redis::cmd("RESTORE")
        .arg(key)
        .arg(ttl)
        .arg(payload)
        .arg("REPLACE")
        .query::<()>(con)
        .expect("RESTORE");
}

/// Deterministic test values: integers, short and long strings, text with
/// repeats, small alphabets (many LZF matches), random bytes (none).
fn values() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = [
        "",
        "0",
        "1",
        "-1",
        "127",
        "128",
        "-129",
        "32767",
        "32768",
        "-32769",
        "2147483647",
        "2147483648",
        "-2147483648",
        "-2147483649",
        "9223372036854775807",
        "-9223372036854775808",
        "00",
        "+1",
        "-0",
        "1e3",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabets: [&[u8]; 5] = [b"a", b"ab", b"abcd", b"abcdefghijklmnopqrstuvwxyz ", b""];
    for len in [
        19usize, 20, 21, 22, 25, 32, 33, 44, 45, 64, 100, 255, 256, 1000, 4096, 8191, 8200, 20000, 70000,
    ] {
        for alphabet in alphabets {
            let v: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if alphabet.is_empty() {
                        r as u8
                    } else {
                        alphabet[(r >> 33) as usize % alphabet.len()]
                    }
                })
                .collect();
            out.push(v);
        }
    }
    let text = "redsql keeps Redis data in SQL; the quick brown fox jumps over the lazy dog. ";
    for n in [1, 2, 3, 10, 100] {
        out.push(text.repeat(n).into_bytes());
    }
    // Long runs with a few changes: long back references (len > 264 is split).
    let mut runs = vec![b'x'; 5000];
    for i in (0..5000).step_by(777) {
        runs[i] = b'y';
    }
    out.push(runs);
    out
}

#[test]
fn dump_payloads_are_identical_and_restore_across_servers() {
    let redis = start_redis();
    let redsql = start_redsql(&[]);
    let mut a = connect(&redis);
    let mut b = connect(&redsql);
    for (i, value) in values().iter().enumerate() {
        let key = format!("k{i}").into_bytes();
        set(&mut a, &key, value);
        set(&mut b, &key, value);
        let from_redis = dump(&mut a, &key);
        let from_redsql = dump(&mut b, &key);
        assert_eq!(
            from_redsql,
            from_redis,
            "DUMP differs for value #{i} ({} bytes)",
            value.len()
        );

        restore(&mut b, b"copy", 0, &from_redis);
        assert_eq!(
            get(&mut b, b"copy").as_deref(),
            Some(&value[..]),
            "Redis payload #{i} into redsql"
        );
        restore(&mut a, b"copy", 0, &from_redsql);
        assert_eq!(
            get(&mut a, b"copy").as_deref(),
            Some(&value[..]),
            "redsql payload #{i} into Redis"
        );
    }
}

#[test]
fn restore_with_ttl_across_servers() {
    let redis = start_redis();
    let redsql = start_redsql(&[]);
    let mut a = connect(&redis);
    let mut b = connect(&redsql);
    set(&mut a, b"src", b"value with a ttl");
    let payload = dump(&mut a, b"src");
    redis::cmd("RESTORE")
        .arg("t")
        .arg(4_000_000_000_123i64)
        .arg(&payload)
        .arg("ABSTTL")
        .query::<()>(&mut b)
        .expect("RESTORE ABSTTL");
    let at: i64 = redis::cmd("PEXPIRETIME").arg("t").query(&mut b).unwrap();
    assert_eq!(at, 4_000_000_000_123);
    let back = dump(&mut b, b"t");
    assert_eq!(back, payload, "DUMP does not include the TTL");
    restore(&mut a, b"t", 50_000, &back);
    let ttl: i64 = redis::cmd("TTL").arg("t").query(&mut a).unwrap();
    assert!((49..=50).contains(&ttl), "ttl {ttl}");
}
