//! Two redsql processes sharing one PostgreSQL store behave as one Redis:
//! a message published on one reaches the subscribers of both (exactly once,
//! binary-safe, large ones too, patterns and shard channels included), and a
//! push on one wakes a client blocked on the other. Needs
//! `REDSQL_TEST_POSTGRES_URL`; skips loudly without it.

mod support;

use std::time::{Duration, Instant};
use support::pg::{TestSchema, start_redsql_pg, url_or_skip};
use support::{RawConn, Server, show};

/// Two processes on one fresh schema.
fn pair(base: &str, tag: &str) -> (TestSchema, Server, Server) {
    let schema = TestSchema::new(base, tag);
    let a = start_redsql_pg(&schema.url(), &[]);
    let b = start_redsql_pg(&schema.url(), &[]);
    (schema, a, b)
}

/// RESP2 `message` push as Redis writes it.
fn message(channel: &[u8], payload: &[u8]) -> Vec<u8> {
    push(&[b"message", channel, payload])
}

fn push(items: &[&[u8]]) -> Vec<u8> {
    RawConn::encode(items)
}

fn expect(conn: &mut RawConn, want: &[u8], what: &str) {
    let got = conn.read_reply();
    assert!(got == want, "{what}:\n  want {}\n  got  {}", show(want), show(&got));
}

/// Subscribes `conn` with `command` (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE) to
/// one name and checks the confirmation.
fn subscribe(conn: &mut RawConn, command: &str, name: &str, count: usize) {
    conn.send_raw(&RawConn::encode(&[command.as_bytes(), name.as_bytes()]));
    let word = command.to_ascii_lowercase();
    let want = format!(
        "*3\r\n${}\r\n{word}\r\n${}\r\n{name}\r\n:{count}\r\n",
        word.len(),
        name.len()
    );
    expect(conn, want.as_bytes(), "confirmation");
}

#[test]
fn messages_published_on_one_process_reach_subscribers_of_both() {
    let Some(base) = url_or_skip("postgres_bus") else {
        return;
    };
    let (_schema, a, b) = pair(&base, "ps_msgs");
    let mut sub_a = a.conn();
    let mut sub_b = b.conn();
    let mut psub_b = b.conn();
    subscribe(&mut sub_a, "SUBSCRIBE", "ch", 1);
    subscribe(&mut sub_b, "SUBSCRIBE", "ch", 1);
    subscribe(&mut psub_b, "PSUBSCRIBE", "c*", 1);

    let large: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let payloads: Vec<&[u8]> = vec![b"hello", b"\0bin\xff\r\n\0", b"", &large, b"after large"];
    let mut publisher = a.conn();
    for p in &payloads {
        // Counts the publishing process's receivers only (as Redis Cluster does).
        assert_eq!(publisher.cmd(&[b"PUBLISH", b"ch", p]), b":1\r\n");
    }
    for p in &payloads {
        expect(&mut sub_a, &message(b"ch", p), "local subscriber");
        expect(&mut sub_b, &message(b"ch", p), "subscriber on the other process");
        expect(
            &mut psub_b,
            &push(&[b"pmessage", b"c*", b"ch", p]),
            "pattern on the other process",
        );
    }

    // Exactly once: the next message each one sees is a new one.
    assert_eq!(b.conn().cmd_str(&["PUBLISH", "ch", "from b"]), b":2\r\n");
    expect(&mut sub_a, &message(b"ch", b"from b"), "A after B's publish");
    expect(&mut sub_b, &message(b"ch", b"from b"), "B after its own publish");
    expect(
        &mut psub_b,
        &push(&[b"pmessage", b"c*", b"ch", b"from b"]),
        "pattern after B's publish",
    );

    // A channel nobody matches, then one only the pattern matches.
    assert_eq!(publisher.cmd_str(&["PUBLISH", "other", "x"]), b":0\r\n");
    assert_eq!(publisher.cmd_str(&["PUBLISH", "cx", "y"]), b":0\r\n");
    expect(&mut psub_b, &push(&[b"pmessage", b"c*", b"cx", b"y"]), "pattern only");
}

#[test]
fn shard_channels_cross_processes_and_resp3_subscribers() {
    let Some(base) = url_or_skip("postgres_bus") else {
        return;
    };
    let (_schema, a, b) = pair(&base, "ps_shard");
    let mut sub = b.conn();
    subscribe(&mut sub, "SSUBSCRIBE", "sh", 1);
    let mut resp3 = b.conn();
    resp3.send_raw(&RawConn::encode(&[b"HELLO", b"3"]));
    resp3.read_reply();
    resp3.send_raw(&RawConn::encode(&[b"SUBSCRIBE", b"sh"]));
    expect(
        &mut resp3,
        b">3\r\n$9\r\nsubscribe\r\n$2\r\nsh\r\n:1\r\n",
        "RESP3 confirmation",
    );

    let mut publisher = a.conn();
    assert_eq!(publisher.cmd_str(&["SPUBLISH", "sh", "s1"]), b":0\r\n");
    assert_eq!(publisher.cmd_str(&["PUBLISH", "sh", "p1"]), b":0\r\n");
    expect(&mut sub, &push(&[b"smessage", b"sh", b"s1"]), "shard message");
    expect(
        &mut resp3,
        b">3\r\n$7\r\nmessage\r\n$2\r\nsh\r\n$2\r\np1\r\n",
        "RESP3 push",
    );
    // The shard subscriber did not get the PUBLISH: its next message is this one.
    assert_eq!(publisher.cmd_str(&["SPUBLISH", "sh", "s2"]), b":0\r\n");
    expect(&mut sub, &push(&[b"smessage", b"sh", b"s2"]), "second shard message");
}

#[test]
fn messages_keep_their_order_per_publisher() {
    let Some(base) = url_or_skip("postgres_bus") else {
        return;
    };
    let (_schema, a, b) = pair(&base, "ps_order");
    let mut sub = b.conn();
    subscribe(&mut sub, "SUBSCRIBE", "seq", 1);
    let mut publisher = a.conn();
    // Pipelined, mixing sizes that travel inline and through the table.
    let mut pipeline = Vec::new();
    let body = |i: usize| -> Vec<u8> {
        let mut m = format!("{i}:").into_bytes();
        m.resize(if i.is_multiple_of(50) { 9000 } else { 10 }, b'.');
        m
    };
    for i in 0..500 {
        pipeline.extend(RawConn::encode(&[b"PUBLISH", b"seq", &body(i)]));
    }
    publisher.send_raw(&pipeline);
    for _ in 0..500 {
        assert_eq!(publisher.read_reply(), b":0\r\n");
    }
    for i in 0..500 {
        expect(&mut sub, &message(b"seq", &body(i)), &format!("message {i}"));
    }
}

#[test]
fn stores_in_other_schemas_do_not_hear_each_other() {
    let Some(base) = url_or_skip("postgres_bus") else {
        return;
    };
    let (_sx, x, _x2) = pair(&base, "ps_iso_x");
    let (_sy, y, _y2) = pair(&base, "ps_iso_y");
    let mut sub = y.conn();
    subscribe(&mut sub, "SUBSCRIBE", "ch", 1);
    assert_eq!(x.conn().cmd_str(&["PUBLISH", "ch", "for x"]), b":0\r\n");
    // Give a stray message time to arrive, then publish on y's store.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(_y2.conn().cmd_str(&["PUBLISH", "ch", "for y"]), b":0\r\n");
    expect(&mut sub, &message(b"ch", b"for y"), "only y's message");
}

/// Waits until `server` reports `n` blocked clients.
fn wait_blocked(server: &Server, n: usize) {
    let mut c = server.conn();
    let want = format!("blocked_clients:{n}\r");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !show(&c.cmd_str(&["INFO", "clients"])).contains(&want.replace('\r', "\\r")) {
        assert!(Instant::now() < deadline, "{n} clients never blocked");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends a blocking command on `server`, waits until it blocks, runs
/// `push` on `pusher`, and returns the blocked client's reply and how long
/// it took after the push.
fn blocked_then_pushed(blocker: &Server, block: &[&str], pusher: &Server, push: &[&str]) -> (Vec<u8>, Duration) {
    let mut waiting = blocker.conn();
    let args: Vec<&[u8]> = block.iter().map(|s| s.as_bytes()).collect();
    waiting.send_raw(&RawConn::encode(&args));
    wait_blocked(blocker, 1);
    let start = Instant::now();
    let reply = pusher.conn().cmd_str(push);
    assert!(!reply.starts_with(b"-"), "{}", show(&reply));
    let got = waiting.read_reply();
    (got, start.elapsed())
}

#[test]
fn a_push_on_one_process_wakes_a_blpop_on_the_other() {
    let Some(base) = url_or_skip("postgres_bus") else {
        return;
    };
    let (_schema, a, b) = pair(&base, "ps_blpop");
    let (reply, took) = blocked_then_pushed(&b, &["BLPOP", "q", "0"], &a, &["LPUSH", "q", "v\0\u{ff}"]);
    assert_eq!(show(&reply), show(b"*2\r\n$1\r\nq\r\n$4\r\nv\0\xc3\xbf\r\n"));
    assert!(took < Duration::from_secs(2), "woken after {took:?}");
    assert_eq!(a.conn().cmd_str(&["EXISTS", "q"]), b":0\r\n");

    // BLMOVE: woken by an RPUSH, moves the element on the store both share.
    let (reply, _) = blocked_then_pushed(
        &b,
        &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "5"],
        &a,
        &["RPUSH", "src", "m"],
    );
    assert_eq!(reply, b"$1\r\nm\r\n");
    assert_eq!(a.conn().cmd_str(&["LRANGE", "dst", "0", "-1"]), b"*1\r\n$1\r\nm\r\n");
}

#[test]
fn a_zadd_on_one_process_wakes_a_bzpopmin_on_the_other() {
    let Some(base) = url_or_skip("postgres_bus") else {
        return;
    };
    let (_schema, a, b) = pair(&base, "ps_bzpop");
    let (reply, took) = blocked_then_pushed(&b, &["BZPOPMIN", "z", "0"], &a, &["ZADD", "z", "1.5", "m"]);
    assert_eq!(reply, b"*3\r\n$1\r\nz\r\n$1\r\nm\r\n$3\r\n1.5\r\n");
    assert!(took < Duration::from_secs(2), "woken after {took:?}");
}

#[test]
fn one_element_wakes_one_of_two_waiters_and_the_other_waits_on() {
    let Some(base) = url_or_skip("postgres_bus") else {
        return;
    };
    let (_schema, a, b) = pair(&base, "ps_race");
    let mut on_a = a.conn();
    let mut on_b = b.conn();
    on_a.send_raw(&RawConn::encode(&[b"BLPOP", b"q", b"0"]));
    on_b.send_raw(&RawConn::encode(&[b"BLPOP", b"q", b"0"]));
    wait_blocked(&a, 1);
    wait_blocked(&b, 1);
    assert_eq!(a.conn().cmd_str(&["RPUSH", "q", "one"]), b":1\r\n");
    // Exactly one of them pops; the other is still blocked, and the next
    // push (from the other process) serves it.
    let deadline = Instant::now() + Duration::from_secs(5);
    let winner_is_a = loop {
        let (blocked_a, blocked_b) = (blocked(&a), blocked(&b));
        if blocked_a + blocked_b == 1 {
            break blocked_a == 0;
        }
        assert!(Instant::now() < deadline, "nobody popped");
        std::thread::sleep(Duration::from_millis(10));
    };
    let (winner, loser) = if winner_is_a {
        (&mut on_a, &mut on_b)
    } else {
        (&mut on_b, &mut on_a)
    };
    assert_eq!(winner.read_reply(), b"*2\r\n$1\r\nq\r\n$3\r\none\r\n");
    assert_eq!(b.conn().cmd_str(&["RPUSH", "q", "two"]), b":1\r\n");
    assert_eq!(loser.read_reply(), b"*2\r\n$1\r\nq\r\n$3\r\ntwo\r\n");
}

fn blocked(server: &Server) -> usize {
    let info = server.conn().cmd_str(&["INFO", "clients"]);
    let text = String::from_utf8_lossy(&info).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}
