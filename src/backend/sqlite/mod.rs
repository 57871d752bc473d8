//! SQLite backend: connections, schema migrations, and the [`Store`](crate::store::Store) implementation.
//!
//! A file database runs in WAL mode with one writer connection (owned by the
//! engine's writer thread) and a pool of read-only connections. An in-memory
//! database has a single connection, so everything runs on the writer.

pub mod cache;
mod checkpoint;
pub mod conn;
pub mod counts;
pub mod engine;
mod hash;
mod list;
mod lock;
mod set;
mod store;
mod stream;
mod strings;
mod walbuf;
mod zset;

pub use store::SqliteStore;

/// Set once any statement of this process met a damaged database file: from
/// then on writes are refused (see [`engine`]), reads still answer what they
/// can, and the log says how to recover.
static CORRUPTION_SEEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this process met a damaged database file.
pub fn corruption_seen() -> bool {
    CORRUPTION_SEEN.load(std::sync::atomic::Ordering::Relaxed)
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e
            && matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            )
            && !CORRUPTION_SEEN.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            crate::log::warn(&format!(
                "THE DATABASE FILE IS DAMAGED ({e}): writes are refused from now on. Stop redsql, recover the data with `sqlite3 FILE .recover | sqlite3 NEW` and start on NEW."
            ));
        }
        StoreError(e.to_string())
    }
}

/// Checks a database file at start-up with `PRAGMA quick_check`, for at
/// most `budget` (a big file is checked in part: what SQLite reads first).
/// Err describes the damage, and how to recover.
pub fn check_integrity(conn: &Connection, path: &str, budget: Duration) -> Result<(), StoreError> {
    let deadline = std::time::Instant::now() + budget;
    conn.progress_handler(100_000, Some(move || std::time::Instant::now() > deadline));
    let rows: Result<Vec<String>, rusqlite::Error> = conn
        .prepare("PRAGMA quick_check(5)")
        .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(0))?.collect());
    conn.progress_handler(0, None::<fn() -> bool>);
    let problems = match rows {
        Ok(rows) if rows.len() == 1 && rows[0] == "ok" => return Ok(()),
        Ok(rows) => rows.join("; "),
        Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::OperationInterrupted => {
            crate::log::verbose(&format!(
                "integrity check of {path} stopped after {} ms (a large file): not every page was checked",
                budget.as_millis()
            ));
            return Ok(());
        }
        Err(e) => e.to_string(),
    };
    Err(StoreError(format!(
        "the database file {path} is damaged ({problems}). redsql will not serve it: recover the data with `sqlite3 {path} .recover | sqlite3 {path}.recovered` and start redsql on the recovered file"
    )))
}

use crate::store::StoreError;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::time::Duration;

/// The schema version this build writes; older databases are migrated on open.
pub const SCHEMA_VERSION: i64 = 3;

/// Page size of new databases, in bytes (SQLite's default is 4096). A write
/// costs whole pages: every page a commit dirtied is appended to the WAL
/// (and checksummed), then copied back by the checkpoint. With keys spread
/// at random, a group commit dirties about one leaf per key, so halving the
/// page halves the bytes written per key. Measured (docs/benchmarks.md,
/// "Page size"): SET/INCR/ZADD at 10k keys +15-30%, GET and SET at 10M keys
/// +25%, loading 10M keys 64 s -> 41 s; pipelined SETs (batches of ~800 keys,
/// where most pages are dirty either way) unchanged. 1024 was faster still
/// without pipelining but slower with it (twice the frames per batch).
pub const PAGE_SIZE: u32 = 2048;

/// Page cache of the writer connection, in KiB. Every connection has its own
/// cache, all resident: they are most of redsql's memory once the database is
/// large. The interior pages of `rkey` and its (db, key) index at 10M string
/// keys are about 7 MB, so a point lookup reads only its two leaf pages from
/// the OS page cache; bigger caches buy little on data far larger than memory.
/// (SQLite's memory-mapped I/O stays off, its default: mapped pages would
/// count toward the resident size too, up to the whole file.)
const WRITER_CACHE_KB: i64 = 32 * 1024;
/// Page cache of each read connection, in KiB (see [`WRITER_CACHE_KB`]).
const READER_CACHE_KB: i64 = 16 * 1024;

/// How durable a commit is: `Full` fsyncs the WAL on every commit;
/// `Normal` at checkpoints only (survives a crash of redsql, not of the OS);
/// `Off` never.
pub use crate::engine::Durability;

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
pub fn open_writer(loc: &Location, sync: Durability) -> Result<Connection, StoreError> {
    let conn = match &loc.path {
        None => Connection::open_in_memory()?,
        Some(p) => {
            // The writer alone appends to the WAL: one pwrite per commit (walbuf.rs).
            walbuf::register().map_err(StoreError)?;
            Connection::open_with_flags_and_vfs(p, OpenFlags::default(), walbuf::NAME)?
        }
    };
    conn.busy_timeout(Duration::from_secs(10))?;
    // Takes effect only on a database being created (before its first
    // table); an existing file keeps the page size it was created with.
    conn.execute_batch(&format!("PRAGMA page_size={PAGE_SIZE}"))?;
    if loc.path.is_some() {
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError(format!("cannot enable WAL journal mode (got {mode})")));
        }
    }
    let sync = match sync {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
        Durability::Off => "OFF",
    };
    // File databases are checkpointed by a background thread (checkpoint.rs).
    let autocheckpoint = if loc.path.is_some() { 0 } else { 1000 };
    conn.execute_batch(&format!(
        "PRAGMA synchronous={sync}; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-{WRITER_CACHE_KB}; PRAGMA wal_autocheckpoint={autocheckpoint}; PRAGMA journal_size_limit=67108864;"
    ))?;
    conn.set_prepared_statement_cache_capacity(256);
    strings::register_functions(&conn)?;
    migrate(&conn)?;
    Ok(conn)
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

fn migrate(conn: &Connection) -> Result<(), StoreError> {
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
    if version < SCHEMA_VERSION {
        // The script creates what is missing. Version 1 lacked the key
        // counts (rcount): they are counted once here, in the same
        // transaction (a table scan: seconds at 10M keys, once). Version 2
        // lacked streams: the value triggers are created again with them.
        conn.execute_batch(&format!(
            "BEGIN; DROP TRIGGER IF EXISTS rkey_delete_value; DROP TRIGGER IF EXISTS rkey_retype_value;
             {} UPDATE rcount SET keys = 0, expires = 0;
             INSERT INTO rcount (db, keys, expires) SELECT db, count(*), count(expire_at) FROM rkey WHERE true GROUP BY db
             ON CONFLICT (db) DO UPDATE SET keys = excluded.keys, expires = excluded.expires;
             INSERT OR REPLACE INTO redsql_meta VALUES ('schema_version', {SCHEMA_VERSION}); COMMIT;",
            include_str!("schema.sql")
        ))?;
    }
    Ok(())
}

/// Where a clean shutdown leaves the last key version handed out.
const SAVED_VERSION: &str = "version_at_shutdown";
/// A bound on every key version handed out, raised by the writer in the
/// transaction that passes it (see [`raise_version_ceiling`]).
const VERSION_CEILING: &str = "version_ceiling";
/// How far above the current version the ceiling is raised: one extra write
/// per million versions.
pub const VERSION_STEP: i64 = 1 << 20;

/// The largest key version in use (or a bound above it), so that new
/// versions keep increasing (WATCH compares versions: one must never be
/// handed out twice for a key).
///
/// `max(version)` has no index: it reads the whole table, seconds at 10M
/// keys. So a clean shutdown saves the counter ([`save_version`]), which the
/// next open takes (and deletes), and the writer keeps a ceiling above every
/// version it hands out ([`raise_version_ceiling`]), which an open after a
/// crash starts from. Only a database written by a redsql older than the
/// ceiling, and not shut down cleanly, is scanned.
pub fn max_version(conn: &Connection) -> Result<i64, StoreError> {
    let saved: Option<i64> = conn
        .query_row(
            "DELETE FROM redsql_meta WHERE name=?1 RETURNING value",
            [SAVED_VERSION],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(v) = saved {
        return Ok(v);
    }
    let ceiling: Option<i64> = conn
        .query_row("SELECT value FROM redsql_meta WHERE name=?1", [VERSION_CEILING], |r| {
            r.get(0)
        })
        .optional()?;
    match ceiling {
        Some(v) => Ok(v),
        None => Ok(conn.query_row("SELECT coalesce(max(version), 0) FROM rkey", [], |r| r.get(0))?),
    }
}

/// Records that no version above `version` + [`VERSION_STEP`] has been
/// handed out, and returns that ceiling. The writer calls it in the
/// transaction whose versions reach the previous ceiling, before COMMIT: the
/// ceiling is durable exactly when the versions under it are.
pub fn raise_version_ceiling(conn: &Connection, version: i64) -> Result<i64, StoreError> {
    let ceiling = version.saturating_add(VERSION_STEP);
    conn.prepare_cached("INSERT OR REPLACE INTO redsql_meta (name, value) VALUES (?1, ?2)")?
        .execute(rusqlite::params![VERSION_CEILING, ceiling])?;
    Ok(ceiling)
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
    /// and only once: after a crash the next open starts from the ceiling,
    /// or, in a database that has none (older redsql), scans.
    #[test]
    fn saved_version_is_taken_once_then_the_ceiling() {
        let dir = crate::util::scratch_dir("version");
        let path = dir.join("v.db").to_string_lossy().into_owned();
        let loc = Location::parse(&path);
        let conn = open_writer(&loc, Durability::Off).unwrap();
        conn.execute("INSERT INTO rkey (db, key, type, version) VALUES (0, 'k', 0, 7)", [])
            .unwrap();
        assert_eq!(max_version(&conn).unwrap(), 7, "nothing saved, no ceiling: scan");
        save_version(&conn, 42).unwrap();
        drop(conn);
        let conn = open_writer(&loc, Durability::Off).unwrap();
        assert_eq!(max_version(&conn).unwrap(), 42, "saved at shutdown");
        assert_eq!(max_version(&conn).unwrap(), 7, "taken: the next open scans");
        assert_eq!(raise_version_ceiling(&conn, 7).unwrap(), 7 + VERSION_STEP);
        assert_eq!(
            max_version(&conn).unwrap(),
            7 + VERSION_STEP,
            "after a crash: the ceiling"
        );
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// New databases get [`PAGE_SIZE`]; a database created with another page
    /// size (every database before this setting, SQLite's 4096) keeps it and
    /// keeps working.
    #[test]
    fn new_databases_get_the_page_size_and_old_ones_keep_theirs() {
        let dir = crate::util::scratch_dir("pagesize");
        let page_size = |c: &Connection| c.query_row("PRAGMA page_size", [], |r| r.get::<_, u32>(0)).unwrap();
        let new = Location::parse(&dir.join("new.db").to_string_lossy());
        assert_eq!(page_size(&open_writer(&new, Durability::Off).unwrap()), PAGE_SIZE);
        assert_eq!(
            page_size(&open_writer(&new, Durability::Off).unwrap()),
            PAGE_SIZE,
            "reopened"
        );

        let old_path = dir.join("old.db").to_string_lossy().into_owned();
        {
            let c = Connection::open(&old_path).unwrap();
            c.execute_batch("PRAGMA page_size=4096; PRAGMA journal_mode=WAL; CREATE TABLE t (x)")
                .unwrap();
        }
        let conn = open_writer(&Location::parse(&old_path), Durability::Off).unwrap();
        assert_eq!(page_size(&conn), 4096);
        conn.execute("INSERT INTO rkey (db, key, type, version) VALUES (0, 'k', 0, 1)", [])
            .unwrap();
        let n: i64 = conn.query_row("SELECT count(*) FROM rkey", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
