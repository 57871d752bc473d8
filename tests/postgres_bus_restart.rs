//! Pub/sub across processes survives a PostgreSQL restart: each process's
//! listener reconnects and LISTENs again by itself. In a test binary of its
//! own, so that the restart cannot disturb the other PostgreSQL tests (test
//! binaries run one after another). Needs `REDSQL_TEST_POSTGRES_URL` and
//! `REDSQL_TEST_POSTGRES_RESTART` (a shell command restarting the cluster);
//! skips loudly without them.

mod support;

use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::RawConn;
use support::pg::{self, TestSchema, start_redsql_pg, url_or_skip};

#[test]
fn pubsub_across_processes_works_again_after_a_postgresql_restart() {
    let Some(base) = url_or_skip("pubsub restart") else {
        return;
    };
    let Some(restart) = pg::restart_or_skip("pubsub restart test") else {
        return;
    };
    let schema = TestSchema::new(&base, "ps_restart");
    let a = start_redsql_pg(&schema.url(), &[]);
    let b = start_redsql_pg(&schema.url(), &[]);
    let mut sub = b.conn();
    sub.send_raw(&RawConn::encode(&[b"SUBSCRIBE", b"ch"]));
    assert_eq!(sub.read_reply(), b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    // Every message B's subscriber receives, as it arrives.
    let (tx, messages) = mpsc::channel();
    std::thread::spawn(move || {
        loop {
            let m = sub.read_reply();
            if m.is_empty() || tx.send(m).is_err() {
                return;
            }
        }
    });
    let mut publisher = a.conn();
    let message = |m: &str| RawConn::encode(&[b"message", b"ch", m.as_bytes()]);
    assert_eq!(publisher.cmd_str(&["PUBLISH", "ch", "before"]), b":0\r\n");
    assert_eq!(
        messages.recv_timeout(Duration::from_secs(10)).unwrap(),
        message("before")
    );

    restart.run();

    // Messages published while the listener reconnects may be lost (as for a
    // Redis subscriber that reconnects); one gets through soon.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut n = 0;
    loop {
        n += 1;
        publisher.cmd_str(&["PUBLISH", "ch", &format!("probe {n}")]);
        if messages.recv_timeout(Duration::from_millis(200)).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "no message crossed after the restart");
    }
    // From then on, every message arrives once and in order.
    for i in 0..20 {
        assert_eq!(publisher.cmd_str(&["PUBLISH", "ch", &format!("after {i}")]), b":0\r\n");
    }
    let mut seen = Vec::new();
    while seen.len() < 20 {
        let m = messages
            .recv_timeout(Duration::from_secs(10))
            .expect("messages after the restart");
        if !String::from_utf8_lossy(&m).contains("probe") {
            seen.push(m);
        }
    }
    let want: Vec<Vec<u8>> = (0..20).map(|i| message(&format!("after {i}"))).collect();
    assert_eq!(seen, want);
}
