//! Background WAL checkpoints.
//!
//! SQLite's automatic checkpoint runs inside the committing connection, so it
//! would stall the writer (and every client waiting on it) while it copies
//! pages to the database file and fsyncs. Instead the writer's automatic
//! checkpoint is off and this thread, with its own connection, runs PASSIVE
//! checkpoints (which never block the writer or readers) a few times a second.
//!
//! A checkpoint that runs while the writer keeps committing never catches up
//! completely, and SQLite only restarts the WAL from its beginning once it has
//! been checkpointed completely. So this thread reports the WAL's size, and
//! when it is large the writer runs a PASSIVE checkpoint itself between two
//! batches ([`Checkpointer::writer_should_checkpoint`]): most pages are already
//! copied by then, so that one is short, completes, and the next write
//! transaction starts the WAL over. The WAL stays bounded under any load.

use crate::backend::sqlite;
use crate::engine::backend::Background;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How often the checkpointer runs.
const EVERY: Duration = Duration::from_millis(250);
/// Least time between two log lines about checkpoints that keep failing.
const LOG_EVERY: Duration = Duration::from_secs(60);
/// WAL size (in pages) above which the writer completes a checkpoint itself.
const WRITER_CHECKPOINT_PAGES: i64 = 4096;

/// Handle to the checkpointer thread; stops it when asked.
pub struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// WAL size in pages at the last checkpoint.
    wal_pages: Arc<AtomicI64>,
}

impl Checkpointer {
    pub fn start(path: &str) -> Result<Checkpointer, crate::store::StoreError> {
        let conn = sqlite::open_checkpointer(path)?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let wal_pages = Arc::new(AtomicI64::new(0));
        let (stop2, pages) = (stop.clone(), wal_pages.clone());
        let thread = std::thread::Builder::new()
            .name("redsql-checkpoint".into())
            .spawn(move || {
                let (lock, cv) = &*stop2;
                let mut stopped = lock.lock().unwrap();
                // A failure that lasts (a full disk) is logged once, then once a minute.
                let mut failing_since: Option<std::time::Instant> = None;
                let mut last_logged = std::time::Instant::now();
                while !*stopped {
                    stopped = cv.wait_timeout(stopped, EVERY).unwrap().0;
                    if *stopped {
                        break;
                    }
                    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)) {
                        Ok(n) => {
                            pages.store(n, Ordering::Relaxed);
                            if let Some(since) = failing_since.take() {
                                crate::log::notice(&format!(
                                    "checkpoints succeed again (they failed for {} s)",
                                    since.elapsed().as_secs()
                                ));
                            }
                        }
                        Err(e) => {
                            let now = std::time::Instant::now();
                            if failing_since.is_none() || now.duration_since(last_logged) >= LOG_EVERY {
                                crate::log::warn(&format!("checkpoint failed: {e}"));
                                last_logged = now;
                            }
                            failing_since.get_or_insert(now);
                        }
                    }
                }
            })
            .map_err(|e| crate::store::StoreError(format!("cannot start checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
            wal_pages,
        })
    }

    /// A shared flag the writer reads between batches.
    pub fn wal_size(&self) -> Arc<AtomicI64> {
        self.wal_pages.clone()
    }

    /// True when the WAL is large enough that the writer should complete a
    /// checkpoint; resets the reported size so that it asks once per report.
    pub fn writer_should_checkpoint(wal_pages: &AtomicI64) -> bool {
        wal_pages.load(Ordering::Relaxed) > WRITER_CHECKPOINT_PAGES && wal_pages.swap(0, Ordering::Relaxed) > 0
    }

    pub fn stop(&mut self) {
        let (lock, cv) = &*self.stop;
        *lock.lock().unwrap() = true;
        cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Background for Checkpointer {
    fn stop(&mut self) {
        Checkpointer::stop(self)
    }
}
