//! The writer thread: group commit of every pending job, retries, and the expiry sweeper.
//!
//! Written once for every backend against [`WriteConn`].

use super::conn::{Fault, WriteConn};
use super::tx::{Ran, Tx, TxValue};
use super::{Commit, CommitObserver, Committed, Done, Hooks, Job, Msg, Outcome, Reported, Work, call, watch_holds};
use crate::commands::spec::Cost;
use crate::commands::{Class, Classes, CmdError, Ctx, Event, Handler};
use crate::store::{Store, StoreError};
use crate::util::now_ms;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most jobs committed in one transaction.
const MAX_JOBS: usize = 4096;
/// How often expired keys are swept when the writer is idle or between batches.
const SWEEP_EVERY: Duration = Duration::from_millis(100);
/// Keys deleted per sweep transaction.
const SWEEP_LIMIT: usize = 500;
/// Longest a sweep may hold up the writer.
const SWEEP_BUDGET: Duration = Duration::from_millis(5);
/// How many times a transaction that lost a race ([`Fault::Retry`]) runs again
/// before its clients get the error.
const MAX_RETRIES: u32 = 100;

/// The queue the writers take jobs from. Several writers (PostgreSQL) share
/// it: each takes the first waiting job and every job behind it, and runs
/// them as one transaction while the next writer gathers the following ones.
pub(super) type Queue = Arc<Mutex<Receiver<Msg>>>;

/// Waits for the next batch: the first job and every job already waiting
/// behind it; `stop` is set when a Stop message was taken.
fn next_batch(queue: &Queue, stop: &mut bool) -> Result<Vec<Job>, RecvTimeoutError> {
    let rx = queue.lock().unwrap_or_else(|e| e.into_inner());
    let mut jobs = match rx.recv_timeout(SWEEP_EVERY)? {
        Msg::Job(first) => vec![first],
        Msg::Stop => {
            *stop = true;
            return Ok(Vec::new());
        }
    };
    while jobs.len() < MAX_JOBS {
        match rx.try_recv() {
            Ok(Msg::Job(j)) => jobs.push(j),
            Ok(Msg::Stop) => {
                *stop = true;
                break;
            }
            Err(_) => break,
        }
    }
    Ok(jobs)
}

/// A writer's state between batches: its connection and when it last swept.
/// Driven either by a thread of its own ([`run`]) or by a task on the
/// server's runtime ([`run_task`]); both run batches the same way.
struct Writer<W: WriteConn> {
    conn: W,
    databases: u32,
    /// Only one writer per process deletes expired keys (plenty).
    sweeps: bool,
    last_sweep: Instant,
    hooks: Arc<Hooks>,
}

/// However the writer ends (a Stop, or its task dropped with its runtime),
/// its connection shuts down cleanly. Nothing is in flight then: a batch runs
/// within one call, and jobs still queued were never acknowledged.
impl<W: WriteConn> Drop for Writer<W> {
    fn drop(&mut self) {
        self.conn.close();
    }
}

impl<W: WriteConn> Writer<W> {
    fn new(conn: W, databases: u32, sweeps: bool, hooks: Arc<Hooks>) -> Self {
        let last_sweep = Instant::now();
        Writer {
            conn,
            databases,
            sweeps,
            last_sweep,
            hooks,
        }
    }

    /// Runs `jobs` as one transaction and answers them.
    fn run_batch(&mut self, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        match self.conn.ensure_connected() {
            Ok(()) => {
                commit_jobs(&mut self.conn, jobs, self.databases, &self.hooks);
                self.conn.after_commit();
            }
            Err(e) => fail_all(jobs, &e),
        }
    }

    /// When the next sweep is due.
    fn next_sweep(&self) -> Instant {
        self.last_sweep + SWEEP_EVERY
    }

    /// Sweeps if this writer's sweep is due and no other writer of the
    /// process swept within [`SWEEP_EVERY`]. Every writer sweeps: a busy one
    /// (or one that keeps losing the queue's lock to the others) must not
    /// hold expiry up.
    fn sweep_if_due(&mut self) {
        if self.sweeps && self.last_sweep.elapsed() >= SWEEP_EVERY {
            self.last_sweep = Instant::now();
            let now = now_ms();
            let last = self.hooks.last_sweep_ms.load(std::sync::atomic::Ordering::Relaxed);
            let claimed = now - last >= SWEEP_EVERY.as_millis() as i64
                && self
                    .hooks
                    .last_sweep_ms
                    .compare_exchange(
                        last,
                        now,
                        std::sync::atomic::Ordering::Relaxed,
                        std::sync::atomic::Ordering::Relaxed,
                    )
                    .is_ok();
            if claimed {
                sweep(&mut self.conn, &self.hooks);
            }
        }
    }
}

/// Runs one writer thread until it takes a Stop. A writer that `sweeps`
/// takes its turn deleting expired keys (see `Writer::sweep_if_due`).
pub(super) fn run<W: WriteConn>(conn: W, queue: Queue, databases: u32, sweeps: bool, hooks: Arc<Hooks>) {
    let mut writer = Writer::new(conn, databases, sweeps, hooks);
    let mut stop = false;
    while !stop {
        match next_batch(&queue, &mut stop) {
            Ok(jobs) => writer.run_batch(jobs),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        writer.sweep_if_due();
    }
}

/// Runs the writer as a task on the (current-thread) runtime that serves the
/// connections, until it takes a Stop or the runtime drops it.
///
/// No thread handoff per batch: a connection task queues its job and the
/// writer task is woken on the same thread. It then yields once, so that
/// every connection with input ready runs first and queues its own job, and
/// commits all of them in one transaction, as Redis writes its AOF once per
/// event-loop iteration. A commit blocks the event loop while it runs, so
/// this suits commits that do not wait for the disk (see `EngineOptions::writer_task`).
pub(super) async fn run_task<W: WriteConn>(
    conn: W,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Msg>,
    databases: u32,
    hooks: Arc<Hooks>,
) {
    let mut writer = Writer::new(conn, databases, true, hooks);
    let mut stop = false;
    while !stop {
        let first = tokio::select! {
            m = rx.recv() => m,
            _ = tokio::time::sleep_until(writer.next_sweep().into()) => {
                writer.sweep_if_due();
                continue;
            }
        };
        let mut jobs = match first {
            Some(Msg::Job(job)) => vec![job],
            Some(Msg::Stop) | None => break,
        };
        tokio::task::yield_now().await;
        while jobs.len() < MAX_JOBS {
            match rx.try_recv() {
                Ok(Msg::Job(job)) => jobs.push(job),
                Ok(Msg::Stop) => {
                    stop = true;
                    break;
                }
                Err(_) => break,
            }
        }
        if jobs.iter().any(|j| j.calls().iter().any(|c| off_the_loop(c.cmd))) {
            // The other clients' reads go on while this batch runs; their
            // writes wait for it, as they would for any transaction.
            let mut moved = writer;
            writer = match super::background::run(move || {
                moved.run_batch(jobs);
                moved
            })
            .await
            {
                Some(w) => w,
                // Only a panic gets here (command panics are caught inside).
                None => return,
            };
        } else {
            writer.run_batch(jobs);
        }
        writer.sweep_if_due();
    }
}

/// Writes that can take seconds on a large database (FLUSHALL and FLUSHDB
/// over millions of keys: their spec's [`Cost::OffTheLoop`]): the writer
/// task runs their batch on a blocking thread instead of the event loop, so
/// that other clients' reads are not held up (Redis itself blocks on a
/// synchronous FLUSHALL).
fn off_the_loop(cmd: &crate::commands::Command) -> bool {
    matches!(cmd.spec.cost, Cost::OffTheLoop)
}

fn fail_all(jobs: Vec<Job>, e: &StoreError) {
    for job in jobs {
        job.fail(e);
    }
}

/// Why a transaction failed: the store, or a closure job that returned an
/// error, which rolls it back.
enum Failure {
    Store(StoreError),
    Aborted(CmdError),
}

/// Runs `jobs` in one transaction and answers them after the commit.
///
/// * A lost race ([`Fault::Retry`]) runs the same transaction again: nothing
///   was applied and no reply was sent, so clients never see it.
/// * A lost connection fails the jobs in flight (their transaction is gone);
///   the next batch reconnects.
/// * Any other storage failure rolls back, and each job is retried in a
///   transaction of its own, so one bad job cannot fail the others.
pub(crate) fn commit_jobs<W: WriteConn>(conn: &mut W, jobs: Vec<Job>, databases: u32, hooks: &Hooks) {
    let mut retries = 0;
    let mut reconnected = false;
    let notify = hooks.notify();
    let collect = hooks.collect(notify);
    let mut jobs = jobs;
    loop {
        let (failure, commit_sent) = match run_in_tx(conn, &mut jobs, databases, collect) {
            Ok(outcomes) => {
                if collect.has(Class::New) {
                    count_creations(&hooks.creations, &outcomes);
                }
                if let Some(observer) = hooks.observer() {
                    tell(observer, &jobs, &outcomes, notify);
                }
                hooks.write_failed.store(false, std::sync::atomic::Ordering::Relaxed);
                for (job, result) in jobs.into_iter().zip(outcomes) {
                    answer(job, result.answer);
                }
                return;
            }
            Err(e) => e,
        };
        let err = match failure {
            Failure::Aborted(e) if jobs.len() == 1 => {
                // Rolled back; the closure's own error is its answer.
                return answer(jobs.pop().unwrap(), Answer::Tx(Err(e)));
            }
            // Another job of the batch must not fail with it: one by one.
            Failure::Aborted(..) => StoreError("a transaction was rolled back".into()),
            Failure::Store(e) => e,
        };
        match conn.fault() {
            Fault::Retry if retries < MAX_RETRIES => {
                retries += 1;
                // Let the transaction that won the race finish first.
                std::thread::sleep(Duration::from_micros(50 * u64::from(retries.min(40))));
                let _ = conn.ensure_connected();
            }
            // The connection died before COMMIT was sent (typically: it was
            // closed while idle, by a database restart): nothing was applied,
            // so the jobs run once more on a new connection.
            Fault::Lost if !commit_sent && !reconnected && conn.ensure_connected().is_ok() => reconnected = true,
            Fault::Lost => {
                hooks.write_failed.store(true, std::sync::atomic::Ordering::Relaxed);
                return fail_all(jobs, &err);
            }
            _ if jobs.len() == 1 => {
                hooks.write_failed.store(true, std::sync::atomic::Ordering::Relaxed);
                return fail_all(jobs, &err);
            }
            _ => {
                // Normally one command's own failure; if it happens under
                // load, every batch costs a transaction per client.
                crate::log::verbose(&format!(
                    "a batch of {} jobs failed ({}); retrying them one by one",
                    jobs.len(),
                    err.0
                ));
                for job in jobs {
                    commit_jobs(conn, vec![job], databases, hooks);
                }
                return;
            }
        }
    }
}

/// Sends a job its answer, after dropping its work (see [`Job`]).
fn answer(job: Job, answer: Answer) {
    let Job { work, done } = job;
    drop(work);
    match (done, answer) {
        (Done::Batch(done), Answer::Batch(out)) => {
            let _ = done.send(out);
        }
        (Done::Tx(done), Answer::Tx(value)) => {
            let _ = done.send(value);
        }
        _ => {}
    }
}

/// Counts, for the WATCHes of missing keys, the keys `outcomes` created.
fn count_creations(creations: &super::watch::Creations, outcomes: &[JobResult]) {
    let writes = outcomes.iter().flat_map(|r| &r.writes).flat_map(|w| &w.events);
    let ran = outcomes.iter().flat_map(|r| &r.ran).flat_map(|r| &r.events);
    for e in writes.chain(ran) {
        if e.class == Class::New {
            creations.created(e.db, &e.key);
        }
    }
}

/// Tells the observer which write commands of `jobs` were just committed,
/// with the keyspace events each reported (of the `notify` classes).
fn tell(observer: &CommitObserver, jobs: &[Job], outcomes: &[JobResult], notify: Classes) {
    let mut committed: Vec<Committed> = Vec::new();
    for (job, result) in jobs.iter().zip(outcomes) {
        if let (Work::Batch { batch, .. }, Answer::Batch(out)) = (&job.work, &result.answer) {
            committed.extend(result.writes.iter().map(|w| Committed {
                db: w.db,
                call: &batch.calls[w.index],
                reply: &out.replies[w.index],
                events: &w.events,
            }));
        }
        committed.extend(result.ran.iter().map(|r| Committed {
            db: r.db,
            call: &r.call,
            reply: &r.reply,
            events: &r.events,
        }));
    }
    if !committed.is_empty() {
        observer(&Commit {
            writes: &committed,
            expired: &[],
            notify,
        });
    }
}

/// A write call a job ran: the database it ran in, its index in the batch,
/// and the keyspace events it reported.
struct Write {
    db: u32,
    index: usize,
    events: Vec<Event>,
}

/// A job's answer: a batch's outcome, or a closure's value.
enum Answer {
    Batch(Outcome),
    Tx(Result<TxValue, CmdError>),
}

/// Each job's answer, with the write calls it ran: a batch's by index, a
/// closure's with their calls and replies.
struct JobResult {
    answer: Answer,
    writes: Vec<Write>,
    ran: Vec<Ran>,
}

/// The key arguments of every command in `jobs`, from the command table's
/// key specs (every argument, to be safe, where the arguments do not fit them).
fn keys_of(jobs: &[Job]) -> Vec<&[u8]> {
    let mut keys = Vec::new();
    for c in jobs.iter().flat_map(|j| j.calls()) {
        match c.cmd.keys(&c.args) {
            Some(positions) => keys.extend(positions.into_iter().map(|i| c.args[i].as_ref())),
            None => keys.extend(c.args.iter().skip(1).map(|a| a.as_ref())),
        }
    }
    keys
}

/// Runs the jobs in one transaction. On failure, also tells whether COMMIT
/// had been sent (then the outcome is unknown if the connection died).
fn run_in_tx<W: WriteConn>(
    conn: &mut W,
    jobs: &mut [Job],
    databases: u32,
    notify: Classes,
) -> Result<Vec<JobResult>, (Failure, bool)> {
    // Keys whose computation panics (a bug) are simply not locked up front:
    // the commands stay correct through row locks and retries, only slower.
    let keys = if W::LOCKS_KEYS {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| keys_of(jobs))).unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut dbs: Vec<u32> = jobs.iter().map(Job::db).collect();
    dbs.sort_unstable();
    dbs.dedup();
    conn.begin_in(&dbs, &keys).map_err(|e| (Failure::Store(e), false))?;
    // A panic in command code (a bug) must cost only its own batch, not the
    // writer: it becomes an error like a failed statement, so the
    // transaction rolls back and the jobs are retried one by one (see
    // `commit_jobs`), the culprit answered with the error.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let now = now_ms();
        let mut outs = Vec::with_capacity(jobs.len());
        for job in jobs.iter_mut() {
            let result = conn.with_store(now, |store| match &mut job.work {
                Work::Batch { batch, watch } => {
                    run_strict(batch, watch, databases, notify, store).map_err(Failure::Store)
                }
                Work::Tx { db, proto, f } => run_closure(*db, *proto, f, databases, notify, store),
            });
            outs.push(result?);
        }
        Ok(outs)
    }))
    .unwrap_or_else(|_| {
        crate::log::warn("a command panicked in the writer; its transaction was rolled back");
        Err(Failure::Store(StoreError(
            "internal error (the command panicked; this is a bug)".into(),
        )))
    });
    match result {
        Ok(outs) => match conn.commit() {
            Ok(()) => Ok(outs),
            Err(e) => {
                conn.rollback();
                Err((Failure::Store(e), true))
            }
        },
        Err(e) => {
            conn.rollback();
            Err((e, false))
        }
    }
}

/// Runs a job's batch, stopping at the first storage error (the caller rolls
/// back). An EXEC whose watched keys changed runs nothing and is `aborted`.
/// Also returns the write calls it ran, with the database each ran in and
/// the events (of the `notify` classes) each reported.
fn run_strict(
    batch: &super::Batch,
    watch: &[super::Watch],
    databases: u32,
    notify: Classes,
    store: &mut dyn Store,
) -> Result<JobResult, StoreError> {
    let started = std::time::Instant::now();
    if !watch_holds(store, watch)? {
        let aborted = Outcome {
            replies: Vec::new(),
            db: batch.db,
            aborted: true,
            events: Vec::new(),
            micros: 0,
            storage_failed: false,
        };
        return Ok(JobResult {
            answer: Answer::Batch(aborted),
            writes: Vec::new(),
            ran: Vec::new(),
        });
    }
    let mut ctx = Ctx::new(batch.db, batch.proto, databases, store);
    ctx.notify = notify;
    ctx.keys_restricted = batch.keys_restricted;
    ctx.acl = batch.acl.clone();
    let mut replies = Vec::with_capacity(batch.calls.len());
    let mut writes = Vec::new();
    let mut reported = Vec::new();
    for (index, c) in batch.calls.iter().enumerate() {
        let db = ctx.db;
        replies.push(match call(&mut ctx, c) {
            Ok(r) => r,
            Err(CmdError::Store(e)) => return Err(e),
            Err(e) => e.reply(),
        });
        // A read is told to the observer only for its events (`keymiss`).
        if matches!(c.cmd.spec.handler, Handler::Write(_)) || !ctx.events.is_empty() {
            let events = std::mem::take(&mut ctx.events);
            if !events.is_empty() {
                let places = crate::commands::events::places(c.cmd, &c.args, &events);
                reported.extend(events.iter().zip(places).map(|(e, place)| Reported {
                    call: index,
                    place,
                    event: e.clone(),
                }));
            }
            writes.push(Write { db, index, events });
        }
    }
    let outcome = Outcome {
        replies,
        db: ctx.db,
        aborted: false,
        events: reported,
        micros: crate::util::micros_since(started),
        storage_failed: false,
    };
    Ok(JobResult {
        answer: Answer::Batch(outcome),
        writes,
        ran: Vec::new(),
    })
}

/// Runs a closure job. A storage error fails the
/// transaction like a batch's; the closure's own error rolls it back.
fn run_closure(
    db: u32,
    proto: u8,
    f: &mut super::TxFn,
    databases: u32,
    notify: Classes,
    store: &mut dyn Store,
) -> Result<JobResult, Failure> {
    let mut ctx = Ctx::new(db, proto, databases, store);
    ctx.notify = notify;
    let mut ran = Vec::new();
    let value = f(&mut Tx::new(&mut ctx, &mut ran));
    match value {
        Ok(v) => Ok(JobResult {
            answer: Answer::Tx(Ok(v)),
            writes: Vec::new(),
            ran,
        }),
        Err(CmdError::Store(e)) => Err(Failure::Store(e)),
        Err(e) => Err(Failure::Aborted(e)),
    }
}

/// Deletes expired keys in small transactions, for at most SWEEP_BUDGET,
/// and tells the observer of each transaction's keys (`expired` events)
/// while that class is reported.
fn sweep<W: WriteConn>(conn: &mut W, hooks: &Hooks) {
    if conn.ensure_connected().is_err() {
        return;
    }
    let start = Instant::now();
    loop {
        let purged = (|| -> Result<Vec<(u32, bytes::Bytes)>, StoreError> {
            conn.begin(&[])?;
            match conn.with_store(now_ms(), |s| s.purge_expired(SWEEP_LIMIT)) {
                Ok(n) => match conn.commit() {
                    Ok(()) => Ok(n),
                    Err(e) => {
                        conn.rollback();
                        Err(e)
                    }
                },
                Err(e) => {
                    conn.rollback();
                    Err(e)
                }
            }
        })();
        let Ok(keys) = purged else { break };
        let n = keys.len();
        hooks.expired.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        let notify = hooks.notify();
        if let Some(observer) = hooks.observer()
            && n > 0
            && notify.has(Class::Expired)
        {
            let expired: Vec<Event> = keys
                .into_iter()
                .map(|(db, key)| Event {
                    db,
                    class: Class::Expired,
                    name: "expired",
                    key,
                })
                .collect();
            observer(&Commit {
                writes: &[],
                expired: &expired,
                notify,
            });
        }
        if n < SWEEP_LIMIT || start.elapsed() >= SWEEP_BUDGET {
            break;
        }
    }
}
