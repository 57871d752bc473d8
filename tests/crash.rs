//! Durability: a write that redsql acknowledged survives the process dying.
//!
//! Writers hammer a file database over several connections and record every
//! write the server acknowledged; the server is killed with SIGKILL mid-load and
//! restarted on the same directory; every acknowledged write must be there with
//! its value. Several rounds run on the same database, so earlier rounds' data
//! must also survive the later crashes. A SIGTERM must stop the server promptly
//! and cleanly, again losing nothing.

mod support;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use support::{RawConn, Rng, Server, show, start_redsql_in, temp_dir};

/// Writer threads per round.
const WRITERS: usize = 6;
/// Commands a pipelining writer sends before reading their replies.
const PIPELINE: usize = 16;

/// A write the server acknowledged: `key` holds `value`.
type Acked = (Vec<u8>, Vec<u8>);

/// Sends `cmds` in one write and reads their replies. Returns the replies
/// received before the connection broke (all of them if it did not).
fn send_batch(c: &mut RawConn, cmds: &[Vec<Vec<u8>>]) -> Vec<Vec<u8>> {
    let mut bytes = Vec::new();
    for cmd in cmds {
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
        bytes.extend(RawConn::encode(&args));
    }
    if c.stream.write_all(&bytes).is_err() {
        return Vec::new();
    }
    let mut replies = Vec::new();
    for _ in cmds {
        let r = c.read_reply();
        if r.is_empty() {
            break;
        }
        replies.push(r);
    }
    replies
}

/// Starts a writer thread that SETs unique keys until the server goes away
/// (or `stop` is set) and returns what was acknowledged.
fn spawn_writer(port: u16, round: usize, id: usize, stop: Arc<AtomicBool>) -> JoinHandle<Vec<Acked>> {
    std::thread::spawn(move || {
        let mut rng = Rng::new((round * 1000 + id) as u64);
        let mut c = RawConn::connect(port);
        let mut acked = Vec::new();
        let mut i = 0usize;
        // Odd writers pipeline, even ones send one command at a time.
        let batch = if id % 2 == 1 { PIPELINE } else { 1 };
        while !stop.load(Ordering::Relaxed) {
            let cmds: Vec<Vec<Vec<u8>>> = (0..batch)
                .map(|_| {
                    i += 1;
                    let key = format!("crash:r{round}:w{id}:{i}").into_bytes();
                    let len = rng.range(0, 64);
                    let mut value = rng.bytes(len);
                    value.extend_from_slice(format!(":{i}").as_bytes());
                    vec![b"SET".to_vec(), key, value]
                })
                .collect();
            let replies = send_batch(&mut c, &cmds);
            for (cmd, reply) in cmds.iter().zip(&replies) {
                assert_eq!(reply.as_slice(), b"+OK\r\n", "unexpected reply {}", show(reply));
                acked.push((cmd[1].clone(), cmd[2].clone()));
            }
            if replies.len() < cmds.len() {
                break; // the server died
            }
        }
        acked
    })
}

/// Checks that every acknowledged write is in the database, reading in pipelined batches.
fn verify(server: &Server, acked: &[Acked]) {
    let mut c = server.conn();
    for chunk in acked.chunks(1000) {
        let gets: Vec<Vec<Vec<u8>>> = chunk.iter().map(|(k, _)| vec![b"GET".to_vec(), k.clone()]).collect();
        let replies = send_batch(&mut c, &gets);
        assert_eq!(
            replies.len(),
            chunk.len(),
            "server closed the connection while verifying"
        );
        for ((key, value), reply) in chunk.iter().zip(replies) {
            let want = [format!("${}\r\n", value.len()).as_bytes(), value, b"\r\n"].concat();
            assert!(
                reply == want,
                "acknowledged write lost: {} should be {}, got {}",
                show(key),
                show(value),
                show(&reply)
            );
        }
    }
}

fn start(dir: &Path) -> Server {
    start_redsql_in(dir.to_path_buf(), &[])
}

#[test]
fn acknowledged_writes_survive_kill9() {
    let dir = temp_dir("crash");
    let mut rng = Rng::new(Rng::seed_from_env());
    let mut all_acked: Vec<Acked> = Vec::new();
    for round in 0..4 {
        let mut server = start(&dir);
        // Everything from the earlier rounds is still there after their crashes.
        verify(&server, &all_acked);
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|id| spawn_writer(server.port, round, id, stop.clone()))
            .collect();
        std::thread::sleep(Duration::from_millis(rng.range(150, 600) as u64));
        server.kill9();
        let mut round_acked = 0;
        for w in writers {
            let acked = w.join().expect("writer thread panicked");
            round_acked += acked.len();
            all_acked.extend(acked);
        }
        println!("round {round}: {round_acked} acknowledged writes before kill -9");
        assert!(round_acked > 0, "no write was acknowledged before the kill");
    }
    let server = start(&dir);
    verify(&server, &all_acked);
}

/// Counters incremented concurrently are at
/// least their last acknowledged value after a kill -9 (and never more than
/// the number of INCRs sent).
#[test]
fn acknowledged_increments_survive_kill9() {
    let dir = temp_dir("crash-incr");
    let mut server = start(&dir);
    let port = server.port;
    let writers: Vec<JoinHandle<(Vec<u8>, i64, i64)>> = (0..WRITERS)
        .map(|id| {
            std::thread::spawn(move || {
                let key = format!("counter:{id}").into_bytes();
                let mut c = RawConn::connect(port);
                let (mut acked, mut sent) = (0i64, 0i64);
                loop {
                    let cmds: Vec<Vec<Vec<u8>>> = (0..PIPELINE).map(|_| vec![b"INCR".to_vec(), key.clone()]).collect();
                    sent += cmds.len() as i64;
                    let replies = send_batch(&mut c, &cmds);
                    for r in &replies {
                        let text = std::str::from_utf8(r).expect("INCR reply");
                        let n: i64 = text
                            .strip_prefix(':')
                            .and_then(|t| t.trim_end().parse().ok())
                            .unwrap_or_else(|| panic!("unexpected INCR reply {}", show(r)));
                        assert!(n > acked, "INCR went backwards: {n} after {acked}");
                        acked = n;
                    }
                    if replies.len() < cmds.len() {
                        return (key, acked, sent);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    server.kill9();
    let results: Vec<_> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let server = start(&dir);
    let mut c = server.conn();
    for (key, acked, sent) in results {
        assert!(acked > 0, "no INCR acknowledged on {}", show(&key));
        let reply = c.cmd(&[b"GET", &key]);
        let value: i64 = std::str::from_utf8(&reply)
            .ok()
            .and_then(|r| r.lines().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("GET {} gave {}", show(&key), show(&reply)));
        assert!(
            value >= acked && value <= sent,
            "{}: {value} after restart, {acked} acknowledged, {sent} sent",
            show(&key)
        );
    }
}

#[test]
fn sigterm_exits_promptly_and_loses_nothing() {
    let dir = temp_dir("sigterm");
    let mut server = start(&dir);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|id| spawn_writer(server.port, 0, id, stop.clone()))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    server.sigterm();
    let status = server.wait_exit(Duration::from_secs(5));
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.join().expect("writer thread panicked"));
    }
    let status = status.expect("redsql did not exit within 5 s of SIGTERM");
    assert!(status.success(), "redsql exited with {status} after SIGTERM");
    assert!(!acked.is_empty(), "no write was acknowledged before SIGTERM");
    println!("{} acknowledged writes before SIGTERM", acked.len());
    // A clean stop folds the write-ahead log into the database file.
    let wal = dir.join("db.sqlite-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(
        wal_len,
        0,
        "{} still holds {wal_len} bytes after a clean stop",
        wal.display()
    );
    let server = start(&dir);
    verify(&server, &acked);
}
