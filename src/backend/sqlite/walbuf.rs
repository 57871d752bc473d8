//! A SQLite VFS that coalesces the writer's WAL appends into one `pwrite` per commit.
//!
//! SQLite appends a commit to the WAL as two `pwrite`s per dirty page: the
//! 24-byte frame header, then the page. A group commit of 50 SETs is ~100
//! system calls, each taking the inode lock and walking the page cache for
//! a few bytes; profiles of write loads show 11-19% of the server's time in
//! `pwrite` (docs/benchmarks.md, "WAL write coalescing"). This VFS is the
//! default one ("unix") except for WAL files, whose appends it collects in
//! memory and writes as one `pwrite` when the transaction's commit frame
//! has been appended, before SQLite publishes the commit to readers.
//!
//! What keeps it exactly as durable and consistent as the default VFS:
//! - A commit frame is recognised by its header (a 24-byte write whose
//!   "database size after commit" field, bytes 4..8, is non-zero; the only
//!   24-byte writes to a WAL are frame headers). The write of the page that
//!   follows it flushes the buffer and returns the flush's result, so the
//!   commit fails if its frames cannot be written, and everything is in the
//!   OS (surviving `kill -9`) before SQLite updates the wal-index header
//!   that makes the commit visible to other connections.
//! - Only appends are buffered: a write anywhere else (SQLite rewriting a
//!   frame in place, or restarting the WAL at offset 0) first flushes the
//!   buffer, then goes straight to the file, so writes reach the file in
//!   SQLite's order. Reads, syncs, truncation, size queries, file controls
//!   and close flush first, so SQLite never observes the buffer.
//! - Frames left in the buffer by a rolled-back transaction are not
//!   committed; the next transaction writes at their offset, which flushes
//!   them first and then overwrites them, as the default VFS would have.
//!
//! Only the writer connection uses it ([`NAME`]); readers and the
//! checkpointer never write the WAL and use the default VFS.

use rusqlite::ffi;
use std::ffi::{CStr, c_int, c_void};
use std::sync::OnceLock;

/// The name under which the VFS is registered.
pub const NAME: &str = "redsql-walbuf";
const NAME_C: &CStr = c"redsql-walbuf";

/// Appends buffered beyond this are written out (the buffer is reused).
const CAP: usize = 1 << 20;
/// The most the default VFS writes in one call: its `unixWrite` handles
/// writes below 128 KiB only (it masks the length with 0x1ffff), so the
/// buffer goes out in chunks of 124 KiB.
const MAX_WRITE: usize = 124 << 10;

/// Registers the VFS (once per process); returns an error text if SQLite has no default VFS.
pub fn register() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| unsafe {
            let real = ffi::sqlite3_vfs_find(std::ptr::null());
            if real.is_null() {
                return Err("SQLite has no default VFS".into());
            }
            let mut vfs = *real;
            vfs.szOsFile = (FILE_OFFSET + (*real).szOsFile as usize) as c_int;
            vfs.pNext = std::ptr::null_mut();
            vfs.zName = NAME_C.as_ptr();
            vfs.xOpen = Some(open);
            let vfs = Box::leak(Box::new(Shim { vfs, real }));
            match ffi::sqlite3_vfs_register(&mut vfs.vfs, 0) {
                ffi::SQLITE_OK => Ok(()),
                rc => Err(format!("cannot register the {NAME} VFS (SQLite error {rc})")),
            }
        })
        .clone()
}

/// The registered VFS: a copy of the default one with our `xOpen`. `vfs`
/// comes first so that a `*mut sqlite3_vfs` SQLite hands back is a `*mut Shim`.
#[repr(C)]
struct Shim {
    vfs: ffi::sqlite3_vfs,
    real: *mut ffi::sqlite3_vfs,
}

/// An open WAL file: SQLite's file header, then the default VFS's file
/// object (at [`FILE_OFFSET`] in the same allocation, `szOsFile` bytes).
#[repr(C)]
struct WalFile {
    base: ffi::sqlite3_file,
    real: *mut ffi::sqlite3_file,
    buf: *mut Buffer,
}

/// Where the default VFS's file object starts in our file allocation.
const FILE_OFFSET: usize = std::mem::size_of::<WalFile>().next_multiple_of(16);

/// Appends not yet written: `data` belongs at file offset `start`.
#[derive(Default)]
struct Buffer {
    start: i64,
    data: Vec<u8>,
    /// The last append was a commit frame's header: flush after its page.
    commit_next: bool,
}

impl Buffer {
    fn end(&self) -> i64 {
        self.start + self.data.len() as i64
    }
}

static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

unsafe extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    unsafe {
        let real_vfs = (*(vfs as *mut Shim)).real;
        let real_open = (*real_vfs).xOpen.expect("default VFS has xOpen");
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            // Everything but the WAL is the default VFS's own file object.
            return real_open(real_vfs, name, file, flags, out_flags);
        }
        let wal = file as *mut WalFile;
        let real = (file as *mut u8).add(FILE_OFFSET) as *mut ffi::sqlite3_file;
        (*wal).base.pMethods = std::ptr::null();
        let rc = real_open(real_vfs, name, real, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        (*wal).real = real;
        (*wal).buf = Box::into_raw(Box::default());
        (*wal).base.pMethods = &WAL_METHODS;
        ffi::SQLITE_OK
    }
}

/// The WAL file behind `f`: its buffer, and the default VFS's file and methods.
unsafe fn parts<'a>(
    f: *mut ffi::sqlite3_file,
) -> (&'a mut Buffer, *mut ffi::sqlite3_file, &'a ffi::sqlite3_io_methods) {
    unsafe {
        let wal = &mut *(f as *mut WalFile);
        (&mut *wal.buf, wal.real, &*(*wal.real).pMethods)
    }
}

/// Writes the buffer out and empties it (also when the write fails: the
/// transaction it belonged to fails with the error, and SQLite writes its
/// frames again if it retries).
unsafe fn flush(buf: &mut Buffer, real: *mut ffi::sqlite3_file, m: &ffi::sqlite3_io_methods) -> c_int {
    buf.commit_next = false;
    if buf.data.is_empty() {
        return ffi::SQLITE_OK;
    }
    let mut rc = ffi::SQLITE_OK;
    let mut off = buf.start;
    for chunk in buf.data.chunks(MAX_WRITE) {
        rc = unsafe { (m.xWrite.unwrap())(real, chunk.as_ptr() as *const c_void, chunk.len() as c_int, off) };
        if rc != ffi::SQLITE_OK {
            break;
        }
        off += chunk.len() as i64;
    }
    buf.data.clear();
    rc
}

unsafe extern "C" fn write(f: *mut ffi::sqlite3_file, p: *const c_void, amt: c_int, off: i64) -> c_int {
    unsafe {
        let bytes = std::slice::from_raw_parts(p as *const u8, amt as usize);
        let (buf, real, m) = parts(f);
        if !(buf.data.is_empty() || off == buf.end()) {
            // Not an append: everything before it reaches the file first.
            let rc = flush(buf, real, m);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            return (m.xWrite.unwrap())(real, p, amt, off);
        }
        if buf.data.len() + bytes.len() > CAP {
            let commit_next = buf.commit_next;
            let rc = flush(buf, real, m);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            buf.commit_next = commit_next;
        }
        if buf.data.is_empty() {
            buf.start = off;
        }
        buf.data.extend_from_slice(bytes);
        if buf.commit_next {
            // The commit frame's page: the whole transaction goes out now.
            return flush(buf, real, m);
        }
        buf.commit_next = bytes.len() == 24 && bytes[4..8] != [0; 4];
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn close(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let (buf, real, m) = parts(f);
        let flushed = flush(buf, real, m);
        let rc = (m.xClose.unwrap())(real);
        let wal = &mut *(f as *mut WalFile);
        drop(Box::from_raw(std::mem::replace(&mut wal.buf, std::ptr::null_mut())));
        if flushed != ffi::SQLITE_OK { flushed } else { rc }
    }
}

/// Forwards a call to the default VFS's file after flushing the buffer.
macro_rules! flushed {
    ($f:expr, $method:ident $(, $arg:expr)*) => {
        unsafe {
            let (buf, real, m) = parts($f);
            let rc = flush(buf, real, m);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            (m.$method.unwrap())(real $(, $arg)*)
        }
    };
}

/// Forwards a call to the default VFS's file.
macro_rules! forward {
    ($f:expr, $method:ident $(, $arg:expr)*) => {
        unsafe {
            let (_, real, m) = parts($f);
            (m.$method.unwrap())(real $(, $arg)*)
        }
    };
}

unsafe extern "C" fn read(f: *mut ffi::sqlite3_file, p: *mut c_void, amt: c_int, off: i64) -> c_int {
    flushed!(f, xRead, p, amt, off)
}

unsafe extern "C" fn truncate(f: *mut ffi::sqlite3_file, size: i64) -> c_int {
    flushed!(f, xTruncate, size)
}

unsafe extern "C" fn sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    flushed!(f, xSync, flags)
}

unsafe extern "C" fn file_size(f: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    flushed!(f, xFileSize, size)
}

unsafe extern "C" fn file_control(f: *mut ffi::sqlite3_file, op: c_int, arg: *mut c_void) -> c_int {
    flushed!(f, xFileControl, op, arg)
}

unsafe extern "C" fn lock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    forward!(f, xLock, level)
}

unsafe extern "C" fn unlock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    forward!(f, xUnlock, level)
}

unsafe extern "C" fn check_reserved_lock(f: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    forward!(f, xCheckReservedLock, out)
}

unsafe extern "C" fn sector_size(f: *mut ffi::sqlite3_file) -> c_int {
    forward!(f, xSectorSize)
}

unsafe extern "C" fn device_characteristics(f: *mut ffi::sqlite3_file) -> c_int {
    forward!(f, xDeviceCharacteristics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{Connection, OpenFlags};
    use std::path::{Path, PathBuf};

    fn temp_dir(name: &str) -> PathBuf {
        crate::util::scratch_dir(&format!("walbuf-{name}"))
    }

    /// A writer on this VFS, as `open_writer` makes it (WAL, no automatic checkpoint).
    fn writer(path: &Path, cache_pages: i64) -> Connection {
        register().unwrap();
        let c = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), NAME).unwrap();
        c.execute_batch(&format!(
            "PRAGMA page_size=2048; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; \
             PRAGMA wal_autocheckpoint=0; PRAGMA cache_size={cache_pages}; \
             CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v BLOB NOT NULL);"
        ))
        .unwrap();
        c
    }

    fn rows(c: &Connection) -> (i64, i64) {
        c.query_row("SELECT count(*), coalesce(sum(length(v)), 0) FROM t", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap()
    }

    fn integrity(c: &Connection) -> String {
        c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
    }

    /// Small commits, a transaction far larger than the buffer and than the
    /// page cache (SQLite spills, then rewrites frames in place), and a
    /// rolled-back one: another connection sees exactly the committed data.
    #[test]
    fn readers_see_every_commit() {
        let dir = temp_dir("readers");
        let path = dir.join("db");
        let w = writer(&path, 50);
        let r = Connection::open(&path).unwrap();
        for i in 0..300 {
            w.execute("INSERT OR REPLACE INTO t VALUES (?1, randomblob(100))", [i % 120])
                .unwrap();
            assert_eq!(rows(&r), rows(&w));
        }
        assert_eq!(rows(&r), (120, 12_000));

        // ~6 MB in one transaction: the buffer is written out as it fills,
        // the page cache spills pages to the WAL and rewrites some of them.
        w.execute_batch("BEGIN").unwrap();
        for i in 0..3000 {
            w.execute("INSERT OR REPLACE INTO t VALUES (?1, randomblob(2000))", [1000 + i])
                .unwrap();
            if i % 7 == 0 {
                w.execute("UPDATE t SET v = randomblob(2000) WHERE k = ?1", [1000 + i / 2])
                    .unwrap();
            }
        }
        assert_eq!(rows(&r), (120, 12_000), "uncommitted rows are invisible");
        w.execute_batch("COMMIT").unwrap();
        assert_eq!(rows(&r), (3120, 6_012_000));

        w.execute_batch("BEGIN").unwrap();
        for i in 0..500 {
            w.execute("INSERT INTO t VALUES (?1, randomblob(2000))", [10_000 + i])
                .unwrap();
        }
        w.execute_batch("ROLLBACK").unwrap();
        w.execute("INSERT INTO t VALUES (1, x'01')", []).unwrap_err();
        w.execute("INSERT INTO t VALUES (99999, x'01')", []).unwrap();
        assert_eq!(rows(&r), (3121, 6_012_001));
        assert_eq!(integrity(&r), "ok");

        r.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())).unwrap();
        w.execute("INSERT INTO t VALUES (100000, x'02')", []).unwrap();
        drop((w, r));
        let again = Connection::open(&path).unwrap();
        assert_eq!(rows(&again), (3122, 6_012_002));
        assert_eq!(integrity(&again), "ok");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A commit is in the files once COMMIT returns, without closing or
    /// syncing: a copy of the files taken then (what `kill -9` leaves
    /// behind) opens with every committed row.
    #[test]
    fn committed_data_is_in_the_files_when_commit_returns() {
        let dir = temp_dir("crash");
        let path = dir.join("db");
        let w = writer(&path, 2000);
        let mut expected = 0;
        for round in 0..5 {
            w.execute_batch("BEGIN").unwrap();
            for i in 0..(1 + round * 200) {
                w.execute("INSERT INTO t VALUES (NULL, randomblob(300 + ?1 % 700))", [i])
                    .unwrap();
            }
            w.execute_batch("COMMIT").unwrap();
            expected = rows(&w).0;
            let copy = dir.join(format!("copy{round}"));
            std::fs::create_dir_all(&copy).unwrap();
            for suffix in ["", "-wal"] {
                std::fs::copy(format!("{}{suffix}", path.display()), copy.join(format!("db{suffix}"))).unwrap();
            }
            let c = Connection::open(copy.join("db")).unwrap();
            assert_eq!(rows(&c), rows(&w), "round {round}");
            assert_eq!(integrity(&c), "ok");
        }
        assert!(expected > 1000);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
