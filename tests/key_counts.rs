//! DBSIZE against the rows themselves, on SQLite: schema 2 keeps the number
//! of key rows per database in `rcount` (updated by every statement of the
//! store that inserts, deletes or moves key rows) so that DBSIZE is O(1).
//! A random mix of every kind of write — new keys, overwrites, retyping,
//! expiry, collections emptied, RENAME, COPY, MOVE, SWAPDB, RESTORE,
//! FLUSHDB, the sweeper — must leave `rcount` equal to `count(*)` of the
//! rows, and DBSIZE equal to the live rows, after every command.

mod support;

use redsql::Db;
use redsql::resp::Reply;
use rusqlite::{Connection, OpenFlags, params};
use std::time::{SystemTime, UNIX_EPOCH};
use support::XorShift;

const DBS: u32 = 3;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn run(db: &Db, args: &[Vec<u8>]) -> Reply {
    db.command(args).unwrap_or_else(|e| Reply::error(e.to_string()))
}

fn live_rows(sql: &Connection, db: u32, now: i64) -> i64 {
    sql.query_row(
        "SELECT count(*) FROM rkey WHERE db=?1 AND (expire_at IS NULL OR expire_at>?2)",
        params![db, now],
        |r| r.get(0),
    )
    .unwrap()
}

/// One random write on database `db`; returns its arguments (for failures).
fn step(dbs: &[Db], rng: &mut XorShift) -> Vec<Vec<u8>> {
    let db = &dbs[rng.below(dbs.len())];
    let key = |rng: &mut XorShift| format!("k{}", rng.below(12)).into_bytes();
    let k = key(rng);
    let k2 = key(rng);
    let other = rng.below(DBS as usize).to_string().into_bytes();
    let b = |s: &str| s.as_bytes().to_vec();
    let args: Vec<Vec<u8>> = match rng.below(24) {
        0 => vec![b("SET"), k, b("v")],
        1 => vec![b("SET"), k, b("v"), b("PX"), rng.range(1, 4).to_string().into_bytes()],
        2 => vec![b("SET"), k, b("v"), b("KEEPTTL")],
        3 => vec![b("MSET"), k, b("a"), k2, b("b")],
        4 => vec![b("INCR"), k],
        5 => vec![b("APPEND"), k, b("x")],
        6 => vec![b("LPUSH"), k, b("a"), b("b")],
        7 => vec![b("LPOP"), k, b("3")],
        8 => vec![b("SADD"), k, b("m")],
        9 => vec![b("SREM"), k, b("m")],
        10 => vec![b("ZADD"), k, b("1"), b("m")],
        11 => vec![b("ZPOPMIN"), k],
        12 => vec![b("HSET"), k, b("f"), b("v")],
        13 => vec![b("HDEL"), k, b("f")],
        14 => vec![b("DEL"), k, k2],
        15 => vec![b("PEXPIRE"), k, rng.range(1, 4).to_string().into_bytes()],
        16 => vec![b("RENAME"), k, k2],
        17 => vec![b("COPY"), k, k2, b("DB"), other, b("REPLACE")],
        18 => vec![b("MOVE"), k, other],
        19 => vec![b("SWAPDB"), b("0"), other],
        20 => vec![b("GETDEL"), k],
        21 => vec![b("PEXPIREAT"), k, b("1")],
        22 => match run(db, &[b("DUMP"), k.clone()]) {
            Reply::Bulk(payload) => vec![b("RESTORE"), k2, b("0"), payload.to_vec(), b("REPLACE")],
            _ => vec![b("SETNX"), k, b("n")],
        },
        _ => {
            if rng.below(8) == 0 {
                vec![b("FLUSHDB")]
            } else {
                vec![b("SET"), k, b("v"), b("GET")]
            }
        }
    };
    run(db, &args);
    args
}

#[test]
fn dbsize_matches_the_rows_after_every_command() {
    let dir = support::temp_dir("key_counts");
    let path = dir.join("counts.db");
    let first = Db::open(path.to_str().unwrap()).unwrap();
    let dbs: Vec<Db> = (0..DBS).map(|i| first.select(i).unwrap()).collect();
    let sql = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut rng = XorShift(0x5eed_cafe_f00d_0001);
    let mut history: Vec<Vec<u8>> = Vec::new();
    for i in 0..3000 {
        let args = step(&dbs, &mut rng);
        history.push(args.join(&b' '));
        if i % 500 == 499 {
            // Let some keys expire and the sweeper delete them.
            std::thread::sleep(std::time::Duration::from_millis(150));
        }
        let recent = || {
            let from = history.len().saturating_sub(4);
            history[from..]
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
        };
        // The counts match the rows exactly (expired rows not yet swept included).
        let counted: Vec<(u32, i64)> = sql
            .prepare("SELECT db, n FROM rcount WHERE n <> 0 ORDER BY db")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let rows: Vec<(u32, i64)> = sql
            .prepare("SELECT db, count(*) FROM rkey GROUP BY db ORDER BY db")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(counted, rows, "step {i}, after {:?}", recent());
        // DBSIZE is the live rows (keys expiring meanwhile bound it).
        for (n, db) in dbs.iter().enumerate() {
            let before = now_ms();
            let Reply::Int(size) = run(db, &[b"DBSIZE".to_vec()]) else {
                panic!("DBSIZE")
            };
            let after = now_ms();
            let (most, least) = (live_rows(&sql, n as u32, before), live_rows(&sql, n as u32, after + 1));
            assert!(
                (least..=most).contains(&size),
                "step {i}, db {n}: DBSIZE {size}, live rows {least}..={most}, after {:?}",
                recent()
            );
        }
    }
}
