//! One redsql process per SQLite file.
//!
//! Two processes writing one file would agree on the data (SQLite locks its
//! writes), but each keeps its own read cache, key versions, blocked clients
//! and subscribers: the second would serve stale reads and never see the
//! first's pushes or messages. So the process that opens a file takes an
//! exclusive `flock` on a lock file beside it (`<file>.lock`, which holds
//! its pid), and holds it for as long as its writer lives; a second process
//! is refused at start-up. The kernel releases the lock when the process
//! ends, however it ends (`kill -9` included): the lock file left behind is
//! harmless.
//!
//! The lock file is separate from the database file on purpose: closing any
//! descriptor of the database file would release SQLite's own (POSIX) locks
//! of the process. Reading the database with `sqlite3` or any SQL tool is
//! unaffected.

use crate::store::{StoreError, StoreResult};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// How long to wait for the lock: an engine of this same process that was
/// just dropped may still be closing (its writer ends on its own thread).
const WAIT: Duration = Duration::from_secs(1);

/// The held lock; released when dropped.
pub(crate) struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes the lock of the database at `db_path`, or explains who holds it.
    pub(crate) fn acquire(db_path: &str) -> StoreResult<FileLock> {
        let path = format!("{db_path}.lock");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError(format!("cannot open the lock file {path}: {e}")))?;
        let deadline = Instant::now() + WAIT;
        loop {
            // SAFETY: flock on a descriptor this function owns.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                // Who holds it, for the message another process would print.
                let _ = file.set_len(0);
                let _ = file.write_all(format!("{}\n", std::process::id()).as_bytes());
                return Ok(FileLock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(StoreError(format!("cannot lock {path}: {err}")));
            }
            if Instant::now() >= deadline {
                let mut holder = String::new();
                let _ = file.rewind();
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => String::new(),
                    pid => format!(" (pid {pid})"),
                };
                return Err(StoreError(format!(
                    "{db_path} is in use by another redsql process{holder}, which holds {path}: stop it, or use another database file (reading the file with sqlite3 is fine)"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
