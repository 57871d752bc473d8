//! Pub/Sub over TCP with several connections, compared byte for byte with
//! real Redis: RESP2 and RESP3 subscribers, patterns, shard channels, PUBSUB
//! counts, subscriber-mode errors, ordering, large messages, unsubscribe-all
//! and clean-up on close. Single-connection cases are in
//! `tests/diff/pubsub.redis`.

mod support;

use std::time::{Duration, Instant};
use support::{RawConn, Server, show, start_redis, start_redsql};

/// One step of a scenario: on connection `conn`, send `line` (split on
/// spaces; empty sends nothing) and read `replies` replies.
type Step<'a> = (usize, &'a str, usize);

/// Runs `steps` on fresh connections to `server` and returns every reply
/// read (HELLO's, which holds the client id, as an empty reply).
fn scenario(server: &Server, conns: usize, steps: &[Step]) -> Vec<Vec<u8>> {
    let mut conns: Vec<RawConn> = (0..conns).map(|_| server.conn()).collect();
    let mut replies = Vec::new();
    for &(c, line, n) in steps {
        if !line.is_empty() {
            let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            conns[c].send_raw(&RawConn::encode(&args));
        }
        for _ in 0..n {
            let reply = conns[c].read_reply();
            replies.push(if line.starts_with("HELLO") { Vec::new() } else { reply });
        }
    }
    replies
}

/// Runs a scenario on both servers and checks every reply is identical.
fn check(redis: &Server, redsql: &Server, name: &str, conns: usize, steps: &[Step]) {
    let want = scenario(redis, conns, steps);
    let got = scenario(redsql, conns, steps);
    assert_eq!(want.len(), got.len(), "{name}: reply count");
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(w, g, "{name}: reply {i}\n  redis:  {}\n  redsql: {}", show(w), show(g));
    }
}

#[test]
fn pubsub_matches_redis() {
    let redis = start_redis();
    let redsql = start_redsql(&[]);

    check(
        &redis,
        &redsql,
        "resp2 channels and patterns",
        3,
        &[
            (0, "SUBSCRIBE news sport", 2),
            (1, "PSUBSCRIBE n* x?z", 2),
            (2, "PUBLISH news hello", 1),
            (0, "", 1),
            (1, "", 1),
            (2, "PUBLISH sport goal", 1),
            (0, "", 1),
            (2, "PUBLISH xyz p", 1),
            (1, "", 1),
            (2, "PUBLISH nothing-here-either x", 1),
            (1, "", 1),
            (2, "PUBLISH other x", 1),
            (2, "PUBSUB NUMSUB news sport other", 1),
            (2, "PUBSUB NUMPAT", 1),
            (2, "PUBSUB CHANNELS s*", 1),
            (0, "UNSUBSCRIBE sport", 1),
            (2, "PUBLISH sport again", 1),
            (0, "UNSUBSCRIBE", 1),
            (0, "UNSUBSCRIBE", 1),
            (0, "GET k", 1),
            (1, "PUNSUBSCRIBE x?z", 1),
            (2, "PUBLISH xyz p", 1),
            (2, "PUBLISH news n", 1),
            (1, "", 1),
            (1, "PUNSUBSCRIBE", 1),
            (2, "PUBSUB NUMPAT", 1),
        ],
    );

    check(
        &redis,
        &redsql,
        "subscriber mode",
        2,
        &[
            (0, "SUBSCRIBE c", 1),
            (0, "GET k", 1),
            (0, "SET k v", 1),
            (0, "CLIENT ID", 1),
            (0, "MULTI", 1),
            (0, "PING", 1),
            (0, "PING hi", 1),
            (0, "PSUBSCRIBE p*", 1),
            (0, "SSUBSCRIBE s", 1),
            (0, "UNSUBSCRIBE c", 1),
            (0, "PUNSUBSCRIBE", 1),
            // Still subscribed to a shard channel: still in subscriber mode.
            (0, "GET k", 1),
            (1, "SPUBLISH s m", 1),
            (0, "", 1),
            (1, "PUBLISH s m", 1),
            (1, "PUBSUB SHARDNUMSUB s c", 1),
            (1, "PUBSUB SHARDCHANNELS", 1),
            (0, "SUNSUBSCRIBE", 1),
            (0, "GET k", 1),
            (0, "PING", 1),
        ],
    );

    check(
        &redis,
        &redsql,
        "resp3 subscriber runs any command",
        2,
        &[
            (0, "HELLO 3", 1),
            (0, "SUBSCRIBE a", 1),
            (0, "SET k v", 1),
            (1, "PUBLISH a one", 1),
            (0, "", 1),
            (0, "GET k", 1),
            (0, "PING", 1),
            (1, "PUBLISH a two", 1),
            (0, "", 1),
            (0, "UNSUBSCRIBE x a", 2),
            (0, "UNSUBSCRIBE", 1),
            (0, "SSUBSCRIBE s1 s2", 2),
            (1, "SPUBLISH s2 hi", 1),
            (0, "", 1),
            (0, "SUNSUBSCRIBE s1", 1),
        ],
    );

    check(
        &redis,
        &redsql,
        "reset and quit leave everything",
        2,
        &[
            (0, "SUBSCRIBE a b", 2),
            (0, "PSUBSCRIBE *", 1),
            (0, "RESET", 1),
            (1, "PUBLISH a x", 1),
            (1, "PUBSUB NUMSUB a b", 1),
            (1, "PUBSUB NUMPAT", 1),
            (0, "GET k", 1),
        ],
    );
}

/// Sends one command and returns its reply.
fn cmd(c: &mut RawConn, line: &str) -> Vec<u8> {
    c.cmd_str(&line.split(' ').collect::<Vec<_>>())
}

#[test]
fn ordering_large_messages_and_cleanup() {
    let server = start_redsql(&[]);
    let mut sub = server.conn();
    let mut pattern = server.conn();
    let mut publisher = server.conn();
    cmd(&mut sub, "SUBSCRIBE ch");
    cmd(&mut pattern, "HELLO 3");
    assert_eq!(
        cmd(&mut pattern, "PSUBSCRIBE c* *h"),
        b">3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:1\r\n"
    );
    pattern.read_reply();

    // Messages arrive in publication order; a pattern-matching client gets
    // one message (and counts once) per matching pattern.
    for i in 0..200 {
        assert_eq!(cmd(&mut publisher, &format!("PUBLISH ch m{i}")), b":3\r\n");
    }
    for i in 0..200 {
        let body = format!("m{i}");
        let want = format!("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n${}\r\n{body}\r\n", body.len());
        assert_eq!(show(&sub.read_reply()), show(want.as_bytes()));
        let mut two = [pattern.read_reply(), pattern.read_reply()];
        two.sort();
        for (p, got) in ["*h", "c*"].iter().zip(&two) {
            let want = format!(
                ">4\r\n$8\r\npmessage\r\n$2\r\n{p}\r\n$2\r\nch\r\n${}\r\n{body}\r\n",
                body.len()
            );
            assert_eq!(show(got), show(want.as_bytes()));
        }
    }

    // A 100 KB binary message arrives whole.
    let big: Vec<u8> = (0..100 * 1024).map(|i| (i % 251) as u8).collect();
    assert_eq!(publisher.cmd(&[b"PUBLISH", b"ch", &big]), b":3\r\n");
    let mut want = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n".to_vec();
    want.extend_from_slice(format!("${}\r\n", big.len()).as_bytes());
    want.extend_from_slice(&big);
    want.extend_from_slice(b"\r\n");
    assert!(sub.read_reply() == want, "large message mangled");

    // CLIENT LIST shows the counts and the P flag.
    let list = String::from_utf8(cmd(&mut publisher, "CLIENT LIST")).unwrap();
    assert!(list.contains("flags=P db=0 sub=1 psub=0 ssub=0"), "{list}");
    assert!(list.contains("flags=P db=0 sub=0 psub=2 ssub=0"), "{list}");
    assert!(list.contains("flags=N db=0 sub=0 psub=0 ssub=0"), "{list}");

    // Closing the connections removes their subscriptions.
    drop(sub);
    drop(pattern);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let numsub = cmd(&mut publisher, "PUBSUB NUMSUB ch");
        let numpat = cmd(&mut publisher, "PUBSUB NUMPAT");
        if numsub == b"*2\r\n$2\r\nch\r\n:0\r\n" && numpat == b":0\r\n" {
            break;
        }
        assert!(Instant::now() < deadline, "subscriptions not cleaned up");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(cmd(&mut publisher, "PUBLISH ch x"), b":0\r\n");
}

#[test]
fn many_publishers_one_subscriber() {
    let server = start_redsql(&[]);
    let mut sub = server.conn();
    cmd(&mut sub, "SUBSCRIBE c");
    let port = server.port;
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let mut p = RawConn::connect(port);
                for i in 0..100 {
                    assert_eq!(cmd(&mut p, &format!("PUBLISH c {t}:{i}")), b":1\r\n");
                }
            })
        })
        .collect();
    let mut next = [0usize; 4];
    for _ in 0..400 {
        let msg = String::from_utf8(sub.read_reply()).unwrap();
        let body = msg.rsplit("\r\n").nth(1).unwrap();
        let (t, i) = body.split_once(':').unwrap();
        let t: usize = t.parse().unwrap();
        // Each publisher's messages arrive in its order.
        assert_eq!(i.parse::<usize>().unwrap(), next[t]);
        next[t] += 1;
    }
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn unsubscribe_all_in_subscription_order() {
    let server = start_redsql(&[]);
    let mut c = server.conn();
    c.send_raw(&RawConn::encode(&[b"SUBSCRIBE", b"c", b"a", b"b"]));
    for _ in 0..3 {
        c.read_reply();
    }
    cmd(&mut c, "PSUBSCRIBE p*");
    c.send_raw(&RawConn::encode(&[b"UNSUBSCRIBE"]));
    for (name, count) in [("c", 3), ("a", 2), ("b", 1)] {
        let want = format!("*3\r\n$11\r\nunsubscribe\r\n$1\r\n{name}\r\n:{count}\r\n");
        assert_eq!(show(&c.read_reply()), show(want.as_bytes()));
    }
    assert_eq!(
        show(&cmd(&mut c, "PUNSUBSCRIBE")),
        "*3\\r\\n$12\\r\\npunsubscribe\\r\\n$2\\r\\np*\\r\\n:0\\r\\n"
    );
    assert_eq!(cmd(&mut c, "GET k"), b"$-1\r\n");
}
