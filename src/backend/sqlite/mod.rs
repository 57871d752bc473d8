//! SQLite backend: connections, schema migrations, and the [`Store`](crate::store::Store) implementation.
//!
//! A file database runs in WAL mode with one writer connection (owned by the
//! engine's writer thread) and a pool of read-only connections. An in-memory
//! database has a single connection, so everything runs on the writer.

pub mod conn;
mod counts;
mod hash;
mod list;
mod set;
mod store;
mod strings;
mod zset;

pub use counts::PendingCounts;
pub use store::SqliteStore;

use crate::store::StoreError;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::time::Duration;

/// The schema version this build writes; older databases are migrated on open.
pub const SCHEMA_VERSION: i64 = 2;

/// Page size of new databases (and of databases migrated from schema 1).
///
/// `rkey` is a WITHOUT ROWID table, whose rows are stored inline only up to
/// about a quarter of a page (SQLite's limit for index B-trees; a rowid table
/// takes nearly a whole page): with 4 KiB pages a string of 1 KiB would spill
/// to an overflow page of its own (measured: 300k keys of 1 KiB take 1.4 GB
/// instead of 0.4 GB). 8 KiB pages keep values up to about 2 KB inline. At
/// 3M keys of 100 bytes they also read fewer pages per GET (0.92 `pread`s
/// instead of 1.04: a shallower tree), at twice the WAL bytes per SET.
pub const PAGE_SIZE: i64 = 8192;

/// Page cache of the writer connection, in KiB. Every connection has its own
/// cache, all resident: they are most of redsql's memory once the database is
/// large. The interior pages of `rkey` (clustered on (db, key)) at 10M string
/// keys are about 10 MB, so a point lookup reads only its leaf page from the
/// OS page cache; bigger caches buy little on data far larger than memory.
/// (SQLite's memory-mapped I/O stays off, its default: mapped pages would
/// count toward the resident size too, up to the whole file.)
const WRITER_CACHE_KB: i64 = 32 * 1024;
/// Page cache of each read connection, in KiB (see [`WRITER_CACHE_KB`]).
const READER_CACHE_KB: i64 = 16 * 1024;

/// How durable a commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync {
    /// fsync the WAL on every commit: survives power loss.
    Full,
    /// fsync at checkpoints only: survives a crash of redsql (kill -9), not of the OS.
    Normal,
    /// never fsync.
    Off,
}

/// Where the data lives.
#[derive(Debug, Clone)]
pub struct Location {
    /// A file path, or None for a private in-memory database.
    pub path: Option<String>,
}

impl Location {
    pub fn parse(spec: &str) -> Location {
        if spec == ":memory:" || spec.is_empty() {
            Location { path: None }
        } else {
            Location {
                path: Some(spec.trim_start_matches("sqlite://").to_string()),
            }
        }
    }

    pub fn is_memory(&self) -> bool {
        self.path.is_none()
    }
}

/// Opens the writer connection, creating and migrating the schema.
pub fn open_writer(loc: &Location, sync: Sync) -> Result<Connection, StoreError> {
    let conn = match &loc.path {
        None => Connection::open_in_memory()?,
        Some(p) => Connection::open(p)?,
    };
    conn.busy_timeout(Duration::from_secs(10))?;
    // Takes effect on a new database only (its first page is not written yet).
    conn.execute_batch(&format!("PRAGMA page_size={PAGE_SIZE};"))?;
    if loc.path.is_some() {
        wal_mode(&conn)?;
    }
    let sync = match sync {
        Sync::Full => "FULL",
        Sync::Normal => "NORMAL",
        Sync::Off => "OFF",
    };
    // File databases are checkpointed by a background thread (engine/checkpoint.rs).
    let autocheckpoint = if loc.path.is_some() { 0 } else { 1000 };
    conn.execute_batch(&format!(
        "PRAGMA synchronous={sync}; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-{WRITER_CACHE_KB}; PRAGMA wal_autocheckpoint={autocheckpoint}; PRAGMA journal_size_limit=67108864;"
    ))?;
    conn.set_prepared_statement_cache_capacity(256);
    migrate(&conn, loc.path.is_some())?;
    Ok(conn)
}

fn wal_mode(conn: &Connection) -> Result<(), StoreError> {
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError(format!("cannot enable WAL journal mode (got {mode})")));
    }
    Ok(())
}

/// Rewrites a file database with [`PAGE_SIZE`] pages if its pages are
/// smaller (and drops its free pages). SQLite changes the page size of an
/// existing database only by a VACUUM outside WAL mode, so the journal mode
/// goes to DELETE and back; this runs at open, before any reader connects.
/// The VACUUM builds the new file in a temporary file, not in memory.
fn repage(conn: &Connection) -> Result<(), StoreError> {
    let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    if page >= PAGE_SIZE {
        return Ok(());
    }
    crate::log::notice(&format!(
        "rewriting the database with {PAGE_SIZE}-byte pages (were {page})"
    ));
    let started = std::time::Instant::now();
    let _: String = conn.query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))?;
    let vacuum = conn.execute_batch(&format!(
        "PRAGMA temp_store=FILE; PRAGMA page_size={PAGE_SIZE}; VACUUM;"
    ));
    conn.execute_batch("PRAGMA temp_store=MEMORY;")?;
    wal_mode(conn)?;
    vacuum?;
    crate::log::notice(&format!(
        "database rewritten in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Opens a read-only connection to a file database.
pub fn open_reader(path: &str) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch(&format!("PRAGMA cache_size=-{READER_CACHE_KB};"))?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

/// Opens the connection that runs background checkpoints.
pub fn open_checkpointer(path: &str) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(1))?;
    conn.execute_batch("PRAGMA wal_autocheckpoint=0;")?;
    Ok(conn)
}

/// Creates the schema in a new database, or brings an older one up to
/// [`SCHEMA_VERSION`] (`file`: a file database, which may be rewritten).
fn migrate(conn: &Connection, file: bool) -> Result<(), StoreError> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS redsql_meta (name TEXT PRIMARY KEY, value)")?;
    let version: i64 = conn
        .query_row("SELECT value FROM redsql_meta WHERE name='schema_version'", [], |r| {
            r.get(0)
        })
        .unwrap_or(0);
    if version > SCHEMA_VERSION {
        return Err(StoreError(format!(
            "database schema version {version} is newer than this redsql understands ({SCHEMA_VERSION})"
        )));
    }
    if version == 1 {
        let keys: i64 = conn.query_row("SELECT count(*) FROM rkey", [], |r| r.get(0))?;
        crate::log::notice(&format!(
            "migrating the database schema from version 1 to 2 (rkey clustered on (db, key)): copying {keys} keys"
        ));
        let started = std::time::Instant::now();
        conn.execute_batch(&format!("BEGIN; {MIGRATE_1_TO_2} COMMIT;"))
            .inspect_err(|_| {
                let _ = conn.execute_batch("ROLLBACK");
            })?;
        crate::log::notice(&format!(
            "schema migrated to version 2 in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
        if file {
            repage(conn)?;
        }
    } else if version < 1 {
        conn.execute_batch(&format!(
            "BEGIN; {} INSERT OR REPLACE INTO redsql_meta VALUES ('schema_version', {SCHEMA_VERSION}); COMMIT;",
            include_str!("schema.sql")
        ))?;
    }
    Ok(())
}

/// Schema version 1 to 2: `rkey` becomes a WITHOUT ROWID table clustered on
/// (db, key), in one transaction. The views and triggers that name `rkey` go
/// first (renaming a table rewrites them to follow it, and the copy must not
/// fire them), and the old `rkey_expire` index (its name is reused); the old
/// table is renamed, the schema script creates the new one with its indexes,
/// triggers and views, the rows are copied in (db, key) order (along the old
/// unique index: appends to the new B-tree, no sort), the old table goes,
/// and `rcount` gets the number of keys of each database.
/// Ids are kept: value rows and SCAN cursors stay valid. Version 2 hands out
/// new ids from the version counter, which [`max_version`] keeps above every
/// id.
const MIGRATE_1_TO_2: &str = concat!(
    "DROP VIEW IF EXISTS vkey; DROP VIEW IF EXISTS vstring; DROP VIEW IF EXISTS vlist;
     DROP VIEW IF EXISTS vhash; DROP VIEW IF EXISTS vset; DROP VIEW IF EXISTS vzset;
     DROP TRIGGER IF EXISTS rkey_delete_value; DROP TRIGGER IF EXISTS rkey_retype_value;
     DROP TABLE IF EXISTS rcount;
     DROP INDEX IF EXISTS rkey_expire;
     ALTER TABLE rkey RENAME TO rkey_v1;",
    include_str!("schema.sql"),
    "INSERT INTO rkey (id, db, key, type, expire_at, version, value, len)
       SELECT id, db, key, type, expire_at, version, value, len FROM rkey_v1 ORDER BY db, key;
     DROP TABLE rkey_v1;
     INSERT INTO rcount (db, n) SELECT db, count(*) FROM rkey GROUP BY db;
     INSERT OR REPLACE INTO redsql_meta VALUES ('schema_version', 2);"
);

/// Where a clean shutdown leaves the last key version handed out.
const SAVED_VERSION: &str = "version_at_shutdown";

/// The largest key version in use, so that new versions keep increasing
/// (WATCH compares versions: one must never be handed out twice for a key),
/// and at least the largest key id (new keys take a new version as their id,
/// which must be unused: a database migrated from version 1 has ids that
/// were not versions).
///
/// `max(version)` has no index: it reads the whole table, seconds at 10M
/// keys. So a clean shutdown saves the counter ([`save_version`]) and the next
/// open takes it and deletes it at once: if this process then crashes, the
/// value is gone and the open after that scans the table again (slow, correct).
pub fn max_version(conn: &Connection) -> Result<i64, StoreError> {
    let saved: Option<i64> = conn
        .query_row(
            "DELETE FROM redsql_meta WHERE name=?1 RETURNING value",
            [SAVED_VERSION],
            |r| r.get(0),
        )
        .optional()?;
    let versions = match saved {
        Some(v) => v,
        None => conn.query_row("SELECT coalesce(max(version), 0) FROM rkey", [], |r| r.get(0))?,
    };
    let ids: i64 = conn.query_row("SELECT coalesce(max(id), 0) FROM rkey", [], |r| r.get(0))?;
    Ok(versions.max(ids))
}

/// Saves the version counter at a clean shutdown, after the last commit (see [`max_version`]).
pub fn save_version(conn: &Connection, version: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO redsql_meta (name, value) VALUES (?1, ?2)",
        rusqlite::params![SAVED_VERSION, version],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The version counter survives a clean shutdown without a table scan,
    /// and only once: after a crash the next open scans again.
    #[test]
    fn saved_version_is_taken_once() {
        let dir = std::env::temp_dir().join(format!("redsql-version-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v.db").to_string_lossy().into_owned();
        let loc = Location::parse(&path);
        let conn = open_writer(&loc, Sync::Off).unwrap();
        conn.execute(
            "INSERT INTO rkey (id, db, key, type, version) VALUES (3, 0, 'k', 0, 7)",
            [],
        )
        .unwrap();
        assert_eq!(max_version(&conn).unwrap(), 7, "nothing saved: scan");
        save_version(&conn, 42).unwrap();
        drop(conn);
        let conn = open_writer(&loc, Sync::Off).unwrap();
        assert_eq!(max_version(&conn).unwrap(), 42, "saved at shutdown");
        assert_eq!(max_version(&conn).unwrap(), 7, "taken: the next open scans");
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A database written by schema version 1 (the SQL kept as a test
    /// fixture) opens as version 2 with its keys, value rows, ids, views and
    /// triggers, and new keys get ids that were never used.
    #[test]
    fn migrates_version_1() {
        use crate::store::{KeyType, Store, Ttl};
        let dir = std::env::temp_dir().join(format!("redsql-migrate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v1.db").to_string_lossy().into_owned();
        let old = Connection::open(&path).unwrap();
        old.execute_batch("PRAGMA page_size=4096; PRAGMA journal_mode=WAL;")
            .unwrap();
        old.execute_batch(include_str!("../../../tests/fixtures/sqlite_schema_v1.sql"))
            .unwrap();
        old.execute_batch(
            "CREATE TABLE redsql_meta (name TEXT PRIMARY KEY, value);
             INSERT INTO redsql_meta VALUES ('schema_version', 1);
             INSERT INTO rkey (id, db, key, type, expire_at, version, value, len) VALUES
               (1000, 0, CAST('list' AS BLOB), 1, NULL, 5, NULL, 2),
               (7, 0, CAST('s' AS BLOB), 0, 99999999999999, 6, CAST('v' AS BLOB), 0),
               (8, 3, CAST('s' AS BLOB), 0, NULL, 4, x'00ff', 0);
             INSERT INTO rlist VALUES (1000, 0, 'a'), (1000, 1, 'b');",
        )
        .unwrap();
        drop(old);

        let conn = open_writer(&Location::parse(&path), Sync::Off).unwrap();
        let version: i64 = conn
            .query_row("SELECT value FROM redsql_meta WHERE name='schema_version'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(version, 2);
        let pragma = |name: &str| -> String {
            conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, rusqlite::types::Value>(0))
                .map(|v| format!("{v:?}"))
                .unwrap()
        };
        assert_eq!(pragma("page_size"), "Integer(8192)", "rewritten with bigger pages");
        assert_eq!(pragma("journal_mode"), "Text(\"wal\")");
        let sql: String = conn
            .query_row("SELECT sql FROM sqlite_master WHERE name='rkey'", [], |r| r.get(0))
            .unwrap();
        assert!(sql.contains("WITHOUT ROWID"), "{sql}");
        let objects: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE tbl_name='rkey' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert!(!objects.iter().any(|o| o.contains("v1")), "{objects:?}");
        let counts: Vec<(i64, i64)> = conn
            .prepare("SELECT db, n FROM rcount ORDER BY db")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(counts, [(0, 2), (3, 1)]);
        for name in ["rkey_id", "rkey_expire", "rkey_delete_value", "rkey_retype_value"] {
            assert!(objects.iter().any(|o| o == name), "{name} missing: {objects:?}");
        }
        let list: Vec<(i64, String)> = conn
            .prepare("SELECT idx, value FROM vlist WHERE key=CAST('list' AS BLOB) ORDER BY idx")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(list, [(0, "a".to_string()), (1, "b".to_string())]);

        let mut next = max_version(&conn).unwrap();
        assert_eq!(next, 1000, "above every id, not only every version");
        let mut s = SqliteStore::writer(&conn, 1000, &mut next);
        let e = s.get(0, b"s").unwrap().unwrap();
        assert_eq!(
            (e.id, e.expire_at, e.value.as_deref()),
            (7, Some(99999999999999), Some(&b"v"[..]))
        );
        assert_eq!(
            s.get(3, b"s").unwrap().unwrap().value.as_deref(),
            Some(&b"\x00\xff"[..])
        );
        assert!(s.create_key(0, b"new", KeyType::Set).unwrap() > 1000);
        s.set_string(0, b"list", b"now a string", Ttl::Persist).unwrap();
        let rows: i64 = conn.query_row("SELECT count(*) FROM rlist", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 0, "the retype trigger deleted the list's rows");
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
