//! SQLite backend: connections, schema migrations, and the [`Store`](crate::store::Store) implementation.
//!
//! A file database runs in WAL mode with one writer connection (owned by the
//! engine's writer thread) and a pool of read-only connections. An in-memory
//! database has a single connection, so everything runs on the writer.

mod hash;
mod list;
mod set;
mod store;
mod zset;

pub use store::SqliteStore;

use crate::store::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::time::Duration;

/// The schema version this build writes; older databases are migrated on open.
pub const SCHEMA_VERSION: i64 = 1;

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
    if loc.path.is_some() {
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError(format!("cannot enable WAL journal mode (got {mode})")));
        }
    }
    let sync = match sync {
        Sync::Full => "FULL",
        Sync::Normal => "NORMAL",
        Sync::Off => "OFF",
    };
    // File databases are checkpointed by a background thread (engine/checkpoint.rs).
    let autocheckpoint = if loc.path.is_some() { 0 } else { 1000 };
    conn.execute_batch(&format!(
        "PRAGMA synchronous={sync}; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint={autocheckpoint}; PRAGMA journal_size_limit=67108864;"
    ))?;
    conn.set_prepared_statement_cache_capacity(256);
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
    conn.execute_batch("PRAGMA cache_size=-32768;")?;
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
    if version < 1 {
        conn.execute_batch(&format!(
            "BEGIN; {} INSERT OR REPLACE INTO redsql_meta VALUES ('schema_version', 1); COMMIT;",
            include_str!("schema.sql")
        ))?;
    }
    Ok(())
}

/// The largest key version in use, so that new versions keep increasing.
pub fn max_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT coalesce(max(version), 0) FROM rkey", [], |r| r.get(0))?)
}
