//! The engine over SQLite: one writer connection (WAL, background
//! checkpoints), a pool of read-only connections, or a single connection for
//! `:memory:`.

use super::checkpoint::Checkpointer;
use super::conn::{Pool, ReadConn, Reads, WriteConn};
use crate::backend::sqlite::{self, Location, SqliteStore, Sync};
use crate::store::{Store, StoreResult};
use rusqlite::Connection;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

/// Runs a statement without parameters from the connection's statement
/// cache (`execute_batch` would parse the SQL again on every call).
fn exec_cached(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Makes the query plans of `conn`'s statements independent of the values
/// bound to them (SQLite's query planner stability guarantee).
///
/// Without it, SQLite marks a statement to be compiled again whenever a new
/// value is bound to a parameter its plan looked at (a `LIMIT ?`, a range
/// on an indexed column, with STAT4 compiled in): the expiry sweeper's
/// `DELETE ... WHERE expire_at<=?1 ... LIMIT ?2` was parsed and compiled
/// again, with rkey's delete trigger, on every sweep (~180k instructions).
/// redsql's statements are written for one plan each, and it never runs
/// ANALYZE, so the bound values have nothing to offer the planner.
fn stable_plans(conn: Connection) -> StoreResult<Connection> {
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(conn)
}

/// The writer's connection and the last key version it handed out.
pub(super) struct Writer {
    conn: Connection,
    version: i64,
    /// WAL size reported by the checkpointer (file databases).
    wal_pages: Option<Arc<AtomicI64>>,
}

/// Everything the engine needs for a SQLite database.
pub(super) struct Opened {
    pub writer: Writer,
    /// None for `:memory:` (a single connection: everything runs on the writer).
    pub reads: Option<Arc<dyn Reads>>,
    pub checkpointer: Option<Checkpointer>,
}

pub(super) fn open(location: &Location, sync: Sync, readers: usize) -> StoreResult<Opened> {
    let conn = stable_plans(sqlite::open_writer(location, sync)?)?;
    let version = sqlite::max_version(&conn)?;
    let (reads, checkpointer) = match &location.path {
        Some(path) => {
            let mut idle = Vec::new();
            for _ in 0..readers {
                idle.push(Reader(stable_plans(sqlite::open_reader(path)?)?));
            }
            let path = path.clone();
            let open = Box::new(move || Ok(Reader(stable_plans(sqlite::open_reader(&path)?)?)));
            let reads: Arc<dyn Reads> = Arc::new(Pool::new(idle, open, None, true));
            (
                Some(reads),
                Some(Checkpointer::start(location.path.as_deref().unwrap_or_default())?),
            )
        }
        None => (None, None),
    };
    let wal_pages = checkpointer.as_ref().map(|c| c.wal_size());
    Ok(Opened {
        writer: Writer {
            conn,
            version,
            wal_pages,
        },
        reads,
        checkpointer,
    })
}

impl WriteConn for Writer {
    fn begin(&mut self, _keys: &[&[u8]]) -> StoreResult<()> {
        // One writer: BEGIN IMMEDIATE excludes every other writer already.
        exec_cached(&self.conn, "BEGIN IMMEDIATE")
    }

    fn commit(&mut self) -> StoreResult<()> {
        exec_cached(&self.conn, "COMMIT")
    }

    fn rollback(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    fn with_store<R>(&mut self, now: i64, f: impl FnOnce(&mut dyn Store) -> R) -> R {
        f(&mut SqliteStore::writer(&self.conn, now, &mut self.version))
    }

    fn after_commit(&mut self) {
        if self
            .wal_pages
            .as_deref()
            .is_some_and(Checkpointer::writer_should_checkpoint)
        {
            // Short: the checkpointer thread has copied most pages already.
            let _ = self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
    }

    fn close(&mut self) {
        // Clean shutdown: the next open starts without scanning for the
        // largest version (see sqlite::max_version), and the WAL is folded
        // into the main database file.
        if let Err(e) = sqlite::save_version(&self.conn, self.version) {
            crate::log::warn(&format!("cannot save the key version counter: {e}"));
        }
        let _ = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    }
}

/// A read-only connection to a file database (WAL: a snapshot per transaction).
struct Reader(Connection);

impl ReadConn for Reader {
    fn read<R>(&mut self, now: i64, snapshot: bool, f: impl FnOnce(&mut dyn Store) -> R) -> StoreResult<R> {
        if snapshot {
            exec_cached(&self.0, "BEGIN")?;
        }
        let out = f(&mut SqliteStore::reader(&self.0, now));
        if snapshot {
            let _ = exec_cached(&self.0, "COMMIT");
        }
        Ok(out)
    }
}
