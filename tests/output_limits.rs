//! A Pub/Sub client that never reads is disconnected at its output buffer
//! limit (`client-output-buffer-limit pubsub`), as in Redis, instead of
//! making the server hold everything published to it.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::start_redsql;

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_subscriber_that_never_reads_is_disconnected_at_its_limit() {
    let server = start_redsql(&[]);
    // The subscriber: subscribes, then never reads again.
    let mut sub = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    sub.write_all(b"SUBSCRIBE news\r\n").unwrap();
    let mut buf = [0u8; 64];
    sub.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let n = sub.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"*3\r\n$9\r\nsubscribe"));
    let mut p = server.conn();
    let before = rss_kb(server.pid());
    // 200 MB published to it: the default hard limit is 32 MB.
    let message = "m".repeat(100 << 10);
    let mut dropped = false;
    for i in 0..2000 {
        let reply = p.cmd_str(&["PUBLISH", "news", &message]);
        if reply == b":0\r\n" {
            dropped = true;
            break;
        }
        assert_eq!(reply, b":1\r\n", "publish {i}");
    }
    assert!(dropped, "the subscriber was never disconnected");
    let grown_mb = rss_kb(server.pid()).saturating_sub(before) / 1024;
    assert!(grown_mb < 120, "the server grew by {grown_mb} MB");
    // It is gone from CLIENT LIST, and its socket is closed once read.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = String::from_utf8_lossy(&p.cmd_str(&["CLIENT", "LIST"])).into_owned();
        if !list.contains("sub=1") {
            break;
        }
        assert!(Instant::now() < deadline, "{list}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// While messages wait for a slow subscriber, CLIENT LIST shows them
/// (`oll`, `omem`), as Redis does.
#[test]
fn queued_messages_show_in_client_list() {
    let server = start_redsql(&[]);
    let mut sub = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    sub.write_all(b"SUBSCRIBE slow\r\n").unwrap();
    let mut buf = [0u8; 64];
    sub.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = sub.read(&mut buf).unwrap();
    let mut p = server.conn();
    // Enough to fill the socket's buffers, well under the limit.
    let message = "m".repeat(64 << 10);
    for _ in 0..300 {
        assert_eq!(p.cmd_str(&["PUBLISH", "slow", &message]), b":1\r\n");
    }
    std::thread::sleep(Duration::from_millis(200));
    let list = String::from_utf8_lossy(&p.cmd_str(&["CLIENT", "LIST"])).into_owned();
    let line = list.lines().find(|l| l.contains("sub=1")).expect("the subscriber");
    let field = |name: &str| -> u64 {
        line.split(' ')
            .find_map(|f| f.strip_prefix(&format!("{name}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(field("oll") > 0, "{line}");
    assert!(field("omem") > 1 << 20, "{line}");
}

/// 1,000 connections that each announce a 512 MB argument and send nothing
/// more cost the server about what idle connections cost: no memory is
/// reserved for bytes that have not arrived.
#[test]
fn announced_bulks_reserve_no_memory() {
    let server = start_redsql(&["--maxclients", "2000"]);
    let before = rss_kb(server.pid());
    let conns: Vec<TcpStream> = (0..1000)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            s.write_all(b"*1\r\n$536870912\r\n").unwrap();
            s
        })
        .collect();
    // Everything sent has been read once a PING on a new connection answers.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.conn().cmd_str(&["PING"]), b"+PONG\r\n");
    let grown_kb = rss_kb(server.pid()).saturating_sub(before);
    assert!(grown_kb < 60 * 1024, "1,000 connections cost {} MB", grown_kb / 1024);
    drop(conns);
}
