//! What the engine needs from a backend's connections, and the read pool.
//!
//! The group-commit writer ([`super::writer`]) and the read path are written
//! once against these traits; each backend adapts its connections to them
//! (`engine/sqlite.rs`, `engine/postgres.rs`). Everything that differs
//! between backends — how a transaction starts, what a failure means, how a
//! lost connection comes back — is answered here, so the engine's logic is
//! shared.

use super::{Batch, Outcome, run_calls};
use crate::commands::Handler;
use crate::store::{Store, StoreError, StoreResult};
use crate::util::now_ms;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};

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

    /// Whether the pool should run batches that wait at the same time
    /// together, with [`ReadConn::read_together`].
    const COMBINES: bool = false;

    /// Runs `batches` together (see [`Combine`]), each with the outcome it
    /// would have had alone; their order does not matter.
    fn read_together(&mut self, now: i64, batches: &[Arc<Batch>], databases: u32) -> StoreResult<Vec<Outcome>> {
        batches
            .iter()
            .map(|b| self.read(now, b.calls.len() > 1, |store| run_calls(b, databases, store)))
            .collect()
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
    /// The batches waiting to run together (connections that combine).
    combine: Combine,
}

/// Most batches run together.
const MAX_COMBINED: usize = 512;

/// The read side of group commit (flat combining): a batch waits in a queue;
/// the thread that gets a free connection takes every waiting batch and runs
/// them together ([`ReadConn::read_together`]: PostgreSQL reads all their
/// keys in one statement), then hands each its outcome. A burst of reads
/// from many clients costs a few round trips, not one (or more) each.
///
/// Only batches of fast commands are combined (a slow one, such as KEYS over
/// a big database, would hold up the others), and each batch still gets
/// exactly the replies it would get alone: batches are only combined when
/// they wait at the same time, so none of them can depend on another.
#[derive(Default)]
struct Combine {
    state: Mutex<CombineState>,
    /// Signalled when outcomes are ready or a connection was given back.
    changed: Condvar,
    /// Most threads running combined batches at once (0: as many as there
    /// are connections). Fewer leaders make bigger groups.
    max_leaders: usize,
}

impl Combine {
    /// Claims a place as a leader; false when all are taken.
    fn lead(&self) -> bool {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if self.max_leaders > 0 && st.leaders >= self.max_leaders {
            return false;
        }
        st.leaders += 1;
        true
    }

    /// Gives a leader's place back (waking the waiting threads).
    fn unlead(&self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.leaders -= 1;
        st.returns += 1;
        drop(st);
        self.changed.notify_all();
    }
}

#[derive(Default)]
struct CombineState {
    waiting: Vec<(u64, Arc<Batch>)>,
    done: HashMap<u64, Outcome>,
    next_ticket: u64,
    /// Counts the connections and leaders' places given back, so that a
    /// thread that found none free knows whether one was freed since.
    returns: u64,
    /// Threads running combined batches now.
    leaders: usize,
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
            combine: Combine::default(),
        }
    }

    /// Lets at most `n` threads at a time run combined batches (see [`Combine`]).
    pub(crate) fn with_leaders(mut self, n: usize) -> Self {
        self.combine.max_leaders = n;
        self
    }

    /// A connection if one is idle or may be opened, without waiting.
    fn try_take(&self) -> Option<StoreResult<C>> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = st.idle.pop() {
            return Some(Ok(c));
        }
        if self.max.is_none_or(|m| st.count < m) {
            st.count += 1;
            drop(st);
            let opened = (self.open)();
            if opened.is_err() {
                self.forget();
            }
            return Some(opened);
        }
        None
    }

    /// Runs `batch` together with the others waiting at the same time (see [`Combine`]).
    fn run_combined(&self, batch: &Batch, databases: u32) -> Outcome {
        let shared = Arc::new(Batch {
            db: batch.db,
            proto: batch.proto,
            calls: batch.calls.clone(),
        });
        let ticket = {
            let mut st = self.combine.state.lock().unwrap_or_else(|e| e.into_inner());
            st.next_ticket += 1;
            let ticket = st.next_ticket;
            st.waiting.push((ticket, shared));
            ticket
        };
        loop {
            let returns = {
                let mut st = self.combine.state.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(out) = st.done.remove(&ticket) {
                    return out;
                }
                st.returns
            };
            let leading = self.combine.lead();
            let taken = if leading { self.try_take() } else { None };
            if leading && !matches!(taken, Some(Ok(_))) {
                self.combine.unlead();
            }
            match taken {
                Some(Ok(conn)) => self.lead(conn, databases),
                Some(Err(e)) => {
                    // No connection to be had: fail this batch if nobody took it yet.
                    let mut st = self.combine.state.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(i) = st.waiting.iter().position(|(t, _)| *t == ticket) {
                        st.waiting.remove(i);
                        return super::storage_error(batch, &e);
                    }
                }
                None => {
                    let mut st = self.combine.state.lock().unwrap_or_else(|e| e.into_inner());
                    while !st.done.contains_key(&ticket) && st.returns == returns {
                        st = self.combine.changed.wait(st).unwrap_or_else(|e| e.into_inner());
                    }
                }
            }
        }
    }

    /// Runs every waiting batch on `conn`, hands out the outcomes, gives the
    /// connection back.
    fn lead(&self, mut conn: C, databases: u32) {
        let group: Vec<(u64, Arc<Batch>)> = {
            let mut st = self.combine.state.lock().unwrap_or_else(|e| e.into_inner());
            let n = st.waiting.len().min(MAX_COMBINED);
            st.waiting.drain(..n).collect()
        };
        let outcomes = if group.is_empty() {
            None
        } else {
            let batches: Vec<Arc<Batch>> = group.iter().map(|(_, b)| b.clone()).collect();
            conn.read_together(now_ms(), &batches, databases)
                .ok()
                .filter(|o| o.len() == group.len() && !conn.broken())
        };
        self.combine.unlead();
        self.give_back(conn);
        let outcomes = match outcomes {
            Some(o) => o,
            // A failure (a lost connection, say): each batch runs alone,
            // with the usual retry on a fresh connection.
            None => group.iter().map(|(_, b)| self.run_alone(b, databases)).collect(),
        };
        let mut st = self.combine.state.lock().unwrap_or_else(|e| e.into_inner());
        for ((ticket, _), out) in group.into_iter().zip(outcomes) {
            st.done.insert(ticket, out);
        }
        drop(st);
        self.combine.changed.notify_all();
    }

    /// Runs a batch on a connection of its own.
    fn run_alone(&self, batch: &Batch, databases: u32) -> Outcome {
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
        self.tell_combiners();
    }

    /// A lent connection was dropped (or failed to open).
    fn forget(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).count -= 1;
        self.freed.notify_one();
        self.tell_combiners();
    }

    /// Wakes the batches waiting to be combined: a connection is free.
    fn tell_combiners(&self) {
        if C::COMBINES {
            self.combine.state.lock().unwrap_or_else(|e| e.into_inner()).returns += 1;
            self.combine.changed.notify_all();
        }
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
        if C::COMBINES && combinable(batch) {
            self.run_combined(batch, databases)
        } else {
            self.run_alone(batch, databases)
        }
    }

    fn inline(&self) -> bool {
        self.inline
    }
}

/// True for a batch of fast commands only (see [`Combine`]).
fn combinable(batch: &Batch) -> bool {
    batch
        .calls
        .iter()
        .all(|c| c.cmd.fast || !matches!(c.cmd.handler, Handler::Read(_)))
}
