//! One redsql process per SQLite file: a second process on the same file is
//! refused at start-up (it would serve stale reads), while reading the file
//! with another SQLite client stays allowed, and the file is free again once
//! the first process is gone, however it ended.

mod support;

use std::process::{Command, Stdio};
use support::{start_redsql_in, temp_dir};

/// Runs a second redsql on `db` and returns its exit status and log.
fn second_process(db: &std::path::Path) -> (std::process::ExitStatus, String) {
    let out = Command::new(support::redsql_bin())
        .args(["--port", "0", "--db", &db.display().to_string()])
        .stdin(Stdio::null())
        .output()
        .expect("run redsql");
    let log = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status, log)
}

#[test]
fn a_second_process_on_one_file_is_refused() {
    let dir = temp_dir("oneproc");
    let db = dir.join("db.sqlite");
    let mut first = start_redsql_in(dir.clone(), &[]);
    assert_eq!(first.conn().cmd_str(&["SET", "k", "v"]), b"+OK\r\n");

    let (status, log) = second_process(&db);
    assert!(!status.success(), "the second process ran: {log}");
    assert!(log.contains("in use by another redsql process"), "{log}");
    assert!(log.contains(&format!("pid {}", first.pid())), "{log}");

    // Other SQLite clients may still read the file.
    let sql = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let v: Vec<u8> = sql
        .query_row("SELECT value FROM vstring WHERE key = x'6b'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, b"v");
    drop(sql);

    // Once the first is killed (no clean shutdown), the file is free again.
    first.kill9();
    let again = start_redsql_in(dir, &[]);
    assert_eq!(again.conn().cmd_str(&["GET", "k"]), b"$1\r\nv\r\n");
}

/// A library database closed in this process frees the file for the next
/// open (its writer thread finishes closing meanwhile).
#[test]
fn the_library_reopens_a_file_it_closed() {
    let dir = temp_dir("reopen");
    let path = dir.join("db.sqlite").display().to_string();
    for i in 0..3 {
        let db = redsql::Db::open(&path).unwrap();
        db.command(&["INCR", "n"]).unwrap();
        assert_eq!(
            db.command(&["GET", "n"]).unwrap(),
            redsql::resp::Reply::Bulk((i + 1).to_string().into())
        );
    }
}
