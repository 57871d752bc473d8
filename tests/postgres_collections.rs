//! Collections on PostgreSQL with two redsql processes sharing one store:
//! concurrent writers to the same list, set, hash and sorted set (including
//! the race to create each key) end with exact contents, and concurrent
//! consumers pop every element exactly once. Needs `REDSQL_TEST_POSTGRES_URL`;
//! skips with a loud message without it.

mod support;

use std::collections::BTreeSet;
use support::pg::{spread, two_instances};

const CLIENTS: usize = 16;
const EACH: usize = 60;

fn int(reply: &[u8]) -> i64 {
    let text = std::str::from_utf8(reply).expect("utf-8 reply");
    text.strip_prefix(':')
        .and_then(|t| t.trim_end().parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {text:?}"))
}

/// The elements of a RESP2 array of bulk strings (without CR or LF in them).
fn bulks(reply: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(reply).expect("utf-8 reply");
    assert!(text.starts_with('*'), "not an array: {text:?}");
    // "*n", then "$len" and the value for each element, then "" after the last CRLF.
    let lines: Vec<&str> = text.split("\r\n").collect();
    lines[1..lines.len() - 1]
        .iter()
        .skip(1)
        .step_by(2)
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn concurrent_writers_on_two_instances_lose_nothing() {
    let Some((_schema, a, b)) = two_instances("collw") else {
        return;
    };
    spread(&[a.port, b.port], CLIENTS, |c, conn| {
        for i in 0..EACH {
            let e = format!("c{c}:{i}");
            for (cmd, want_int) in [
                (vec!["RPUSH", "list", &e], true),
                (vec!["SADD", "set", &e], true),
                (vec!["HSET", "hash", &e, "v"], true),
                (vec!["HINCRBY", "hash", "total", "1"], true),
                (vec!["ZADD", "zset", "1", &e], true),
                (vec!["ZINCRBY", "zset", "1", "total"], false),
            ] {
                let r = conn.cmd_str(&cmd);
                let ok = if want_int {
                    r.starts_with(b":")
                } else {
                    r.starts_with(b"$")
                };
                assert!(ok, "{cmd:?} replied {}", support::show(&r));
            }
        }
    });
    let total = (CLIENTS * EACH) as i64;
    let mut c = a.conn();
    assert_eq!(int(&c.cmd_str(&["LLEN", "list"])), total);
    assert_eq!(int(&c.cmd_str(&["SCARD", "set"])), total);
    assert_eq!(int(&c.cmd_str(&["HLEN", "hash"])), total + 1);
    assert_eq!(int(&c.cmd_str(&["ZCARD", "zset"])), total + 1);
    assert_eq!(
        c.cmd_str(&["HGET", "hash", "total"]),
        format!("${}\r\n{total}\r\n", total.to_string().len()).into_bytes()
    );
    assert_eq!(
        c.cmd_str(&["ZSCORE", "zset", "total"]),
        format!("${}\r\n{total}\r\n", total.to_string().len()).into_bytes()
    );
    // Each client's elements are in the list in the order it pushed them.
    let list = bulks(&b.conn().cmd_str(&["LRANGE", "list", "0", "-1"]));
    assert_eq!(list.len() as i64, total);
    for client in 0..CLIENTS {
        let prefix = format!("c{client}:");
        let mine: Vec<usize> = list
            .iter()
            .filter_map(|e| e.strip_prefix(&prefix)?.parse().ok())
            .collect();
        assert_eq!(mine, (0..EACH).collect::<Vec<_>>(), "client {client}'s pushes");
    }
}

#[test]
fn concurrent_consumers_on_two_instances_pop_each_element_once() {
    let Some((_schema, a, b)) = two_instances("collq") else {
        return;
    };
    let total = CLIENTS * EACH;
    let elements: Vec<String> = (0..total).map(|i| format!("job:{i}")).collect();
    let mut c = a.conn();
    for chunk in elements.chunks(200) {
        let mut rpush = vec!["RPUSH", "queue"];
        rpush.extend(chunk.iter().map(String::as_str));
        c.cmd_str(&rpush);
        let mut sadd = vec!["SADD", "pool"];
        sadd.extend(chunk.iter().map(String::as_str));
        c.cmd_str(&sadd);
    }
    // Half the clients pop from the list's two ends, half SPOP the set,
    // until both are empty.
    let popped = spread(&[a.port, b.port], CLIENTS, |i, conn| {
        let cmd: &[&str] = match i % 3 {
            0 => &["LPOP", "queue"],
            1 => &["RPOP", "queue"],
            _ => &["SPOP", "pool"],
        };
        let mut got = Vec::new();
        loop {
            let r = conn.cmd_str(cmd);
            match std::str::from_utf8(&r).expect("utf-8 reply") {
                "$-1\r\n" => return got,
                text => {
                    let value = text.split("\r\n").nth(1).expect("bulk reply").to_string();
                    got.push((cmd[1], value));
                }
            }
        }
    });
    // Consumers of one structure may stop early if it empties; drain what is left.
    let mut all: Vec<(&str, String)> = popped.into_iter().flatten().collect();
    for (key, cmd) in [("queue", "LPOP"), ("pool", "SPOP")] {
        loop {
            let r = c.cmd_str(&[cmd, key]);
            if r == b"$-1\r\n" {
                break;
            }
            let text = String::from_utf8(r).unwrap();
            all.push((key, text.split("\r\n").nth(1).unwrap().to_string()));
        }
    }
    for key in ["queue", "pool"] {
        let got: Vec<&String> = all.iter().filter(|(k, _)| *k == key).map(|(_, v)| v).collect();
        let unique: BTreeSet<&String> = got.iter().copied().collect();
        assert_eq!((got.len(), unique.len()), (total, total), "{key}: every element once");
    }
    assert_eq!(c.cmd_str(&["EXISTS", "queue", "pool"]), b":0\r\n");
}
