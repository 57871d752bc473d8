//! What the engine needs from a backend's connections, and the read pool.
//!
//! The group-commit writer ([`super::writer`]) and the read path are written
//! once against these traits; each backend adapts its connections to them
//! (`backend/sqlite/engine.rs`, `backend/postgres/engine.rs`). Everything that differs
//! between backends — how a transaction starts, what a failure means, how a
//! lost connection comes back — is answered here, so the engine's logic is
//! shared.

use super::{Batch, Outcome, run_calls};
use crate::commands::Handler;
use crate::store::{Store, StoreError, StoreResult};
use crate::util::now_ms;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use tokio::sync::oneshot;

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
    /// [`WriteConn::begin`] for a batch whose commands start in the databases
    /// `dbs` (a backend may read the keys' rows ahead there).
    fn begin_in(&mut self, dbs: &[u32], keys: &[&[u8]]) -> StoreResult<()> {
        let _ = dbs;
        self.begin(keys)
    }
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
    /// Ends a read transaction the connection keeps open between batches, if
    /// any (SQLite keeps one while nothing was committed since it began; see
    /// `backend/sqlite/engine.rs`). Called on idle connections after every commit.
    fn release(&mut self) {}

    /// Runs `batches` together (see [`Combined`]), each with the outcome it
    /// would have had alone.
    fn read_together(&mut self, now: i64, batches: &[&Batch], databases: u32) -> StoreResult<Vec<Outcome>> {
        batches
            .iter()
            .map(|b| self.read(now, b.calls.len() > 1, |store| run_calls(b, databases, store)))
            .collect()
    }
}

/// The engine's read path, whatever the backend.
pub(crate) trait Reads: Send + Sync {
    fn run(&self, batch: &Batch, databases: u32) -> Outcome;
    /// Queues a batch for the read threads, if the backend has them and the
    /// batch suits them (see [`Combined`]); gives it back otherwise.
    fn submit(&self, batch: Batch, databases: u32) -> Result<oneshot::Receiver<Outcome>, Batch> {
        let _ = databases;
        Err(batch)
    }
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

    /// Lets every idle connection end the read transaction it keeps open
    /// ([`ReadConn::release`]): a snapshot older than the last commit would
    /// otherwise keep SQLite from checkpointing the WAL past it until that
    /// connection's next read, which may never come.
    pub(crate) fn release_idle(&self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for conn in &mut st.idle {
            conn.release();
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

/// Most batches run together.
const MAX_COMBINED: usize = 1024;

/// The read side of group commit: a few read threads, each taking every
/// batch waiting in a shared queue and running them together on one pooled
/// connection ([`ReadConn::read_together`]: PostgreSQL reads all their keys
/// in one statement). A burst of reads from many clients costs a round trip
/// or two, not one or more each, and a client's read costs one handoff to a
/// read thread and one back.
///
/// Only batches of fast commands are queued (a slow one, such as KEYS over a
/// big database, would hold the others up; those run on the pool as
/// before), and each batch still gets exactly the replies it would get
/// alone: batches are only combined when they wait at the same time, so none
/// of them can depend on another.
pub(crate) struct Combined<C> {
    pool: Arc<Pool<C>>,
    queue: Mutex<Sender<ReadJob>>,
}

/// A batch waiting for a read thread.
struct ReadJob {
    batch: Batch,
    databases: u32,
    done: oneshot::Sender<Outcome>,
}

impl<C: ReadConn> Combined<C> {
    /// Starts `threads` read threads over `pool`. They end when this is dropped.
    pub(crate) fn start(pool: Pool<C>, threads: usize) -> StoreResult<Combined<C>> {
        let pool = Arc::new(pool);
        let (tx, rx) = std::sync::mpsc::channel::<ReadJob>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let (pool, rx) = (pool.clone(), rx.clone());
            std::thread::Builder::new()
                .name(format!("redsql-reader-{i}"))
                .stack_size(super::COMMAND_STACK)
                .spawn(move || read_thread(&pool, &rx))
                .map_err(|e| StoreError(format!("cannot start a read thread: {e}")))?;
        }
        Ok(Combined {
            pool,
            queue: Mutex::new(tx),
        })
    }
}

/// A read thread: takes the first waiting batch and every one behind it,
/// runs them together, answers each.
fn read_thread<C: ReadConn>(pool: &Pool<C>, rx: &Mutex<Receiver<ReadJob>>) {
    loop {
        let jobs = {
            let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
            let Ok(first) = rx.recv() else { return };
            let mut jobs = vec![first];
            while jobs.len() < MAX_COMBINED {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            jobs
        };
        let databases = jobs[0].databases;
        let batches: Vec<&Batch> = jobs.iter().map(|j| &j.batch).collect();
        let outcomes = pool.run_together(&batches, databases);
        for (job, out) in jobs.into_iter().zip(outcomes) {
            let _ = job.done.send(out);
        }
    }
}

impl<C: ReadConn> Pool<C> {
    /// Runs `batches` together on one connection; if that fails (a lost
    /// connection, say), each runs alone, with the usual retry.
    fn run_together(&self, batches: &[&Batch], databases: u32) -> Vec<Outcome> {
        if let Ok(mut conn) = self.take() {
            let out = conn.read_together(now_ms(), batches, databases);
            let broken = conn.broken();
            self.give_back(conn);
            if let Ok(outcomes) = out
                && !broken
                && outcomes.len() == batches.len()
            {
                return outcomes;
            }
        }
        batches.iter().map(|b| self.run(b, databases)).collect()
    }
}

impl<C: ReadConn> Reads for Combined<C> {
    fn run(&self, batch: &Batch, databases: u32) -> Outcome {
        self.pool.run(batch, databases)
    }

    fn submit(&self, batch: Batch, databases: u32) -> Result<oneshot::Receiver<Outcome>, Batch> {
        if !combinable(&batch) {
            return Err(batch);
        }
        let (done, rx) = oneshot::channel();
        let job = ReadJob { batch, databases, done };
        match self.queue.lock().unwrap_or_else(|e| e.into_inner()).send(job) {
            Ok(()) => Ok(rx),
            Err(e) => Err(e.0.batch),
        }
    }

    fn inline(&self) -> bool {
        self.pool.inline()
    }
}

/// True for a batch of fast commands only (see [`Combined`]).
fn combinable(batch: &Batch) -> bool {
    batch
        .calls
        .iter()
        .all(|c| c.cmd.fast || !matches!(c.cmd.spec.handler, Handler::Read(_)))
}
