//! Which layout of the key table keeps GET and SET fast when the data is far
//! larger than SQLite's page cache?
//!
//! Builds N string keys (`key:%012d`, 100-byte values by default, in key
//! order as `bench/scale_tools.py load` does) in a fresh SQLite file with one
//! of two layouts of the key table, then measures, on connections configured
//! like redsql's (16 MiB reader cache, 32 MiB writer cache, WAL, synchronous
//! NORMAL):
//!
//! * GET: point lookups of random keys on a read-only connection: µs per
//!   lookup and `read` system calls per lookup (`/proc/self/io` `syscr`:
//!   every page SQLite misses in its own cache is one `pread` from the OS
//!   page cache — a measure that does not depend on the machine's load);
//! * SET: random overwrites, 50 per transaction (redsql's group commit), with
//!   a PASSIVE checkpoint every 4096 WAL pages: µs per SET, WAL bytes per SET;
//! * a full walk in id order (what KEYS and SCAN do): seconds;
//! * the file's size and the number of overflow pages (`dbstat`, when built in).
//!
//! Layouts: `v1` is schema version 1 (a rowid table and a unique index on
//! (db, key): two B-tree descents per lookup); `v2` is a `WITHOUT ROWID`
//! table clustered on (db, key) with a unique index on id (one descent).
//!
//! Run: `cargo run --example key_layout -- LAYOUT N [VALUE_BYTES] [PAGE_SIZE]`
//! e.g. `cargo run --example key_layout -- v2 3000000 100 4096`.
//! The database goes to `$TMPDIR/key_layout-LAYOUT.db` and is removed at the end.

use rusqlite::{Connection, OpenFlags, params};
use std::time::Instant;

const V1: &str = "CREATE TABLE rkey (id INTEGER PRIMARY KEY, db INTEGER NOT NULL, key BLOB NOT NULL,
    type INTEGER NOT NULL, expire_at INTEGER, version INTEGER NOT NULL, value BLOB, len INTEGER NOT NULL DEFAULT 0);
  CREATE UNIQUE INDEX rkey_db_key ON rkey (db, key);
  CREATE INDEX rkey_expire ON rkey (expire_at) WHERE expire_at IS NOT NULL;";
const V2: &str = "CREATE TABLE rkey (db INTEGER NOT NULL, key BLOB NOT NULL, id INTEGER NOT NULL,
    type INTEGER NOT NULL, expire_at INTEGER, version INTEGER NOT NULL, value BLOB, len INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (db, key)) WITHOUT ROWID;
  CREATE UNIQUE INDEX rkey_id ON rkey (id, expire_at, type);
  CREATE INDEX rkey_expire ON rkey (expire_at) WHERE expire_at IS NOT NULL;";

/// Read system calls of this process so far.
fn syscr() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("syscr: ").and_then(|n| n.trim().parse().ok()))
        })
        .unwrap_or(0)
}

/// CPU time (user + system) of this process so far, in seconds.
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// A small xorshift generator: the same keys in every run.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn key(i: u64) -> Vec<u8> {
    format!("key:{i:012}").into_bytes()
}

fn main() -> rusqlite::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let layout = args.first().map(String::as_str).unwrap_or("v2").to_string();
    let n: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let vlen: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
    let page: u32 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(4096);
    let schema = if layout == "v1" { V1 } else { V2 };
    let path = std::env::temp_dir().join(format!("key_layout-{layout}.db"));
    let path = path.to_string_lossy().into_owned();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }

    let w = Connection::open(&path)?;
    w.execute_batch(&format!("PRAGMA page_size={page};"))?;
    w.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
    w.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768; PRAGMA wal_autocheckpoint=0;")?;
    w.execute_batch(schema)?;
    let value = vec![b'x'; vlen];
    let t = Instant::now();
    let mut version = 0i64;
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        w.execute_batch("BEGIN")?;
        {
            let mut st =
                w.prepare_cached("INSERT INTO rkey (db, key, id, type, version, value) VALUES (0, ?1, ?2, 0, ?2, ?3)")?;
            for &i in chunk {
                version += 1;
                st.execute(params![key(i), version, value])?;
            }
        }
        w.execute_batch("COMMIT")?;
        w.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{layout} n={n} value={vlen}B page={page}: load {:.1} s, file {:.0} MB",
        t.elapsed().as_secs_f64(),
        size as f64 / 1e6
    );
    let overflow: rusqlite::Result<i64> =
        w.query_row("SELECT count(*) FROM dbstat WHERE pagetype='overflow'", [], |r| {
            r.get(0)
        });
    if let Ok(o) = overflow {
        println!("  overflow pages: {o}");
    }

    let r = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    r.execute_batch("PRAGMA cache_size=-16384;")?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let lookups = 200_000u64;
    let mut get =
        r.prepare_cached("SELECT id, type, expire_at, version, len, value FROM rkey WHERE db=?1 AND key=?2")?;
    for _ in 0..lookups {
        get.query_row(params![0, key(rng.below(n))], |r| r.get::<_, i64>(0))?;
    }
    let (c0, t, u0) = (syscr(), Instant::now(), cpu());
    for _ in 0..lookups {
        get.query_row(params![0, key(rng.below(n))], |r| r.get::<_, i64>(0))?;
    }
    println!(
        "  GET: {:.2} us, {:.2} us CPU, {:.2} preads per lookup",
        t.elapsed().as_secs_f64() * 1e6 / lookups as f64,
        (cpu() - u0) * 1e6 / lookups as f64,
        (syscr() - c0) as f64 / lookups as f64
    );
    drop(get);

    let sets = 100_000u64;
    let (c0, t, u0) = (syscr(), Instant::now(), cpu());
    let mut wal_bytes = 0u64;
    for _ in 0..sets / 50 {
        w.execute_batch("BEGIN IMMEDIATE")?;
        {
            let mut st = w.prepare_cached(
                "UPDATE rkey SET value=?3, version=?4 WHERE db=?1 AND key=?2 AND type=0 AND expire_at IS NULL",
            )?;
            for _ in 0..50 {
                version += 1;
                st.execute(params![0, key(rng.below(n)), value, version])?;
            }
        }
        w.execute_batch("COMMIT")?;
        let wal = std::fs::metadata(format!("{path}-wal")).map(|m| m.len()).unwrap_or(0);
        if wal > 4096 * page as u64 {
            wal_bytes += wal;
            w.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
    }
    wal_bytes += std::fs::metadata(format!("{path}-wal")).map(|m| m.len()).unwrap_or(0);
    println!(
        "  SET: {:.2} us, {:.2} us CPU, {:.2} preads, {:.0} WAL bytes per SET (checkpoints included)",
        t.elapsed().as_secs_f64() * 1e6 / sets as f64,
        (cpu() - u0) * 1e6 / sets as f64,
        (syscr() - c0) as f64 / sets as f64,
        wal_bytes as f64 / sets as f64
    );

    let (t, u0) = (Instant::now(), cpu());
    let mut scan = r.prepare_cached(
        "SELECT id, key FROM rkey WHERE +db=0 AND id>?1 AND (expire_at IS NULL OR expire_at>0) ORDER BY id LIMIT 1000",
    )?;
    let (mut cursor, mut walked) = (0i64, 0u64);
    loop {
        let page: Vec<(i64, Vec<u8>)> = scan
            .query_map([cursor], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        walked += page.len() as u64;
        match page.last() {
            Some((id, _)) => cursor = *id,
            None => break,
        }
    }
    println!(
        "  walk in id order (SCAN pages of 1000): {walked} keys in {:.2} s ({:.2} s CPU)",
        t.elapsed().as_secs_f64(),
        cpu() - u0
    );
    drop(scan);
    drop(r);
    drop(w);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    Ok(())
}
