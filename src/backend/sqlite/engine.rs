//! The engine over SQLite: one writer connection (WAL, background
//! checkpoints), a pool of read-only connections, or a single connection for
//! `:memory:` ([`SqliteBackend`]).

use super::checkpoint::Checkpointer;
use crate::backend::sqlite::cache::ReadCache;
use crate::backend::sqlite::conn::Conn;
use crate::backend::sqlite::{self, Durability, Location, SqliteStore};
use crate::engine::EngineOptions;
use crate::engine::backend::{Backend, CacheFigures, CacheStats, Opened as Started, Start};
use crate::engine::conn::{Pool, ReadConn, Reads, WriteConn};
use crate::store::{Store, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Longest the start-up integrity check may take (`sqlite::check_integrity`).
const INTEGRITY_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

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
pub(crate) struct Writer {
    conn: Conn,
    version: i64,
    /// The version ceiling committed (see `sqlite::max_version`): `version`
    /// may pass it only in a transaction that raises it. 0: unknown (after a
    /// rollback), raised at the next commit.
    ceiling: i64,
    /// WAL size reported by the checkpointer (file databases).
    wal_pages: Option<Arc<AtomicI64>>,
    /// Commits so far, counted after each COMMIT (see [`Reader`]).
    commits: Arc<AtomicU64>,
    /// The read connections, told after each commit to end their snapshots.
    readers: Option<Arc<Pool<Reader>>>,
    /// The read connections' cache, told before each commit what changes.
    cache: Option<Arc<ReadCache>>,
    /// File databases: this process's claim on the file (see `lock`),
    /// released after the connection closes (fields drop in order).
    _lock: Option<super::lock::FileLock>,
}

/// Everything the engine needs for a SQLite database.
pub(crate) struct Opened {
    pub writer: Writer,
    /// None for `:memory:` (a single connection: everything runs on the writer).
    pub reads: Option<Arc<dyn Reads>>,
    pub checkpointer: Option<Checkpointer>,
    /// The read connections' cache of string keys, if there is one.
    pub cache: Option<Arc<ReadCache>>,
}

/// A SQLite database: a file, or `:memory:`.
pub(crate) struct SqliteBackend {
    pub location: Location,
}

impl Backend for SqliteBackend {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn open(self: Box<Self>, opts: &EngineOptions, start: &mut Start) -> StoreResult<Started> {
        let opened = open(&self.location, opts.durability, opts.readers, opts.read_cache)?;
        start.writer(opened.writer, true)?;
        Ok(Started {
            reads: opened.reads,
            background: opened.checkpointer.map(|c| Box::new(c) as _),
            cache: opened.cache.map(|c| c as Arc<dyn CacheFigures>),
            ..Started::default()
        })
    }
}

impl CacheFigures for ReadCache {
    fn stats(&self) -> CacheStats {
        ReadCache::stats(self)
    }
}

/// Opens a database with `readers` read connections kept open and a read
/// cache of `cache_bytes` (file databases; 0: none).
pub(crate) fn open(location: &Location, sync: Durability, readers: usize, cache_bytes: usize) -> StoreResult<Opened> {
    let lock = match &location.path {
        Some(path) => Some(super::lock::FileLock::acquire(path)?),
        None => None,
    };
    let conn = Conn::new(stable_plans(sqlite::open_writer(location, sync)?)?);
    if let Some(path) = &location.path {
        sqlite::check_integrity(&conn, path, INTEGRITY_BUDGET)?;
    }
    let version = sqlite::max_version(&conn)?;
    let ceiling = sqlite::raise_version_ceiling(&conn, version)?;
    let commits = Arc::new(AtomicU64::new(0));
    let cache = (location.path.is_some() && cache_bytes > 0).then(|| Arc::new(ReadCache::new(cache_bytes)));
    if cache.is_some() {
        conn.record_changes();
    }
    let (readers, checkpointer) = match &location.path {
        Some(path) => {
            let mut idle = Vec::new();
            for _ in 0..readers {
                idle.push(Reader::open(path, &commits, &cache)?);
            }
            let (path, commits, c) = (path.clone(), commits.clone(), cache.clone());
            let open = Box::new(move || Reader::open(&path, &commits, &c));
            (
                Some(Arc::new(Pool::new(idle, open, None, true))),
                Some(Checkpointer::start(location.path.as_deref().unwrap_or_default())?),
            )
        }
        None => (None, None),
    };
    let wal_pages = checkpointer.as_ref().map(|c| c.wal_size());
    Ok(Opened {
        reads: readers.clone().map(|p| p as Arc<dyn Reads>),
        cache: cache.clone(),
        writer: Writer {
            conn,
            version,
            ceiling,
            wal_pages,
            commits,
            readers,
            cache,
            _lock: lock,
        },
        checkpointer,
    })
}

impl WriteConn for Writer {
    fn begin(&mut self, _keys: &[&[u8]]) -> StoreResult<()> {
        if sqlite::corruption_seen() {
            return Err(StoreError(
                "the database file is damaged: writes are refused (see the log)".into(),
            ));
        }
        // One writer: BEGIN IMMEDIATE excludes every other writer already.
        exec_cached(&self.conn, "BEGIN IMMEDIATE")
    }

    fn commit(&mut self) -> StoreResult<()> {
        sqlite::counts::write(&self.conn)?;
        if self.version >= self.ceiling {
            // In this transaction: durable together with the versions under it.
            self.ceiling = sqlite::raise_version_ceiling(&self.conn, self.version)?;
        }
        // Before any snapshot can hold the commit: the cached keys it changes
        // go, and no read of an older snapshot may cache them again.
        if let Some(cache) = &self.cache {
            cache.invalidate(&self.conn.changed, self.commits.load(Ordering::Relaxed) + 1);
        }
        exec_cached(&self.conn, "COMMIT")?;
        // Before any client hears of the commit: a read that starts after
        // its reply sees the new count and takes a fresh snapshot.
        self.commits.fetch_add(1, Ordering::Release);
        Ok(())
    }

    fn rollback(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
        // A ceiling raised in the transaction is gone with it, and so are its keys.
        self.ceiling = 0;
        self.conn.created.discard();
    }

    fn with_store<R>(&mut self, now: i64, f: impl FnOnce(&mut dyn Store) -> R) -> R {
        f(&mut SqliteStore::writer(&self.conn, now, &mut self.version))
    }

    fn after_commit(&mut self) {
        if let Some(readers) = &self.readers {
            readers.release_idle();
        }
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
        // into the main database file (which no reader's snapshot may hold back).
        if let Some(readers) = &self.readers {
            readers.release_idle();
        }
        if let Err(e) = sqlite::save_version(&self.conn, self.version) {
            crate::log::warn(&format!("cannot save the key version counter: {e}"));
        }
        let _ = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    }
}

/// A read-only connection to a file database (WAL: a snapshot per transaction).
///
/// It keeps its read transaction open from one batch to the next while the
/// writer has committed nothing since it began: a GET then costs its one
/// statement, not also a transaction's start and end (~2k instructions and
/// two `fcntl` calls on the shared-memory locks). The writer counts its
/// commits before replying, so a read that follows a client's acknowledged
/// write sees a new count and starts a fresh snapshot, and after each commit
/// it tells idle readers to end theirs (`Pool::release_idle`), so none holds
/// the WAL back. (A write made by another process outside redsql is seen
/// after redsql's next commit.)
struct Reader {
    conn: Conn,
    /// The writer's commit counter.
    commits: Arc<AtomicU64>,
    /// The count when the open read transaction began, if one is open.
    held: Option<u64>,
    cache: Option<Arc<ReadCache>>,
}

impl Reader {
    fn open(path: &str, commits: &Arc<AtomicU64>, cache: &Option<Arc<ReadCache>>) -> StoreResult<Reader> {
        Ok(Reader {
            conn: Conn::new(stable_plans(sqlite::open_reader(path)?)?),
            commits: commits.clone(),
            held: None,
            cache: cache.clone(),
        })
    }
}

impl ReadConn for Reader {
    fn read<R>(&mut self, now: i64, _snapshot: bool, f: impl FnOnce(&mut dyn Store) -> R) -> StoreResult<R> {
        // Every batch runs in a read transaction, so one of several calls
        // sees one snapshot too.
        let commits = self.commits.load(Ordering::Acquire);
        if self.held != Some(commits) {
            self.release();
            // Counted before the snapshot is taken (at the first read): the
            // snapshot holds at least those commits.
            exec_cached(&self.conn, "BEGIN")?;
            self.held = Some(commits);
            if self.cache.is_some() {
                // SQLite takes a transaction's snapshot at its first read.
                // Taken now, before any answer from the cache: a cached
                // value holds from its commit until the key's next change,
                // so it is the snapshot's value only if the snapshot is no
                // later than the moment it is read. Otherwise an MGET could
                // take one key from the cache, and then, after a commit,
                // the other from a snapshot that includes the commit.
                self.conn
                    .cached("SELECT 1 FROM rcount LIMIT 1")?
                    .query_row([], |_| Ok(()))
                    .optional()?;
            }
        }
        let out = match (&self.cache, self.held) {
            (Some(cache), Some(held)) => f(&mut SqliteStore::cached_reader(&self.conn, now, cache, held)),
            _ => f(&mut SqliteStore::reader(&self.conn, now)),
        };
        if self.conn.is_autocommit() {
            // An error rolled the transaction back.
            self.held = None;
        }
        Ok(out)
    }

    fn release(&mut self) {
        if self.held.take().is_some() {
            let _ = exec_cached(&self.conn, "COMMIT");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::db::Db;
    use crate::resp::Reply;
    use std::path::PathBuf;

    fn scratch(tag: &str) -> PathBuf {
        crate::util::scratch_dir(&format!("engine-{tag}"))
    }

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec().into())
    }

    /// The snapshot a reader keeps between reads never hides a write that
    /// was acknowledged before the read began.
    #[test]
    fn reads_see_every_acknowledged_write() {
        let dir = scratch("ryw");
        let db = Db::open(dir.join("db").to_str().unwrap()).unwrap();
        for i in 0..300 {
            let v = i.to_string();
            db.command(&["SET", "k", &v]).unwrap();
            assert_eq!(db.command(&["GET", "k"]).unwrap(), bulk(&v));
            assert_eq!(db.command(&["GET", "k"]).unwrap(), bulk(&v));
        }
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A reader that read once and then sat idle while others wrote must not
    /// keep the WAL from being checkpointed and restarted: its snapshot is
    /// released after the next commit.
    #[test]
    fn an_idle_reader_does_not_hold_the_wal_back() {
        let dir = scratch("wal");
        let path = dir.join("db");
        let db = Db::open(path.to_str().unwrap()).unwrap();
        db.command(&["SET", "k", "v"]).unwrap();
        db.command(&["GET", "k"]).unwrap();
        let value = "x".repeat(4000);
        // 10 rounds of ~0.8 MB written, each followed by a checkpoint.
        for round in 0..10 {
            for i in 0..200 {
                db.command(&["SET", &format!("k{round}:{i}"), &value]).unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        db.command(&["SET", "k", "w"]).unwrap();
        // The rounds write ~22 MB of WAL in all. Restarted after each
        // round's checkpoint, the WAL peaks at one round (~2.2 MB); a held
        // snapshot lets it grow by every round (it reached 34 MB before the
        // release existed). The bound allows a checkpointer delayed a few
        // rounds on a loaded machine (CI once saw 6.5 MB).
        let wal = std::fs::metadata(dir.join("db-wal")).map(|m| m.len()).unwrap_or(0);
        assert!(wal < 10 << 20, "the WAL grew to {wal} bytes");
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[cfg(test)]
mod writer_tests {
    use super::{Durability, Location, Writer, open};
    use crate::engine::conn::WriteConn;
    use crate::engine::writer::commit_jobs;
    use crate::engine::{Batch, Call, Hooks, Job, Outcome};
    use crate::resp::Reply;
    use crate::store::Store;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The writer's fault handling, on a real SQLite writer whose `with_store` panics on the calls listed.
    struct Panicky {
        inner: Writer,
        calls: Arc<AtomicUsize>,
        panic_on: Vec<usize>,
    }

    impl WriteConn for Panicky {
        fn begin(&mut self, keys: &[&[u8]]) -> crate::store::StoreResult<()> {
            self.inner.begin(keys)
        }
        fn commit(&mut self) -> crate::store::StoreResult<()> {
            self.inner.commit()
        }
        fn rollback(&mut self) {
            self.inner.rollback()
        }
        fn with_store<R>(&mut self, now: i64, f: impl FnOnce(&mut dyn Store) -> R) -> R {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            if self.panic_on.contains(&n) {
                panic!("test panic on call {n}");
            }
            self.inner.with_store(now, f)
        }
    }

    fn job(args: &[&str]) -> (Job, tokio::sync::oneshot::Receiver<Outcome>) {
        let args: Vec<bytes::Bytes> = args
            .iter()
            .map(|a| bytes::Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        let cmd = crate::commands::lookup(&args[0]).unwrap();
        let (done, rx) = tokio::sync::oneshot::channel();
        let batch = Batch {
            db: 0,
            proto: 2,
            calls: vec![Call { cmd, args }],
            keys_restricted: false,
            acl: None,
        };
        (Job::batch(batch, Vec::new(), done), rx)
    }

    /// A panicking job gets an error reply; the other job of its batch still
    /// commits, and the writer keeps working.
    #[test]
    fn a_panic_fails_only_its_own_job() {
        let opened = open(&Location::parse(":memory:"), Durability::Normal, 1, 0).unwrap();
        // Calls: 1 = the batch's first job (panics), then one by one:
        // 2 = the first job again (panics), 3 = the second job.
        let mut conn = Panicky {
            inner: opened.writer,
            calls: Arc::new(AtomicUsize::new(0)),
            panic_on: vec![1, 2],
        };
        let hooks = Hooks::default();
        let (a, mut ra) = job(&["set", "a", "1"]);
        let (b, mut rb) = job(&["set", "b", "2"]);
        commit_jobs(&mut conn, vec![a, b], 16, &hooks);
        let out_a = ra.try_recv().unwrap();
        assert!(matches!(&out_a.replies[0], Reply::Error(e) if e.starts_with(b"ERR storage error: internal error")));
        let out_b = rb.try_recv().unwrap();
        assert_eq!(out_b.replies, vec![Reply::ok()]);
        // The writer still runs batches, and b was committed.
        let (c, mut rc) = job(&["get", "b"]);
        commit_jobs(&mut conn, vec![c], 16, &hooks);
        assert_eq!(
            rc.try_recv().unwrap().replies,
            vec![Reply::Bulk(bytes::Bytes::from_static(b"2"))]
        );
    }
}
