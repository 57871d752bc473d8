//! The writer thread: group commit of every pending job, and the expiry sweeper.

use super::checkpoint::Checkpointer;
use super::{CommitObserver, Committed, Job, Msg, Outcome, call, watch_holds};
use crate::backend::sqlite::SqliteStore;
use crate::commands::{CmdError, Ctx, Handler};
use crate::resp::Reply;
use crate::store::{Store, StoreError};
use crate::util::now_ms;
use rusqlite::Connection;
use std::sync::atomic::AtomicI64;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Most jobs committed in one transaction.
const MAX_JOBS: usize = 4096;
/// How often expired keys are swept when the writer is idle or between batches.
const SWEEP_EVERY: Duration = Duration::from_millis(100);
/// Keys deleted per sweep transaction.
const SWEEP_LIMIT: usize = 500;
/// Longest a sweep may hold up the writer.
const SWEEP_BUDGET: Duration = Duration::from_millis(5);

pub(super) fn run(
    conn: Connection,
    rx: Receiver<Msg>,
    mut version: i64,
    databases: u32,
    wal_pages: Option<Arc<AtomicI64>>,
    observer: Arc<OnceLock<CommitObserver>>,
) {
    let mut last_sweep = Instant::now();
    let mut stop = false;
    while !stop {
        match rx.recv_timeout(SWEEP_EVERY) {
            Ok(Msg::Stop) => break,
            Ok(Msg::Job(first)) => {
                let mut jobs = vec![first];
                while jobs.len() < MAX_JOBS {
                    match rx.try_recv() {
                        Ok(Msg::Job(j)) => jobs.push(j),
                        Ok(Msg::Stop) => {
                            stop = true;
                            break;
                        }
                        Err(_) => break,
                    }
                }
                commit_jobs(&conn, jobs, &mut version, databases, observer.get());
                if wal_pages.as_deref().is_some_and(Checkpointer::writer_should_checkpoint) {
                    // Short: the checkpointer thread has copied most pages already.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_sweep.elapsed() >= SWEEP_EVERY {
            sweep(&conn, &mut version);
            last_sweep = Instant::now();
        }
    }
    // Clean shutdown: fold the WAL into the main database file.
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
}

/// Runs `jobs` in one transaction and answers them after the commit. If the
/// storage layer fails, the transaction is rolled back and each job is retried
/// in a transaction of its own, so one bad job cannot fail the others.
fn commit_jobs(
    conn: &Connection,
    jobs: Vec<Job>,
    version: &mut i64,
    databases: u32,
    observer: Option<&CommitObserver>,
) {
    match run_in_tx(conn, &jobs, version, databases) {
        Ok(outcomes) => {
            if let Some(observer) = observer {
                tell(observer, &jobs, &outcomes);
            }
            for (job, (out, _)) in jobs.into_iter().zip(outcomes) {
                let _ = job.done.send(out);
            }
        }
        Err(e) if jobs.len() == 1 => {
            let job = jobs.into_iter().next().unwrap();
            let n = job.batch.calls.len().max(1);
            let replies = vec![Reply::error(format!("ERR storage error: {e}")); n];
            let _ = job.done.send(Outcome {
                replies,
                db: job.batch.db,
                aborted: false,
            });
        }
        Err(_) => {
            for job in jobs {
                commit_jobs(conn, vec![job], version, databases, observer);
            }
        }
    }
}

/// Tells the observer which write commands of `jobs` were just committed.
fn tell(observer: &CommitObserver, jobs: &[Job], outcomes: &[(Outcome, Vec<(u32, usize)>)]) {
    let committed: Vec<Committed> = jobs
        .iter()
        .zip(outcomes)
        .flat_map(|(job, (out, writes))| {
            writes.iter().map(|&(db, i)| Committed {
                db,
                call: &job.batch.calls[i],
                reply: &out.replies[i],
            })
        })
        .collect();
    if !committed.is_empty() {
        observer(&committed);
    }
}

/// Each job's outcome, with the write calls it ran: (database, call index).
type TxResult = Result<Vec<(Outcome, Vec<(u32, usize)>)>, StoreError>;

fn run_in_tx(conn: &Connection, jobs: &[Job], version: &mut i64, databases: u32) -> TxResult {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        let now = now_ms();
        let mut outs = Vec::with_capacity(jobs.len());
        for job in jobs {
            let mut store = SqliteStore::writer(conn, now, version);
            outs.push(run_strict(job, databases, &mut store)?);
        }
        Ok(outs)
    })();
    match result {
        Ok(outs) => match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(outs),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Runs a job's batch, stopping at the first storage error (the caller rolls
/// back). An EXEC whose watched keys changed runs nothing and is `aborted`.
/// Also returns the write calls it ran, with the database each ran in.
fn run_strict(job: &Job, databases: u32, store: &mut dyn Store) -> Result<(Outcome, Vec<(u32, usize)>), StoreError> {
    let batch = &job.batch;
    if !watch_holds(store, &job.watch)? {
        return Ok((
            Outcome {
                replies: Vec::new(),
                db: batch.db,
                aborted: true,
            },
            Vec::new(),
        ));
    }
    let mut ctx = Ctx {
        db: batch.db,
        proto: batch.proto,
        databases,
        store,
    };
    let mut replies = Vec::with_capacity(batch.calls.len());
    let mut writes = Vec::new();
    for (i, c) in batch.calls.iter().enumerate() {
        if matches!(c.cmd.handler, Handler::Write(_)) {
            writes.push((ctx.db, i));
        }
        replies.push(match call(&mut ctx, c) {
            Ok(r) => r,
            Err(CmdError::Reply(e)) => Reply::error(e),
            Err(CmdError::Store(e)) => return Err(e),
        });
    }
    Ok((
        Outcome {
            replies,
            db: ctx.db,
            aborted: false,
        },
        writes,
    ))
}

/// Deletes expired keys in small transactions, for at most SWEEP_BUDGET.
fn sweep(conn: &Connection, version: &mut i64) {
    let start = Instant::now();
    loop {
        let purged = (|| -> Result<usize, StoreError> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let n = SqliteStore::writer(conn, now_ms(), version).purge_expired(SWEEP_LIMIT);
            match n {
                Ok(n) => {
                    conn.execute_batch("COMMIT")?;
                    Ok(n)
                }
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    Err(e)
                }
            }
        })();
        match purged {
            Ok(n) if n == SWEEP_LIMIT && start.elapsed() < SWEEP_BUDGET => continue,
            _ => break,
        }
    }
}
