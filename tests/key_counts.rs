//! DBSIZE and INFO keyspace against the rows themselves. The store keeps the
//! number of key rows (and of those with an expiry) per database in `rcount`,
//! maintained by triggers, so that DBSIZE and INFO keyspace read a row
//! instead of counting millions. A random mix of every kind of write — new
//! keys, overwrites, retyping, expiry set and removed, collections emptied,
//! RENAME, COPY, MOVE, SWAPDB, RESTORE, FLUSHDB, FLUSHALL, the sweeper — must
//! leave `rcount` equal to the rows, and DBSIZE and INFO keyspace equal to the
//! live rows, after every command. On SQLite, and on PostgreSQL when the test
//! cluster is configured.

mod support;

use redsql::resp::Reply;
use std::time::{SystemTime, UNIX_EPOCH};
use support::{Backend, RawConn, Server, XorShift, backend_tests};

/// The databases written: two of the 16 whose count rows always exist, and one beyond.
const DBS: [u32; 3] = [0, 1, 20];

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// A connection that has SELECTed one database.
struct Db(RawConn);

impl Db {
    fn open(server: &Server, index: u32) -> Db {
        let mut c = server.conn();
        assert_eq!(c.cmd_str(&["SELECT", &index.to_string()]), b"+OK\r\n");
        Db(c)
    }
}

fn run(db: &mut Db, args: &[Vec<u8>]) -> Reply {
    let args: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
    let raw = db.0.cmd(&args);
    redsql::resp::value::parse(&raw).expect("a reply").0
}

/// Plain SQL on the store: rows of `sql`, each as integers.
trait Sql {
    fn rows(&mut self, sql: &str, params: &[i64]) -> Vec<Vec<i64>>;
}

impl Sql for rusqlite::Connection {
    fn rows(&mut self, sql: &str, params: &[i64]) -> Vec<Vec<i64>> {
        let mut st = self.prepare(sql).unwrap();
        let n = st.column_count();
        st.query_map(rusqlite::params_from_iter(params), |r| {
            (0..n).map(|i| r.get::<_, i64>(i)).collect::<Result<Vec<i64>, _>>()
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    }
}

impl Sql for postgres::Client {
    fn rows(&mut self, sql: &str, params: &[i64]) -> Vec<Vec<i64>> {
        // Numbered parameters as $1..; every column cast to bigint by the query.
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        self.query(&sql.replace('?', "$"), &params)
            .unwrap()
            .iter()
            .map(|r| (0..r.len()).map(|i| r.get::<_, i64>(i)).collect())
            .collect()
    }
}

/// One random write on one of the databases; returns its arguments (for failures).
fn step(dbs: &mut [Db], rng: &mut XorShift) -> Vec<Vec<u8>> {
    let n = rng.below(dbs.len());
    let db = &mut dbs[n];
    let key = |rng: &mut XorShift| format!("k{}", rng.below(12)).into_bytes();
    let k = key(rng);
    let k2 = key(rng);
    let other = DBS[rng.below(DBS.len())].to_string().into_bytes();
    let b = |s: &str| s.as_bytes().to_vec();
    let args: Vec<Vec<u8>> = match rng.below(28) {
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
        22 => vec![b("EXPIRE"), k, b("1000")],
        23 => vec![b("PERSIST"), k],
        24 => vec![b("SET"), k, b("v"), b("EX"), b("1000")],
        25 => vec![b("GETEX"), k, b("PERSIST")],
        26 => match run(db, &[b("DUMP"), k.clone()]) {
            Reply::Bulk(payload) => vec![b("RESTORE"), k2, b("0"), payload.to_vec(), b("REPLACE")],
            _ => vec![b("SETNX"), k, b("n")],
        },
        _ => match rng.below(40) {
            0..=4 => vec![b("FLUSHDB")],
            5 => vec![b("FLUSHALL")],
            _ => vec![b("SET"), k, b("v"), b("GET")],
        },
    };
    run(db, &args);
    args
}

/// `db<N>:keys=K,expires=E` of INFO keyspace, as (N, K, E).
fn info_keyspace(db: &mut Db) -> Vec<(u32, i64, i64)> {
    let Reply::Bulk(text) = run(db, &[b"INFO".to_vec(), b"keyspace".to_vec()]) else {
        panic!("INFO keyspace")
    };
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let n = name.strip_prefix("db")?.parse().ok()?;
            let mut fields = rest
                .split(',')
                .map(|f| f.split_once('=').unwrap().1.parse::<i64>().unwrap());
            Some((n, fields.next()?, fields.next()?))
        })
        .collect()
}

fn mix(backend: &str, server: &Server, sql: &mut dyn Sql, steps: usize) {
    let mut dbs: Vec<Db> = DBS.iter().map(|&i| Db::open(server, i)).collect();
    let mut rng = XorShift(0x5eed_cafe_f00d_0001);
    let mut history: Vec<String> = Vec::new();
    for i in 0..steps {
        let args = step(&mut dbs, &mut rng);
        history.push(String::from_utf8_lossy(&args.join(&b' ')).into_owned());
        if i % 500 == 499 {
            // Let some keys expire and the sweeper delete them.
            std::thread::sleep(std::time::Duration::from_millis(150));
        }
        let recent = &history[history.len().saturating_sub(4)..];
        // The counts match the rows exactly (expired rows not yet swept
        // included), read in one statement: one snapshot, whatever the sweeper does.
        let both = sql.rows(
            "SELECT CAST(0 AS bigint), CAST(db AS bigint), CAST(sum(keys) AS bigint), CAST(sum(expires) AS bigint) FROM rcount
             GROUP BY db HAVING sum(keys) <> 0 OR sum(expires) <> 0
             UNION ALL
             SELECT CAST(1 AS bigint), CAST(db AS bigint), count(*), count(expire_at) FROM rkey GROUP BY db
             ORDER BY 1, 2",
            &[],
        );
        let side = |s: i64| -> Vec<Vec<i64>> { both.iter().filter(|r| r[0] == s).map(|r| r[1..].to_vec()).collect() };
        let (counted, rows) = (side(0), side(1));
        assert_eq!(counted, rows, "{backend}, step {i}, after {recent:?}");
        // DBSIZE and INFO keyspace are the live rows (keys expiring meanwhile
        // bound them).
        let live = |sql: &mut dyn Sql, at: i64| -> Vec<(u32, i64, i64)> {
            sql.rows(
                "SELECT CAST(db AS bigint), count(*), count(expire_at) FROM rkey
                 WHERE expire_at IS NULL OR expire_at > ?1 GROUP BY db ORDER BY db",
                &[at],
            )
            .into_iter()
            .map(|r| (r[0] as u32, r[1], r[2]))
            .collect()
        };
        // Read before and after the commands: the sweeper may delete a row
        // that expires meanwhile, so the rows read after could not tell
        // whether it was live when the commands ran.
        let most = live(sql, now_ms());
        let info = info_keyspace(&mut dbs[0]);
        let sizes: Vec<i64> = dbs
            .iter_mut()
            .map(|db| match run(db, &[b"DBSIZE".to_vec()]) {
                Reply::Int(n) => n,
                other => panic!("DBSIZE: {other:?}"),
            })
            .collect();
        let least = live(sql, now_ms() + 1);
        if most == least {
            assert_eq!(info, most, "{backend}, step {i}: INFO keyspace, after {recent:?}");
        }
        for (n, size) in sizes.iter().enumerate() {
            let of = |v: &[(u32, i64, i64)]| v.iter().find(|r| r.0 == DBS[n]).map_or(0, |r| r.1);
            assert!(
                (of(&least)..=of(&most)).contains(size),
                "{backend}, step {i}, db {}: DBSIZE {size}, live rows {}..={}, after {recent:?}",
                DBS[n],
                of(&least),
                of(&most)
            );
        }
    }
}

fn key_counts_match_the_rows_after_every_command(backend: &Backend) {
    let server = backend.start("key_counts", &["--databases", "32"]);
    match &server.schema {
        None => {
            let path = server.dir.join("db.sqlite");
            let mut sql =
                rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
            mix(backend.name(), &server, &mut sql, 3000);
        }
        // Half the steps on PostgreSQL, where each one takes longer.
        Some(schema) => mix(backend.name(), &server, &mut schema.sql(), 1500),
    }
}
backend_tests!(key_counts_match_the_rows_after_every_command: sqlite, postgres);

/// A database written by a version 1 schema (no `rcount`) is counted once
/// when it is opened: DBSIZE and INFO keyspace are right from the start.
#[test]
fn a_version_1_sqlite_database_gets_its_key_counts() {
    let dir = support::temp_dir("key_counts_v1");
    let b = |s: &str| s.as_bytes().to_vec();
    {
        let server = support::start_redsql_in(dir.clone(), &[]);
        let mut db = Db::open(&server, 0);
        for i in 0..50 {
            run(&mut db, &[b("SET"), format!("k{i}").into_bytes(), b("v")]);
        }
        for i in 0..7 {
            run(&mut db, &[b("EXPIRE"), format!("k{i}").into_bytes(), b("1000")]);
        }
        run(&mut Db::open(&server, 2), &[b("RPUSH"), b("list"), b("a")]);
    }
    // Back to what version 1 had.
    let sql = rusqlite::Connection::open(dir.join("db.sqlite")).unwrap();
    sql.execute_batch(
        "DROP TRIGGER rkey_count_delete; DROP TRIGGER rkey_count_expire;
         DROP TRIGGER rkey_count_move; DROP TABLE rcount;
         UPDATE redsql_meta SET value = 1 WHERE name = 'schema_version';",
    )
    .unwrap();
    drop(sql);
    let server = support::start_redsql_in(dir, &[]);
    let mut db = Db::open(&server, 0);
    assert_eq!(run(&mut db, &[b("DBSIZE")]), Reply::Int(50));
    assert_eq!(info_keyspace(&mut db), vec![(0, 50, 7), (2, 1, 0)]);
    run(&mut db, &[b("DEL"), b("k1")]);
    assert_eq!(info_keyspace(&mut db), vec![(0, 49, 6), (2, 1, 0)]);
}

/// Keys created in a transaction are counted by DBSIZE inside it, and a
/// FLUSHALL in the middle of it leaves only the keys created after it.
fn keys_created_in_a_transaction_are_counted_within_it(backend: &Backend) {
    let server = backend.start("key_counts_tx", &[]);
    let mut db = Db::open(&server, 0);
    let b = |s: &str| s.as_bytes().to_vec();
    let exec = |db: &mut Db, cmds: &[&[&str]]| -> Reply {
        assert_eq!(run(db, &[b("MULTI")]), Reply::Status("OK".into()));
        for c in cmds {
            let args: Vec<Vec<u8>> = c.iter().map(|a| b(a)).collect();
            assert_eq!(run(db, &args), Reply::Status("QUEUED".into()));
        }
        run(db, &[b("EXEC")])
    };
    run(&mut db, &[b("FLUSHALL")]);
    let Reply::Array(replies) = exec(
        &mut db,
        &[
            &["SET", "a", "1"],
            &["MSET", "b", "2", "c", "3"],
            &["SET", "d", "4", "EX", "100"],
            &["DBSIZE"],
        ],
    ) else {
        panic!("EXEC")
    };
    assert_eq!(replies[3], Reply::Int(4));
    let Reply::Array(replies) = exec(
        &mut db,
        &[
            &["SET", "g", "1"],
            &["FLUSHALL"],
            &["RPUSH", "e", "x"],
            &["SET", "f", "5", "PX", "100000"],
            &["DBSIZE"],
        ],
    ) else {
        panic!("EXEC")
    };
    assert_eq!(replies[4], Reply::Int(2));
    assert_eq!(run(&mut db, &[b("DBSIZE")]), Reply::Int(2));
    assert_eq!(info_keyspace(&mut db), vec![(0, 2, 1)]);
}
backend_tests!(keys_created_in_a_transaction_are_counted_within_it: sqlite, postgres);

/// INFO's `expired_keys` counts the keys the sweeper deleted, and CONFIG
/// RESETSTAT zeroes it.
fn expired_keys_are_counted(backend: &Backend) {
    let server = backend.start("expcount", &[]);
    let mut c = server.conn();
    let expired = |c: &mut RawConn| -> u64 {
        let info = String::from_utf8_lossy(&c.cmd_str(&["INFO", "stats"])).into_owned();
        info.lines()
            .find_map(|l| l.strip_prefix("expired_keys:"))
            .expect("expired_keys in INFO")
            .trim()
            .parse()
            .unwrap()
    };
    assert_eq!(expired(&mut c), 0);
    for i in 0..10 {
        c.cmd_str(&["SET", &format!("e{i}"), "v", "PX", "20"]);
    }
    c.cmd_str(&["SET", "kept", "v"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while expired(&mut c) < 10 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(expired(&mut c), 10);
    assert_eq!(c.cmd_str(&["CONFIG", "RESETSTAT"]), b"+OK\r\n");
    assert_eq!(expired(&mut c), 0);
}

backend_tests!(expired_keys_are_counted: sqlite, postgres);
