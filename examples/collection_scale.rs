//! Do collection reads stay cheap as collections grow?
//!
//! Builds a list, a hash, a set and a sorted set of 1,000 elements and of
//! 1,000,000 elements each (through the library API, 1,000 elements per
//! command), then times point and small-range reads on both sizes and prints
//! µs per operation and the ratio big/small. Indexed reads (LINDEX in the
//! middle, ZRANGEBYSCORE of 10 members, ZSCORE, HGET, SISMEMBER, LRANGE 0 9)
//! should cost about the same at both sizes: a B-tree seek is O(log n), one or
//! two more page visits at a million rows. ZRANK counts along the score index
//! (O(log n + rank)), so a rank in the middle of a million costs more.
//!
//! Run: `cargo run --release --example collection_scale [small] [big]`
//! (defaults 1000 and 1000000). The database is a temporary SQLite file,
//! removed at the end.

use redsql::Durability;
use redsql::{Db, Error, Options};
use std::time::{Duration, Instant};

/// Elements per building command.
const CHUNK: usize = 1000;
/// Most calls timed per operation and size.
const MAX_CALLS: usize = 20_000;
/// Time budget per operation and size (slow operations stop earlier).
const BUDGET: Duration = Duration::from_millis(1500);

fn main() -> Result<(), Error> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let small = args.first().copied().unwrap_or(1_000);
    let big = args.get(1).copied().unwrap_or(1_000_000);

    let path = std::env::temp_dir().join(format!("redsql-collection-scale-{}.db", std::process::id()));
    let result = run(path.to_str().expect("utf-8 temp path"), small, big);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    result
}

fn run(path: &str, small: usize, big: usize) -> Result<(), Error> {
    // Reads do not depend on commit durability; building is faster without fsync.
    let db = Db::open_with(Options {
        durability: Durability::Off,
        ..Options::new(path)
    })?;
    for n in [small, big] {
        let t = Instant::now();
        build(&db, n)?;
        println!(
            "built 4 collections of {n} elements in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    println!();
    println!(
        "{:<28} {:>12} {:>12} {:>8}",
        "operation",
        format!("µs/op @{}", short(small)),
        format!("µs/op @{}", short(big)),
        "ratio"
    );
    for op in OPS {
        let a = time(&db, op, small)?;
        let b = time(&db, op, big)?;
        println!("{:<28} {a:>12.2} {b:>12.2} {:>8.2}", op.name, b / a);
    }
    Ok(())
}

/// `1000` → `1k`, `1000000` → `1M`.
fn short(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

fn key(kind: &str, n: usize) -> Vec<u8> {
    format!("{kind}:{n}").into_bytes()
}

/// Fills `list:n`, `hash:n`, `set:n` and `zset:n` with elements 0..n
/// (`v<i>` list values, `f<i>` fields, `m<i>` members with score i).
fn build(db: &Db, n: usize) -> Result<(), Error> {
    let (list, hash, set, zset) = (key("list", n), key("hash", n), key("set", n), key("zset", n));
    for start in (0..n).step_by(CHUNK) {
        let range = start..(start + CHUNK).min(n);
        let strings =
            |prefix: &str| -> Vec<Vec<u8>> { range.clone().map(|i| format!("{prefix}{i}").into_bytes()).collect() };
        let (values, fields, members) = (strings("v"), strings("f"), strings("m"));
        db.lists().rpush(&list, &refs(&values))?;
        let pairs: Vec<(&[u8], &[u8])> = fields.iter().zip(&values).map(|(f, v)| (&f[..], &v[..])).collect();
        db.hashes().hset(&hash, &pairs)?;
        db.sets().sadd(&set, &refs(&members))?;
        let items: Vec<(f64, &[u8])> = range.clone().zip(&members).map(|(i, m)| (i as f64, &m[..])).collect();
        db.zsets().zadd(&zset, &items)?;
    }
    Ok(())
}

fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(|x| x.as_slice()).collect()
}

/// One timed read: its name and how to run it on collections of `n` elements
/// with a random number `r`.
struct Op {
    name: &'static str,
    run: fn(&Db, usize, u64) -> Result<(), Error>,
}

/// A random element index in the middle half of 0..n.
fn middle(n: usize, r: u64) -> usize {
    n / 4 + (r as usize) % (n / 2).max(1)
}

const OPS: &[Op] = &[
    Op {
        name: "LINDEX (middle half)",
        run: |db, n, r| db.lists().lindex(&key("list", n), middle(n, r) as i64).map(drop),
    },
    Op {
        name: "LRANGE 0 9",
        run: |db, n, _| db.lists().lrange(&key("list", n), 0, 9).map(drop),
    },
    Op {
        name: "HGET",
        run: |db, n, r| {
            db.hashes()
                .hget(&key("hash", n), format!("f{}", r as usize % n).as_bytes())
                .map(drop)
        },
    },
    Op {
        name: "SISMEMBER",
        run: |db, n, r| {
            db.sets()
                .sismember(&key("set", n), format!("m{}", r as usize % n).as_bytes())
                .map(drop)
        },
    },
    Op {
        name: "ZSCORE",
        run: |db, n, r| {
            db.zsets()
                .zscore(&key("zset", n), format!("m{}", r as usize % n).as_bytes())
                .map(drop)
        },
    },
    Op {
        name: "ZRANGEBYSCORE (10 members)",
        run: |db, n, r| {
            let lo = r as usize % n.saturating_sub(9).max(1);
            let (min, max) = (lo.to_string(), (lo + 9).to_string());
            db.zsets()
                .zrangebyscore(&key("zset", n), min.as_bytes(), max.as_bytes())
                .map(drop)
        },
    },
    Op {
        name: "ZRANK (middle half)",
        run: |db, n, r| {
            db.zsets()
                .zrank(&key("zset", n), format!("m{}", middle(n, r)).as_bytes())
                .map(drop)
        },
    },
];

/// Mean µs per call of `op` on the collections of `n` elements: up to
/// [`MAX_CALLS`] calls with random arguments, stopping after [`BUDGET`].
fn time(db: &Db, op: &Op, n: usize) -> Result<f64, Error> {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ n as u64);
    for _ in 0..20 {
        (op.run)(db, n, rng.next())?; // warm the caches
    }
    let start = Instant::now();
    let mut calls = 0;
    while calls < MAX_CALLS && start.elapsed() < BUDGET {
        (op.run)(db, n, rng.next())?;
        calls += 1;
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / calls as f64)
}

/// A tiny deterministic PRNG (xorshift64), enough to spread the reads.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
