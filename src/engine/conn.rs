//! What the engine needs from a backend's connections, and the read pool.
//!
//! The group-commit writer ([`super::writer`]) and the read path are written
//! once against these traits; each backend adapts its connections to them
//! (`engine/sqlite.rs`, `engine/postgres.rs`). Everything that differs
//! between backends — how a transaction starts, what a failure means, how a
//! lost connection comes back — is answered here, so the engine's logic is
//! shared.

use super::{Batch, Outcome, run_calls};
use crate::store::{Store, StoreError, StoreResult};
use crate::util::now_ms;
use std::sync::{Condvar, Mutex};

/// What a failed transaction means for the jobs in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Another client (possibly another redsql) won a race: serialization
    /// failure, deadlock, or a key created concurrently. Nothing was applied;
    /// running the same jobs again is correct and will make progress.
    Retry,
    /// The connection to the database is gone. Nothing after the last commit
    /// was applied; the connection must be re-established.
    Lost,
    /// Anything else: the jobs are retried one by one to isolate the culprit.
    Other,
}

/// The writer's connection: transactions, a [`Store`] per batch, and recovery.
pub(crate) trait WriteConn: Send + 'static {
    /// Whether [`WriteConn::begin`] uses the keys (else the writer does not
    /// spend time collecting them).
    const LOCKS_KEYS: bool = false;

    /// Starts a write transaction that will touch (at most) `keys`. A backend
    /// shared by several processes locks them here, all at once and in a
    /// global order, so that two transactions never wait on each other in
    /// opposite orders (no deadlocks). Commands whose keys are not declared
    /// are still correct through row locks and retries, only slower.
    fn begin(&mut self, keys: &[&[u8]]) -> StoreResult<()>;
    fn commit(&mut self) -> StoreResult<()>;
    /// Abandons the transaction (best effort: a lost connection has none).
    fn rollback(&mut self);
    /// Runs `f` with a store writing inside the current transaction, its clock at `now`.
    fn with_store<R>(&mut self, now: i64, f: impl FnOnce(&mut dyn Store) -> R) -> R;
    /// Classifies the failure that just happened (called right after an error).
    fn fault(&mut self) -> Fault {
        Fault::Other
    }
    /// Makes sure the connection is usable, re-establishing it if it was lost.
    fn ensure_connected(&mut self) -> StoreResult<()> {
        Ok(())
    }
    /// Housekeeping between batches (SQLite: completing a WAL checkpoint).
    fn after_commit(&mut self) {}
    /// Clean shutdown, after the last commit.
    fn close(&mut self) {}
}

/// A read connection: runs read-only batches.
pub(crate) trait ReadConn: Send + 'static {
    /// Runs `f` with a read-only store; when `snapshot` is set, every call in
    /// it sees the same consistent state (one read transaction).
    fn read<R>(&mut self, now: i64, snapshot: bool, f: impl FnOnce(&mut dyn Store) -> R) -> StoreResult<R>;
    /// True when the connection is unusable and must not go back to the pool.
    fn broken(&self) -> bool {
        false
    }
}

/// The engine's read path, whatever the backend.
pub(crate) trait Reads: Send + Sync {
    fn run(&self, batch: &Batch, databases: u32) -> Outcome;
    /// True when reads are cheap enough and async-safe to run inline on a
    /// connection's task; otherwise every read runs on a blocking thread.
    fn inline(&self) -> bool;
}

/// Opens a new read connection.
pub(crate) type Opener<C> = Box<dyn Fn() -> StoreResult<C> + Send + Sync>;

/// A pool of read connections. Connections are opened on demand; with a
/// `max`, callers wait for a free one once that many are open.
pub(crate) struct Pool<C> {
    state: Mutex<PoolState<C>>,
    freed: Condvar,
    open: Opener<C>,
    max: Option<usize>,
    inline: bool,
}

struct PoolState<C> {
    idle: Vec<C>,
    /// Connections in existence (idle or lent).
    count: usize,
}

impl<C: ReadConn> Pool<C> {
    pub(crate) fn new(idle: Vec<C>, open: Opener<C>, max: Option<usize>, inline: bool) -> Pool<C> {
        let count = idle.len();
        Pool {
            state: Mutex::new(PoolState { idle, count }),
            freed: Condvar::new(),
            open,
            max,
            inline,
        }
    }

    fn take(&self) -> StoreResult<C> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(c) = st.idle.pop() {
                return Ok(c);
            }
            if self.max.is_none_or(|m| st.count < m) {
                st.count += 1;
                drop(st);
                let opened = (self.open)();
                if opened.is_err() {
                    self.forget();
                }
                return opened;
            }
            st = self.freed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn give_back(&self, conn: C) {
        if conn.broken() {
            // What broke one connection (a database restart, say) has most
            // likely broken the idle ones too: open fresh ones from now on.
            let stale = {
                let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let stale = std::mem::take(&mut st.idle);
                st.count -= stale.len() + 1;
                stale
            };
            drop((conn, stale));
            self.freed.notify_all();
            return;
        }
        self.state.lock().unwrap_or_else(|e| e.into_inner()).idle.push(conn);
        if self.max.is_some() {
            // Only a bounded pool has callers waiting (and waking is a system call).
            self.freed.notify_one();
        }
    }

    /// A lent connection was dropped (or failed to open).
    fn forget(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).count -= 1;
        self.freed.notify_one();
    }

    fn attempt(&self, batch: &Batch, databases: u32) -> Result<Outcome, (StoreError, bool)> {
        let mut conn = self.take().map_err(|e| (e, false))?;
        let snapshot = batch.calls.len() > 1;
        let out = conn.read(now_ms(), snapshot, |store| run_calls(batch, databases, store));
        let broken = conn.broken();
        self.give_back(conn);
        match out {
            Ok(o) if !broken => Ok(o),
            Ok(_) => Err((StoreError("connection to the database lost".into()), true)),
            Err(e) => Err((e, broken)),
        }
    }
}

impl<C: ReadConn> Reads for Pool<C> {
    fn run(&self, batch: &Batch, databases: u32) -> Outcome {
        // Reads have no effect, so one that met a dead connection simply runs
        // again on a fresh one (after a database restart, say).
        let mut result = self.attempt(batch, databases);
        if let Err((_, true)) = result {
            result = self.attempt(batch, databases);
        }
        match result {
            Ok(o) => o,
            Err((e, _)) => super::storage_error(batch, &e),
        }
    }

    fn inline(&self) -> bool {
        self.inline
    }
}
