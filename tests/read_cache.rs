//! The read cache of SQLite file databases (`backend/sqlite/cache.rs`): the
//! read connections answer string keys from memory while no commit has
//! changed them. Nothing a client sees may differ from a store without the
//! cache: a random mix of every kind of write and read, over several
//! connections and pipelines, is compared byte for byte with real Redis;
//! concurrent readers must see every acknowledged write and every
//! transaction whole.

mod support;

use redsql::resp::Reply;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::{RawConn, Server, XorShift, show, start_redis, start_redsql};

/// A field of `INFO redsql`, as a number.
fn info_field(c: &mut RawConn, name: &str) -> Option<u64> {
    let raw = c.cmd_str(&["INFO", "redsql"]);
    let text = String::from_utf8_lossy(&raw).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim().parse().unwrap())
}

#[test]
fn reads_are_answered_from_the_cache_until_a_write() {
    let server = start_redsql(&[]);
    let mut c = server.conn();
    assert_eq!(c.cmd_str(&["SET", "k", "one"]), b"+OK\r\n");
    assert_eq!(c.cmd_str(&["GET", "k"]), b"$3\r\none\r\n");
    let hits = info_field(&mut c, "read_cache_hits").unwrap();
    assert_eq!(c.cmd_str(&["GET", "k"]), b"$3\r\none\r\n");
    assert_eq!(c.cmd_str(&["STRLEN", "k"]), b":3\r\n");
    assert_eq!(info_field(&mut c, "read_cache_hits").unwrap(), hits + 2);
    assert_eq!(info_field(&mut c, "read_cache_keys").unwrap(), 1);
    // Every kind of change is seen at once, by this connection and others.
    let mut other = server.conn();
    assert_eq!(c.cmd_str(&["APPEND", "k", "!"]), b":4\r\n");
    assert_eq!(other.cmd_str(&["GET", "k"]), b"$4\r\none!\r\n");
    assert_eq!(c.cmd_str(&["LPUSH", "l", "x"]), b":1\r\n");
    assert_eq!(c.cmd_str(&["RENAME", "l", "k"]), b"+OK\r\n");
    assert_eq!(
        other.cmd_str(&["GET", "k"]),
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(c.cmd_str(&["SET", "k", "two"]), b"+OK\r\n");
    assert_eq!(other.cmd_str(&["GET", "k"]), b"$3\r\ntwo\r\n");
    // FLUSHALL empties the table without reporting its rows one by one.
    assert_eq!(c.cmd_str(&["FLUSHALL"]), b"+OK\r\n");
    assert_eq!(other.cmd_str(&["GET", "k"]), b"$-1\r\n");
    assert_eq!(info_field(&mut c, "read_cache_keys").unwrap(), 0);
    // So does a FLUSHDB of more rows than one transaction reports.
    let mut mset = vec!["MSET".to_string()];
    for i in 0..70_000 {
        mset.extend([format!("key:{i}"), "v".into()]);
    }
    let args: Vec<&str> = mset.iter().map(|s| s.as_str()).collect();
    assert_eq!(c.cmd_str(&args), b"+OK\r\n");
    assert_eq!(other.cmd_str(&["GET", "key:5"]), b"$1\r\nv\r\n");
    assert_eq!(c.cmd_str(&["FLUSHDB"]), b"+OK\r\n");
    assert_eq!(other.cmd_str(&["GET", "key:5"]), b"$-1\r\n");
}

#[test]
fn a_cached_key_expires_on_time() {
    let server = start_redsql(&[]);
    let mut c = server.conn();
    assert_eq!(c.cmd_str(&["SET", "k", "v", "PX", "300"]), b"+OK\r\n");
    assert_eq!(c.cmd_str(&["GET", "k"]), b"$1\r\nv\r\n");
    assert_eq!(c.cmd_str(&["GET", "k"]), b"$1\r\nv\r\n");
    assert_eq!(info_field(&mut c, "read_cache_keys").unwrap(), 1);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(c.cmd_str(&["GET", "k"]), b"$-1\r\n");
    assert_eq!(c.cmd_str(&["EXISTS", "k"]), b":0\r\n");
}

#[test]
fn the_cache_can_be_turned_off() {
    let server = start_redsql(&["--read-cache", "0"]);
    let mut c = server.conn();
    assert_eq!(c.cmd_str(&["SET", "k", "v"]), b"+OK\r\n");
    assert_eq!(c.cmd_str(&["GET", "k"]), b"$1\r\nv\r\n");
    assert_eq!(info_field(&mut c, "read_cache_hits"), None);
    let info = String::from_utf8(c.cmd_str(&["INFO", "redsql"])).unwrap();
    assert!(info.contains("backend:sqlite\r\n"), "{info}");
    assert_eq!(
        c.cmd_str(&["CONFIG", "GET", "read-cache"]),
        b"*2\r\n$10\r\nread-cache\r\n$1\r\n0\r\n"
    );
}

/// One random command of the mix (a write or a read of string keys, or a
/// write that turns a string key into another type or moves it).
fn random_command(rng: &mut XorShift) -> Vec<Vec<u8>> {
    const KEYS: [&[u8]; 6] = [b"a", b"b", b"c", b"n", b"\x00\xffbin", b"long:key:with:a:few:parts"];
    const FAR: [&str; 3] = ["4102444800", "4102444900", "4133980800"];
    let key = |rng: &mut XorShift| KEYS[rng.below(KEYS.len())].to_vec();
    let value = |rng: &mut XorShift| -> Vec<u8> {
        match rng.below(4) {
            0 => rng.range(-5, 50).to_string().into_bytes(),
            1 => vec![b'x'; rng.below(3000)],
            _ => (0..rng.below(12)).map(|_| rng.below(256) as u8).collect(),
        }
    };
    let s = |t: &str| t.as_bytes().to_vec();
    let (k, k2, v) = (key(rng), key(rng), value(rng));
    match rng.below(64) {
        0..=3 => vec![s("SET"), k, v],
        4 => vec![s("SET"), k, v, s("EXAT"), s(FAR[rng.below(3)])],
        5 => vec![s("SET"), k, v, s("KEEPTTL")],
        6 => vec![s("SET"), k, v, s("NX")],
        7 => vec![s("SET"), k, v, s("XX"), s("GET")],
        8 => vec![s("GETSET"), k, v],
        9 => vec![s("GETDEL"), k],
        10 => vec![s("GETEX"), k, s("PERSIST")],
        11 => vec![s("GETEX"), k, s("EXAT"), s(FAR[rng.below(3)])],
        12 => vec![s("APPEND"), k, v],
        13 => vec![s("INCR"), s("n")],
        14 => vec![s("INCRBY"), k, rng.range(-3, 3).to_string().into_bytes()],
        15 => vec![s("SETRANGE"), k, rng.below(20).to_string().into_bytes(), v],
        16 => vec![s("DEL"), k, k2],
        17 => vec![s("UNLINK"), k],
        18 => vec![s("EXPIREAT"), k, s(FAR[rng.below(3)])],
        19 => vec![s("PEXPIREAT"), k, s("1")],
        20 => vec![s("PERSIST"), k],
        21 => vec![s("RENAME"), k, k2],
        22 => vec![s("RENAMENX"), k, k2],
        23 => vec![s("COPY"), k, k2, s("REPLACE")],
        24 => vec![s("MOVE"), k, s("1")],
        25 => vec![s("LPUSH"), k, v],
        26 => vec![s("SADD"), k, v],
        27 => vec![s("HSET"), k, s("f"), v],
        28 => vec![s("MSET"), k, v, k2, value(rng)],
        29 => vec![s("MSETNX"), k, v, k2, value(rng)],
        30 => vec![s("SET"), k, v, s("PXAT"), s("1")],
        31 => match rng.below(40) {
            0 => vec![s("FLUSHALL")],
            1..=3 => vec![s("FLUSHDB")],
            4..=9 => vec![s("SWAPDB"), s("0"), s("1")],
            _ => vec![s("SELECT"), rng.below(2).to_string().into_bytes()],
        },
        32..=45 => vec![s("GET"), k],
        46..=49 => vec![s("MGET"), k, k2, key(rng)],
        50..=51 => vec![s("STRLEN"), k],
        52..=53 => vec![s("EXISTS"), k, k2],
        54..=55 => vec![s("TYPE"), k],
        56..=57 => vec![s("GETRANGE"), k, s("1"), s("4")],
        58..=59 => vec![s("EXPIRETIME"), k],
        60 => vec![s("LCS"), k, k2],
        _ => vec![s("GET"), k],
    }
}

#[test]
fn a_random_mix_of_writes_and_reads_matches_redis() {
    let redis = start_redis();
    let redsql = start_redsql(&[]);
    let seed = std::env::var("TEST_SEED").map_or(0x5eed_cace, |s| s.parse().unwrap());
    let mut rng = XorShift(seed);
    let open = |s: &Server| -> Vec<RawConn> { (0..3).map(|_| s.conn()).collect() };
    let (mut theirs, mut ours) = (open(&redis), open(&redsql));
    let mut log: Vec<String> = Vec::new();
    for step in 0..4000 {
        let conn = rng.below(3);
        // A single command, a pipeline, or a MULTI/EXEC block.
        let n = if rng.below(4) == 0 { 2 + rng.below(6) } else { 1 };
        let mut cmds: Vec<Vec<Vec<u8>>> = (0..n).map(|_| random_command(&mut rng)).collect();
        if n > 1 && rng.below(3) == 0 {
            cmds.insert(0, vec![b"MULTI".to_vec()]);
            cmds.push(vec![b"EXEC".to_vec()]);
        }
        let wire: Vec<u8> = cmds
            .iter()
            .flat_map(|c| RawConn::encode(&c.iter().map(|a| &a[..]).collect::<Vec<_>>()))
            .collect();
        log.push(format!(
            "step {step} conn {conn}: {}",
            cmds.iter()
                .map(|c| show(&c.join(&b' ')))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
        theirs[conn].send_raw(&wire);
        ours[conn].send_raw(&wire);
        for c in &cmds {
            let (want, got) = (theirs[conn].read_reply(), ours[conn].read_reply());
            assert_eq!(
                show(&got),
                show(&want),
                "seed {seed:#x}, reply to {} at step {step}; the last steps:\n{}",
                show(&c.join(&b' ')),
                log[log.len().saturating_sub(12)..].join("\n")
            );
        }
    }
    let hits = info_field(&mut ours[0], "read_cache_hits").unwrap();
    assert!(hits > 200, "the cache answered {hits} reads");
}

/// Many writes and reads at once, on separate threads of a server with two
/// runtime threads (so that its writer runs on a thread of its own): a read
/// that starts after a write was acknowledged sees it, and a MULTI block's
/// two keys are always seen with the same value.
#[test]
fn concurrent_readers_see_every_acknowledged_write_and_whole_transactions() {
    let server = start_redsql(&["--io-threads", "2"]);
    const KEYS: usize = 8;
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..KEYS).map(|_| AtomicU64::new(0)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut writer = server.conn();
    let mut threads = Vec::new();
    for t in 0..3 {
        let (mut c, acked, stop) = (server.conn(), acked.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            let mut rng = XorShift(0x1234 + t);
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let i = rng.below(KEYS);
                let before = acked[i].load(Ordering::SeqCst);
                let key = format!("k{i}");
                let pipeline = rng.below(3) == 0;
                if pipeline {
                    // A pipeline of reads: one batch, one snapshot.
                    c.send_raw(&RawConn::encode(&[b"GET", key.as_bytes()]).repeat(2));
                    c.send_raw(&RawConn::encode(&[b"MGET", b"x", b"y"]));
                }
                let got = if pipeline {
                    c.read_reply()
                } else {
                    c.cmd_str(&["GET", &key])
                };
                let n = number(&got);
                assert!(n >= before, "GET {key} answered {n} after {before} was acknowledged");
                if pipeline {
                    let again = number(&c.read_reply());
                    assert!(again >= n, "GET {key} went back from {n} to {again}");
                }
                let pair = if pipeline {
                    c.read_reply()
                } else {
                    c.cmd_str(&["MGET", "x", "y"])
                };
                match redsql::resp::value::parse(&pair) {
                    Some((Reply::Array(v), _)) if v.len() == 2 => {
                        assert_eq!(v[0], v[1], "a MULTI block seen half done")
                    }
                    _ => panic!("MGET answered {}", show(&pair)),
                }
                reads += 1;
            }
            reads
        }));
    }
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let i = (n as usize) % KEYS;
        let key = format!("k{i}");
        assert_eq!(writer.cmd_str(&["SET", &key, &n.to_string()]), b"+OK\r\n");
        acked[i].store(n, Ordering::SeqCst);
        if n.is_multiple_of(4) {
            let v = n.to_string();
            writer.send_raw(
                &[
                    RawConn::encode(&[b"MULTI"]),
                    RawConn::encode(&[b"SET", b"x", v.as_bytes()]),
                    RawConn::encode(&[b"SET", b"y", v.as_bytes()]),
                    RawConn::encode(&[b"EXEC"]),
                ]
                .concat(),
            );
            for _ in 0..4 {
                writer.read_reply();
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let reads: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(n > 100 && reads > 100, "{n} writes, {reads} reads");
    let hits = info_field(&mut writer, "read_cache_hits").unwrap();
    assert!(hits > 0, "the cache answered no read");
}

/// A bulk string reply holding a number (0 for nil).
fn number(raw: &[u8]) -> u64 {
    match redsql::resp::value::parse(raw) {
        Some((Reply::Nil, _)) => 0,
        Some((Reply::Bulk(b), _)) => std::str::from_utf8(&b).unwrap().parse().unwrap(),
        _ => panic!("not a bulk string: {}", show(raw)),
    }
}
